"""Fleet history on PostgreSQL (issue 16): ``depotctl history ship`` copies one
controller's journal, sessions and per-minute telemetry from its SQLite store, read
only, into a PostgreSQL database that many depots share, each row under the depot's
name (docs/history.md).

- :mod:`.target`: the database's URL (never with a password) and where its password
  comes from (``PGPASSFILE``, ``--password-env``, ``--password-file``);
- :mod:`.schema`: the database's versioned migrations (``history_schema``);
- :mod:`.backlog`: what the store holds that may not have been shipped yet;
- :mod:`.shipping`: rounds of batches, each batch's upserts and its cursor in one
  PostgreSQL transaction (at least once, never twice).

The driver, psycopg 3, is the optional extra ``history``: only this package imports
it, and only the command that ships loads this package. A depot runs without it.
"""
