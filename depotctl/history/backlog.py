"""What a controller's store holds for the history database, read from its SQLite file
read-only (the controller keeps writing beside it: WAL readers never block it).

Rows come in key order after a key (keyset batches): the journal by id, ended sessions
by (ended_at, id), telemetry minutes by (minute, node). Times stay the store's fixed-width
ISO 8601 UTC text, which PostgreSQL reads as ``timestamptz``."""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from depotctl.domain.refusal import Refusal

#: The store's tables this reader needs (the store's migration 13 on: telemetry by
#: node id and epoch minute).
_TABLES = ("journal", "sessions", "telemetry", "telemetry_nodes", "telemetry_quarters", "revisions")

Row = tuple[Any, ...]

#: The session columns shipped, in this order (the key is ``ended_at, id``: 3 and 0).
SESSION_COLUMNS = (
    "id",
    "evse_id",
    "started_at",
    "ended_at",
    "energy_delivered_wh",
    "requirement_energy_wh",
    "requirement_departure",
    "requirement_source",
    "vehicle_max_current_a",
    "planned_rate_a",
    "priority_class",
)
#: Session columns a newer store has, shipped when it has them (never the idTag).
LATER_SESSION_COLUMNS = ("vehicle_id", "fleet_id")


class StoreBacklog:
    """One controller store, opened read-only (:meth:`open`)."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path

    @classmethod
    def open(cls, path: Path) -> StoreBacklog:
        """The store at ``path``, read-only; refused (exit 3) when there is none or it is
        not a controller's store."""
        if not path.is_file():
            raise Refusal(
                f"there is no controller store at {path}: give the --state-dir that"
                " `depotctl serve` runs with",
                3,
            )
        connection = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            found = {
                row[0]
                for row in connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
            }
        except sqlite3.DatabaseError as error:
            connection.close()
            raise Refusal(f"{path} cannot be read as a controller store ({error})", 3) from None
        missing = [table for table in _TABLES if table not in found]
        if missing:
            connection.close()
            raise Refusal(
                f"{path} is not a controller store of this depotctl (no table"
                f" {', '.join(missing)}); give the --state-dir that `depotctl serve` runs"
                " with, and let this depotctl's serve open it once (it migrates the store)",
                3,
            )
        return cls(connection, path)

    def close(self) -> None:
        self._db.close()

    def rows(self, sql: str, params: Sequence[Any]) -> list[Row]:
        return [tuple(row) for row in self._db.execute(sql, tuple(params)).fetchall()]

    def session_columns(self) -> tuple[str, ...]:
        """The session columns to ship: :data:`SESSION_COLUMNS`, then those of
        :data:`LATER_SESSION_COLUMNS` this store has."""
        present = {row[1] for row in self._db.execute("PRAGMA table_info(sessions)")}
        return SESSION_COLUMNS + tuple(c for c in LATER_SESSION_COLUMNS if c in present)

    def last_journal_id(self) -> int:
        """The newest journal entry's id (0 for an empty journal)."""
        row = self._db.execute("SELECT coalesce(max(id), 0) FROM journal").fetchone()
        return int(row[0])

    def site_name(self) -> str | None:
        """The latest revision's ``metadata.name``, if it has one."""
        row = self._db.execute(
            "SELECT site_text FROM revisions ORDER BY number DESC LIMIT 1"
        ).fetchone()
        if row is None:
            return None
        try:
            document = YAML(typ="safe", pure=True).load(row[0])
        except YAMLError:
            return None
        metadata = document.get("metadata") if isinstance(document, dict) else None
        name = metadata.get("name") if isinstance(metadata, dict) else None
        return name if isinstance(name, str) and name else None
