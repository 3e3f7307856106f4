"""Every session's readiness forecast (pure): the energy it will have at its departure
and, when that falls short of its need, what causes it.

Two bases (:class:`~depotctl.domain.readiness.Basis`):

- ``plan``: the horizon plan in force covers the session. It will have what it has
  now plus the plan's power over the rest of each block until its departure. When
  that is short, the cause is the earliest block (from now) in which the session
  gets less than its maximum power and a row of the plan's problem that carries it
  is full (planned load ≥ capacity − a tolerance): the lowest such node (the one
  carrying the fewest sessions), named by what sets its capacity then — an envelope
  in force on it below its static limit, the site's fallback for an offline source,
  else the node's own limit — full from that block. A session at its maximum
  throughout is held by its own maximum: the vehicle's, when the vehicle caps it,
  else its EVSE's.
  Energy past the plan's horizon is not counted (a departure beyond it may read
  short).
- ``present limit``: no plan (or none that covers the session): the EVSE's present
  limit held until the departure, as :mod:`depotctl.engine.outlook` forecasts it,
  the cause being the EVSE's binding constraint now.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import numpy as np

from depotctl.domain.alerts import AlertCondition, AlertKind, Subject, SubjectKind
from depotctl.domain.envelopes import Direction, LimitUnit, applicable_limits
from depotctl.domain.readiness import Basis, Readiness, ReadinessCause
from depotctl.domain.sessions import Session
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.topology import NodeKind
from depotctl.engine.allocation import Allocation, Binding, BindingKind
from depotctl.engine.outlook import TOLERANCE_WH, SessionOutlook, requirement_of, session_outlooks
from depotctl.engine.planner.capacities import held_health, node_capacities
from depotctl.engine.planner.plan import Plan, PlanStatus
from depotctl.engine.planner.problem import NodeCapacity, PlannedSession, PlanningProblem

#: A planned power this close to a limit (W, or this share of it when larger) is at it.
POWER_TOLERANCE_W = 1.0
POWER_TOLERANCE_SHARE = 1e-6
#: A session short by more than this at its departure raises ``departure_at_risk``.
AT_RISK_WH = 1_000.0
_PRESENT = Basis.PRESENT_LIMIT
_NODE_FULL, _ENVELOPE, _FALLBACK = (
    BindingKind.NODE_LIMIT.value,
    BindingKind.ENVELOPE.value,
    BindingKind.FALLBACK.value,
)
#: the smallest step of time: what separates a block's end from the next one's start
_INSTANT = timedelta(microseconds=1)


def forecasts(
    snapshot: Snapshot,
    allocation: Allocation,
    plan: Plan | None = None,
    problem: PlanningProblem | None = None,
) -> dict[str, Readiness]:
    """The forecast of every session the allocation decided for, by session id: on the
    plan where ``plan`` (solved from ``problem``) covers it, else on its present
    limit."""
    outlooks = session_outlooks(snapshot, allocation)
    planned = _Planned(snapshot, plan, problem) if plan is not None and problem else None
    by_id = {session.id: session for session in snapshot.sessions}
    out: dict[str, Readiness] = {}
    for session_id, outlook in outlooks.items():
        forecast = planned.readiness(by_id[session_id]) if planned is not None else None
        forecast = forecast or present_readiness(outlook, snapshot)
        vehicle = by_id[session_id].vehicle_id
        out[session_id] = forecast if vehicle is None else replace(forecast, vehicle_id=vehicle)
    return out


def departures_at_risk(
    forecasts: Mapping[str, Readiness], threshold_wh: float = AT_RISK_WH
) -> list[AlertCondition]:
    """A ``departure_at_risk`` condition per EVSE whose session's forecast is short by
    more than ``threshold_wh`` before its departure (an overdue one is past saving), by
    EVSE; the reason is the forecast in the controller's words (UTC). A session paused
    for its turn at the minimum current (fairness rotation) is not judged on its
    present limit of 0 A: its turn comes, and the alert would come and go with it."""
    out = []
    for forecast in sorted(forecasts.values(), key=lambda f: f.evse_id):
        cause = forecast.cause
        if forecast.short_wh <= threshold_wh or forecast.is_overdue or _waits_its_turn(forecast):
            continue
        out.append(
            AlertCondition(
                AlertKind.DEPARTURE_AT_RISK,
                Subject(SubjectKind.EVSE, forecast.evse_id),
                f"session {forecast.session_id} {forecast.outcome()}",
                {
                    "session": forecast.session_id,
                    "departure": _utc(forecast.departure),
                    "need_wh": _figure(forecast.need_wh),
                    "expected_wh": _figure(forecast.expected_wh),
                    "short_wh": _figure(forecast.short_wh),
                    "basis": str(forecast.basis),
                    "cause": None if cause is None else {"kind": cause.kind, "ref": cause.ref},
                },
            )
        )
    return out


def _waits_its_turn(forecast: Readiness) -> bool:
    cause = forecast.cause
    return (
        forecast.basis == Basis.PRESENT_LIMIT
        and cause is not None
        and cause.kind == BindingKind.MIN_CURRENT_ADMISSION.value
    )


def present_readiness(outlook: SessionOutlook, snapshot: Snapshot) -> Readiness:
    """The forecast of the present limit held until the departure (the outlook)."""
    binding = outlook.constraint
    cause = None if binding is None else _binding_cause(binding, snapshot)
    o = outlook
    energies = (o.required_wh, o.expected_wh, o.shortfall_wh)
    return Readiness(o.session_id, o.evse_id, snapshot.at, o.departure, *energies, _PRESENT, cause)


def _binding_cause(binding: Binding, snapshot: Snapshot) -> ReadinessCause:
    """The EVSE's binding constraint now as the cause of its shortfall."""
    node: str | None = None
    if binding.kind is BindingKind.NODE_LIMIT:
        node = binding.ref
    elif binding.kind is BindingKind.ENVELOPE:
        node = next((e.target for e in snapshot.envelopes if e.id == binding.ref), None)
    elif binding.kind is BindingKind.FALLBACK:
        spec = snapshot.topology.sources.get(binding.ref or "")
        node = ", ".join(spec.targets) if spec is not None else None
    return ReadinessCause(binding.kind.value, binding.ref, node, snapshot.at, binding.detail)


def planned_readiness(
    session: Session, snapshot: Snapshot, plan: Plan, problem: PlanningProblem
) -> Readiness | None:
    """The forecast of ``session`` on ``plan``; None when the plan does not cover it
    (not solved, or the session is not in it)."""
    return _Planned(snapshot, plan, problem).readiness(session)


class _Planned:
    """One plan and its problem, read for the sessions of one snapshot."""

    def __init__(self, snapshot: Snapshot, plan: Plan, problem: PlanningProblem) -> None:
        self.snapshot, self.plan, self.problem = snapshot, plan, problem
        self.rows: dict[str, list[NodeCapacity]] = {}
        for row in problem.nodes:
            for session_id in row.session_ids:
                self.rows.setdefault(session_id, []).append(row)
        self.sessions = {s.id: s for s in problem.sessions}
        self._column = {session_id: c for c, session_id in enumerate(plan.sessions)}
        self._power = np.array(
            [planned.power_w for planned in plan.sessions.values()], dtype=float
        ).reshape(len(plan.sessions), plan.blocks.count)
        self._full: dict[int, np.ndarray] = {}
        self._starts = plan.blocks.starts()
        self._causes: dict[tuple[int, int], ReadinessCause] = {}
        self._static: Mapping[str, tuple[float, ...]] | None = None

    def readiness(self, session: Session) -> Readiness | None:
        planned = self.plan.sessions.get(session.id)
        spec = self.sessions.get(session.id)
        if self.plan.status is not PlanStatus.OPTIMAL or planned is None or spec is None:
            return None
        at = self.snapshot.at
        need_wh, departure, _ = requirement_of(session, self.snapshot)
        hours = self._hours_left(departure)
        delivered = session.energy_delivered_wh
        expected = delivered + float(np.dot(self._power[self._column[session.id]], hours))
        short = need_wh - expected
        if short < TOLERANCE_WH:
            met = max(delivered, need_wh)
            return Readiness(
                session.id, session.evse_id, at, departure, need_wh, met, 0.0, Basis.PLAN
            )
        cause = None if departure <= at else self._cause(session, spec, hours)
        return Readiness(
            session.id, session.evse_id, at, departure, need_wh, expected, short, Basis.PLAN, cause
        )

    def _hours_left(self, departure: datetime) -> np.ndarray:
        """Per block, its hours from now until ``departure``."""
        blocks = self.plan.blocks
        length = blocks.length.total_seconds()
        begins = np.arange(blocks.count, dtype=float) * length
        now = (self.snapshot.at - blocks.start).total_seconds()
        until = (departure - blocks.start).total_seconds()
        seconds = np.minimum(until, begins + length) - np.maximum(now, begins)
        hours: np.ndarray = np.maximum(seconds, 0.0) / 3600.0
        return hours

    def _cause(
        self, session: Session, spec: PlannedSession, hours: np.ndarray
    ) -> ReadinessCause | None:
        power = self.plan.sessions[session.id].power_w
        starts = self._starts
        below_max = False
        for b, left in enumerate(hours.tolist()):
            if left <= 0.0 or _at_least(power[b], spec.max_power_w):
                continue
            below_max = True
            full = [row for row in self.rows.get(session.id, []) if self._is_full(row, b)]
            if full:
                row = min(full, key=lambda r: (len(r.session_ids), r.node_id))
                key = (id(row), b)
                if key not in self._causes:  # every session behind it shares it
                    self._causes[key] = self._row_cause(row, b, max(starts[b], self.snapshot.at))
                return self._causes[key]
        if below_max:
            return None  # below its maximum with room to spare: nothing to name
        return self._own_max(session, spec)

    def _is_full(self, row: NodeCapacity, b: int) -> bool:
        """The row's planned load (its weights × the sessions' power, in its units) is
        at its capacity in block ``b`` (every block's worked out once per row)."""
        full = self._full.get(id(row))
        if full is None:
            pairs = [
                (self._column[session_id], weight)
                for session_id, weight in zip(row.session_ids, row.weight_of(), strict=True)
                if session_id in self._column
            ]
            columns = np.array([c for c, _ in pairs], dtype=int)
            load = np.array([w for _, w in pairs], dtype=float) @ self._power[columns]
            capacity = np.array(row.capacity_w, dtype=float)
            finite = np.isfinite(capacity)
            room = np.where(finite, capacity, 0.0)
            tolerance = np.maximum(POWER_TOLERANCE_W, POWER_TOLERANCE_SHARE * np.abs(room))
            full = self._full[id(row)] = finite & (load >= room - tolerance)
        return bool(full[b])

    def _row_cause(self, row: NodeCapacity, b: int, since: datetime) -> ReadinessCause:
        """The full row's node at block ``b``, named by what sets its capacity then."""
        snapshot, blocks = self.snapshot, self.plan.blocks
        node_id = _node_of(row, snapshot)
        node = snapshot.topology.nodes.get(node_id)
        if node is None:  # a row of no node the site has: named as the problem names it
            return ReadinessCause(_NODE_FULL, node_id, node_id, since)
        if node.kind is NodeKind.CHARGER:  # its rating: the session's own maximum
            return ReadinessCause(BindingKind.CHARGER_LIMIT.value, node_id, None, since)
        lead = blocks.length + snapshot.envelope_lead - _INSTANT
        start = self._starts[b]
        applied = [
            limit
            for limit in applicable_limits(
                snapshot.envelopes,
                held_health(snapshot),
                snapshot.topology.sources,
                start,
                lead=lead,
            )
            if limit.target == node_id and limit.direction is Direction.IMPORT
        ]
        if applied:
            keep = 1.0 - snapshot.policy.safety_margin

            def watts(limit_value: float, unit: LimitUnit) -> float:
                per_amp = node.voltage_ln * node.phases
                return limit_value if unit is LimitUnit.W else limit_value * per_amp

            tightest = min(applied, key=lambda limit: watts(limit.limit, limit.unit))
            static = self._static_w().get(node_id, (float("inf"),) * blocks.count)[b]
            tightest_w = watts(tightest.limit, tightest.unit) * keep
            if math.isinf(static) or tightest_w < static - _tolerance(static):
                origin = tightest.origin
                if origin.envelope_id is not None:
                    return ReadinessCause(_ENVELOPE, origin.envelope_id, node_id, since)
                return ReadinessCause(_FALLBACK, origin.source, node_id, since)
        return ReadinessCause(_NODE_FULL, node_id, node_id, since)

    def _static_w(self) -> Mapping[str, tuple[float, ...]]:
        """Each node's capacity per block from its static limits alone."""
        if self._static is None:
            snapshot = self.snapshot
            bare = replace(
                snapshot,
                envelopes=(),
                topology=replace(snapshot.topology, sources={}),
            )
            self._static = {
                row.node_id: row.capacity_w for row in node_capacities(bare, self.plan.blocks)
            }
        return self._static

    def _own_max(self, session: Session, spec: PlannedSession) -> ReadinessCause:
        evse = self.snapshot.topology.evses[session.evse_id]
        vehicle = session.vehicle_max_current_a
        capped = vehicle is not None and vehicle < evse.max_current_a
        kind = (BindingKind.VEHICLE_LIMIT if capped else BindingKind.CHARGER_LIMIT).value
        ref = session.evse_id
        detail = f"at most {spec.max_power_w / 1000:,.1f} kW"
        return ReadinessCause(kind, ref, None, self.snapshot.at, detail)


def _node_of(row: NodeCapacity, snapshot: Snapshot) -> str:
    """The node a row limits: its id, or the id before a space in one that names the
    limit too (``db-1 current_L1``: a row per constraint of the allocator's model)."""
    if row.node_id in snapshot.topology.nodes:
        return row.node_id
    return row.node_id.split(" ", 1)[0]


def _at_least(value: float, limit: float) -> bool:
    return value >= limit - _tolerance(limit)


def _tolerance(limit: float) -> float:
    return max(POWER_TOLERANCE_W, POWER_TOLERANCE_SHARE * abs(limit))


def _figure(wh: float) -> float | None:
    """3 decimals; None for a figure that is not a finite number (JSON has none)."""
    return round(wh, 3) if math.isfinite(wh) else None


def _utc(instant: datetime) -> str:
    return instant.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
