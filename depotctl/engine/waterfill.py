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
from functools import cached_property

import numpy as np
from numpy.typing import NDArray

from depotctl.engine.evse_groups import EvseGroups, group_by_evse

Floats = NDArray[np.float64]
Ints = NDArray[np.intp]

#: Amps below which a difference is noise.
TOLERANCE = 1e-6
_REFINEMENT_ROUNDS = 4


@dataclass(frozen=True)
class Constraints:
    """Constraint structure: ``entry_con[i]`` constrains ``entry_evse[i]`` with
    coefficient ``entry_w[i]``; each constraint's entries are together (sorted by
    constraint, but for :meth:`among`'s, which go depth after depth). ``con_node`` and
    ``con_depth`` say which node each constraint belongs to and how deep it is.
    Regroupings of the entries are built on first use and kept with them (a
    structure's constraints are the same every cycle)."""

    entry_con: Ints
    entry_evse: Ints
    entry_w: Floats
    con_node: Ints
    con_depth: Ints

    @property
    def size(self) -> int:
        return len(self.con_node)

    def among(self, evses: NDArray[np.bool_]) -> Constraints:
        """The entries of the EVSEs marked in ``evses`` only, depth after depth, with
        this one's regroupings filtered rather than rebuilt (sums over them, and every
        EVSE's tightest constraint, are the same for an allocation zero outside them;
        each constraint's entries stay together and in their order)."""
        whole = self._depth_major
        kept = evses[whole.evse]
        sub = Constraints(
            whole.con[kept], whole.evse[kept], whole.w[kept], self.con_node, self.con_depth
        )
        bounds, start = {}, 0
        for depth, (lo, hi) in whole.bounds.items():
            count = int(np.count_nonzero(kept[lo:hi]))
            bounds[depth] = (start, start + count)
            start += count
        sub.__dict__.update(  # set as the cached values
            _depth_major=_DepthMajor(sub.entry_con, sub.entry_evse, sub.entry_w, bounds),
            weighted_by_evse=self.weighted_by_evse.among(evses),
        )
        return sub

    def taking(self, evses: NDArray[np.bool_]) -> Constraints:
        """The entries of the EVSEs marked in ``evses`` only, each constraint's in
        their order (itself when that is all of them)."""
        return self._keeping(evses[self.entry_evse])

    def of_rows(self, rows: NDArray[np.bool_]) -> Constraints:
        """The entries of the constraints marked in ``rows`` only, in their order
        (itself when that is all of them)."""
        return self._keeping(rows[self.entry_con])

    def _keeping(self, kept: NDArray[np.bool_]) -> Constraints:
        if kept.all():
            return self
        return Constraints(
            self.entry_con[kept],
            self.entry_evse[kept],
            self.entry_w[kept],
            self.con_node,
            self.con_depth,
        )

    @cached_property
    def by_depth(self) -> dict[int, Constraints]:
        """The entries of each depth's constraints, as constraints of their own."""
        whole = self._depth_major
        return {
            depth: Constraints(
                whole.con[lo:hi], whole.evse[lo:hi], whole.w[lo:hi], self.con_node, self.con_depth
            )
            for depth, (lo, hi) in whole.bounds.items()
        }

    @cached_property
    def _depth_major(self) -> _DepthMajor:
        entry_depth = self.con_depth[self.entry_con]
        order = np.argsort(entry_depth, kind="stable")
        depths = entry_depth[order]
        bounds = {
            depth: (
                int(np.searchsorted(depths, depth)),
                int(np.searchsorted(depths, depth, "right")),
            )
            for depth in np.unique(self.con_depth).tolist()  # a depth may have none
        }
        return _DepthMajor(
            self.entry_con[order], self.entry_evse[order], self.entry_w[order], bounds
        )

    @cached_property
    def con_starts(self) -> Ints:
        """Where each constraint's entries start (and, last, where they all end): the
        entries of ``c`` are ``con_starts[c]:con_starts[c + 1]`` (entries sorted by
        constraint only)."""
        starts: Ints = np.searchsorted(self.entry_con, np.arange(self.size + 1))
        return starts

    @cached_property
    def weighted_by_evse(self) -> EvseGroups:
        """The entries with a coefficient, grouped by EVSE."""
        weighted = np.flatnonzero(self.entry_w > 0)
        return group_by_evse(self.entry_evse, self.entry_con, self.entry_w, weighted)


@dataclass(frozen=True, slots=True)
class _DepthMajor:
    """A constraints' entries depth after depth (each depth's in their order), and
    where each depth's are."""

    con: Ints
    evse: Ints
    w: Floats
    bounds: dict[int, tuple[int, int]]


def fill(caps: Floats, capacity: Floats, constraints: Constraints) -> tuple[Floats, Ints]:
    """Max-min fair amps per EVSE under ``caps`` and ``capacity`` (per constraint;
    ``inf`` where unlimited), and for each EVSE the constraint that stopped it (-1:
    its own cap). Negative capacity counts as zero."""
    capacity = np.maximum(capacity, 0.0)
    allocation = np.zeros_like(caps)
    room = capacity.copy()
    headroom = np.maximum(caps, 0.0)
    slack: _Slack | None = None
    for _ in range(_REFINEMENT_ROUNDS):
        if not np.any(headroom > TOLERANCE):
            break
        extra = _bottom_up(headroom, room, constraints)
        allocation += extra
        room = capacity - usage(allocation, constraints)
        slack = _Slack.of(room, constraints.weighted_by_evse, len(caps))
        headroom = _unblocked_headroom(caps, allocation, slack)
        if extra.max(initial=0.0) <= TOLERANCE:
            break
    if slack is None:
        slack = _Slack.of(room, constraints.weighted_by_evse, len(caps))
    return allocation, _holders(caps, allocation, slack)


@dataclass(frozen=True, slots=True)
class _Slack:
    """The room left in each constraint in its EVSEs' own amps: per weighted entry
    (grouped by EVSE), and per EVSE the least of its entries' (inf: it has none)."""

    groups: EvseGroups
    per_entry: Floats
    per_group: Floats
    per_evse: Floats

    @classmethod
    def of(cls, room: Floats, groups: EvseGroups, evses: int) -> _Slack:
        per_entry = room[groups.con] / groups.w
        per_group = groups.least(per_entry)
        per_evse = np.full(evses, np.inf)
        per_evse[groups.owners] = per_group
        return cls(groups, per_entry, per_group, per_evse)


def _holders(caps: Floats, allocation: Floats, slack: _Slack) -> Ints:
    """Per EVSE, the constraint on its path with the least room left in its own amps
    — the one that holds it — or -1 where it has all its cap allows."""
    holder = np.full(len(caps), -1, dtype=np.intp)
    groups = slack.groups
    # of the entries with the least slack, the first — each group is in constraint order
    first = groups.first_at_most(slack.per_entry, slack.per_group)
    found = first < slack.per_entry.size
    holder[groups.owners[found]] = groups.con[first[found]]
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


def _unblocked_headroom(caps: Floats, allocation: Floats, slack: _Slack) -> Floats:
    """How much more each EVSE could take before its own cap, or zero where some
    constraint on its path is already full."""
    headroom = caps - allocation
    headroom[slack.per_evse <= TOLERANCE] = 0.0
    return np.maximum(headroom, 0.0)


def _bottom_up(caps: Floats, capacity: Floats, constraints: Constraints) -> Floats:
    """One pass from the deepest nodes up: each EVSE's cap clipped by every constraint
    that fills below it."""
    caps = caps.copy()
    finite = np.isfinite(capacity)
    by_depth = constraints.by_depth
    for depth in sorted(by_depth, reverse=True):
        open_ = finite & (constraints.con_depth == depth)
        if not open_.any():
            continue
        # a node's rows may take a few turns: read only theirs, and only the entries of
        # EVSEs with a cap left (caps only come down: one at zero neither fills a
        # constraint nor is clipped below zero)
        here = by_depth[depth].taking(caps > 0.0)
        if here.entry_con.size == 0:
            continue
        while True:  # a node's lines (or their facets) and power may fill in turn
            levels = _levels(caps, capacity, here, open_)
            # a constraint that cannot fill now never will: caps only come down
            open_ &= np.isfinite(levels)
            first = _first_per_node(levels, constraints.con_node, open_)
            if first.size == 0:
                break
            _clip(caps, here, first, levels)
            open_[first] = False
            if not open_.any():
                break
            here = here.of_rows(open_)  # the next turn reads the rows still open only
    return caps


def _levels(
    caps: Floats, capacity: Floats, constraints: Constraints, open_: NDArray[np.bool_]
) -> Floats:
    """Per constraint, the common level at which it fills (inf: it never does)."""
    levels = np.full(constraints.size, np.inf)
    entry_caps = caps[constraints.entry_evse]
    pick = open_[constraints.entry_con] & (entry_caps > TOLERANCE)
    con = constraints.entry_con[pick]
    if con.size == 0:
        return levels
    # levels are in the constraint's own units: each EVSE's cap is what it would use
    # of this constraint, so a full constraint is shared equally by what each takes
    # of it (an EVSE that loads it less gets more amps)
    x = entry_caps[pick] * constraints.entry_w[pick]
    # a constraint whose EVSEs at their caps do not fill it never fills: no sort for it
    target = capacity[con]
    fills = np.bincount(con, weights=x)[con] >= target - TOLERANCE
    if not fills.all():
        con, x, target = con[fills], x[fills], target[fills]
        if con.size == 0:
            return levels
    # entries are in constraint order already: sort each constraint's caps by one key,
    # its rank plus the cap as a share of its largest (one sort, not a lexsort)
    run_starts = _starts_of_runs(con)
    starts = np.flatnonzero(run_starts)
    segment = np.cumsum(run_starts) - 1  # each entry's run
    ends = np.empty_like(starts)
    ends[:-1] = starts[1:]
    ends[-1] = con.size
    largest = np.maximum.reduceat(x, starts)[segment]
    x = x[np.argsort(segment + x / (largest * (1 + 1e-12) + 1e-300))]
    lower = np.cumsum(x) - x
    before_wx = lower - lower[starts][segment]  # Σ of the lower caps
    position = np.arange(con.size)
    at_or_above_w = (ends[segment] - position).astype(np.float64)  # caps at or above this one
    filled_at_x = before_wx + at_or_above_w * x
    reached = filled_at_x >= target - TOLERANCE
    index = np.where(reached, position, con.size)
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
    # lexsort is stable: ties keep the candidates' ascending order
    order = np.lexsort((levels[candidates], con_node[candidates]))
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
