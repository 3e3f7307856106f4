"""The allocator: a snapshot in, a limit per EVSE with its reason out.

One cycle: effective capacity per node and phase (:mod:`.capacity`); each
session's demand (:mod:`.demand`) — its own cap and its tier (priority class,
then urgency), and in a last tier every idle EVSE's start allowance (what a
vehicle plugging in may draw before the next cycle, at most its fallback); then
tier by tier, most important first: admission at the minimum
current in priority order wherever it fits along the whole path (the rest pause),
and max-min fair water-filling of what remains among the admitted
(:mod:`.waterfill`). Tiers go strictly in order, so a lower tier never holds power
— its minimum included — that a higher tier behind the same node could use.
Limits are rounded down to the policy's step; increases smaller than the
hysteresis wait, decreases never do. Pure and deterministic; explanations are
put into words only when read (:mod:`.explain`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from depotctl.domain.snapshot import Snapshot
from depotctl.engine.allocation import Allocation, LazyMapping
from depotctl.engine.capacity import effective_capacity
from depotctl.engine.demand import IDLE_TIER, Demands, demands_of
from depotctl.engine.explain import Decision, constraint_view, evse_view
from depotctl.engine.structure import Structure, structure_of
from depotctl.engine.waterfill import TOLERANCE, Constraints, Floats, Ints, fill, usage


def allocate(snapshot: Snapshot) -> Allocation:
    """Every EVSE's limit and binding constraint at ``snapshot.at``."""
    structure = structure_of(snapshot.topology)
    capacity = effective_capacity(snapshot, structure)
    demands = demands_of(snapshot, structure, capacity.uncontrolled)
    n = len(structure.evse_ids)
    allocation = np.zeros(n)
    binder = np.full(n, -1, dtype=np.intp)
    paused_at = np.full(n, -1, dtype=np.intp)
    room = capacity.room.copy()
    for tier in np.unique(demands.tier[demands.active]).tolist():
        members = demands.in_priority_order(tier)
        admitted = _admit(members, demands, room, structure, paused_at)
        if admitted.size == 0:
            continue
        floors = np.zeros(n)
        floors[admitted] = demands.floor[admitted]
        caps = np.zeros(n)
        caps[admitted] = demands.cap[admitted] - demands.floor[admitted]
        theirs = _entries_of(structure, admitted)
        room -= usage(floors, theirs)
        extra, stopped = fill(caps, room, theirs)
        room -= usage(extra, theirs)
        allocation += floors + extra
        binder[admitted] = stopped[admitted]
    # an idle EVSE that may start at all its cap is at its fallback (or an operator's
    # cap): exactly what its charger holds, not that less a rounding step
    at_cap = (demands.tier == IDLE_TIER) & demands.active & (allocation >= demands.cap - TOLERANCE)
    limits = _settle(snapshot, structure, allocation, exact=np.where(at_cap, demands.cap, np.nan))
    for evse_id, sent_a in snapshot.pending.items():  # a command out keeps its limit
        index = structure.evse_index.get(evse_id)
        if index is not None and capacity.waiting[index]:
            limits[index] = sent_a
    decision = Decision(snapshot, structure, capacity, demands, limits, binder, paused_at)
    return Allocation(
        at=snapshot.at,
        evses=LazyMapping(structure.evse_index, lambda evse_id: evse_view(decision, evse_id)),
        constraints=LazyMapping(
            lambda: decision.finite_constraints, lambda key: constraint_view(decision, key)
        ),
        limits_a=dict(zip(structure.evse_ids, limits.tolist(), strict=True)),
        _decision=decision,
    )


#: Entries below which a tier reads every entry: picking its EVSEs' out costs more.
_PICKED_FROM = 10_000


def _entries_of(structure: Structure, admitted: Ints) -> Constraints:
    """The constraints with the ``admitted`` EVSEs' entries only (the others take
    nothing in this tier), or all of them on a small depot."""
    constraints = structure.constraints
    if constraints.entry_con.size < _PICKED_FROM:
        return constraints
    chosen = np.zeros(len(structure.evse_ids), dtype=bool)
    chosen[admitted] = True
    return constraints.among(chosen)


def _admit(
    members: Ints, demands: Demands, room: Floats, structure: Structure, paused_at: Ints
) -> Ints:
    """The members that can have their minimum current, in priority order; the rest
    pause, remembering the constraint that had no room."""
    candidates = members[
        (demands.cap[members] >= demands.floor[members] - TOLERANCE) & (demands.cap[members] > 0)
    ]
    floors = np.zeros(len(structure.evse_ids))
    floors[candidates] = demands.floor[candidates]
    # only constraints the candidates could overfill can refuse anyone
    tight = usage(floors, structure.constraints) > room + TOLERANCE
    if not tight.any():
        return candidates  # everyone fits: the common case, decided at once
    contested = _Contested.of(structure, tight)
    scratch = dict(zip(contested.tight, room[contested.tight].tolist(), strict=True))
    floor_of = demands.floor.tolist()
    con, w, first, last = contested.con, contested.w, contested.first, contested.last
    # the others have room wherever they go: admitted, and they take none that counts
    at_stake = candidates[contested.any[candidates]]
    paused = np.zeros(len(structure.evse_ids), dtype=bool)
    for index in at_stake.tolist():
        lo, hi = first[index], last[index]
        floor = floor_of[index]
        short = -1
        for k in range(lo, hi):
            if scratch[con[k]] < w[k] * floor - TOLERANCE:
                short = con[k]
                break
        if short >= 0:
            paused_at[index] = short
            paused[index] = True
            continue
        for k in range(lo, hi):
            scratch[con[k]] -= w[k] * floor
    admitted: Ints = candidates[~paused[candidates]]
    return admitted


@dataclass(frozen=True, slots=True)
class _Contested:
    """Every EVSE's entries in the ``tight`` constraints, EVSE after EVSE, each EVSE's
    in constraint order: its constraints and coefficients are ``con[first[e]:last[e]]``
    and ``w[…]`` (as lists, for the per-EVSE admission loop: an EVSE under a
    three-phase line bounded by facets has dozens of entries)."""

    tight: list[int]
    con: list[int]
    w: list[float]
    first: list[int]
    last: list[int]
    #: per EVSE: whether it has any
    any: NDArray[np.bool_]

    @classmethod
    def of(cls, structure: Structure, tight: NDArray[np.bool_]) -> _Contested:
        constraints = structure.constraints
        chosen = np.flatnonzero(tight)
        # the tight constraints' entries (each constraint's a run), in constraint order
        begin = constraints.con_starts[chosen]
        sizes = constraints.con_starts[chosen + 1] - begin
        offsets = np.repeat(begin - (np.cumsum(sizes) - sizes), sizes)
        positions = offsets + np.arange(offsets.size)
        evse = constraints.entry_evse[positions]
        positions = positions[np.argsort(evse, kind="stable")]  # EVSE after EVSE
        counts = np.bincount(evse, minlength=len(structure.evse_ids))
        last = np.cumsum(counts)
        return cls(
            tight=chosen.tolist(),
            con=constraints.entry_con[positions].tolist(),
            w=constraints.entry_w[positions].tolist(),
            first=(last - counts).tolist(),
            last=last.tolist(),
            any=counts > 0,
        )


def _settle(
    snapshot: Snapshot, structure: Structure, allocation: Floats, *, exact: Floats
) -> Floats:
    """Round down to the step (but where ``exact`` is a number, that value); hold back
    increases smaller than the hysteresis. (A multiple of the step is written as its
    nearest float — 6.6, not 6.6000000000000005 — as chargers and the JSON contract
    read it.)"""
    step = snapshot.policy.rounding_a
    settled: Floats = np.round(np.floor(allocation / step + 1e-9) * step, 9)
    settled = np.where(np.isnan(exact), settled, exact)
    hysteresis = snapshot.policy.hysteresis_a
    for evse_id, previous in snapshot.previous_limits.items():
        index = structure.evse_index.get(evse_id)
        if index is not None and previous < settled[index] < previous + hysteresis:
            settled[index] = previous
    return settled
