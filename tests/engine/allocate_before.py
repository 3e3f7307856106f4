"""The allocator's cycle as it was before its speed-up (commit 97ab42e), kept as the
oracle of tests/engine/test_allocate_before.py: admission and water-filling in their
old form — each tier over every entry, a scatter per entry for each EVSE's tightest
constraint and holder, the contested entries split per EVSE, the bottom-up pass over
every entry of a depth on every turn — put into the cycle in place of the new. What
the speed-up left as it was (the tier loop, capacity, demand, settling) is the
engine's own."""

from __future__ import annotations

import sys
from unittest.mock import patch

import numpy as np
from numpy.typing import NDArray

from depotctl.domain.snapshot import Snapshot
from depotctl.engine import allocate
from depotctl.engine.demand import Demands
from depotctl.engine.structure import Structure
from depotctl.engine.waterfill import TOLERANCE, Constraints, Floats, Ints, usage

_REFINEMENT_ROUNDS = 4


def decided(snapshot: Snapshot) -> tuple[Floats, Ints, Ints]:
    """Every EVSE's limit, the constraint that stopped it and the one that paused it
    (-1: none), in structure order, as the cycle decided them before: the cycle with
    the old admission and water-filling, each tier over every entry."""
    engine = sys.modules["depotctl.engine.allocate"]
    with (
        patch.object(engine, "_admit", _admit),
        patch.object(engine, "fill", _fill),
        patch.object(Constraints, "among", _every_entry),
    ):
        decision = allocate(snapshot)._decision
    assert decision is not None
    return decision.limits, decision.binder, decision.paused_at


def _every_entry(constraints: Constraints, evses: NDArray[np.bool_]) -> Constraints:
    return constraints


def _admit(
    members: Ints, demands: Demands, room: Floats, structure: Structure, paused_at: Ints
) -> Ints:
    candidates = members[
        (demands.cap[members] >= demands.floor[members] - TOLERANCE) & (demands.cap[members] > 0)
    ]
    floors = np.zeros(len(structure.evse_ids))
    floors[candidates] = demands.floor[candidates]
    if np.all(usage(floors, structure.constraints) <= room + TOLERANCE):
        return candidates
    tight = usage(floors, structure.constraints) > room + TOLERANCE
    entries_of = _entries_in(structure, tight)
    scratch = room.tolist()
    entry_con = structure.entry_con_list
    entry_w = structure.entry_w_list
    admitted = []
    for index in candidates.tolist():
        positions = entries_of.get(index)
        if positions is None:
            admitted.append(index)
            continue
        floor = float(demands.floor[index])
        full = (
            entry_con[p]
            for p in positions
            if scratch[entry_con[p]] < entry_w[p] * floor - TOLERANCE
        )
        short = next(full, -1)
        if short >= 0:
            paused_at[index] = short
            continue
        for p in positions:
            scratch[entry_con[p]] -= entry_w[p] * floor
        admitted.append(index)
    return np.array(admitted, dtype=np.intp)


def _entries_in(structure: Structure, tight: NDArray[np.bool_]) -> dict[int, list[int]]:
    constraints = structure.constraints
    contested = np.flatnonzero(tight[constraints.entry_con])
    if contested.size == 0:
        return {}
    by_evse = contested[np.argsort(constraints.entry_evse[contested], kind="stable")]
    owners = constraints.entry_evse[by_evse]
    cuts = np.flatnonzero(np.diff(owners)) + 1
    parts = (part.tolist() for part in np.split(by_evse, cuts))
    return dict(zip(owners[np.append(0, cuts)].tolist(), parts, strict=True))


def _fill(caps: Floats, capacity: Floats, constraints: Constraints) -> tuple[Floats, Ints]:
    capacity = np.maximum(capacity, 0.0)
    allocation, room, headroom = np.zeros_like(caps), capacity.copy(), np.maximum(caps, 0.0)
    rounds = 0
    while rounds < _REFINEMENT_ROUNDS and np.any(headroom > TOLERANCE):
        rounds += 1
        extra = _bottom_up(headroom, room, constraints)
        allocation += extra
        room = capacity - usage(allocation, constraints)
        headroom = _unblocked_headroom(caps, allocation, room, constraints)
        if extra.max(initial=0.0) <= TOLERANCE:
            break
    return allocation, _holders(caps, allocation, room, constraints)


def _holders(caps: Floats, allocation: Floats, room: Floats, constraints: Constraints) -> Ints:
    holder = np.full(len(caps), -1, dtype=np.intp)
    weighted = constraints.entry_w > 0
    evse = constraints.entry_evse[weighted]
    con = constraints.entry_con[weighted]
    slack = room[con] / constraints.entry_w[weighted]
    least = np.full(len(caps), np.inf)
    np.minimum.at(least, evse, slack)
    tied = np.flatnonzero(slack <= least[evse])
    first = np.full(len(caps), con.size, dtype=np.intp)
    np.minimum.at(first, evse[tied], tied)
    found = first < con.size
    holder[found] = con[first[found]]
    holder[allocation >= caps - TOLERANCE] = -1
    return holder


def _unblocked_headroom(
    caps: Floats, allocation: Floats, room: Floats, constraints: Constraints
) -> Floats:
    with np.errstate(divide="ignore", invalid="ignore"):
        per_entry = np.where(
            constraints.entry_w > 0, room[constraints.entry_con] / constraints.entry_w, np.inf
        )
    tightest = np.full(len(caps), np.inf)
    np.minimum.at(tightest, constraints.entry_evse, per_entry)
    headroom = caps - allocation
    headroom[tightest <= TOLERANCE] = 0.0
    return np.maximum(headroom, 0.0)


def _bottom_up(caps: Floats, capacity: Floats, constraints: Constraints) -> Floats:
    caps = caps.copy()
    finite = np.isfinite(capacity)
    for depth in np.unique(constraints.con_depth[finite])[::-1].tolist():
        open_ = finite & (constraints.con_depth == depth)
        while open_.any():
            levels = _levels(caps, capacity, constraints, open_)
            open_ &= np.isfinite(levels)
            first = _first_per_node(levels, constraints.con_node, open_)
            if first.size == 0:
                break
            selected = np.zeros(constraints.size, dtype=bool)
            selected[first] = True
            pick = selected[constraints.entry_con] & (constraints.entry_w > 0)
            level = levels[constraints.entry_con[pick]] / constraints.entry_w[pick]
            np.minimum.at(caps, constraints.entry_evse[pick], level)
            open_[first] = False
    return caps


def _levels(
    caps: Floats, capacity: Floats, constraints: Constraints, open_: NDArray[np.bool_]
) -> Floats:
    levels = np.full(constraints.size, np.inf)
    pick = open_[constraints.entry_con] & (caps[constraints.entry_evse] > TOLERANCE)
    con = constraints.entry_con[pick]
    if con.size == 0:
        return levels
    x = caps[constraints.entry_evse[pick]] * constraints.entry_w[pick]
    fills = (np.bincount(con, weights=x, minlength=constraints.size) >= capacity - TOLERANCE)[con]
    if not fills.all():
        con, x = con[fills], x[fills]
        if con.size == 0:
            return levels
    starts = np.flatnonzero(np.diff(con, prepend=-1))
    counts = np.diff(np.append(starts, con.size))
    segment = np.repeat(np.arange(starts.size), counts)
    largest = np.maximum.reduceat(x, starts)[segment]
    x = x[np.argsort(segment + x / (largest * (1 + 1e-12) + 1e-300))]
    cum_x = np.cumsum(x)
    before_wx = cum_x - x - (cum_x - x)[starts][segment]
    below = np.arange(con.size) - starts[segment]
    at_or_above_w = (counts[segment] - below).astype(np.float64)
    target = capacity[con]
    reached = np.flatnonzero(before_wx + at_or_above_w * x >= target - TOLERANCE)
    at = reached[np.diff(segment[reached], prepend=-1) != 0]  # each run's first reached
    level = (target[at] - before_wx[at]) / np.maximum(at_or_above_w[at], 1e-300)
    levels[con[at]] = np.maximum(level, 0.0)
    return levels


def _first_per_node(levels: Floats, con_node: Ints, open_: NDArray[np.bool_]) -> Ints:
    candidates = np.flatnonzero(open_ & np.isfinite(levels))
    if candidates.size == 0:
        return candidates
    ranked = candidates[np.lexsort((candidates, levels[candidates], con_node[candidates]))]
    first: Ints = ranked[np.diff(con_node[ranked], prepend=-1) != 0]
    return first
