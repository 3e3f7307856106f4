"""Lineage by subject: an EVSE, a session, a vehicle or an envelope, whichever the
subject names (in that order), read from the journal's limit changes and the session
records (:mod:`depotctl.engine.lineage`)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal
from zoneinfo import ZoneInfo

from depotctl.controller.ports import Depot
from depotctl.controller.services.lookups import current_state, site_in_force, unknown
from depotctl.controller.store import JournalEntry, JournalKind
from depotctl.controller.store.sessions import SessionRecord
from depotctl.engine.lineage import (
    EnvelopeLineage,
    LimitStep,
    SessionLineage,
    envelope_lineage,
    session_lineage,
)
from depotctl.engine.outlook import requirement_of

SubjectKind = Literal["evse", "session", "vehicle", "envelope"]
#: The most limit changes one answer reads (a year of an EVSE's busiest nights).
MOST_CHANGES = 200_000
#: A window without ``since`` reaches back to the journal's beginning.
BEGINNING = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class Lineage:
    """What a subject's lineage holds: its sessions', or its envelope's."""

    subject: str
    kind: SubjectKind
    since: datetime | None
    until: datetime
    sessions: list[SessionLineage]
    envelope: EnvelopeLineage | None
    zone: ZoneInfo

    def words(self) -> list[str]:
        """The lineage as lines, times in the site's zone with their offset."""
        if self.envelope is not None:
            return self.envelope.words(self.zone)
        if not self.sessions:
            return [f"{self.kind} {self.subject} had no session in this window"]
        lines: list[str] = []
        for session in self.sessions:
            lines += [*([""] if lines else []), *session.words(self.zone)]
        return lines


def lineage(depot: Depot, subject: str, since: datetime | None, until: datetime | None) -> Lineage:
    """The lineage of ``subject`` in ``[since, until)`` (until: now);
    :class:`~.errors.NotFound`, with the likely id, when it names nothing."""
    site = site_in_force(depot)
    end = until if until is not None else depot.clock.now()
    start = since if since is not None else BEGINNING
    zone = ZoneInfo(site.site.metadata.timezone)
    units = depot.units()

    def of_sessions(kind: SubjectKind, records: list[SessionRecord]) -> Lineage:
        found = [_session_lineage(depot, r, start, end) for r in records]
        return Lineage(subject, kind, since, end, found, None, zone)

    if subject in site.topology.evses:
        sessions = units.sessions.overlapping(start, end)
        return of_sessions("evse", [r for r in sessions if r.session.evse_id == subject])
    record = units.sessions.get(subject)
    if record is not None:
        return of_sessions("session", [record])
    envelope = _envelope_lineage(depot, subject, start, end)
    if envelope is not None:
        return Lineage(subject, "envelope", since, end, [], envelope, zone)
    vehicle = subject.casefold()
    sessions = units.sessions.overlapping(start, end)
    own = [r for r in sessions if (r.session.vehicle_id or "").casefold() == vehicle]
    if own or any(v.id.casefold() == vehicle for v in site.site.spec.vehicles or ()):
        return of_sessions("vehicle", own)
    known = [*site.topology.evses, *(v.id for v in site.site.spec.vehicles or ())]
    raise unknown(
        "subject",
        subject,
        f'"{subject}" is no EVSE of site {site.topology.site}, session, vehicle or '
        "envelope the controller knows; give an EVSE id (chg-01/1), a session id "
        "(depotctl requirements list), a vehicle id or an envelope id "
        "(depotctl envelopes list)",
        known,
    )


def _session_lineage(
    depot: Depot, record: SessionRecord, start: datetime, end: datetime
) -> SessionLineage:
    session = record.session
    entries = depot.units().journal.entries(
        kind=JournalKind.ALLOCATION_CHANGED,
        session=session.id,
        since=start,
        until=end,
        limit=MOST_CHANGES,
    )
    need = requirement_of(session, current_state(depot).snapshot)
    return session_lineage(session, record.ended_at, [_step(e) for e in entries], need)


def _envelope_lineage(
    depot: Depot, envelope: str, start: datetime, end: datetime
) -> EnvelopeLineage | None:
    """None when the envelope is neither stored nor in the journal's limit changes."""
    journal = depot.units().journal
    kind = JournalKind.ALLOCATION_CHANGED
    binding = journal.entries(kind=kind, envelope=envelope, since=start, until=end, limit=1)
    if not binding and depot.units().envelopes.get(envelope) is None:
        return None
    first = binding[0].at if binding else end
    evses = {
        e.evse
        for e in journal.entries(
            kind=kind, envelope=envelope, since=start, until=end, limit=MOST_CHANGES
        )
        if e.evse is not None
    }
    steps = [
        _step(e)
        for evse in sorted(evses)
        for e in journal.entries(kind=kind, evse=evse, since=first, until=end, limit=MOST_CHANGES)
    ]
    topology = site_in_force(depot).topology
    watts = {e: topology.evses[e].watts_per_amp for e in evses if e in topology.evses}
    return envelope_lineage(envelope, steps, watts, end)


def _step(entry: JournalEntry) -> LimitStep:
    binding = entry.data.get("binding") or {}
    return LimitStep(
        at=entry.at,
        evse=entry.evse or "",
        session=entry.session,
        limit_a=float(entry.data.get("limit_a") or 0.0),
        previous_a=entry.data.get("previous_a"),
        kind=str(binding.get("kind", "")),
        ref=binding.get("ref"),
        detail=str(binding.get("detail", "")),
    )
