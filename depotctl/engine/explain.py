"""Why each EVSE got its limit, in words — built only when someone reads it.

An EVSE's binding constraint is what stopped it: its own cap (charger, vehicle,
energy satisfied, planned rate, an operator's pause or cap), a node's limit named
by what set its value (:mod:`.node_binding`: ``envelope``, ``fallback``,
``charger_limit``, ``node_limit``; reservations against it, stale site load
included, are named in the detail), or, when paused, the node that had no room for
its minimum current. Its candidates are every limit along its path, each with its
slack in the EVSE's own amps; its priority (:mod:`.priority`) is what decided
between it and the EVSEs of other tiers.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from functools import cached_property
from zoneinfo import ZoneInfo

import numpy as np

from depotctl.domain.instants import format_instant
from depotctl.domain.overrides import EvseOverride
from depotctl.domain.quantity import format_number
from depotctl.domain.snapshot import Snapshot
from depotctl.engine.allocation import (
    Binding,
    BindingKind,
    EvseAllocation,
    EvseState,
    LimitKind,
    NodeConstraint,
)
from depotctl.engine.capacity import Capacity
from depotctl.engine.demand import CAP_KINDS, Demands
from depotctl.engine.node_binding import (
    constraint_amount,
    constraint_name,
    held_by,
    limit_words,
    reserved_words,
)
from depotctl.engine.plan_words import plan_words
from depotctl.engine.rotation_words import rotation_words
from depotctl.engine.structure import Structure
from depotctl.engine.waterfill import TOLERANCE, Floats, Ints, usage


@dataclass(frozen=True)
class Decision:
    """Everything one cycle computed, kept so its explanations can be written later."""

    snapshot: Snapshot
    structure: Structure
    capacity: Capacity
    demands: Demands
    limits: Floats
    binder: Ints
    paused_at: Ints

    @cached_property
    def used(self) -> Floats:
        """What the limits decided now take of each constraint (an EVSE whose command
        is out keeps its limit, but is counted among the reserved)."""
        decided = np.where(self.capacity.waiting, 0.0, self.limits)
        return usage(decided, self.structure.constraints)

    @cached_property
    def awaiting(self) -> Floats:
        """Of what is reserved for EVSEs the allocator does not decide, the part of
        those whose command is only waiting for its answer (their charger is
        controllable), per constraint."""
        waiting = np.where(self.capacity.waiting, self.capacity.assumed, 0.0)
        return usage(waiting, self.structure.constraints)

    @cached_property
    def finite_constraints(self) -> dict[tuple[str, LimitKind], int]:
        """(node id, kind) → constraint, for every limit in force; a line bounded by
        facets, where its slot is, by its fullest facet."""
        keys, line = self.structure.keys, self.structure.con_line
        finite = np.flatnonzero(np.isfinite(self.capacity.effective))
        if not self.structure.line_facets:
            return {keys[con]: con for con in finite.tolist()}
        room = self.capacity.effective - self.capacity.reserved - self.used
        chosen: dict[tuple[str, LimitKind], int] = {}
        for con in finite[np.argsort(line[finite], kind="stable")].tolist():
            held = chosen.get(keys[con])
            if held is None or room[con] < room[held]:
                chosen[keys[con]] = con
        return chosen


@dataclass(frozen=True, slots=True)
class Candidate:
    """One limit on an EVSE's path: how much more the EVSE alone could take before it
    (``slack_a``, in the EVSE's amps), and whether it is the binding one."""

    what: str
    ref: str | None
    limit: str
    source: str
    slack_a: float
    binding: bool


def evse_view(decision: Decision, evse_id: str) -> EvseAllocation:
    structure, capacity, demands = decision.structure, decision.capacity, decision.demands
    index = structure.evse_index[evse_id]
    evse = decision.snapshot.topology.evses[evse_id]
    session = demands.sessions.get(index)
    amps = float(decision.limits[index])
    if capacity.waiting[index]:
        state = (
            EvseState.IDLE
            if session is None
            else (EvseState.CHARGING if amps > 0 else EvseState.PAUSED)
        )
        binding = _waiting(decision, evse_id, amps, float(capacity.assumed[index]))
    elif capacity.uncontrolled[index]:
        amps = float(capacity.assumed[index])
        state, binding = EvseState.UNCONTROLLABLE, _uncontrollable(decision, evse.charger_id, amps)
    elif session is None:
        state, binding = EvseState.IDLE, _idle(decision, index, amps)
    elif amps <= 0:
        state, binding = EvseState.PAUSED, _paused(decision, index)
    else:
        state = EvseState.CHARGING
        con = int(decision.binder[index])
        binding = _own_cap(decision, index) if con < 0 else held_by(decision, con)
    return EvseAllocation(
        evse_id=evse_id,
        limit_a=amps,
        limit_w=amps * evse.watts_per_amp,
        state=state,
        binding=binding,
        session_id=session.id if session else None,
        tier=int(demands.tier[index]) if session else None,
    )


def constraint_view(decision: Decision, key: tuple[str, LimitKind]) -> NodeConstraint:
    con = decision.finite_constraints[key]
    capacity = decision.capacity
    return NodeConstraint(
        node_id=key[0],
        kind=key[1],
        effective_limit=float(capacity.effective[con]),
        source=capacity.sources[con],
        reserved=float(capacity.reserved[con]),
        allocated=float(decision.used[con]),
    )


def candidates(decision: Decision, evse_id: str) -> list[Candidate]:
    """Every limit on the EVSE's path, from its own caps up to the grid connection."""
    structure, capacity, demands = decision.structure, decision.capacity, decision.demands
    index = structure.evse_index[evse_id]
    evse = decision.snapshot.topology.evses[evse_id]
    limit = float(decision.limits[index])
    binder = int(decision.binder[index])
    paused_at = int(decision.paused_at[index])
    chain: list[Candidate] = []
    session = demands.sessions.get(index)
    if session is not None:
        own = [(BindingKind.CHARGER_LIMIT, evse.max_current_a, "EVSE")]
        if session.vehicle_max_current_a is not None:
            own.append((BindingKind.VEHICLE_LIMIT, session.vehicle_max_current_a, "session"))
        if session.planned_rate_a is not None and not demands.urgent[index]:
            own.append((BindingKind.PLANNED_RATE, session.planned_rate_a, "session"))
        cap_kind = CAP_KINDS[int(demands.cap_kind[index])]
        if cap_kind is BindingKind.ENERGY_SATISFIED:
            own.append((BindingKind.ENERGY_SATISFIED, 0.0, "session"))
        override = decision.snapshot.overrides.get(evse_id)
        if override is not None and np.isfinite(override.max_current_a):
            own.append((BindingKind.OPERATOR_OVERRIDE, override.max_current_a, "operator"))
        for kind, amps, source in own:
            chain.append(
                Candidate(
                    what=kind.value.replace("_", " "),
                    ref=evse_id,
                    limit=(
                        f"{format_number(round(amps, 3))} A"  # a cap as the operator set it
                        if kind is BindingKind.OPERATOR_OVERRIDE
                        else f"{amps:.1f} A"
                    ),
                    source=source,
                    slack_a=amps - limit,
                    binding=binder < 0 and paused_at < 0 and kind is cap_kind,
                )
            )
    positions = np.array(structure.evse_entries[index], dtype=np.intp)
    cons = structure.constraints.entry_con[positions]
    limited = np.isfinite(capacity.effective[cons])
    cons, weights = cons[limited], structure.constraints.entry_w[positions][limited]
    headroom = capacity.effective[cons] - capacity.reserved[cons] - decision.used[cons]
    slacks = np.divide(headroom, weights, out=np.full(cons.size, np.inf), where=weights > 0)
    # the chain reads upwards, each node's lines in order; a line bounded by facets
    # shows once, as its tightest facet (binding if any of them binds)
    upwards = np.lexsort((structure.con_line[cons], -structure.constraints.con_depth[cons]))
    seen: dict[tuple[str, LimitKind], int] = {}
    for con, slack in zip(cons[upwards].tolist(), slacks[upwards].tolist(), strict=True):
        binding = con in (binder, paused_at)
        key = structure.describe(con)
        at = seen.get(key)
        if at is not None:  # another facet of a line in the chain: same limit and source
            held = chain[at]
            if slack < held.slack_a or (binding and not held.binding):
                chain[at] = replace(
                    held, slack_a=min(held.slack_a, slack), binding=held.binding or binding
                )
            continue
        seen[key] = len(chain)
        chain.append(
            Candidate(
                what=constraint_name(structure, con),
                ref=key[0],
                limit=constraint_amount(structure, con, float(capacity.effective[con])),
                source=str(capacity.sources[con]),
                slack_a=slack,
                binding=binding,
            )
        )
    return chain


def _waiting(decision: Decision, evse_id: str, sent_a: float, counted_a: float) -> Binding:
    in_force = decision.snapshot.previous_limits.get(evse_id)
    before = f"{in_force:.1f} A" if in_force is not None else "its fallback"
    return Binding(
        BindingKind.COMMAND_PENDING,
        evse_id,
        f"{sent_a:.1f} A sent, not answered yet; counted at {counted_a:.1f} A (the higher "
        f"of it and {before}) until it is",
    )


def _idle(decision: Decision, index: int, amps: float) -> Binding:
    """No vehicle: the limit is its start allowance (what a vehicle plugging in may draw
    before the next cycle), its fallback unless a full node or an operator lowers it."""
    demands = decision.demands
    cap = float(demands.cap[index])
    fallback = float(decision.structure.evse_fallback[index])
    con = int(decision.binder[index])
    if con < 0 and int(decision.paused_at[index]) >= 0:
        con = int(decision.paused_at[index])
    if amps >= cap - TOLERANCE or con < 0:
        if cap < fallback - TOLERANCE:  # lowered by an operator's pause or cap
            held = _override(decision, index)
            return Binding(
                held.kind,
                held.ref,
                f"idle: a vehicle may start at up to {amps:.1f} A: {held.detail}",
            )
        return Binding(
            BindingKind.NO_SESSION,
            None,
            f"idle: a vehicle may start at up to {amps:.1f} A (its fallback)",
        )
    held = held_by(decision, con)
    return Binding(
        held.kind,
        held.ref,
        f"idle: a vehicle may start at up to {amps:.1f} A: {held.detail}",
    )


def _own_cap(decision: Decision, index: int) -> Binding:
    demands = decision.demands
    kind = CAP_KINDS[int(demands.cap_kind[index])]
    cap = float(demands.cap[index])
    evse_id = decision.structure.evse_ids[index]
    if kind is BindingKind.OPERATOR_OVERRIDE:
        return _override(decision, index)
    details = {
        BindingKind.CHARGER_LIMIT: f"at the EVSE's own maximum of {cap:.1f} A",
        BindingKind.VEHICLE_LIMIT: f"at the vehicle's maximum of {cap:.1f} A",
        BindingKind.PLANNED_RATE: f"at the plan's rate of {cap:.1f} A for this block"
        + plan_words(decision, index),
        BindingKind.ENERGY_SATISFIED: "the session has all the energy it needs",
    }
    return Binding(kind, evse_id, details[kind])


def _override(decision: Decision, index: int) -> Binding:
    """``paused by operator (alice, 14:02: "cable damaged")``, ``capped at 16 A by
    operator (alice, 14:02)`` — and, for a cap below the EVSE's minimum current, that
    it is why the session is paused."""
    evse_id = decision.structure.evse_ids[index]
    override = decision.snapshot.overrides[evse_id]
    who = _set_by(override, decision.snapshot)
    if override.paused:
        return Binding(BindingKind.OPERATOR_OVERRIDE, evse_id, f"paused by operator ({who})")
    cap = override.max_current_a
    detail = f"capped at {format_number(round(cap, 3))} A by operator ({who})"
    floor = float(decision.demands.floor[index])
    if cap < floor - TOLERANCE:
        detail += f", below the EVSE's minimum of {floor:.1f} A: paused"
    return Binding(BindingKind.OPERATOR_OVERRIDE, evse_id, detail)


def _set_by(override: EvseOverride, snapshot: Snapshot) -> str:
    """Who set an override and when (the site's time, docs/times.md), and why:
    ``alice, 2026-03-02 14:02:00+11:00: "cable damaged"``."""
    local = _local(override.set_at, snapshot)
    when = format_instant(local, local.tzinfo or UTC)
    reason = f': "{override.reason}"' if override.reason else ""
    return f"{override.author}, {when}{reason}"


def _local(instant: datetime, snapshot: Snapshot) -> datetime:
    try:
        return instant.astimezone(ZoneInfo(snapshot.topology.timezone))
    except (KeyError, ValueError):
        return instant


def _paused(decision: Decision, index: int) -> Binding:
    demands, structure = decision.demands, decision.structure
    floor = float(demands.floor[index])
    if demands.cap[index] < floor - TOLERANCE or demands.cap[index] <= 0:
        return _own_cap(decision, index)
    con = int(decision.paused_at[index])
    if con < 0:  # admitted, but rounding left less than a step
        return Binding(BindingKind.MIN_CURRENT_ADMISSION, None, "less than one step was left")
    node_id, _ = structure.describe(con)
    detail = (
        f"no room for the minimum {floor:.1f} A at {constraint_name(structure, con)}, "
        f"{limit_words(decision, con)}{reserved_words(decision, con)}"
        f"{rotation_words(decision, index, con)}"
    )
    return Binding(BindingKind.MIN_CURRENT_ADMISSION, node_id, detail)


def _uncontrollable(decision: Decision, charger_id: str, assumed: float) -> Binding:
    state = decision.snapshot.chargers[charger_id]
    if not state.online:
        why = f"charger {charger_id} is offline"
    else:
        outcome = state.last_outcome.value if state.last_outcome else "unanswered"
        why = f"charger {charger_id} did not accept its last command ({outcome})"
    return Binding(
        BindingKind.UNCONTROLLABLE,
        charger_id,
        f"{why}; it is assumed to draw {assumed:.1f} A",
    )
