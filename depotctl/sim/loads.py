"""What the vehicles' draws put on each node, and the limits that load must respect.

Computed from the topology and the draws alone, never from the engine's own
accounting, so a replay can check the engine independently. The counting is the
site model's (and ``validate``'s): a line-to-line load counts its full current on
both lines, each transformer on the way up (itself included) scales current by
secondary/primary, a single-phase node carries its most loaded line, and power is
the sum of V·I with no losses.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime

from depotctl.domain.envelopes import Direction, Envelope, EnvelopeMode, LimitUnit
from depotctl.domain.phases import Phase, line_currents
from depotctl.domain.topology import Topology

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


def node_loads(topology: Topology, draws: Mapping[str, float]) -> dict[str, NodeLoad]:
    """The load on every node of ``topology`` from EVSEs drawing ``draws`` (amps per
    line, by EVSE id)."""
    currents = {node_id: dict.fromkeys(PHASES, 0.0) for node_id in topology.nodes}
    power = dict.fromkeys(topology.nodes, 0.0)
    for evse_id, amps in draws.items():
        if amps == 0.0:
            continue
        evse = topology.evses[evse_id]
        lines = line_currents(amps, evse.connection)
        watts = amps * evse.watts_per_amp
        ratio = 1.0
        for node_id in evse.path:
            node = topology.nodes[node_id]
            ratio *= node.current_ratio
            totals = currents[node_id]
            if node.phases == 1:
                totals[Phase.L1] += max(lines.values()) * ratio
            else:
                for phase, line_amps in lines.items():
                    totals[phase] += line_amps * ratio
            power[node_id] += watts
    return {
        node_id: NodeLoad(node_id, currents[node_id], power[node_id]) for node_id in topology.nodes
    }


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
