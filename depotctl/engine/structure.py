"""The constraint structure of a topology, built once and reused every cycle.

Every node that can carry a limit gets four constraint slots — current on L1, L2,
L3 and import power, at ``node·4 + kind`` — and every EVSE an entry in each
constraint on its path, with its coefficient: amps at the node per amp it draws, or
watts per amp for power. A single-phase node has one phase conductor, reported as
L1, carrying the magnitudes of everything below it (a line-to-line EVSE in full; a
single-phase EVSE of unknown phase as if on every phase).

A line of a three-phase node is bounded by its phasors (:mod:`.phasors`): where the
loads on it share one angle it keeps its slot with exact coefficients; where they do
not, its slot is left without entries (and unlimited: :meth:`Structure.to_rows`)
and its rows are facets appended after the ``4·N`` slots, each with the node, depth
and key (node, ``current_Lx``) of its line, so a binding still names the line.
Every row of a line takes the line's limit, source and site-load reservation.
"""

from __future__ import annotations

import functools
import weakref
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from depotctl.domain.phases import SQRT3, Phase, PhaseConnection, line_currents
from depotctl.domain.topology import NodeKind, Topology
from depotctl.engine.allocation import LimitKind
from depotctl.engine.phasors import PHASES, WORLDS, line_rows, load_shares, through
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
    #: (node id, kind) of every constraint (a facet: its line's)
    keys: tuple[tuple[str, LimitKind], ...]
    #: the site file's own limits per constraint (inf: none; a facet: its line's)
    static_limit: Floats
    #: per constraint, its line's slot (a slot: itself)
    con_line: Ints
    #: the facet rows of every line bounded by facets, by its slot
    line_facets: dict[int, tuple[int, ...]]

    @functools.cached_property
    def is_charger_constraint(self) -> NDArray[np.bool_]:
        kinds = np.array([kind is NodeKind.CHARGER for kind in self.node_kinds], dtype=bool)
        return kinds[self.constraints.con_node]

    def constraint(self, node_id: str, kind: LimitKind) -> int:
        """The slot of ``kind`` at ``node_id`` (a line bounded by facets: unlimited)."""
        return self.node_index[node_id] * 4 + KINDS.index(kind)

    def describe(self, con: int) -> tuple[str, LimitKind]:
        return self.keys[con]

    def node_kind(self, con: int) -> NodeKind:
        return self.node_kinds[int(self.constraints.con_node[con])]

    def is_power(self, con: int) -> bool:
        return self.keys[con][1] is LimitKind.IMPORT_POWER

    def to_rows(self, per_slot: Floats, *, faceted: float) -> Floats:
        """Values set on the slots (a limit, a reservation), given to every row: each
        facet takes its line's value, and the slot of a line bounded by facets, which
        has no entries, takes ``faceted`` (inf for a limit, 0 for a reservation)."""
        rows: Floats = per_slot[self.con_line]
        if self.line_facets:
            rows[self.faceted_slots] = faceted
        return rows

    @functools.cached_property
    def faceted_slots(self) -> Ints:
        """The slots of the lines bounded by facets."""
        return np.fromiter(self.line_facets, dtype=np.intp, count=len(self.line_facets))


_CACHE: weakref.WeakKeyDictionary[Topology, Structure] = weakref.WeakKeyDictionary()


def structure_of(topology: Topology) -> Structure:
    """The (cached) constraint structure of ``topology``."""
    cached = _CACHE.get(topology)
    if cached is None:
        cached = _CACHE[topology] = _build(topology)
    return cached


@dataclass
class _Lines:
    """Per slot of a three-phase line: each contributing EVSE and its shares per world."""

    evses: list[int]
    phasors: list[tuple[complex, ...]]
    loose: list[tuple[float, ...]]


def _path_entries(
    topology: Topology,
    node_index: dict[str, int],
    evse: int,
    path: tuple[str, ...],
    connection: PhaseConnection | None,
    watts_per_amp: float,
    lines: dict[int, _Lines],
) -> list[tuple[int, float]]:
    """(constraint, coefficient) of a load drawing one amp per line on ``path``: its
    power, and its magnitude on single-phase nodes; its phasors on each line of a
    three-phase node go to ``lines``."""
    entries: list[tuple[int, float]] = []
    per_line = line_currents(1.0, connection)
    per_line = {phase: per_line.get(phase, 0.0) for phase in Phase}
    balanced = connection is not None and connection.is_three_phase
    worlds = [load_shares(connection) for _ in WORLDS]
    for node_id in path:
        node = topology.nodes.get(node_id)
        if node is None:
            continue
        if node.kind is NodeKind.TRANSFORMER:
            per_line = primary_currents(per_line, node.current_ratio, node.winding, balanced)
            worlds = [
                through(shares, node.current_ratio, node.winding or world)
                for shares, world in zip(worlds, WORLDS, strict=True)
            ]
        base = node_index[node_id] * 4
        if node.phases == 1:
            entries.append((base, max(per_line.values())))
        else:
            for phase in PHASES:
                phasors = tuple(shares[phase][0] for shares in worlds)
                loose = tuple(shares[phase][1] for shares in worlds)
                if any(phasors) or any(loose):
                    line = lines.setdefault(base + _PHASE_KIND[phase], _Lines([], [], []))
                    line.evses.append(evse)
                    line.phasors.append(phasors)
                    line.loose.append(loose)
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
    lines: dict[int, _Lines] = {}
    for e, evse_id in enumerate(evse_ids):
        evse = topology.evses[evse_id]
        for con, w in _path_entries(
            topology, node_index, e, evse.path, evse.connection, evse.watts_per_amp, lines
        ):
            raw.append((con, e, w))
    con_line = list(range(len(node_ids) * 4))
    line_facets: dict[int, tuple[int, ...]] = {}
    for slot, line in sorted(lines.items()):
        kinds: dict[tuple[tuple[complex, ...], tuple[float, ...]], int] = {}
        inverse = [
            kinds.setdefault(kind, len(kinds))
            for kind in zip(line.phasors, line.loose, strict=True)
        ]
        rows = _rows_of_kinds(tuple(kinds))[:, inverse]
        if len(rows) == 1:
            raw.extend((slot, e, w) for e, w in zip(line.evses, rows[0].tolist(), strict=True))
            continue
        facets = range(len(con_line), len(con_line) + len(rows))
        line_facets[slot] = tuple(facets)
        con_line.extend([slot] * len(rows))
        for con, row in zip(facets, rows.tolist(), strict=True):
            raw.extend((con, e, w) for e, w in zip(line.evses, row, strict=True) if w > 0)
    raw.sort()
    line_of: Ints = np.array(con_line, dtype=np.intp)
    entry_con: Ints = np.array([r[0] for r in raw], dtype=np.intp)
    entry_evse: Ints = np.array([r[1] for r in raw], dtype=np.intp)
    entry_w: Floats = np.array([r[2] for r in raw], dtype=np.float64)
    con_node = line_of // 4
    depths = np.array([topology.nodes[n].depth for n in node_ids], dtype=np.intp)
    per_evse: list[list[int]] = [[] for _ in evse_ids]
    for position, e in enumerate(entry_evse.tolist()):
        per_evse[e].append(position)
    slot_keys = [(node_id, kind) for node_id in node_ids for kind in KINDS]
    return Structure(
        evse_ids=evse_ids,
        evse_index=evse_index,
        node_ids=node_ids,
        node_index=node_index,
        node_kinds=tuple(topology.nodes[n].kind for n in node_ids),
        constraints=Constraints(entry_con, entry_evse, entry_w, con_node, depths[con_node]),
        evse_entries=tuple(tuple(p) for p in per_evse),
        evse_max_current=np.array([topology.evses[e].max_current_a for e in evse_ids]),
        evse_min_current=np.array([topology.evses[e].min_current_a for e in evse_ids]),
        evse_fallback=np.array([topology.evses[e].fallback_a for e in evse_ids]),
        evse_watts_per_amp=np.array([topology.evses[e].watts_per_amp for e in evse_ids]),
        entry_con_list=entry_con.tolist(),
        entry_w_list=entry_w.tolist(),
        keys=tuple(slot_keys[slot] for slot in con_line),
        static_limit=_static_limits(topology, node_ids)[line_of],
        con_line=line_of,
        line_facets=line_facets,
    )


@functools.lru_cache(maxsize=1024)
def _rows_of_kinds(kinds: tuple[tuple[tuple[complex, ...], tuple[float, ...]], ...]) -> Floats:
    """A line's rows over the distinct kinds of load on it (most lines of a depot have
    the same few), cached."""
    return line_rows(np.array([p for p, _ in kinds]).T, np.array([s for _, s in kinds]).T)


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
