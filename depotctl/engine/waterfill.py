"""Max-min fair water-filling over a tree of linear constraints, vectorised.

The problem: amps ``x_e`` per EVSE, each at most ``cap_e``; constraints ``k`` (a
node's current on one phase, or its power) with ``Σ w_ke·x_e ≤ R_k``. Raise every
EVSE's share together; when a constraint fills, its EVSEs stop. Shares are counted
in each constraint's own units (``w_ke·x_e``: amps on a phase, watts of power), so
a full constraint is split equally by what each EVSE takes of it — the same kW for
every vehicle under a power limit, more amps for an EVSE that loads a full phase
less.

The tree makes this fast. Constraints are processed bottom-up, all nodes of one
depth at once: each constraint's fill level ``λ_k`` solves
``Σ min(w_ke·cap_e, λ) = R_k`` (one sort per depth), and the constraint that fills
first at each node clips its EVSEs' caps to its level (a node's constraints — three
phases, or the facets of a phase's phasor bound, and power — can fill in turn).
Clipped caps then meet the parents. Because a node's power constraint couples EVSEs
on different phases (and a facet EVSEs at different angles), a parent clipping some
of them can leave room below; a few refinement rounds hand that room out, so that
on return every EVSE below its cap has a constraint on its path with no slack (the
efficiency invariant).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

Floats = NDArray[np.float64]
Ints = NDArray[np.intp]

#: Amps below which a difference is noise.
TOLERANCE = 1e-6
_REFINEMENT_ROUNDS = 4


@dataclass(frozen=True, slots=True)
class Constraints:
    """Constraint structure: ``entry_con[i]`` constrains ``entry_evse[i]`` with
    coefficient ``entry_w[i]``; entries are sorted by constraint. ``con_node`` and
    ``con_depth`` say which node each constraint belongs to and how deep it is."""

    entry_con: Ints
    entry_evse: Ints
    entry_w: Floats
    con_node: Ints
    con_depth: Ints

    @property
    def size(self) -> int:
        return len(self.con_node)


def fill(caps: Floats, capacity: Floats, constraints: Constraints) -> tuple[Floats, Ints]:
    """Max-min fair amps per EVSE under ``caps`` and ``capacity`` (per constraint;
    ``inf`` where unlimited), and for each EVSE the constraint that stopped it (-1:
    its own cap). Negative capacity counts as zero."""
    capacity = np.maximum(capacity, 0.0)
    allocation = np.zeros_like(caps)
    room = capacity.copy()
    headroom = np.maximum(caps, 0.0)
    for _ in range(_REFINEMENT_ROUNDS):
        if not np.any(headroom > TOLERANCE):
            break
        extra = _bottom_up(headroom, room, constraints)
        allocation += extra
        room = capacity - usage(allocation, constraints)
        headroom = _unblocked_headroom(caps, allocation, room, constraints)
        if extra.max(initial=0.0) <= TOLERANCE:
            break
    return allocation, _holders(caps, allocation, room, constraints)


def _holders(caps: Floats, allocation: Floats, room: Floats, constraints: Constraints) -> Ints:
    """Per EVSE, the constraint on its path with the least room left in its own amps
    — the one that holds it — or -1 where it has all its cap allows."""
    holder = np.full(len(caps), -1, dtype=np.intp)
    weighted = constraints.entry_w > 0
    evse = constraints.entry_evse[weighted]
    con = constraints.entry_con[weighted]
    slack = room[con] / constraints.entry_w[weighted]
    least = np.full(len(caps), np.inf)
    np.minimum.at(least, evse, slack)
    # of the entries with the least slack, the first — entries are in constraint order
    tied = np.flatnonzero(slack <= least[evse])
    first = np.full(len(caps), con.size, dtype=np.intp)
    np.minimum.at(first, evse[tied], tied)
    found = first < con.size
    holder[found] = con[first[found]]
    holder[allocation >= caps - TOLERANCE] = -1  # it has all it can take
    return holder


def usage(allocation: Floats, constraints: Constraints) -> Floats:
    """``Σ w·x`` per constraint."""
    totals: Floats = np.bincount(
        constraints.entry_con,
        weights=constraints.entry_w * allocation[constraints.entry_evse],
        minlength=constraints.size,
    ).astype(np.float64, copy=False)
    return totals


def _unblocked_headroom(
    caps: Floats, allocation: Floats, room: Floats, constraints: Constraints
) -> Floats:
    """How much more each EVSE could take before its own cap, or zero where some
    constraint on its path is already full."""
    per_entry = np.where(
        constraints.entry_w > 0, room[constraints.entry_con] / constraints.entry_w, np.inf
    )
    tightest = np.full(len(caps), np.inf)
    np.minimum.at(tightest, constraints.entry_evse, per_entry)
    headroom = caps - allocation
    headroom[tightest <= TOLERANCE] = 0.0
    return np.maximum(headroom, 0.0)


def _bottom_up(caps: Floats, capacity: Floats, constraints: Constraints) -> Floats:
    """One pass from the deepest nodes up: each EVSE's cap clipped by every constraint
    that fills below it."""
    caps = caps.copy()
    finite = np.isfinite(capacity)
    depths = np.unique(constraints.con_depth[finite])[::-1]
    by_depth = _by_depth(constraints)
    for depth in depths.tolist():
        open_ = finite & (constraints.con_depth == depth)
        here = by_depth[depth]  # a node's rows may take a few turns: read only theirs
        while open_.any():  # a node's lines (or their facets) and power may fill in turn
            levels = _levels(caps, capacity, here, open_)
            # a constraint that cannot fill now never will: caps only come down
            open_ &= np.isfinite(levels)
            first = _first_per_node(levels, constraints.con_node, open_)
            if first.size == 0:
                break
            _clip(caps, here, first, levels)
            open_[first] = False
    return caps


_BY_DEPTH: dict[int, tuple[Constraints, dict[int, Constraints]]] = {}


def _by_depth(constraints: Constraints) -> dict[int, Constraints]:
    """The entries of each depth's constraints, as constraints of their own (kept for
    the last few structures: they are the same every cycle)."""
    held = _BY_DEPTH.get(id(constraints))
    if held is not None and held[0] is constraints:
        return held[1]
    entry_depth = constraints.con_depth[constraints.entry_con]
    split = {}
    for depth in np.unique(constraints.con_depth).tolist():
        at = np.flatnonzero(entry_depth == depth)
        split[depth] = Constraints(
            constraints.entry_con[at],
            constraints.entry_evse[at],
            constraints.entry_w[at],
            constraints.con_node,
            constraints.con_depth,
        )
    if len(_BY_DEPTH) >= 8:
        _BY_DEPTH.clear()
    _BY_DEPTH[id(constraints)] = (constraints, split)
    return split


def _levels(
    caps: Floats, capacity: Floats, constraints: Constraints, open_: NDArray[np.bool_]
) -> Floats:
    """Per constraint, the common level at which it fills (inf: it never does)."""
    levels = np.full(constraints.size, np.inf)
    pick = open_[constraints.entry_con] & (caps[constraints.entry_evse] > TOLERANCE)
    con = constraints.entry_con[pick]
    if con.size == 0:
        return levels
    # levels are in the constraint's own units: each EVSE's cap is what it would use
    # of this constraint, so a full constraint is shared equally by what each takes
    # of it (an EVSE that loads it less gets more amps)
    x = caps[constraints.entry_evse[pick]] * constraints.entry_w[pick]
    # a constraint whose EVSEs at their caps do not fill it never fills: no sort for it
    fills = (np.bincount(con, weights=x, minlength=constraints.size) >= capacity - TOLERANCE)[con]
    if not fills.all():
        con, x = con[fills], x[fills]
        if con.size == 0:
            return levels
    # entries are in constraint order already: sort each constraint's caps by one key,
    # its rank plus the cap as a share of its largest (one sort, not a lexsort)
    starts = np.flatnonzero(_starts_of_runs(con))
    counts = np.diff(np.append(starts, con.size))
    segment = np.repeat(np.arange(starts.size), counts)
    largest = np.maximum.reduceat(x, starts)[segment]
    x = x[np.argsort(segment + x / (largest * (1 + 1e-12) + 1e-300))]
    cum_x = np.cumsum(x)
    before_wx = cum_x - x - (cum_x - x)[starts][segment]  # Σ of the lower caps
    below = np.arange(con.size) - starts[segment]
    at_or_above_w = (counts[segment] - below).astype(np.float64)  # caps at or above this one
    filled_at_x = before_wx + at_or_above_w * x
    target = capacity[con]
    reached = filled_at_x >= target - TOLERANCE
    index = np.where(reached, np.arange(con.size), con.size)
    first = np.minimum.reduceat(index, starts)
    hit = first < con.size
    rows = first[hit]
    level = (target[rows] - before_wx[rows]) / np.maximum(at_or_above_w[rows], 1e-300)
    levels[con[starts[hit]]] = np.maximum(level, 0.0)
    return levels


def _first_per_node(levels: Floats, con_node: Ints, open_: NDArray[np.bool_]) -> Ints:
    """Per node, its open constraint that fills at the lowest level (finite only)."""
    candidates = np.flatnonzero(open_ & np.isfinite(levels))
    if candidates.size == 0:
        return candidates
    order = np.lexsort((candidates, levels[candidates], con_node[candidates]))
    ranked = candidates[order]
    nodes = con_node[ranked]
    keep = _starts_of_runs(nodes)
    return ranked[keep]


def _starts_of_runs(sorted_values: Ints) -> NDArray[np.bool_]:
    """True where a sorted array's value differs from the one before it."""
    starts = np.empty(sorted_values.size, dtype=bool)
    starts[:1] = True
    np.not_equal(sorted_values[1:], sorted_values[:-1], out=starts[1:])
    return starts


def _clip(caps: Floats, constraints: Constraints, chosen: Ints, levels: Floats) -> None:
    """Lower the caps of the chosen constraints' EVSEs to each constraint's level (in
    the constraint's units, so in amps: level / coefficient)."""
    selected = np.zeros(constraints.size, dtype=bool)
    selected[chosen] = True
    pick = selected[constraints.entry_con] & (constraints.entry_w > 0)
    evse = constraints.entry_evse[pick]
    level = levels[constraints.entry_con[pick]] / constraints.entry_w[pick]
    np.minimum.at(caps, evse, level)
