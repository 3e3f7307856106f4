"""The API's inputs: envelopes (list, submit, withdraw), sessions and their energy
requirements (list, start, end, schedule), and telemetry of meters that are not
chargers.

Every write is one store transaction together with its journal entry (naming the
envelope, session and EVSE), then ``controller.changed(reason)`` so the control loop
runs a cycle at once. "Now" is the controller's clock. Ids are checked against the
site in force: an unknown node or EVSE is 404 ``not_found`` with ``did_you_mean``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from depotctl.config.schema import Charger
from depotctl.config.snapshot.checks import likely_id
from depotctl.controller.api_inputs import (
    EnvelopeInput,
    RequirementInput,
    SessionEndInput,
    SessionInput,
    TelemetryInput,
)
from depotctl.controller.deps import ControllerDep
from depotctl.controller.errors import ApiError
from depotctl.controller.service import AppliedSite, Controller, NoSite
from depotctl.controller.store import (
    EnvelopeConflict,
    JournalKind,
    NewJournalEntry,
    SessionConflict,
    SessionRecord,
)
from depotctl.domain import Current, Energy, Power
from depotctl.domain.envelopes import (
    LOCAL_SOURCE,
    Direction,
    Envelope,
    EnvelopeMode,
    EnvelopeState,
    EnvelopeStatus,
    LimitUnit,
    SourceHealth,
    states_at,
)
from depotctl.domain.phases import Phase
from depotctl.domain.sessions import EnergyRequirement, RequirementSource, Session
from depotctl.domain.telemetry import Reading
from depotctl.engine import SessionOutlook, session_outlooks
from depotctl.views import binding_json

#: Journal kind of a requirement set on a running session (the fleet's schedule).
SESSION_REQUIREMENT = "session.requirement"


#: how far ahead of the controller's clock a reading may be stamped (clock skew)
FUTURE_READING_TOLERANCE = timedelta(minutes=1)


def input_routes() -> APIRouter:
    """The envelope, session and telemetry endpoints (mounted with ``include_api``)."""
    router = APIRouter()

    # Envelopes

    @router.get("/envelopes", tags=["envelopes"], summary="Every envelope with its state now")
    def list_envelopes(controller: ControllerDep) -> dict[str, Any]:
        now = controller.clock.now()
        health = _source_health(controller)
        envelopes = controller.store.envelopes()
        statuses = states_at(envelopes, health, now)
        return {
            "time": now.isoformat(),
            "envelopes": [
                _envelope_json(e, statuses.get(e.id), health.get(e.source), now) for e in envelopes
            ],
            "sources": [
                {
                    "id": source.source,
                    "online": source.is_online(now),
                    "last_heard": _iso(source.last_heard),
                    "offline_after_s": source.offline_after_s,
                }
                for source in health.values()
            ],
        }

    @router.post(
        "/envelopes",
        tags=["envelopes"],
        summary="Submit an envelope (201; 200 when the same one was already stored)",
        status_code=201,
        responses={200: {"description": "The same envelope was already stored"}},
    )
    def submit_envelope(
        body: EnvelopeInput, response: Response, controller: ControllerDep
    ) -> dict[str, Any]:
        applied = _applied(controller)
        _check_target(applied, body.target)
        sources = [LOCAL_SOURCE, *applied.topology.sources]
        if body.source not in sources:
            raise _unknown(
                "source",
                body.source,
                f'site {applied.topology.site} has no envelope source "{body.source}"',
                sources,
            )
        now = controller.clock.now()
        if body.end is not None and body.end <= body.start:
            raise ApiError(
                400,
                "invalid_request",
                f"envelope {body.id} ends at {_iso(body.end)}, not after its start at "
                f"{_iso(body.start)}",
            )
        if body.end is not None and body.end <= now:
            raise ApiError(
                400,
                "invalid_request",
                f"envelope {body.id} ends at {_iso(body.end)}, which has passed "
                f"(the controller's time is {_iso(now)}); check the time zone",
            )
        store = controller.store
        with store.transaction():
            existing = store.envelope(body.id)
            if existing is not None and existing.withdrawn_at is not None:
                raise ApiError(
                    409,
                    "conflict",
                    f"envelope {body.id} was withdrawn at {_iso(existing.withdrawn_at)}; "
                    "submit a new envelope under a new id",
                    envelope=body.id,
                )
            envelope = _envelope_of(body, received_at=existing.received_at if existing else now)
            try:
                new = store.put_envelope(envelope)
            except EnvelopeConflict:
                raise ApiError(
                    409,
                    "conflict",
                    f"envelope {body.id} is already stored with different content; "
                    "an envelope never changes: submit a new id (a newer envelope of the same "
                    "source, target and limit kind supersedes the older one)",
                    envelope=body.id,
                ) from None
            store.heard_from(envelope.source, now)
            if new:
                store.append_journal(
                    [
                        NewJournalEntry(
                            at=now,
                            kind=JournalKind.ENVELOPE_RECEIVED,
                            message=f"envelope {envelope.id} received from source "
                            f"{envelope.source}: {envelope.direction} {_limit(envelope)} on "
                            f"{envelope.target} {_window(envelope)}",
                            envelope=envelope.id,
                            data=_envelope_data(envelope),
                        )
                    ]
                )
        controller.changed(
            f"envelope {envelope.id} received" if new else f"source {envelope.source} heard from"
        )
        if not new:
            response.status_code = 200
        return _one_envelope(controller, envelope.id)

    @router.post(
        "/envelopes/{envelope_id}/withdraw",
        tags=["envelopes"],
        summary="Withdraw an envelope from now (withdrawing it again changes nothing)",
    )
    def withdraw_envelope(envelope_id: str, controller: ControllerDep) -> dict[str, Any]:
        store = controller.store
        now = controller.clock.now()
        with store.transaction():
            existing = store.envelope(envelope_id)
            if existing is None:
                raise ApiError(
                    404,
                    "not_found",
                    f"there is no envelope {envelope_id}",
                    envelope=envelope_id,
                )
            withdrawn = existing.withdrawn_at is None
            if withdrawn:
                store.withdraw_envelope(envelope_id, at=now)
                store.append_journal(
                    [
                        NewJournalEntry(
                            at=now,
                            kind=JournalKind.ENVELOPE_WITHDRAWN,
                            message=f"envelope {envelope_id} withdrawn: {_limit(existing)} on "
                            f"{existing.target} no longer applies",
                            envelope=envelope_id,
                            data={"source": existing.source, "target": existing.target},
                        )
                    ]
                )
        if withdrawn:
            controller.changed(f"envelope {envelope_id} withdrawn")
        return _one_envelope(controller, envelope_id)

    # Sessions

    @router.get(
        "/sessions",
        tags=["sessions"],
        summary="Open sessions with their outlook at departure (all with ?all=true)",
    )
    def list_sessions(
        controller: ControllerDep,
        include_ended: Annotated[bool, Query(alias="all", description="Ended ones too")] = False,
    ) -> dict[str, Any]:
        records = controller.store.sessions(open_only=not include_ended)
        any_open = any(record.is_open for record in records)
        at, outlooks = _outlooks(controller) if any_open else (controller.clock.now(), {})
        return {
            "time": _iso(at),
            "sessions": [_session_with_outlook(record, outlooks) for record in records],
        }

    @router.get(
        "/sessions/{session_id}",
        tags=["sessions"],
        summary="One session with its outlook at departure",
    )
    def one_session(session_id: str, controller: ControllerDep) -> dict[str, Any]:
        record = controller.store.session(session_id)
        if record is None:
            raise ApiError(
                404, "not_found", f"there is no session {session_id}", session=session_id
            )
        at, outlooks = _outlooks(controller) if record.is_open else (controller.clock.now(), {})
        return {"time": _iso(at), **_session_with_outlook(record, outlooks)}

    @router.post(
        "/sessions", tags=["sessions"], summary="A session starting on an EVSE", status_code=201
    )
    def start_session(body: SessionInput, controller: ControllerDep) -> dict[str, Any]:
        applied = _applied(controller)
        if body.evse not in applied.topology.evses:
            raise _unknown_evse(body.evse, applied.topology.evses)
        now = controller.clock.now()
        started = (body.started or now).astimezone(UTC)
        requirement = _requirement(body.id, body.requirement, started)
        session = Session(
            id=body.id,
            evse_id=body.evse,
            started=started,
            energy_delivered_wh=body.energy_delivered.base if body.energy_delivered else 0.0,
            requirement=requirement,
            vehicle_max_current_a=(
                body.vehicle_max_current.amps if body.vehicle_max_current is not None else None
            ),
            priority_class=body.priority_class,
        )
        store = controller.store
        with store.transaction():
            existing = store.session(body.id)
            if existing is not None:
                raise ApiError(
                    409,
                    "conflict",
                    f"session {body.id} already exists (on EVSE {existing.session.evse_id} "
                    f"since {_iso(existing.session.started)})",
                    session=body.id,
                )
            try:
                store.put_session(session)
            except SessionConflict as error:
                raise ApiError(409, "conflict", str(error), session=body.id) from None
            store.append_journal(
                [
                    NewJournalEntry(
                        at=now,
                        kind=JournalKind.SESSION_STARTED,
                        message=f"session {session.id} started on EVSE {session.evse_id}"
                        + (f", {_requirement_words(requirement)}" if requirement else ""),
                        evse=session.evse_id,
                        session=session.id,
                        data=_session_data(session),
                    )
                ]
            )
        controller.changed(f"session {session.id} started on {session.evse_id}")
        return _session_json(SessionRecord(session))

    @router.post("/sessions/{session_id}/end", tags=["sessions"], summary="A session ending")
    def end_session(
        session_id: str, body: SessionEndInput, controller: ControllerDep
    ) -> dict[str, Any]:
        store = controller.store
        now = controller.clock.now()
        with store.transaction():
            record = _open_session(controller, session_id)
            ended_at = (body.ended_at or now).astimezone(UTC)
            if ended_at < record.session.started:
                raise ApiError(
                    400,
                    "invalid_request",
                    f"session {session_id} cannot end at {_iso(ended_at)}, before it started "
                    f"at {_iso(record.session.started)}",
                    session=session_id,
                )
            energy_wh = (
                body.energy_delivered.base
                if body.energy_delivered is not None
                else record.session.energy_delivered_wh
            )
            ended = store.end_session(session_id, at=ended_at, energy_delivered_wh=energy_wh)
            store.append_journal(
                [
                    NewJournalEntry(
                        at=now,
                        kind=JournalKind.SESSION_ENDED,
                        message=f"session {session_id} ended on EVSE {record.session.evse_id} "
                        f"with {_energy(energy_wh)} delivered",
                        evse=record.session.evse_id,
                        session=session_id,
                        data={
                            "ended_at": _iso(ended_at),
                            "energy_delivered": _energy(energy_wh),
                            "energy_delivered_wh": energy_wh,
                        },
                    )
                ]
            )
        controller.changed(f"session {session_id} ended on {record.session.evse_id}")
        return _session_json(ended)

    @router.put(
        "/sessions/{session_id}/requirement",
        tags=["sessions"],
        summary="The fleet's schedule for a running session: energy by departure",
    )
    def set_requirement(
        session_id: str, body: RequirementInput, controller: ControllerDep
    ) -> dict[str, Any]:
        store = controller.store
        now = controller.clock.now()
        with store.transaction():
            record = _open_session(controller, session_id)
            requirement = _requirement(session_id, body, record.session.started)
            assert requirement is not None
            session = replace(record.session, requirement=requirement)
            store.put_session(session)
            store.append_journal(
                [
                    NewJournalEntry(
                        at=now,
                        kind=SESSION_REQUIREMENT,
                        message=f"session {session_id} on EVSE {session.evse_id}: "
                        f"{_requirement_words(requirement)} (the fleet's schedule)",
                        evse=session.evse_id,
                        session=session_id,
                        data=_requirement_data(requirement),
                    )
                ]
            )
        controller.changed(f"session {session_id} requirement")
        return _session_json(SessionRecord(session))

    # Telemetry

    @router.post(
        "/telemetry",
        tags=["telemetry"],
        summary="Readings of meters that are not chargers (the latest per node is kept)",
    )
    def ingest_telemetry(body: TelemetryInput, controller: ControllerDep) -> dict[str, Any]:
        applied = _applied(controller)
        nodes = {node.id: node for node in applied.site.spec.nodes}
        meters = [meter.id for meter in applied.site.spec.meters]
        now = controller.clock.now()
        for reading in body.readings:
            if reading.at - now > FUTURE_READING_TOLERANCE:
                # kept, it would hold back every true reading until its time came
                raise ApiError(
                    422,
                    "invalid_request",
                    f"reading of {reading.node} is stamped {reading.at.isoformat()}, after "
                    f"the controller's time {now.isoformat()}: check the meter's clock",
                    node=reading.node,
                )
            node = nodes.get(reading.node)
            if isinstance(node, Charger):
                raise ApiError(
                    400,
                    "invalid_request",
                    f'"{reading.node}" is a charger: its readings come from the charger '
                    "over OCPP, not from this endpoint",
                    node=reading.node,
                )
            if node is None and reading.node not in meters:
                raise _unknown(
                    "node",
                    reading.node,
                    f'telemetry for "{reading.node}", which is neither a node nor a meter '
                    f"of site {applied.topology.site}",
                    [*nodes, *meters],
                )
        readings = [
            Reading(
                node=reading.node,
                at=reading.at.astimezone(UTC),
                power_w=reading.power.base if reading.power is not None else None,
                current_a=(
                    {Phase(name): amps.amps for name, amps in reading.current.items()}
                    if reading.current
                    else None
                ),
            )
            for reading in body.readings
        ]
        controller.store.put_readings(readings)
        nodes_read = sorted({reading.node for reading in readings})
        controller.changed("telemetry from " + ", ".join(nodes_read))
        return {"accepted": len(readings), "nodes": nodes_read}

    return router


# Site lookups


def _applied(controller: Controller) -> AppliedSite:
    try:
        return controller.require_site()
    except NoSite as error:
        raise ApiError(404, "not_found", str(error)) from None


def _check_target(applied: AppliedSite, target: str) -> None:
    """A node that can carry a limit, else 400 (it cannot) or 404 (no such node)."""
    if target in applied.topology.nodes:
        return
    node = next((n for n in applied.site.spec.nodes if n.id == target), None)
    if node is not None:
        kind = str(node.type).replace("_", " ")
        raise ApiError(
            400,
            "invalid_request",
            f'{kind} "{target}" cannot carry a limit; target its parent or another node '
            "that carries load",
            node=target,
        )
    raise _unknown(
        "node",
        target,
        f'site {applied.topology.site} has no node "{target}"',
        applied.topology.nodes,
    )


def _unknown(field: str, value: str, message: str, known: Iterable[str]) -> ApiError:
    close = likely_id(value, known)
    if close:
        message += f'; did you mean "{close}"?'
    return ApiError(404, "not_found", message, **{field: value}, did_you_mean=close)


def _unknown_evse(evse: str, known: Iterable[str]) -> ApiError:
    ids = sorted(known)
    own = [k for k in ids if k.startswith(evse + "/")]  # a charger id: its first EVSE
    close = own[0] if own else likely_id(evse, ids)
    message = f'site has no EVSE "{evse}" (EVSE ids are "<charger id>/<evse id>")'
    if close:
        message += f'; did you mean "{close}"?'
    return ApiError(404, "not_found", message, evse=evse, did_you_mean=close)


def _open_session(controller: Controller, session_id: str) -> SessionRecord:
    record = controller.store.session(session_id)
    if record is None:
        raise ApiError(404, "not_found", f"there is no session {session_id}", session=session_id)
    if record.ended_at is not None:
        raise ApiError(
            409,
            "conflict",
            f"session {session_id} ended at {_iso(record.ended_at)}; it cannot change",
            session=session_id,
        )
    return record


def _outlooks(controller: Controller) -> tuple[datetime, dict[str, SessionOutlook]]:
    """The instant of the allocation in force (the one ``/state`` shows) and every open
    session's outlook at it; none before the first revision."""
    try:
        live = controller.current()
    except NoSite:
        return controller.clock.now(), {}
    return live.snapshot.at, session_outlooks(live.snapshot, live.allocation)


def _source_health(controller: Controller) -> dict[str, SourceHealth]:
    """Every source the site declares or the store has heard from (the site's
    offline-after for the declared ones; the others never go offline once heard)."""
    heard = controller.store.last_heard()
    declared = controller.applied.topology.sources if controller.applied else {}
    health = {
        source_id: SourceHealth(source_id, heard.get(source_id), spec.offline_after_s)
        for source_id, spec in declared.items()
    }
    for source_id, last in heard.items():
        health.setdefault(source_id, SourceHealth(source_id, last, None))
    return dict(sorted(health.items()))


# Conversions


def _envelope_of(body: EnvelopeInput, *, received_at: datetime) -> Envelope:
    return Envelope(
        id=body.id,
        source=body.source,
        target=body.target,
        direction=Direction(body.direction),
        limit=body.limit.base,
        unit=LimitUnit.A if isinstance(body.limit, Current) else LimitUnit.W,
        start=body.start.astimezone(UTC),
        end=body.end.astimezone(UTC) if body.end is not None else None,
        received_at=received_at,
        mode=EnvelopeMode(body.mode),
        phases=frozenset(Phase(p) for p in body.phases) if body.phases else None,
        priority=body.priority,
    )


def _requirement(
    session_id: str, body: RequirementInput | None, started: datetime
) -> EnergyRequirement | None:
    if body is None:
        return None
    departure = body.departure.astimezone(UTC)
    if departure <= started:
        raise ApiError(
            400,
            "invalid_request",
            f"session {session_id} departs at {_iso(departure)}, not after it started at "
            f"{_iso(started)}",
            session=session_id,
        )
    return EnergyRequirement(body.energy.base, departure, RequirementSource.SCHEDULE)


# JSON


def _one_envelope(controller: Controller, envelope_id: str) -> dict[str, Any]:
    now = controller.clock.now()
    health = _source_health(controller)
    envelopes = controller.store.envelopes()
    statuses = states_at(envelopes, health, now)
    envelope = next(e for e in envelopes if e.id == envelope_id)
    return _envelope_json(envelope, statuses.get(envelope_id), health.get(envelope.source), now)


def _envelope_json(
    envelope: Envelope,
    status: EnvelopeStatus | None,
    health: SourceHealth | None,
    now: datetime,
) -> dict[str, Any]:
    if status is None:  # received after the controller's time (a clock set back)
        status = EnvelopeStatus(EnvelopeState.RECEIVED, "received later than the clock's time")
    return {
        "id": envelope.id,
        **_envelope_data(envelope),
        "received_at": _iso(envelope.received_at),
        "withdrawn_at": _iso(envelope.withdrawn_at),
        "source_online": health is not None and health.is_online(now),
        "state": status.state.value,
        "reason": status.reason,
    }


def _envelope_data(envelope: Envelope) -> dict[str, Any]:
    return {
        "source": envelope.source,
        "target": envelope.target,
        "direction": envelope.direction.value,
        "limit": _limit(envelope),
        "phases": sorted(envelope.phases) if envelope.phases is not None else None,
        "start": _iso(envelope.start),
        "end": _iso(envelope.end),
        "mode": envelope.mode.value,
        "priority": envelope.priority,
    }


def _session_json(record: SessionRecord) -> dict[str, Any]:
    return {
        "id": record.session.id,
        **_session_data(record.session),
        "open": record.is_open,
        "ended_at": _iso(record.ended_at),
    }


def _session_with_outlook(
    record: SessionRecord, outlooks: dict[str, SessionOutlook]
) -> dict[str, Any]:
    """A session as listed, with its ``outlook`` (null once ended, or when the site in
    force has no such EVSE)."""
    outlook = outlooks.get(record.session.id) if record.is_open else None
    return {
        **_session_json(record),
        "outlook": _outlook_json(outlook) if outlook is not None else None,
    }


def _outlook_json(outlook: SessionOutlook) -> dict[str, Any]:
    """Energy in Wh, power in kW, current in A (3 decimals); times in UTC; the
    constraint as the EVSE's ``binding`` in ``/state``."""
    constraint = outlook.constraint
    return {
        "required_energy_wh": _number(outlook.required_wh),
        "departure": _iso(outlook.departure),
        "requirement_source": outlook.requirement_source.value,
        "limit_a": _number(outlook.limit_a),
        "limit_kw": _number(outlook.limit_w / 1000.0),
        "expected_energy_wh": _number(outlook.expected_wh),
        "shortfall_wh": _number(outlook.shortfall_wh),
        "on_track": outlook.on_track,
        "complete_at": _iso(outlook.complete_at),
        "overdue": outlook.overdue,
        "constraint": binding_json(constraint) if constraint is not None else None,
    }


def _number(value: float) -> float | None:
    return round(value, 3) + 0.0 if math.isfinite(value) else None  # no "-0.0"


def _session_data(session: Session) -> dict[str, Any]:
    return {
        "evse": session.evse_id,
        "started": _iso(session.started),
        "energy_delivered": _energy(session.energy_delivered_wh),
        "requirement": (
            _requirement_data(session.requirement) if session.requirement is not None else None
        ),
        "vehicle_max_current": (
            str(Current.of(session.vehicle_max_current_a))
            if session.vehicle_max_current_a is not None
            else None
        ),
        "priority_class": session.priority_class,
    }


def _requirement_data(requirement: EnergyRequirement) -> dict[str, Any]:
    return {
        "energy": _energy(requirement.energy_wh),
        "departure": _iso(requirement.departure),
        "source": requirement.source.value,
    }


def _requirement_words(requirement: EnergyRequirement) -> str:
    return f"needs {_energy(requirement.energy_wh)} by {_iso(requirement.departure)}"


def _limit(envelope: Envelope) -> str:
    if envelope.unit is LimitUnit.A:
        return str(Current.of(envelope.limit))
    return str(Power.of(envelope.limit))


def _window(envelope: Envelope) -> str:
    if envelope.end is None:
        return f"from {_iso(envelope.start)}, open-ended"
    return f"from {_iso(envelope.start)} until {_iso(envelope.end)}"


def _energy(wh: float) -> str:
    return str(Energy.of(wh))


def _iso(at: datetime | None) -> str | None:
    return at.astimezone(UTC).isoformat() if at is not None else None
