"""Charging sessions: open ones (the EVSE's vehicle is plugged in) and ended ones."""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime

from depotctl.controller.store.database import Store
from depotctl.controller.store.encoding import finite, iso, parse, parse_or_none, utc
from depotctl.controller.store.errors import SessionConflict, UnknownSession
from depotctl.domain.sessions import EnergyRequirement, RequirementSource, Session


@dataclass(frozen=True)
class SessionRecord:
    """A stored session: the domain session (its energy delivered so far, or in all
    once ended) and when it ended (None while the vehicle is charging)."""

    session: Session
    ended_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


class Sessions:
    """The sessions of one store (the open ones cached until a session changes)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def put(self, session: Session) -> bool:
        """Start a session (True) or update an open one (False): its energy delivered,
        requirement, vehicle limit, planned rate, priority class and vehicle. Raises
        :class:`SessionConflict` if its EVSE already has another open session, or it
        has ended, or its EVSE or start differ from the stored ones."""
        finite(session.energy_delivered_wh, f"session {session.id}'s energy delivered")
        requirement = session.requirement
        for value, what in (
            (requirement.energy_wh if requirement else None, "required energy"),
            (session.vehicle_max_current_a, "vehicle's maximum current"),
            (session.planned_rate_a, "planned rate"),
        ):
            if value is not None:
                finite(value, f"session {session.id}'s {what}")
        values = (
            session.energy_delivered_wh,
            requirement.energy_wh if requirement else None,
            iso(requirement.departure) if requirement else None,
            requirement.source.value if requirement else None,
            session.vehicle_max_current_a,
            session.planned_rate_a,
            session.priority_class,
            session.vehicle_id,
            session.fleet_id,
            session.id_token,
        )
        store = self._store
        with store.transaction():
            store.cache.forget()
            existing = self.get(session.id)
            if existing is None:
                try:
                    store.write(
                        "INSERT INTO sessions (id, evse_id, started_at, energy_delivered_wh,"
                        " requirement_energy_wh, requirement_departure, requirement_source,"
                        " vehicle_max_current_a, planned_rate_a, priority_class, vehicle_id,"
                        " fleet_id, id_token) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (session.id, session.evse_id, iso(session.started), *values),
                    )
                except sqlite3.IntegrityError as error:
                    raise SessionConflict(
                        f"EVSE {session.evse_id} already has an open session"
                    ) from error
                return True
            if existing.ended_at is not None:
                raise SessionConflict(
                    f"session {session.id} ended at {iso(existing.ended_at)}; it cannot change"
                )
            if (existing.session.evse_id, existing.session.started) != (
                session.evse_id,
                utc(session.started),
            ):
                raise SessionConflict(
                    f"session {session.id} is on EVSE {existing.session.evse_id} since "
                    f"{iso(existing.session.started)}; its EVSE and start cannot change"
                )
            store.write(
                "UPDATE sessions SET energy_delivered_wh = ?, requirement_energy_wh = ?,"
                " requirement_departure = ?, requirement_source = ?, vehicle_max_current_a = ?,"
                " planned_rate_a = ?, priority_class = ?, vehicle_id = ?, fleet_id = ?,"
                " id_token = ? WHERE id = ?",
                (*values, session.id),
            )
            return False

    def end(self, session_id: str, *, at: datetime, energy_delivered_wh: float) -> SessionRecord:
        """End an open session with the energy it delivered in all. Raises
        :class:`UnknownSession`, or :class:`SessionConflict` if it already ended."""
        finite(energy_delivered_wh, f"session {session_id}'s energy delivered")
        store = self._store
        with store.transaction():
            store.cache.forget()
            existing = self.get(session_id)
            if existing is None:
                raise UnknownSession(f"there is no session {session_id}")
            if existing.ended_at is not None:
                raise SessionConflict(
                    f"session {session_id} already ended at {iso(existing.ended_at)}"
                )
            store.write(
                "UPDATE sessions SET ended_at = ?, energy_delivered_wh = ? WHERE id = ?",
                (iso(at), energy_delivered_wh, session_id),
            )
            ended = self.get(session_id)
            assert ended is not None
            return ended

    def raise_energy(self, session_id: str, energy_wh: float) -> bool:
        """Raise an ended session's energy to ``energy_wh`` when that is more than it
        recorded (a charger's late word on a session closed by inference); whether it
        changed."""
        finite(energy_wh, f"session {session_id}'s energy delivered")
        store = self._store
        with store.transaction():
            store.cache.forget()
            cursor = store.write(
                "UPDATE sessions SET energy_delivered_wh = ? WHERE id = ?"
                " AND ended_at IS NOT NULL AND energy_delivered_wh < ?",
                (energy_wh, session_id, energy_wh),
            )
            return cursor.rowcount > 0

    def get(self, session_id: str) -> SessionRecord | None:
        rows = self._store.rows("SELECT * FROM sessions WHERE id = ?", (session_id,))
        return _session(rows[0]) if rows else None

    def all(self, *, open_only: bool = False) -> list[SessionRecord]:
        """Sessions by start then id; ``open_only`` keeps those still charging."""
        store = self._store
        with store.lock:
            if open_only and store.cache.open_sessions is not None:
                return list(store.cache.open_sessions)
            where = " WHERE ended_at IS NULL" if open_only else ""
            found = [
                _session(r)
                for r in store.rows(f"SELECT * FROM sessions{where} ORDER BY started_at, id")
            ]
            if open_only:
                store.cache.open_sessions = found
            return list(found)

    def overlapping(
        self, since: datetime, until: datetime, *, departing_from: datetime | None = None
    ) -> list[SessionRecord]:
        """Sessions by start then id that started before ``until`` and were open at or
        after ``since``; with ``departing_from``, also those whose requirement departs
        from then on or that started from then on (a default departure follows the
        start within a day)."""
        clauses = "ended_at IS NULL OR ended_at >= ?"
        params = [iso(until), iso(since)]
        if departing_from is not None:
            clauses += " OR requirement_departure >= ? OR started_at >= ?"
            params += [iso(since), iso(departing_from)]
        rows = self._store.rows(
            f"SELECT * FROM sessions WHERE started_at < ? AND ({clauses}) ORDER BY started_at, id",
            params,
        )
        return [_session(r) for r in rows]

    def of_vehicle(self, vehicle_id: str, since: datetime, until: datetime) -> list[SessionRecord]:
        """``vehicle_id``'s sessions by start then id that started before ``until`` and
        were open at or after ``since`` (:meth:`overlapping`'s window), read by the
        index on (vehicle_id, started_at) — the vehicle's sessions only, however many
        the store keeps (:meth:`overlapping` scans them all)."""
        rows = self._store.rows(
            "SELECT * FROM sessions WHERE vehicle_id = ? AND started_at < ?"
            " AND (ended_at IS NULL OR ended_at >= ?) ORDER BY started_at, id",
            (vehicle_id, iso(until), iso(since)),
        )
        return [_session(r) for r in rows]

    def open_of_vehicle(self, vehicle_id: str) -> SessionRecord | None:
        """The open session of a vehicle, if any (the latest started, should two be)."""
        found = [r for r in self.all(open_only=True) if r.session.vehicle_id == vehicle_id]
        return found[-1] if found else None

    def open_on(self, evse_id: str) -> SessionRecord | None:
        """The open session on an EVSE, if any."""
        return next((r for r in self.all(open_only=True) if r.session.evse_id == evse_id), None)


def _session(row: sqlite3.Row) -> SessionRecord:
    requirement = None
    if row["requirement_energy_wh"] is not None:
        requirement = EnergyRequirement(
            energy_wh=row["requirement_energy_wh"],
            departure=parse(row["requirement_departure"]),
            source=RequirementSource(row["requirement_source"] or RequirementSource.SCHEDULE),
        )
    return SessionRecord(
        session=Session(
            id=row["id"],
            evse_id=row["evse_id"],
            started=parse(row["started_at"]),
            energy_delivered_wh=row["energy_delivered_wh"],
            requirement=requirement,
            vehicle_max_current_a=row["vehicle_max_current_a"],
            planned_rate_a=row["planned_rate_a"],
            priority_class=row["priority_class"],
            vehicle_id=row["vehicle_id"],
            fleet_id=row["fleet_id"],
            id_token=row["id_token"],
        ),
        ended_at=parse_or_none(row["ended_at"]),
    )
