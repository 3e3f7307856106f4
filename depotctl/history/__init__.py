"""Fleet history on PostgreSQL (issue 16): ``depotctl history ship`` copies one
controller's site revisions, journal, sessions, telemetry minutes and quarter hours
from its SQLite store, read only, into a PostgreSQL database that many depots share,
each row under the depot's name; ``depotctl report … --history-url`` answers across
the depots from it (docs/history.md).

- :mod:`.target`: the database's URL (never with a password) and where its password
  comes from (``PGPASSFILE``, ``--password-env``, ``--password-file``);
- :mod:`.schema`: the database's versioned migrations (``history_schema``);
- :mod:`.backlog`: what the store holds that may not have been shipped yet;
- :mod:`.streams`: each kind of row, how the store gives it and the database takes it;
- :mod:`.shipping`: rounds of batches, each batch's upserts and its cursor in one
  PostgreSQL transaction (at least once, never twice);
- :mod:`.fleet`: the shipped rows read back as a controller's store gives them;
- :mod:`.reports`: each depot's report, the controller's own, from those rows.

The driver, psycopg 3, is the optional extra ``history``: only this package imports
it, and only the commands that ship or report from it load this package. A depot runs
without it.
"""
