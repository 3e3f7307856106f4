"""The constraint structure of a topology, built once and reused every cycle.

Every node that can carry a limit gets four constraints — current on L1, L2, L3
and import power — and every EVSE an entry in each constraint on its path, with
its coefficient: amps at the node per amp it draws (stepped by transformers; a
line-to-line EVSE counts its full current on both its lines; a single-phase EVSE
whose phase is unknown counts on every phase), or watts per amp for power. A
single-phase node has one phase conductor, reported as L1.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from depotctl.domain.phases import SQRT3, Phase, PhaseConnection
from depotctl.domain.topology import NodeKind, Topology
from depotctl.engine.allocation import LimitKind
from depotctl.engine.waterfill import Constraints, Floats, Ints

KINDS = (LimitKind.CURRENT_L1, LimitKind.CURRENT_L2, LimitKind.CURRENT_L3, LimitKind.IMPORT_POWER)
_PHASE_KIND = {Phase.L1: 0, Phase.L2: 1, Phase.L3: 2}
POWER = 3


@dataclass(frozen=True)
class Structure:
    """Indexes and constraint entries of one topology."""

    evse_ids: tuple[str, ...]
    evse_index: dict[str, int]
    node_ids: tuple[str, ...]
    node_index: dict[str, int]
    node_kinds: tuple[NodeKind, ...]
    constraints: Constraints
    #: per EVSE, its entries' positions (for admission checks and explanations)
    evse_entries: tuple[tuple[int, ...], ...]
    evse_max_current: Floats
    evse_min_current: Floats
    evse_fallback: Floats
    evse_watts_per_amp: Floats
    #: the entries as Python lists, for the per-EVSE admission loop
    entry_con_list: list[int]
    entry_w_list: list[float]
    #: (node id, kind) of every constraint
    keys: tuple[tuple[str, LimitKind], ...]
    #: the site file's own limits per constraint (inf: none)
    static_limit: Floats

    @property
    def is_charger_constraint(self) -> NDArray[np.bool_]:
        kinds = np.array([kind is NodeKind.CHARGER for kind in self.node_kinds], dtype=bool)
        return np.repeat(kinds, 4)

    def constraint(self, node_id: str, kind: LimitKind) -> int:
        return self.node_index[node_id] * 4 + KINDS.index(kind)

    def describe(self, con: int) -> tuple[str, LimitKind]:
        return self.keys[con]


_CACHE: weakref.WeakKeyDictionary[Topology, Structure] = weakref.WeakKeyDictionary()


def structure_of(topology: Topology) -> Structure:
    """The (cached) constraint structure of ``topology``."""
    cached = _CACHE.get(topology)
    if cached is None:
        cached = _CACHE[topology] = _build(topology)
    return cached


def _path_entries(
    topology: Topology,
    node_index: dict[str, int],
    path: tuple[str, ...],
    connection: PhaseConnection | None,
    watts_per_amp: float,
) -> list[tuple[int, float]]:
    """(constraint, coefficient) for a load drawing one amp per line on ``path``."""
    entries: list[tuple[int, float]] = []
    lines = connection.lines if connection is not None else frozenset(Phase)
    per_line = {phase: 1.0 if phase in lines else 0.0 for phase in Phase}
    balanced = connection is not None and connection.is_three_phase
    for node_id in path:
        node = topology.nodes.get(node_id)
        if node is None:
            continue
        if node.kind is NodeKind.TRANSFORMER:
            per_line = primary_currents(per_line, node.current_ratio, node.winding, balanced)
        base = node_index[node_id] * 4
        if node.phases == 1:
            entries.append((base, max(per_line.values())))
        else:
            entries.extend(
                (base + _PHASE_KIND[phase], amps) for phase, amps in per_line.items() if amps > 0
            )
        entries.append((base + POWER, watts_per_amp))
    return entries


#: Delta-wye: the winding of each secondary phase sits between two primary lines —
#: a between A and B, b between B and C, c between C and A — so primary line A
#: carries (I_a − I_c)·ratio/√3, as in acnportal's model of the Caltech transformer.
_DELTA_LINES = {
    Phase.L1: (Phase.L1, Phase.L2),
    Phase.L2: (Phase.L2, Phase.L3),
    Phase.L3: (Phase.L3, Phase.L1),
}


def primary_currents(
    secondary: dict[Phase, float], ratio: float, winding: str | None, balanced: bool
) -> dict[Phase, float]:
    """Amps on each primary line per amp drawn below a transformer, from the amps on
    each secondary line (``ratio`` = secondary/primary line-to-line voltage).

    Wye-wye: each line carries its own phase, times the ratio. Delta-wye: primary line
    L carries the difference of the two windings that meet at it, each at ratio/√3;
    the magnitudes are added (never less than the phasor difference), except for a
    balanced three-phase load, whose difference is exactly √3 times one. Unknown
    winding: the worse of the two, line by line."""
    wye = {phase: ratio * amps for phase, amps in secondary.items()}
    if balanced:
        return wye  # a balanced load reaches every primary line alike either way
    per_winding = ratio / SQRT3
    delta = {
        phase: per_winding
        * sum(secondary[w] for w, lines in _DELTA_LINES.items() if phase in lines)
        for phase in Phase
    }
    if winding == "wye-wye":
        return wye
    if winding == "delta-wye":
        return delta
    return {phase: max(wye[phase], delta[phase]) for phase in Phase}


def _build(topology: Topology) -> Structure:
    node_ids = tuple(topology.nodes)
    node_index = {node_id: i for i, node_id in enumerate(node_ids)}
    evse_ids = tuple(sorted(topology.evses))
    evse_index = {evse_id: i for i, evse_id in enumerate(evse_ids)}
    raw: list[tuple[int, int, float]] = []
    for e, evse_id in enumerate(evse_ids):
        evse = topology.evses[evse_id]
        for con, w in _path_entries(
            topology, node_index, evse.path, evse.connection, evse.watts_per_amp
        ):
            raw.append((con, e, w))
    raw.sort()
    entry_con: Ints = np.array([r[0] for r in raw], dtype=np.intp)
    entry_evse: Ints = np.array([r[1] for r in raw], dtype=np.intp)
    entry_w: Floats = np.array([r[2] for r in raw], dtype=np.float64)
    con_node = np.repeat(np.arange(len(node_ids), dtype=np.intp), 4)
    con_depth = np.repeat(np.array([topology.nodes[n].depth for n in node_ids], dtype=np.intp), 4)
    per_evse: list[list[int]] = [[] for _ in evse_ids]
    for position, e in enumerate(entry_evse.tolist()):
        per_evse[e].append(position)
    return Structure(
        evse_ids=evse_ids,
        evse_index=evse_index,
        node_ids=node_ids,
        node_index=node_index,
        node_kinds=tuple(topology.nodes[n].kind for n in node_ids),
        constraints=Constraints(entry_con, entry_evse, entry_w, con_node, con_depth),
        evse_entries=tuple(tuple(p) for p in per_evse),
        evse_max_current=np.array([topology.evses[e].max_current_a for e in evse_ids]),
        evse_min_current=np.array([topology.evses[e].min_current_a for e in evse_ids]),
        evse_fallback=np.array([topology.evses[e].fallback_a for e in evse_ids]),
        evse_watts_per_amp=np.array([topology.evses[e].watts_per_amp for e in evse_ids]),
        entry_con_list=entry_con.tolist(),
        entry_w_list=entry_w.tolist(),
        keys=tuple((node_id, kind) for node_id in node_ids for kind in KINDS),
        static_limit=_static_limits(topology, node_ids),
    )


def _static_limits(topology: Topology, node_ids: tuple[str, ...]) -> Floats:
    limits = np.full(len(node_ids) * 4, np.inf)
    for i, node_id in enumerate(node_ids):
        node = topology.nodes[node_id]
        if node.limits.current_a is not None:
            phases = 1 if node.phases == 1 else 3
            limits[i * 4 : i * 4 + phases] = node.limits.current_a
        if node.limits.import_w is not None:
            limits[i * 4 + POWER] = node.limits.import_w
    return limits
