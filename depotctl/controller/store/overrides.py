"""Operator overrides: at most one per EVSE, until cleared."""

from __future__ import annotations

import math

from depotctl.controller.store.database import Store
from depotctl.controller.store.encoding import iso, parse
from depotctl.domain.overrides import EvseOverride


class Overrides:
    """The overrides of one store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def put(self, override: EvseOverride) -> None:
        """Set (or replace) an EVSE's override. Raises ValueError for one that neither
        pauses nor caps, or a cap that is negative or not a number."""
        if not override.paused and override.cap_a is None:
            raise ValueError(
                f"an override on {override.evse_id} must pause it or cap it; "
                "to resume, clear the override"
            )
        if override.cap_a is not None and not (
            math.isfinite(override.cap_a) and override.cap_a >= 0
        ):
            raise ValueError(f"cap on {override.evse_id} must be 0 A or more, not {override.cap_a}")
        with self._store.transaction():
            self._store.write(
                "INSERT OR REPLACE INTO overrides (evse_id, paused, cap_a, set_at, author,"
                " reason) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    override.evse_id,
                    int(override.paused),
                    override.cap_a,
                    iso(override.set_at),
                    override.author,
                    override.reason,
                ),
            )

    def clear(self, evse_id: str) -> bool:
        """Remove an EVSE's override (resume it, uncapped); False if it had none."""
        with self._store.transaction():
            cursor = self._store.write("DELETE FROM overrides WHERE evse_id = ?", (evse_id,))
            return cursor.rowcount > 0

    def all(self) -> dict[str, EvseOverride]:
        """Every override in force, by EVSE id."""
        return {
            r["evse_id"]: EvseOverride(
                evse_id=r["evse_id"],
                paused=bool(r["paused"]),
                cap_a=r["cap_a"],
                set_at=parse(r["set_at"]),
                author=r["author"],
                reason=r["reason"],
            )
            for r in self._store.rows("SELECT * FROM overrides ORDER BY evse_id")
        }

    def get(self, evse_id: str) -> EvseOverride | None:
        return self.all().get(evse_id)
