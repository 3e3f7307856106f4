"""Envelopes as received, withdrawn, and with their last evaluated state."""

from __future__ import annotations

import sqlite3
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from depotctl.controller.store.database import Store
from depotctl.controller.store.encoding import finite, iso, iso_or_none, parse, parse_or_none, utc
from depotctl.controller.store.errors import EnvelopeConflict, UnknownEnvelope
from depotctl.domain.envelopes import (
    Direction,
    Envelope,
    EnvelopeMode,
    EnvelopeState,
    EnvelopeStatus,
    LimitUnit,
)
from depotctl.domain.phases import Phase


class Envelopes:
    """The envelopes of one store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def put(self, envelope: Envelope) -> bool:
        """Store a received envelope: True if new, False if the very same envelope was
        already stored (a resubmission). Raises :class:`EnvelopeConflict` when its id is
        taken by a different envelope, ValueError when its limit is not a number (its
        window is the domain's to check: :class:`~depotctl.domain.envelopes.Envelope`)."""
        finite(envelope.limit, f"envelope {envelope.id}'s limit")
        with self._store.transaction():
            existing = self.get(envelope.id)
            if existing is not None:
                if existing == _normalized(envelope):
                    return False
                raise EnvelopeConflict(
                    f"envelope {envelope.id} is already stored with different content"
                )
            self._store.write(_INSERT, _row(envelope))
            return True

    def add_new(self, envelopes: Sequence[Envelope]) -> None:
        """Store envelopes none of whose ids is taken (a forecast's, under its own request
        id), in one statement; :class:`EnvelopeConflict` (nothing stored) when one is."""
        for envelope in envelopes:
            finite(envelope.limit, f"envelope {envelope.id}'s limit")
        with self._store.transaction():
            try:
                self._store.write_many(_INSERT, [_row(envelope) for envelope in envelopes])
            except sqlite3.IntegrityError:
                raise EnvelopeConflict(
                    "an envelope id of these is already stored; nothing was stored"
                ) from None

    def withdraw_many(self, withdrawals: Mapping[str, datetime]) -> None:
        """Withdraw each envelope from its instant (one already withdrawn keeps the
        earlier withdrawal: a cut scheduled later is brought forward), in one statement."""
        with self._store.transaction():
            self._store.write_many(
                _WITHDRAW,
                [(iso(at), envelope_id, iso(at)) for envelope_id, at in withdrawals.items()],
            )

    def get(self, envelope_id: str) -> Envelope | None:
        rows = self._store.rows("SELECT * FROM envelopes WHERE id = ?", (envelope_id,))
        return _envelope(rows[0]) if rows else None

    def all(self, *, open_at: datetime | None = None, source: str | None = None) -> list[Envelope]:
        """Stored envelopes, by receipt then id. With ``open_at``, only those neither
        ended nor withdrawn by then (what a control cycle at that time needs); with
        ``source``, only that source's."""
        conditions: list[str] = []
        params: list[Any] = []
        if open_at is not None:
            at = iso(open_at)
            conditions.append(
                "(end_at IS NULL OR end_at > ?) AND (withdrawn_at IS NULL OR withdrawn_at > ?)"
            )
            params += [at, at]
        if source is not None:
            conditions.append("source = ?")
            params.append(source)
        where = " WHERE " + " AND ".join(conditions) if conditions else ""
        rows = self._store.rows(f"SELECT * FROM envelopes{where} ORDER BY received_at, id", params)
        return [_envelope(r) for r in rows]

    def withdraw(self, envelope_id: str, *, at: datetime) -> Envelope:
        """Mark an envelope withdrawn from ``at``; withdrawing it again keeps the earlier
        withdrawal. Raises :class:`UnknownEnvelope`."""
        with self._store.transaction():
            self._store.write(_WITHDRAW, (iso(at), envelope_id, iso(at)))
            envelope = self.get(envelope_id)
            if envelope is None:
                raise UnknownEnvelope(f"there is no envelope {envelope_id}")
            return envelope

    def states(self) -> dict[str, EnvelopeStatus]:
        """Each envelope's last evaluated state (``received`` until the first), by id:
        the ``before`` of :func:`depotctl.domain.envelopes.transitions` after a restart."""
        return {
            r["id"]: EnvelopeStatus(EnvelopeState(r["state"]), r["state_reason"] or "")
            for r in self._store.rows("SELECT id, state, state_reason FROM envelopes ORDER BY id")
        }

    def set_states(self, states: Mapping[str, EnvelopeStatus]) -> None:
        """Record envelopes' evaluated states (the caller journals the transitions).
        Raises :class:`UnknownEnvelope` (and records none) for an id not stored."""
        with self._store.transaction():
            for envelope_id, status in states.items():
                cursor = self._store.write(
                    "UPDATE envelopes SET state = ?, state_reason = ? WHERE id = ?",
                    (status.state.value, status.reason, envelope_id),
                )
                if cursor.rowcount == 0:
                    raise UnknownEnvelope(f"there is no envelope {envelope_id}")


def _envelope(row: sqlite3.Row) -> Envelope:
    phases = row["phases"]
    return Envelope(
        id=row["id"],
        source=row["source"],
        target=row["target"],
        direction=Direction(row["direction"]),
        limit=row["limit_value"],
        unit=LimitUnit(row["unit"]),
        start=parse(row["start_at"]),
        end=parse_or_none(row["end_at"]),
        received_at=parse(row["received_at"]),
        mode=EnvelopeMode(row["mode"]),
        phases=frozenset(Phase(p) for p in phases.split(",")) if phases is not None else None,
        priority=row["priority"],
        withdrawn_at=parse_or_none(row["withdrawn_at"]),
    )


def _normalized(envelope: Envelope) -> Envelope:
    """The envelope as it reads back from the store (times in UTC, microseconds)."""
    return Envelope(
        id=envelope.id,
        source=envelope.source,
        target=envelope.target,
        direction=Direction(envelope.direction),
        limit=float(envelope.limit),
        unit=LimitUnit(envelope.unit),
        start=utc(envelope.start),
        end=utc(envelope.end) if envelope.end is not None else None,
        received_at=utc(envelope.received_at),
        mode=EnvelopeMode(envelope.mode),
        phases=envelope.phases,
        priority=envelope.priority,
        withdrawn_at=utc(envelope.withdrawn_at) if envelope.withdrawn_at is not None else None,
    )


_INSERT = (
    "INSERT INTO envelopes (id, source, target, direction, limit_value, unit,"
    " start_at, end_at, received_at, mode, phases, priority, withdrawn_at)"
    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
)
#: Withdrawn from an instant, unless withdrawn by then already (fixed-width UTC text:
#: its order is time order).
_WITHDRAW = (
    "UPDATE envelopes SET withdrawn_at = ? WHERE id = ?"
    " AND (withdrawn_at IS NULL OR withdrawn_at > ?)"
)


def _row(envelope: Envelope) -> tuple[Any, ...]:
    return (
        envelope.id,
        envelope.source,
        envelope.target,
        envelope.direction.value,
        envelope.limit,
        envelope.unit.value,
        iso(envelope.start),
        iso_or_none(envelope.end),
        iso(envelope.received_at),
        envelope.mode.value,
        ",".join(sorted(envelope.phases)) if envelope.phases is not None else None,
        envelope.priority,
        iso_or_none(envelope.withdrawn_at),
    )
