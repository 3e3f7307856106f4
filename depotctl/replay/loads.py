"""What the vehicles' draws put on each node, and the limits that load must respect.

Computed from the topology and the draws alone, never from the engine's own
accounting, so a replay can check the engine independently — and with the exact
physics rather than the engine's linear bounds: line currents are phasors (unity
power factor; a line-to-line load's current leaves on one line and returns on
the other, in phase with their line-to-line voltage), summed per line. Through a
transformer a wye-wye winding scales each line by secondary/primary; a delta-wye
winding puts ``(I_a − I_c)·ratio/√3`` on primary line A (and so on round); a
transformer whose winding the site does not state is checked both ways, and the
worse counts. A single-phase load whose phase is unknown counts its magnitude on
every line. A single-phase node carries its most loaded line; power is the sum of
V·I with no losses.
"""

from __future__ import annotations

import cmath
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from depotctl.domain.envelopes import Direction, Envelope, EnvelopeMode, LimitUnit
from depotctl.domain.phases import SQRT3, Phase, PhaseConnection, line_currents
from depotctl.domain.topology import NodeKind, Topology

PHASES = (Phase.L1, Phase.L2, Phase.L3)


@dataclass(frozen=True, slots=True)
class NodeLoad:
    """A node's load: amps per phase (its own side of any transformer) and watts."""

    node: str
    current_a: Mapping[Phase, float]
    power_w: float


@dataclass(frozen=True, slots=True)
class Bound:
    """One limit in force: its value and where it comes from (``static`` or an
    envelope id)."""

    value: float
    source: str


@dataclass(frozen=True, slots=True)
class NodeBounds:
    """The limits in force on a node at an instant: per phase current, import power."""

    node: str
    current_a: Mapping[Phase, Bound]
    power_w: Bound | None

    @property
    def tightest_current(self) -> Bound | None:
        if not self.current_a:
            return None
        return min(self.current_a.values(), key=lambda bound: bound.value)


@dataclass(frozen=True, slots=True)
class Violation:
    """A node carrying more than a limit in force: ``quantity`` is ``current_L1``…
    ``current_L3`` (A) or ``import_power`` (W)."""

    at: datetime
    node: str
    quantity: str
    value: float
    limit: float
    source: str


_ANGLE = {Phase.L1: 0.0, Phase.L2: -2 * cmath.pi / 3, Phase.L3: 2 * cmath.pi / 3}
_UNIT = {phase: cmath.exp(1j * angle) for phase, angle in _ANGLE.items()}
#: The windings ``(x, y)`` whose difference primary line L carries in delta-wye.
_DELTA = {
    Phase.L1: (Phase.L1, Phase.L3),
    Phase.L2: (Phase.L2, Phase.L1),
    Phase.L3: (Phase.L3, Phase.L2),
}
_WORLDS = ("wye-wye", "delta-wye")

Phasors = dict[Phase, complex]


def _load_phasors(amps: float, connection: PhaseConnection | None) -> tuple[Phasors, Phasors]:
    """(phasor per line, magnitude per line of unknown phase) of one EVSE's draw."""
    zero = dict.fromkeys(PHASES, 0j)
    if connection is None:
        return zero, dict.fromkeys(PHASES, complex(amps))
    phases = connection.phases
    if len(phases) == 2:
        x, y = phases
        direction = _UNIT[x] - _UNIT[y]
        current = amps * direction / abs(direction)
        return {**zero, x: current, y: -current}, dict.fromkeys(PHASES, 0j)
    return {**zero, **{p: amps * _UNIT[p] for p in phases}}, dict.fromkeys(PHASES, 0j)


def _through(
    phasors: Phasors, surplus: Phasors, ratio: float, winding: str
) -> tuple[Phasors, Phasors]:
    if winding == "wye-wye":
        return (
            {p: ratio * phasors[p] for p in PHASES},
            {p: ratio * surplus[p] for p in PHASES},
        )
    k = ratio / SQRT3
    return (
        {p: k * (phasors[x] - phasors[y]) for p, (x, y) in _DELTA.items()},
        {p: k * (surplus[x] + surplus[y]) for p, (x, y) in _DELTA.items()},
    )


def node_loads(topology: Topology, draws: Mapping[str, float]) -> dict[str, NodeLoad]:
    """The load on every node of ``topology`` from EVSEs drawing ``draws`` (amps per
    line, by EVSE id): per line the larger of the two readings of any transformer
    whose winding is unknown."""
    worlds = {
        world: {node_id: dict.fromkeys(PHASES, 0j) for node_id in topology.nodes}
        for world in _WORLDS
    }
    extra = {
        world: {node_id: dict.fromkeys(PHASES, 0j) for node_id in topology.nodes}
        for world in _WORLDS
    }
    single = dict.fromkeys(topology.nodes, 0.0)
    power = dict.fromkeys(topology.nodes, 0.0)
    for evse_id, amps in draws.items():
        if amps == 0.0:
            continue
        evse = topology.evses[evse_id]
        watts = amps * evse.watts_per_amp
        lines = line_currents(amps, evse.connection)
        start = _load_phasors(amps, evse.connection)
        for world in _WORLDS:
            phasors, surplus = start
            for node_id in evse.path:
                node = topology.nodes[node_id]
                if node.kind is NodeKind.TRANSFORMER:
                    winding = node.winding or world
                    phasors, surplus = _through(phasors, surplus, node.current_ratio, winding)
                for phase in PHASES:
                    worlds[world][node_id][phase] += phasors[phase]
                    extra[world][node_id][phase] += surplus[phase]
        ratio = 1.0
        for node_id in evse.path:
            node = topology.nodes[node_id]
            ratio *= node.current_ratio
            single[node_id] += max(lines.values()) * ratio
            power[node_id] += watts
    loads = {}
    for node_id, node in topology.nodes.items():
        if node.phases == 1:
            current = {Phase.L1: single[node_id], Phase.L2: 0.0, Phase.L3: 0.0}
        else:
            current = {
                phase: max(
                    abs(worlds[world][node_id][phase]) + extra[world][node_id][phase].real
                    for world in _WORLDS
                )
                for phase in PHASES
            }
        loads[node_id] = NodeLoad(node_id, current, power[node_id])
    return loads


def is_in_force(envelope: Envelope, at: datetime) -> bool:
    """A normal import envelope whose window holds ``at`` and that is not withdrawn."""
    return (
        envelope.mode is EnvelopeMode.NORMAL
        and envelope.direction is Direction.IMPORT
        and envelope.start <= at
        and (envelope.end is None or at < envelope.end)
        and (envelope.withdrawn_at is None or at < envelope.withdrawn_at)
    )


def node_bounds(
    topology: Topology, envelopes: Iterable[Envelope], at: datetime
) -> dict[str, NodeBounds]:
    """Every node's limits in force at ``at``: its static limits and the envelopes in
    force on it, the tightest of each per quantity (no safety margin: these are the
    physical limits)."""
    current: dict[str, dict[Phase, Bound]] = {}
    power: dict[str, Bound] = {}
    for node in topology.nodes.values():
        phases = PHASES if node.phases == 3 else (Phase.L1,)
        if node.limits.current_a is not None:
            current[node.id] = {p: Bound(node.limits.current_a, "static") for p in phases}
        if node.limits.import_w is not None:
            power[node.id] = Bound(node.limits.import_w, "static")
    for envelope in envelopes:
        if envelope.target not in topology.nodes or not is_in_force(envelope, at):
            continue
        bound = Bound(envelope.limit, envelope.id)
        if envelope.unit is LimitUnit.W:
            if envelope.target not in power or bound.value < power[envelope.target].value:
                power[envelope.target] = bound
            continue
        node = topology.nodes[envelope.target]
        phases = PHASES if node.phases == 3 else (Phase.L1,)
        scope = [p for p in phases if envelope.phases is None or p in envelope.phases]
        per_phase = current.setdefault(envelope.target, {})
        for phase in scope:
            if phase not in per_phase or bound.value < per_phase[phase].value:
                per_phase[phase] = bound
    return {
        node_id: NodeBounds(node_id, current.get(node_id, {}), power.get(node_id))
        for node_id in topology.nodes
    }


def exceeds(value: float, limit: float) -> bool:
    """Above the limit by more than float noise: exactly at the limit is fine."""
    return value > limit * (1 + 1e-9) + 1e-9


def violations(
    loads: Mapping[str, NodeLoad], bounds: Mapping[str, NodeBounds], at: datetime
) -> list[Violation]:
    """Every limit in force that the loads exceed."""
    found: list[Violation] = []
    for node_id, bound in bounds.items():
        load = loads.get(node_id)
        if load is None:
            continue
        for phase, limit in bound.current_a.items():
            if exceeds(load.current_a[phase], limit.value):
                found.append(
                    Violation(
                        at,
                        node_id,
                        f"current_{phase}",
                        load.current_a[phase],
                        limit.value,
                        limit.source,
                    )
                )
        if bound.power_w is not None and exceeds(load.power_w, bound.power_w.value):
            found.append(
                Violation(
                    at,
                    node_id,
                    "import_power",
                    load.power_w,
                    bound.power_w.value,
                    bound.power_w.source,
                )
            )
    return found
