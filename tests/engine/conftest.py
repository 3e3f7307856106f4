"""Builders for small hand-made depots, and the demand rules of the issue written out
independently of the engine (a session's deadline, urgency, tier and own cap)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from depotctl.domain.phases import THREE_PHASE, PhaseConnection
from depotctl.domain.policy import Policy
from depotctl.domain.sessions import EnergyRequirement, Session
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.topology import (
    EvseSpec,
    NodeKind,
    NodeLimits,
    SiteLoadSpec,
    SourceSpec,
    Topology,
    TopologyNode,
)
from depotctl.engine.allocation import Allocation
from depotctl.engine.explain import Decision

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
POLICY = Policy(safety_margin=0.0, hysteresis_a=0.0)
#: a site fallback that sets nothing (it holds import at 0 W)
NO_FALLBACK = NodeLimits()


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


@dataclass
class Depot:
    """A depot written bottom-up in a test: ``depot.node(...)``, ``depot.charger(...)``."""

    volts: float = 230.0
    nodes: dict[str, TopologyNode] = field(default_factory=dict)
    evses: dict[str, EvseSpec] = field(default_factory=dict)
    loads: dict[str, SiteLoadSpec] = field(default_factory=dict)
    sources: dict[str, SourceSpec] = field(default_factory=dict)

    def node(
        self,
        node_id: str,
        parent: str | None = None,
        *,
        kind: NodeKind = NodeKind.CIRCUIT,
        current_a: float | None = None,
        import_w: float | None = None,
        phases: int = 3,
        ratio: float = 1.0,
        volts: float | None = None,
        envelope_source: str | None = None,
    ) -> Depot:
        if parent is None:
            kind = NodeKind.GRID_CONNECTION
        depth = 0 if parent is None else self.nodes[parent].depth + 1
        self.nodes[node_id] = TopologyNode(
            id=node_id,
            kind=kind,
            parent=parent,
            depth=depth,
            phases=phases,
            voltage_ln=volts if volts is not None else self._volts(parent),
            limits=NodeLimits(import_w=import_w, current_a=current_a),
            envelope_source=envelope_source,
            current_ratio=ratio,
        )
        return self

    def charger(
        self,
        charger_id: str,
        parent: str,
        *,
        connection: PhaseConnection | str | None = THREE_PHASE,
        evses: int = 1,
        max_a: float = 32.0,
        min_a: float = 6.0,
        current_a: float | None = None,
        import_w: float | None = None,
    ) -> Depot:
        if isinstance(connection, str):
            connection = PhaseConnection.parse(connection)
        phases = 3 if connection is not None and connection.is_three_phase else 1
        self.node(
            charger_id,
            parent,
            kind=NodeKind.CHARGER,
            current_a=current_a,
            import_w=import_w,
            phases=phases,
        )
        path = self._path(charger_id)
        for k in range(1, evses + 1):
            evse_id = f"{charger_id}/{k}"
            self.evses[evse_id] = EvseSpec(
                id=evse_id,
                charger_id=charger_id,
                external_id=None,
                supply="ac",
                connection=connection,
                voltage_ln=self._volts(charger_id),
                max_current_a=max_a,
                min_current_a=min_a,
                fallback_a=min_a,
                path=path,
            )
        return self

    def load(
        self,
        load_id: str,
        parent: str,
        *,
        fallback_a: float,
        connection: PhaseConnection | None = THREE_PHASE,
        meter: str | None = None,
    ) -> Depot:
        self.loads[load_id] = SiteLoadSpec(
            load_id, parent, connection, self._volts(parent), fallback_a, meter
        )
        return self

    def source(
        self,
        source_id: str,
        *targets: str,
        fallback: NodeLimits = NO_FALLBACK,
        offline_after_s: float | None = 300.0,
    ) -> Depot:
        self.sources[source_id] = SourceSpec(source_id, offline_after_s, fallback, targets)
        return self

    def topology(self) -> Topology:
        return Topology("test", "UTC", self.nodes, self.evses, self.loads, self.sources)

    def _volts(self, node_id: str | None) -> float:
        return self.volts if node_id is None else self.nodes[node_id].voltage_ln

    def _path(self, node_id: str) -> tuple[str, ...]:
        chain = []
        current: str | None = node_id
        while current is not None:
            chain.append(current)
            current = self.nodes[current].parent
        return tuple(chain)


def snapshot(topology: Topology, policy: Policy = POLICY, **fields: Any) -> Snapshot:
    return Snapshot(at=T0, topology=topology, policy=policy, **fields)


def session(
    evse_id: str,
    *,
    energy_kwh: float | None = 50.0,
    hours_left: float = 12.0,
    delivered_kwh: float = 0.0,
    started: datetime | None = None,
    **fields: Any,
) -> Session:
    """A session that wants ``energy_kwh`` within ``hours_left`` (None: its need is
    unknown, so the site's default requirement applies)."""
    requirement = (
        EnergyRequirement(energy_kwh * 1000, T0 + timedelta(hours=hours_left))
        if energy_kwh is not None
        else None
    )
    return Session(
        id=f"s-{evse_id}",
        evse_id=evse_id,
        started=started or T0 - timedelta(hours=1),
        energy_delivered_wh=delivered_kwh * 1000,
        requirement=requirement,
        **fields,
    )


def decision_of(allocation: Allocation) -> Decision:
    """What the cycle computed (binding constraint indexes), for checks that need the
    exact constraint — node and phase — an EVSE stopped at."""
    decision = allocation._decision
    assert decision is not None
    return decision


# The demand rules of the issue, independently of depotctl.engine.demand


def deadline_and_need(snap: Snapshot, s: Session) -> tuple[datetime, float]:
    """A session's deadline and the energy it still needs (Wh); without a requirement,
    the site default: its energy by the next local default departure after it started."""
    if s.requirement is not None:
        return s.requirement.departure, max(0.0, s.requirement.energy_wh - s.energy_delivered_wh)
    departure = snap.policy.default_departure
    zone = departure.tzinfo or UTC
    local = s.started.astimezone(zone)
    clock = departure.replace(tzinfo=None)
    deadline = datetime.combine(local.date(), clock, tzinfo=zone)
    if deadline <= local:
        deadline = datetime.combine(local.date() + timedelta(days=1), clock, tzinfo=zone)
    return deadline, max(0.0, snap.policy.default_energy_wh - s.energy_delivered_wh)


def is_urgent(snap: Snapshot, s: Session) -> bool:
    """Laxity — time to the deadline less the time needed at full rate — under the
    policy's threshold, unless a plan holds it below its full rate."""
    evse = snap.topology.evses[s.evse_id]
    deadline, need = deadline_and_need(snap, s)
    vehicle = s.vehicle_max_current_a
    rate_a = min(evse.max_current_a, math.inf if vehicle is None else vehicle)
    rate_w = rate_a * evse.watts_per_amp
    needed_s = need / rate_w * 3600 if rate_w > 0 else math.inf
    laxity = (deadline - snap.at).total_seconds() - needed_s
    planned = math.inf if s.planned_rate_a is None else s.planned_rate_a
    return laxity < snap.policy.urgency_threshold_s and planned >= rate_a - 1e-6  # else held


def tier(snap: Snapshot, s: Session) -> int:
    """Priority class first, then urgent before not."""
    return s.priority_class * 2 + (0 if is_urgent(snap, s) else 1)


def own_cap(snap: Snapshot, s: Session) -> float:
    """The most the EVSE may take whatever the tree: its rating, the vehicle's maximum,
    zero once the energy is there, the plan's rate unless urgent, and an operator's
    override (zero when paused, else its cap)."""
    evse = snap.topology.evses[s.evse_id]
    caps = [evse.max_current_a]
    override = snap.overrides.get(s.evse_id)
    if override is not None:
        if override.paused:
            caps.append(0.0)
        elif override.cap_a is not None:
            caps.append(override.cap_a)
    if s.vehicle_max_current_a is not None:
        caps.append(s.vehicle_max_current_a)
    if deadline_and_need(snap, s)[1] <= 0:
        caps.append(0.0)
    if s.planned_rate_a is not None and not is_urgent(snap, s):
        caps.append(s.planned_rate_a)
    return max(0.0, min(caps))


def held(snap: Snapshot, s: Session) -> str | None:
    """Rotation's minimum on and off times: "on" when the session's EVSE was switched on
    less than ``min_on`` ago (counted from the session's start when that is later),
    "off" when it was switched off during the session less than ``min_off`` ago, else
    None (free)."""
    record = snap.admission.get(s.evse_id)
    if record is None:
        return None
    if record.on:
        start = max(record.since, s.started)
        return "on" if (snap.at - start).total_seconds() < snap.policy.min_on_s else None
    if record.since < s.started:
        return None  # it was off when the session began: never switched off in it
    return "off" if (snap.at - record.since).total_seconds() < snap.policy.min_off_s else None


def position(snap: Snapshot, s: Session) -> tuple[int, int]:
    """Where a session stands in admission: its tier, then within it held on (0), free
    (1) or held off (2)."""
    return tier(snap, s), {"on": 0, None: 1, "off": 2}[held(snap, s)]
