"""What flows through each node, recomputed from the domain definitions alone.

The engine's safety claim is checked against this, so it shares none of the
engine's code (no structure, no capacity, no water-filling): only the topology,
the snapshot and the domain's own rules — ``line_currents`` and ``load_power`` of
:mod:`depotctl.domain.phases`, and the envelopes in force of
:mod:`depotctl.domain.envelopes`.

Per node and quantity (``L1``, ``L2``, ``L3`` amps per phase, ``W`` import power):

- a load's current counts on every line of its connection (a line-to-line load in
  full on both lines; a single-phase load of unknown phase on every phase); a
  single-phase node has one conductor, ``L1``, carrying the per-line current of
  everything below it;
- across a transformer (its limits are on its primary) the amps on each secondary
  line become primary amps by its ratio (secondary/primary line-to-line volts) and
  winding: wye-wye line for line; delta-wye with each secondary winding between two
  primary lines (a between L1 and L2, b between L2 and L3, c between L3 and L1) at
  ratio/√3, magnitudes added (never less than the phasor sum) — except a balanced
  three-phase load, which reaches every primary line at exactly the ratio; an
  unknown winding the worse of the two, line by line. Power is not scaled;
- the effective limit is the tightest of the static limit and every import
  envelope limit in force, less the safety margin (a charger's own rating gets
  no margin: it is the charger's to enforce);
- reserved: each site load's draw (measured when fresh, its stale-data fallback
  otherwise), each uncontrollable charger's assumed draw, and each EVSE with an
  unanswered command at the higher of its two limits;
- allocated: every other EVSE's limit — a session's, or an idle EVSE's start
  allowance (what a vehicle plugging in may draw before the next cycle).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass

from depotctl.domain.envelopes import Direction, LimitUnit, applicable_limits
from depotctl.domain.phases import SQRT3, Phase, line_currents, load_current, load_power
from depotctl.domain.policy import StaleLoad, UncontrollableAssumption
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.topology import EvseSpec, NodeKind, SiteLoadSpec, Topology

POWER = "W"
PHASES = ("L1", "L2", "L3")
Key = tuple[str, str]  # (node id, quantity)


@dataclass(frozen=True)
class Flow:
    """One limit of one node: its effective value, what site loads and uncontrollable
    chargers take of it, and what the allocated limits of controllable EVSEs add."""

    limit: float
    reserved: float
    allocated: float

    @property
    def room(self) -> float:
        """What was there for controllable EVSEs (never below zero)."""
        return max(0.0, self.limit - self.reserved)

    @property
    def slack(self) -> float:
        return self.limit - self.reserved - self.allocated


def quantities(topology: Topology, node_id: str) -> tuple[str, ...]:
    return ("L1", POWER) if topology.nodes[node_id].phases == 1 else (*PHASES, POWER)


def coefficients(topology: Topology, evse: EvseSpec) -> dict[Key, float]:
    """Per (node, quantity) on the EVSE's path: amps (or watts) there per amp it draws."""
    balanced = evse.connection is not None and evse.connection.is_three_phase
    per_line = line_currents(1.0, evse.connection)
    out = _currents(topology, evse.path, per_line, balanced)
    for node_id in evse.path:
        out[(node_id, POWER)] = evse.watts_per_amp
    return out


def flows(snapshot: Snapshot, limits_a: Mapping[str, float]) -> dict[Key, Flow]:
    """Every finite limit of every node, with what flows through it when each
    controllable EVSE draws its limit."""
    topology = snapshot.topology
    limit = effective_limits(snapshot)
    reserved: dict[Key, float] = defaultdict(float)
    allocated: dict[Key, float] = defaultdict(float)
    assumed = uncontrollable_draws(snapshot)
    for evse in topology.evses.values():
        for key, coefficient in coefficients(topology, evse).items():
            if evse.id in assumed:
                reserved[key] += coefficient * assumed[evse.id]
            else:
                allocated[key] += coefficient * limits_a.get(evse.id, 0.0)
    for load in topology.site_loads.values():
        per_phase, watts = site_load_draw(snapshot, load)
        path = _ancestry(topology, load.parent)
        balanced = len(per_phase) == 3 and len(set(per_phase.values())) == 1
        for key, amps in _currents(topology, path, per_phase, balanced).items():
            reserved[key] += amps
        for node_id in path:
            reserved[(node_id, POWER)] += watts
    return {
        key: Flow(value, reserved.get(key, 0.0), allocated.get(key, 0.0))
        for key, value in limit.items()
        if math.isfinite(value)
    }


def overloads(snapshot: Snapshot, limits_a: Mapping[str, float]) -> list[str]:
    """Every limit the controllable EVSEs push past what site load and uncontrollable
    chargers left of it (a tiny float tolerance aside), described."""
    return [
        f"{key}: limit {flow.limit:.4f}, reserved {flow.reserved:.4f}, "
        f"allocated {flow.allocated:.4f}"
        for key, flow in flows(snapshot, limits_a).items()
        if flow.allocated > flow.room + 1e-6 * max(1.0, abs(flow.limit))
    ]


def effective_limits(snapshot: Snapshot) -> dict[Key, float]:
    """min(static limit, every import envelope limit in force) × (1 − margin)."""
    topology, policy = snapshot.topology, snapshot.policy
    limits: dict[Key, float] = {}
    for node in topology.nodes.values():
        for quantity in quantities(topology, node.id):
            static = node.limits.import_w if quantity == POWER else node.limits.current_a
            limits[(node.id, quantity)] = math.inf if static is None else static
    for applied in applicable_limits(
        snapshot.envelopes, snapshot.sources, topology.sources, snapshot.at
    ):
        node = topology.nodes.get(applied.target)
        if node is None or applied.direction is not Direction.IMPORT:
            continue
        if applied.unit is LimitUnit.W:
            targets = [POWER]
        elif node.phases == 1:
            targets = ["L1"]  # its one conductor, whatever phase the limit names
        else:
            phases = applied.phases or frozenset(Phase)
            targets = [p.value for p in sorted(phases)]
        for quantity in targets:
            key = (node.id, quantity)
            limits[key] = min(limits[key], applied.limit)
    for (node_id, quantity), value in limits.items():
        if topology.nodes[node_id].kind is not NodeKind.CHARGER:
            limits[(node_id, quantity)] = value * (1.0 - policy.safety_margin)
    return limits


def uncontrollable_draws(snapshot: Snapshot) -> dict[str, float]:
    """Amps assumed for each EVSE the allocation does not decide.

    A charger that cannot be commanded (offline, its last command not accepted, or its
    fallback profile never accepted): its rating if the policy says so or it never
    accepted its fallback; else the highest limit it may still be under — each held
    limit until its validity ends (an old snapshot's last accepted limit, without end)
    — but at least its fallback. An EVSE of a controllable charger with a command out:
    the higher of the limit in force (its fallback when none is known) and the one
    sent, within its rating."""
    draws: dict[str, float] = {}
    by_last = snapshot.policy.uncontrollable is UncontrollableAssumption.LAST_ACCEPTED
    for evse in snapshot.topology.evses.values():
        state = snapshot.chargers.get(evse.charger_id)
        if state is None or (
            state.online and state.fallback_accepted and state.last_outcome in (None, "accepted")
        ):
            continue
        amps = evse.max_current_a
        if by_last and state.fallback_accepted:
            if state.held:
                held = [
                    h.limit_a
                    for h in state.held.get(evse.id, ())
                    if h.until is None or snapshot.at < h.until
                ]
            else:
                held = [] if state.last_accepted_limit_a is None else [state.last_accepted_limit_a]
            amps = min(amps, max([evse.fallback_a, *held]))
        draws[evse.id] = amps
    for evse_id, sent in snapshot.pending.items():
        evse = snapshot.topology.evses.get(evse_id)
        if evse is None or evse_id in draws:
            continue
        in_force = snapshot.previous_limits.get(evse_id, evse.fallback_a)
        draws[evse_id] = min(evse.max_current_a, max(in_force, sent))
    return draws


def site_load_draw(snapshot: Snapshot, load: SiteLoadSpec) -> tuple[dict[Phase, float], float]:
    """Amps per line and watts a site load counts as: measured when its reading is
    fresh (currents only when measured on every line it draws from: an unmeasured line
    is not an idle one), else the stale-data policy (its fallback; or its last power
    plus margin)."""
    policy = snapshot.policy
    lines = load.connection.lines if load.connection is not None else frozenset(Phase)
    reading = snapshot.telemetry.get(load.id)
    if reading is None and load.meter is not None:
        reading = snapshot.telemetry.get(load.meter)
    fresh = (
        reading is not None
        and abs((snapshot.at - reading.at).total_seconds()) <= policy.stale_after_s
    )
    if fresh and reading is not None:
        measured_power = max(0.0, reading.power_w) if reading.power_w is not None else None
        if reading.current_a is not None and lines <= reading.current_a.keys():
            per_phase = {p: max(0.0, reading.current_a[p]) for p in lines}
            if measured_power is None:
                measured_power = sum(per_phase.values()) * load.voltage_ln
            return per_phase, measured_power
        if measured_power is not None:
            amps = load_current(measured_power, load.connection, load.voltage_ln)
            return dict.fromkeys(lines, amps), measured_power
    amps = load.fallback_a
    if (
        reading is not None
        and policy.stale_site_load is StaleLoad.LAST_KNOWN_PLUS_MARGIN
        and reading.power_w is not None
    ):
        last = load_current(max(0.0, reading.power_w), load.connection, load.voltage_ln)
        amps = max(amps, last * (1.0 + policy.stale_margin))  # never below the fallback
    return dict.fromkeys(lines, amps), load_power(amps, load.connection, load.voltage_ln)


#: Delta-wye: the primary lines each secondary winding sits between.
DELTA_LINES = {
    Phase.L1: (Phase.L1, Phase.L2),
    Phase.L2: (Phase.L2, Phase.L3),
    Phase.L3: (Phase.L3, Phase.L1),
}


def primary(
    secondary: Mapping[Phase, float], ratio: float, winding: str | None, balanced: bool
) -> dict[Phase, float]:
    """Amps on each primary line of a transformer for amps on its secondary lines."""
    wye = {p: ratio * secondary.get(p, 0.0) for p in Phase}
    if balanced or winding == "wye-wye":
        return wye
    delta = {
        p: ratio
        / SQRT3
        * sum(secondary.get(w, 0.0) for w, ends in DELTA_LINES.items() if p in ends)
        for p in Phase
    }
    if winding == "delta-wye":
        return delta
    return {p: max(wye[p], delta[p]) for p in Phase}


def _currents(
    topology: Topology, path: tuple[str, ...], per_line: Mapping[Phase, float], balanced: bool
) -> dict[Key, float]:
    """Amps per (node, phase) along a path (bottom up) for a load drawing ``per_line``."""
    lines = {p: per_line.get(p, 0.0) for p in Phase}
    out: dict[Key, float] = {}
    for node_id in path:
        node = topology.nodes[node_id]
        if node.kind is NodeKind.TRANSFORMER:
            lines = primary(lines, node.current_ratio, node.winding, balanced)
        if node.phases == 1:
            out[(node_id, "L1")] = max(lines.values())  # its one conductor
        else:
            out.update(((node_id, p.value), amps) for p, amps in lines.items() if amps > 0)
    return out


def _ancestry(topology: Topology, node_id: str) -> tuple[str, ...]:
    chain = []
    current: str | None = node_id
    while current is not None:
        chain.append(current)
        current = topology.nodes[current].parent
    return tuple(chain)
