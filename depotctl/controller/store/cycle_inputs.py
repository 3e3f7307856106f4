"""The control cycles' inputs over time: one row per cycle, append-only — a keyframe
(every section whole) every so often, and between keyframes only what changed since
the cycle before (``controller/inputs_record.py`` writes them, ``time_travel.py``
reads them back). Bodies are zlib-compressed JSON."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from depotctl.controller.store.database import Store
from depotctl.controller.store.encoding import iso, parse


@dataclass(frozen=True, slots=True)
class CycleInputsRow:
    """One cycle's inputs as stored: its instant, the revision in force, the envelope
    lead, whether the body is whole (a keyframe) or the changes since the row before."""

    id: int
    at: datetime
    revision: int
    envelope_lead: timedelta
    keyframe: bool
    body: bytes


class CycleInputs:
    """The cycle-input rows of one store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def add(
        self,
        at: datetime,
        *,
        revision: int,
        envelope_lead: timedelta,
        keyframe: bool,
        body: bytes,
    ) -> None:
        with self._store.transaction():
            self._store.write(
                "INSERT INTO cycle_inputs (at, revision, lead_s, keyframe, body)"
                " VALUES (?, ?, ?, ?, ?)",
                (iso(at), revision, envelope_lead.total_seconds(), int(keyframe), body),
            )

    def chain(self, at: datetime) -> list[CycleInputsRow]:
        """The rows that rebuild the last cycle at or before ``at``: the keyframe
        before it and every row after that up to it, oldest first; empty when no
        cycle at or before ``at`` is kept."""
        rows = self._store.rows(
            """
            WITH target AS (
                SELECT id FROM cycle_inputs WHERE at <= ? ORDER BY at DESC, id DESC LIMIT 1
            ), base AS (
                SELECT max(id) AS id FROM cycle_inputs
                WHERE keyframe = 1 AND id <= (SELECT id FROM target)
            )
            SELECT * FROM cycle_inputs
            WHERE id BETWEEN (SELECT id FROM base) AND (SELECT id FROM target)
            ORDER BY id
            """,
            (iso(at),),
        )
        return [
            CycleInputsRow(
                r["id"],
                parse(r["at"]),
                r["revision"],
                timedelta(seconds=r["lead_s"]),
                bool(r["keyframe"]),
                bytes(r["body"]),
            )
            for r in rows
        ]

    def earliest(self) -> datetime | None:
        """The instant of the oldest cycle that can be rebuilt (the first keyframe)."""
        rows = self._store.rows("SELECT min(at) FROM cycle_inputs WHERE keyframe = 1")
        return parse(rows[0][0]) if rows and rows[0][0] is not None else None

    def prune(self, before: datetime) -> int:
        """Drop the rows no instant from ``before`` on needs (those before the last
        keyframe at or before it); how many."""
        with self._store.transaction():
            cursor = self._store.write(
                """
                DELETE FROM cycle_inputs WHERE id < (
                    SELECT coalesce(max(id), 0) FROM cycle_inputs
                    WHERE keyframe = 1 AND at <= ?
                )
                """,
                (iso(before),),
            )
            return cursor.rowcount
