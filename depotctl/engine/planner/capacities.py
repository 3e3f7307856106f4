"""Each node's capacity per block, in W, from a snapshot: its static limits and the
envelopes known for each block (pending included), as the planner's core takes them.

A block's capacity is the least of the node's static import power, its static current
per phase as balanced power (A × V line-to-neutral × its phases), and every import
envelope in force at any instant of the block as known at the snapshot's instant
(one that starts within the block, or within the snapshot's envelope lead after it,
binds the whole block; one that ends within it still binds it), less the policy's
safety margin. Sources keep the health they have now: one online stays online (the
envelopes already received are the best knowledge of the future; the real-time
allocator applies the fallback if a source does go silent), one offline stays offline
(its site fallback holds throughout). Charger nodes are left out: their rating is the
session's maximum power. Nodes without any limit are left out.

Not here yet: the forecast non-EV load and storage (they come off these capacities),
solar, and per-phase rows (a current limit counts as balanced power here; the
delta-wye polygon brings the phases).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import timedelta

from depotctl.domain.envelopes import Direction, LimitUnit, SourceHealth, applicable_limits
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.topology import NodeKind, TopologyNode
from depotctl.engine.planner.blocks import Blocks
from depotctl.engine.planner.problem import NodeCapacity, sessions_under

#: the smallest step of time: what separates a block's end from the next one's start
_INSTANT = timedelta(microseconds=1)


def node_capacities(snapshot: Snapshot, blocks: Blocks) -> tuple[NodeCapacity, ...]:
    """Every limited node's capacity per block and the snapshot's sessions under it."""
    topology = snapshot.topology
    health = held_health(snapshot)
    limits: dict[str, list[float]] = {
        node_id: [_static_w(node)] * blocks.count
        for node_id, node in topology.nodes.items()
        if node.kind is not NodeKind.CHARGER
    }
    # an envelope starting within the block (or within the lead after it) binds it;
    # one starting at its very end does not
    lead = blocks.length + snapshot.envelope_lead - _INSTANT
    for b, start in enumerate(blocks.starts()):
        for applied in applicable_limits(
            snapshot.envelopes, health, topology.sources, start, lead=lead
        ):
            node = topology.nodes.get(applied.target)
            if node is None or node.id not in limits or applied.direction is not Direction.IMPORT:
                continue
            watts = (
                applied.limit if applied.unit is LimitUnit.W else _balanced_w(node, applied.limit)
            )
            limits[node.id][b] = min(limits[node.id][b], watts)
    keep = 1.0 - snapshot.policy.safety_margin
    under = sessions_under(topology, snapshot.sessions)
    return tuple(
        NodeCapacity(node_id, tuple(c * keep for c in per_block), under[node_id])
        for node_id, per_block in limits.items()
        if any(math.isfinite(c) for c in per_block)
    )


def _static_w(node: TopologyNode) -> float:
    static = math.inf
    if node.limits.import_w is not None:
        static = node.limits.import_w
    if node.limits.current_a is not None:
        static = min(static, _balanced_w(node, node.limits.current_a))
    return static


def _balanced_w(node: TopologyNode, amps: float) -> float:
    return amps * node.voltage_ln * node.phases


def held_health(snapshot: Snapshot) -> Mapping[str, SourceHealth]:
    """The sources' health as it stands now, held over the horizon."""
    held = dict(snapshot.sources)
    for source_id, health in snapshot.sources.items():
        if health.is_online(snapshot.at):
            held[source_id] = SourceHealth(source_id, snapshot.at, offline_after_s=None)
    return held
