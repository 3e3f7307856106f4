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
- except that a line of a three-phase node carries the EVSEs' phasors (unity power
  factor: a line-to-neutral load at its phase's angle, a line-to-line load in phase
  with its line-to-line voltage; delta-wye primary line L1 carries (I_a − I_c)·
  ratio/√3; an unknown winding read wye-wye and delta-wye, every one alike, the worse
  counting), and a limit is a ceiling — a vehicle may draw anything up to it, and
  drawing less can raise a line's magnitude — so what the EVSEs put there is the
  worst case over every draw between 0 and each one's amps: the largest |Σ| over
  the subsets of EVSEs at their amps (the rest at 0), plus, in full, what has no
  known angle (an EVSE of unknown phase, a site load);
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

import cmath
import functools
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
    reserved = site_reserved(snapshot)
    allocated: dict[Key, float] = defaultdict(float)
    assumed = uncontrollable_draws(snapshot)
    for evse in topology.evses.values():
        for key, coefficient in coefficients(topology, evse).items():
            if _is_phasor_line(topology, key):
                continue  # below, as phasors
            if evse.id in assumed:
                reserved[key] += coefficient * assumed[evse.id]
            else:
                allocated[key] += coefficient * limits_a.get(evse.id, 0.0)
    for key, (everything, others) in _worst_cases(snapshot, limits_a, assumed).items():
        allocated[key] = everything - others
        reserved[key] += others
    return {
        key: Flow(value, reserved.get(key, 0.0), allocated.get(key, 0.0))
        for key, value in effective_limits(snapshot).items()
        if math.isfinite(value)
    }


def site_reserved(snapshot: Snapshot) -> defaultdict[Key, float]:
    """Per (node, quantity), what the site loads take of it (amps of no known angle)."""
    topology = snapshot.topology
    reserved: defaultdict[Key, float] = defaultdict(float)
    for load in topology.site_loads.values():
        per_phase, watts = site_load_draw(snapshot, load)
        path = _ancestry(topology, load.parent)
        balanced = len(per_phase) == 3 and len(set(per_phase.values())) == 1
        for key, amps in _currents(topology, path, per_phase, balanced).items():
            reserved[key] += amps
        for node_id in path:
            reserved[(node_id, POWER)] += watts
    return reserved


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


def _is_phasor_line(topology: Topology, key: Key) -> bool:
    return key[1] != POWER and topology.nodes[key[0]].phases == 3


UNIT = {
    Phase.L1: 1 + 0j,
    Phase.L2: cmath.rect(1, -2 * math.pi / 3),
    Phase.L3: cmath.rect(1, 2 * math.pi / 3),
}
WORLDS = ("wye-wye", "delta-wye")
#: (phasor of known angle, amps of unknown angle) per line
Share = tuple[complex, float]


def _shares(evse: EvseSpec) -> dict[Phase, Share]:
    """Per line, what one amp drawn by ``evse`` puts there at the EVSE."""
    if evse.connection is None:
        return dict.fromkeys(Phase, (0j, 1.0))
    phases = evse.connection.phases
    out: dict[Phase, Share] = dict.fromkeys(Phase, (0j, 0.0))
    if len(phases) == 2:  # leaves on one line, returns on the other, with V_xy
        x, y = phases
        along = (UNIT[x] - UNIT[y]) / abs(UNIT[x] - UNIT[y])
        out[x], out[y] = (along, 0.0), (-along, 0.0)
    else:
        out.update({p: (UNIT[p], 0.0) for p in phases})
    return out


def _line_shares(topology: Topology, evse: EvseSpec, world: str) -> dict[Key, Share]:
    """Per (node, line) of every three-phase node on the EVSE's path, its share."""
    shares = _shares(evse)
    out: dict[Key, Share] = {}
    for node_id in evse.path:
        node = topology.nodes[node_id]
        if node.kind is NodeKind.TRANSFORMER:
            ratio = node.current_ratio
            if (node.winding or world) == "wye-wye":
                shares = {p: (ratio * z, ratio * m) for p, (z, m) in shares.items()}
            else:
                k = ratio / SQRT3
                shares = {
                    p: (
                        k * (shares[a][0] - shares[c][0]),
                        k * (shares[a][1] + shares[c][1]),
                    )
                    for p, (a, c) in {
                        Phase.L1: (Phase.L1, Phase.L3),
                        Phase.L2: (Phase.L2, Phase.L1),
                        Phase.L3: (Phase.L3, Phase.L2),
                    }.items()
                }
        if node.phases == 3:
            for p, share in shares.items():
                out[(node_id, p.value)] = share
    return out


def worst_magnitude(phasors: list[complex]) -> float:
    """max over every subset S of |Σ_S z|: each optimum takes exactly the phasors with
    a positive component along some direction, and those sets change only where the
    direction crosses a right angle to one of them — so trying a direction between
    each two such crossings tries them all."""
    phasors = [z for z in phasors if abs(z) > 0]
    if not phasors:
        return 0.0
    crossings = sorted(
        (cmath.phase(z) + side * math.pi / 2) % (2 * math.pi) for z in phasors for side in (1, -1)
    )
    gaps = [*zip(crossings, [*crossings[1:], crossings[0] + 2 * math.pi], strict=True)]
    best = 0.0
    for low, high in gaps:
        direction = cmath.rect(1, (low + high) / 2)
        chosen = sum((z for z in phasors if (z * direction.conjugate()).real > 0), 0j)
        best = max(best, abs(chosen))
    return best


def _worst_cases(
    snapshot: Snapshot, limits_a: Mapping[str, float], assumed: Mapping[str, float]
) -> dict[Key, tuple[float, float]]:
    """Per line of a three-phase node: the worst case of every EVSE at most at its amps
    (its limit, or its assumed draw), and of the ones not decided here alone."""
    topology = snapshot.topology
    out: dict[Key, tuple[float, float]] = {}
    for world in WORLDS:
        everything: dict[Key, tuple[list[complex], float]] = defaultdict(lambda: ([], 0.0))
        others: dict[Key, tuple[list[complex], float]] = defaultdict(lambda: ([], 0.0))
        for evse in topology.evses.values():
            amps = assumed.get(evse.id, limits_a.get(evse.id, 0.0))
            for key, (z, loose) in _line_shares(topology, evse, world).items():
                targets = (everything, others) if evse.id in assumed else (everything,)
                for target in targets:
                    phasors, total = target[key]
                    target[key] = ([*phasors, z * amps], total + loose * amps)
        for key, (phasors, loose) in everything.items():
            other_phasors, other_loose = others.get(key, ([], 0.0))
            worst = (
                worst_magnitude(phasors) + loose,
                worst_magnitude(other_phasors) + other_loose,
            )
            previous = out.get(key, (0.0, 0.0))
            out[key] = (max(previous[0], worst[0]), max(previous[1], worst[1]))
    return out


# The allocator's linear rows, restated for the checks of what it decided (efficiency,
# priority, rotation): the same as the keys above, except that a line of a three-phase
# node becomes, per world, K facets of the polygon inscribed in its phasor disk
# (vertices every 360°/K, normals midway): an EVSE's coefficient on facet k is the
# positive part of its phasor along the normal, over cos(π/K), plus its amps of
# unknown angle; the facet's limit is the line's, its reserved the line's site load
# (no angle: in full) and the uncontrollable EVSEs' assumed draws at their
# coefficients. The allocator keeps only the facets no other covers; these checks
# take all, which allows the same.

K = 24
FACET_COS = math.cos(math.pi / K)
NORMALS = [cmath.rect(1, (k + 0.5) * 2 * math.pi / K) for k in range(K)]


def _facet(node_id: str, phase: str, world: str, k: int) -> Key:
    return (node_id, f"{phase}/{world}/{k}")


@functools.lru_cache(maxsize=4096)
def row_coefficients(topology: Topology, evse: EvseSpec) -> Mapping[Key, float]:
    """Per row on the EVSE's path, its units there per amp it draws (cached: the
    checks ask for each EVSE's again and again)."""
    out = {
        key: c
        for key, c in coefficients(topology, evse).items()
        if not _is_phasor_line(topology, key)
    }
    for world in WORLDS:
        for (node_id, phase), (z, loose) in _line_shares(topology, evse, world).items():
            for k, normal in enumerate(NORMALS):
                c = max(0.0, (z * normal.conjugate()).real) / FACET_COS + loose
                if c > 1e-12:
                    out[_facet(node_id, phase, world, k)] = c
    return out


def line_of(key: Key) -> Key:
    """The (node, quantity) of a row: a facet's line."""
    return (key[0], key[1].split("/")[0])


def rows(snapshot: Snapshot, limits_a: Mapping[str, float]) -> dict[Key, Flow]:
    """Every row with a finite limit, with what flows through it when each controllable
    EVSE draws its limit (the uncontrollable ones their assumed draw)."""
    topology = snapshot.topology
    limits = effective_limits(snapshot)
    site = site_reserved(snapshot)
    reserved: dict[Key, float] = defaultdict(float)
    allocated: dict[Key, float] = defaultdict(float)
    assumed = uncontrollable_draws(snapshot)
    for evse in topology.evses.values():
        for key, c in row_coefficients(topology, evse).items():
            if evse.id in assumed:
                reserved[key] += c * assumed[evse.id]
            else:
                allocated[key] += c * limits_a.get(evse.id, 0.0)
    keys = {*reserved, *allocated, *(k for k in limits if not _is_phasor_line(topology, k))}
    return {
        key: Flow(
            limits[line_of(key)],
            site.get(line_of(key), 0.0) + reserved.get(key, 0.0),
            allocated.get(key, 0.0),
        )
        for key in keys
        if math.isfinite(limits[line_of(key)])
    }
