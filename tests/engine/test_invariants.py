"""The allocator's invariants (architecture, "One control cycle"), over generated depots.

Safety is checked against :mod:`tests.engine.node_loads`, which recomputes every
node's load from the domain definitions without the engine's structure code — a
three-phase line by its exact phasors, in the worst case over every draw up to the
limits. Efficiency, priority and rotation are checked on the allocator's linear rows
as :mod:`tests.engine.node_loads` restates them (a three-phase line as the facets of
a polygon inside its phasor disk), with the issue's demand rules as written out in
:mod:`tests.engine.conftest` (deadline, urgency, tier, own cap, held on or off).
"""

from __future__ import annotations

import math
import random
from dataclasses import replace

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depotctl.domain.sessions import Session
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.topology import Topology
from depotctl.engine import Allocation, BindingKind, EvseState, LimitKind, allocate
from tests.engine.conftest import decision_of, held, own_cap, position, tier
from tests.engine.node_loads import (
    POWER,
    Key,
    line_of,
    overloads,
    row_coefficients,
    rows,
    uncontrollable_draws,
)
from tests.engine.strategies import snapshots, without_previous

FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
THOROUGH = settings(FAST, max_examples=2000)

QUANTITY = {
    LimitKind.CURRENT_L1: "L1",
    LimitKind.CURRENT_L2: "L2",
    LimitKind.CURRENT_L3: "L3",
    LimitKind.IMPORT_POWER: POWER,
}


def _tolerance(value: float) -> float:
    return 1e-6 * max(1.0, abs(value))


def _sessions(snap: Snapshot) -> dict[str, Session]:
    """The session of each controllable EVSE (one per EVSE in generated snapshots)."""
    uncontrollable = uncontrollable_draws(snap)
    return {s.evse_id: s for s in snap.sessions if s.evse_id not in uncontrollable}


# Safety


def check_safety(snap: Snapshot, allocation: Allocation) -> None:
    assert overloads(snap, allocation.limits_a) == []


@FAST
@given(snapshots())
def test_no_node_ever_exceeds_its_effective_limit(snap: Snapshot) -> None:
    """At every node and phase, allocated + reserved ≤ effective limit; where site load
    and uncontrollable chargers alone exceed it, nothing more is allocated there."""
    check_safety(snap, allocate(snap))


@pytest.mark.slow
@THOROUGH
@given(snapshots())
def test_no_node_ever_exceeds_its_effective_limit_thoroughly(snap: Snapshot) -> None:
    check_safety(snap, allocate(snap))


# Efficiency


def check_efficiency(snap: Snapshot, allocation: Allocation) -> None:
    loads = rows(snap, allocation.limits_a)
    step = snap.policy.step_a
    for evse_id, s in _sessions(snap).items():
        view = allocation.evses[evse_id]
        cap = own_cap(snap, s)
        if view.state is not EvseState.CHARGING or view.limit_a >= cap - snap.policy.rounding_a:
            continue
        slack = {
            key: loads[key].slack / coefficient
            for key, coefficient in row_coefficients(
                snap.topology, snap.topology.evses[evse_id]
            ).items()
            if key in loads and coefficient > 0
        }
        tightest = min(slack, key=slack.__getitem__, default=None)
        assert tightest is not None and slack[tightest] < step, (
            f"{evse_id} charges at {view.limit_a} A below its cap {cap} A, yet the "
            f"tightest limit on its path, {tightest}, has {slack.get(tightest)} A of slack "
            f"(step {step} A); binding {view.binding}"
        )


# Priority


def check_priority(snap: Snapshot, allocation: Allocation) -> None:
    """A higher-tier EVSE below its cap: charging, the constraint that binds it (node
    and phase, or power) carries nothing of a lower tier; paused for want of room for
    its minimum, the lower tiers do not hold, on every limit of its path, what with the
    slack left would make room for that minimum."""
    decision = decision_of(allocation)
    structure = decision.structure
    sessions = _sessions(snap)
    tiers = {evse_id: tier(snap, s) for evse_id, s in sessions.items()}
    loads = rows(snap, allocation.limits_a)
    coefficient = {e: row_coefficients(snap.topology, snap.topology.evses[e]) for e in sessions}

    def lower_tier_load(key: Key, than: int) -> float:
        return sum(
            coefficient[e].get(key, 0.0) * allocation.limits_a[e]
            for e, t in tiers.items()
            if t > than
        )

    for evse_id, s in sessions.items():
        view = allocation.evses[evse_id]
        cap, floor = own_cap(snap, s), snap.topology.evses[evse_id].min_current_a
        index = structure.evse_index[evse_id]
        if view.state is EvseState.CHARGING and view.limit_a < cap - snap.policy.rounding_a:
            con = int(decision.binder[index])
            assert con >= 0, f"{evse_id} is below its cap but nothing binds it: {view.binding}"
            node_id, kind = structure.describe(con)
            line = (node_id, QUANTITY[kind])
            # a line bounded by facets: one of its facets is full and holds no lower tier
            full = [
                key
                for key, c in coefficient[evse_id].items()
                if line_of(key) == line
                and key in loads
                and c > 0
                and loads[key].slack / c < snap.policy.step_a
            ]
            lower = min((lower_tier_load(key, tiers[evse_id]) for key in full), default=math.inf)
            limit = max((flow.limit for key, flow in loads.items() if line_of(key) == line))
            assert lower <= _tolerance(limit), (
                f"{evse_id} (tier {tiers[evse_id]}) is held at {view.limit_a} A by {line}, "
                f"where lower tiers hold {lower} on each of its full rows {full}"
            )
        elif view.state is EvseState.PAUSED and cap >= floor:
            con = int(decision.paused_at[index])
            assert con >= 0, f"{evse_id} could charge but is paused for no limit: {view.binding}"
            usable = math.inf
            held = 0.0
            for key, c in coefficient[evse_id].items():
                if key not in loads or c <= 0:
                    continue
                lower = lower_tier_load(key, tiers[evse_id])
                held += lower
                rounding = snap.policy.rounding_a * sum(
                    coefficient[e].get(key, 0.0) for e in sessions
                )
                usable = min(usable, (loads[key].slack + lower - rounding) / c)
            assert held <= 1e-6 or usable < floor, (
                f"{evse_id} (tier {tiers[evse_id]}) is paused, yet lower tiers hold power on "
                f"its path that would give it {usable} A ≥ its minimum {floor} A"
            )


# Rotation without churn: within a tier, admission is sticky (the policy's minimum on
# and off times); this relaxes the policy's order within a tier, and nothing else


def _rounding(snap: Snapshot, key: Key, evse_ids: object) -> float:
    """The most that rounding each of ``evse_ids``' limits down to the step can have
    freed on ``key`` since the engine decided (it decides unrounded)."""
    topology = snap.topology
    return snap.policy.rounding_a * sum(
        row_coefficients(topology, topology.evses[e]).get(key, 0.0)
        for e in evse_ids  # type: ignore[attr-defined]
    )


def check_rotation(snap: Snapshot, allocation: Allocation) -> None:
    """Held on — switched on less than ``min_on`` ago — and paused: a limit requires it.
    With only the EVSEs ahead of it or level with it at their limits (higher tiers, and
    the others of its tier also held on) and nothing else, its minimum would not fit on
    its path. Paused otherwise for want of room: nothing of its tier behind it (held
    off when it is free; free or held off when it is held on) holds, on every limit of
    its path, what with the slack left would make room for its minimum — so an EVSE
    switched off less than ``min_off`` ago is switched on only with room that no other
    EVSE of its tier could use."""
    sessions = _sessions(snap)
    where = {evse_id: position(snap, s) for evse_id, s in sessions.items()}
    topology = snap.topology
    coefficient = {e: row_coefficients(topology, topology.evses[e]) for e in sessions}
    for evse_id, s in sessions.items():
        view = allocation.evses[evse_id]
        floor = topology.evses[evse_id].min_current_a
        if view.state is not EvseState.PAUSED or own_cap(snap, s) < floor:
            continue
        mine = where[evse_id]
        if held(snap, s) == "on":
            ahead = [e for e, p in where.items() if p <= mine and e != evse_id]
            loads = rows(snap, {e: allocation.limits_a[e] for e in ahead})
            room = min(
                (
                    (loads[key].slack - _rounding(snap, key, ahead)) / c
                    for key, c in coefficient[evse_id].items()
                    if key in loads and c > 0
                ),
                default=math.inf,
            )
            assert room < floor + 1e-6, (
                f"{evse_id} was switched on less than {snap.policy.min_on_s:.0f} s ago and "
                f"is paused, yet with only those ahead of it ({len(ahead)}) charging it "
                f"would have {room} A ≥ its minimum {floor} A"
            )
        behind = [e for e, p in where.items() if p[0] == mine[0] and p[1] > mine[1]]
        loads = rows(snap, allocation.limits_a)
        held_behind, usable = 0.0, math.inf
        for key, c in coefficient[evse_id].items():
            if key not in loads or c <= 0:
                continue
            theirs = sum(coefficient[e].get(key, 0.0) * allocation.limits_a[e] for e in behind)
            held_behind += theirs
            usable = min(usable, (loads[key].slack + theirs - _rounding(snap, key, sessions)) / c)
        assert held_behind <= 1e-6 or usable < floor, (
            f"{evse_id} ({'held on' if mine[1] == 0 else 'free'} in tier {mine[0]}) is "
            f"paused, yet EVSEs of its tier behind it hold power on its path that would "
            f"give it {usable} A ≥ its minimum {floor} A"
        )


def _one_tier(snap: Snapshot) -> Snapshot:
    """Every session in one tier (class 0, none urgent), where rotation decides most."""
    return replace(
        snap,
        policy=replace(snap.policy, urgency_threshold_s=-math.inf),
        sessions=tuple(replace(s, priority_class=0) for s in snap.sessions),
    )


@FAST
@given(snapshots(previous=False))
def test_efficiency_priority_and_rotation(snap: Snapshot) -> None:
    """An admitted EVSE below its cap is held by a full node; a lower tier never holds
    power a higher tier could use; admission is sticky only among equals (the three
    checks above, each on every depot drawn)."""
    allocation = allocate(snap)
    check_efficiency(snap, allocation)
    check_priority(snap, allocation)
    check_rotation(snap, allocation)


@FAST
@given(snapshots(previous=False).map(_one_tier))
def test_admission_is_sticky_only_among_equals_in_one_tier(snap: Snapshot) -> None:
    check_rotation(snap, allocate(snap))


@pytest.mark.slow
@THOROUGH
@given(snapshots(previous=False))
def test_efficiency_priority_and_rotation_thoroughly(snap: Snapshot) -> None:
    allocation = allocate(snap)
    check_efficiency(snap, allocation)
    check_priority(snap, allocation)
    check_rotation(snap, allocation)


@pytest.mark.slow
@THOROUGH
@given(snapshots(previous=False).map(_one_tier))
def test_rotation_in_one_tier_thoroughly(snap: Snapshot) -> None:
    check_rotation(snap, allocate(snap))


# Operator overrides


def check_overrides(snap: Snapshot, allocation: Allocation) -> None:
    """Every limit decided now (a command already out keeps its own until answered)."""
    for evse_id, override in snap.overrides.items():
        sent, view = allocation.limits_a[evse_id], allocation.evses[evse_id]
        if view.binding.kind is BindingKind.COMMAND_PENDING:
            continue
        if override.paused:
            assert sent == 0.0, f"{evse_id} is paused by an operator, yet gets {sent} A"
        if override.cap_a is not None:
            assert sent <= override.cap_a, f"{evse_id} gets {sent} A over its cap {override}"
        if view.state is not EvseState.UNCONTROLLABLE:
            assert view.limit_a == sent
        if view.binding.kind is BindingKind.OPERATOR_OVERRIDE:
            assert view.binding.ref == evse_id and "by operator" in view.binding.detail


@pytest.mark.slow
@THOROUGH
@given(snapshots())
def test_overrides_thoroughly(snap: Snapshot) -> None:
    check_overrides(snap, allocate(snap))


# Determinism


def _outcome(allocation: Allocation) -> dict[str, tuple[object, ...]]:
    return {
        evse_id: (
            allocation.limits_a[evse_id],
            view.limit_a,
            view.state,
            view.binding.kind,
            view.binding.ref,
            view.binding.detail,
        )
        for evse_id, view in sorted(allocation.evses.items())
    }


def _shuffled(snap: Snapshot, rng: random.Random) -> Snapshot:
    def shuffle_items(mapping: dict[str, object] | object) -> dict[str, object]:
        items = list(dict(mapping).items())  # type: ignore[call-overload]
        rng.shuffle(items)
        return dict(items)

    topology = snap.topology
    reordered = Topology(
        topology.site,
        topology.timezone,
        topology.nodes,
        shuffle_items(topology.evses),  # type: ignore[arg-type]
        topology.site_loads,
        shuffle_items(topology.sources),  # type: ignore[arg-type]
    )
    sessions, envelopes = list(snap.sessions), list(snap.envelopes)
    rng.shuffle(sessions)
    rng.shuffle(envelopes)
    return replace(
        snap,
        topology=reordered,
        sessions=tuple(sessions),
        envelopes=tuple(envelopes),
        sources=shuffle_items(snap.sources),  # type: ignore[arg-type]
        telemetry=shuffle_items(snap.telemetry),  # type: ignore[arg-type]
        chargers=shuffle_items(snap.chargers),  # type: ignore[arg-type]
        previous_limits=shuffle_items(snap.previous_limits),  # type: ignore[arg-type]
        overrides=shuffle_items(snap.overrides),  # type: ignore[arg-type]
        admission=shuffle_items(snap.admission),  # type: ignore[arg-type]
    )


def check_determinism(snap: Snapshot, allocation: Allocation, rng: random.Random) -> None:
    """The same snapshot, allocated again or with every collection in another order,
    gives the same limits, states and bindings."""
    first = _outcome(allocation)
    assert _outcome(allocate(snap)) == first
    assert _outcome(allocate(_shuffled(snap, rng))) == first


# Limits and states


def check_states(snap: Snapshot, allocation: Allocation) -> None:
    """Every limit matches its EVSE's state: never negative; paused at zero; charging at least the EVSE's minimum; idle at its
    start allowance — zero, or between its minimum and its fallback (and any operator's
    cap); an uncontrollable charger's EVSEs reported at their assumed draw and sent
    nothing; an EVSE with a command out keeps that command's limit, counted at the
    higher of its two limits; every limit a multiple of the rounding step (previous
    limits are too)."""
    assumed = uncontrollable_draws(snap)
    step = snap.policy.rounding_a
    for evse_id, evse in snap.topology.evses.items():
        view, sent = allocation.evses[evse_id], allocation.limits_a[evse_id]
        assert sent >= 0 and view.limit_a >= 0
        if evse_id in assumed and view.binding.kind is BindingKind.COMMAND_PENDING:
            assert sent == view.limit_a == snap.pending[evse_id], f"{evse_id}: {view}"
            continue
        assert sent == round(round(sent / step) * step, 9), f"{evse_id}: {sent!r} A"
        if evse_id in assumed:
            assert view.state is EvseState.UNCONTROLLABLE, f"{evse_id}: {view}"
            assert view.limit_a == pytest.approx(assumed[evse_id])
            assert sent == 0
        elif view.state is EvseState.PAUSED:
            assert sent == 0 and view.limit_a == 0, f"{evse_id}: {view}"
        elif view.state is EvseState.IDLE:
            override = snap.overrides.get(evse_id)
            cap = min(evse.fallback_a, evse.max_current_a)
            if override is not None:
                cap = 0.0 if override.paused else min(cap, override.max_current_a)
            assert sent == view.limit_a, f"{evse_id}: {view}"
            assert sent == 0 or evse.min_current_a - 1e-9 <= sent <= cap + 1e-9, (
                f"{evse_id}: {view}"
            )
        else:
            assert view.state is EvseState.CHARGING
            assert sent == view.limit_a >= evse.min_current_a - 1e-9, f"{evse_id}: {view}"
            assert view.limit_w == pytest.approx(sent * evse.watts_per_amp)


def check_hysteresis(snap: Snapshot, allocation: Allocation) -> None:
    """Decreases are never delayed and small increases are held: against the limits
    decided without any previous ones, only a rise smaller than the hysteresis keeps
    the previous limit."""
    fresh = allocate(without_previous(snap)).limits_a
    held = allocation.limits_a
    hysteresis = snap.policy.hysteresis_a
    for evse_id, new in fresh.items():
        previous = snap.previous_limits.get(evse_id)
        if evse_id in snap.pending and held[evse_id] == snap.pending[evse_id]:
            continue  # a command out keeps its limit until it is answered
        if previous is not None and previous < new < previous + hysteresis:
            assert held[evse_id] == previous, f"{evse_id}: {previous} → {new} A"
        else:
            assert held[evse_id] == new, f"{evse_id}: {previous} → {new} A"


def check_one_binding(snap: Snapshot, allocation: Allocation) -> None:
    """Every chain marks exactly one binding: a charging or paused EVSE's candidates
    name exactly one binding limit, the one its explanation gives."""
    for evse_id in _sessions(snap):
        view = allocation.evses[evse_id]
        if view.state not in (EvseState.CHARGING, EvseState.PAUSED):
            continue
        chain = allocation.candidates(evse_id)
        binding = [c for c in chain if c.binding]
        assert len(binding) == 1, f"{evse_id} ({view.binding}): {binding}"


# Drawing a depot costs several times what allocating it does: one draw serves every
# check above that takes a depot with previous limits, each still on FAST's depots.


@FAST
@given(snapshots(), st.randoms(use_true_random=False))
def test_every_limit_keeps_its_override_state_and_hysteresis_deterministically(
    snap: Snapshot, rng: random.Random
) -> None:
    """An EVSE's limit never exceeds its override and a paused one gets nothing; every
    limit matches its EVSE's state; decreases are never delayed and small increases are
    held; every chain marks exactly one binding; and allocation is deterministic."""
    allocation = allocate(snap)
    check_overrides(snap, allocation)
    check_states(snap, allocation)
    check_hysteresis(snap, allocation)
    check_one_binding(snap, allocation)
    check_determinism(snap, allocation, rng)
