"""Rotation without churn: within a tier, an EVSE switched on less than ``min_on`` ago
keeps its place, one switched off less than ``min_off`` ago waits behind the rest —
and a limit, a higher tier or an uncontrollable charger still takes the room at once."""

from __future__ import annotations

import itertools
from dataclasses import replace
from datetime import timedelta

from depotctl.domain.admission import Admission, switched
from depotctl.domain.chargers import ChargerState, CommandOutcome
from depotctl.domain.policy import Policy
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.topology import Topology
from depotctl.engine import Allocation, BindingKind, EvseState, allocate
from depotctl.engine.capacity import effective_capacity
from depotctl.engine.demand import demands_of
from depotctl.engine.rotation import FREE, HELD_OFF, HELD_ON, admission_ranks, hold_of
from depotctl.engine.structure import structure_of
from tests.engine.conftest import POLICY, T0, Depot, at, session, snapshot
from tests.engine.node_loads import overloads

#: least lax first: ch-0 (3 h to go), ch-1 (5 h), ch-2 (8 h), 20 kWh each
HOURS_LEFT = {"ch-0/1": 3.0, "ch-1/1": 5.0, "ch-2/1": 8.0}


def depot(current_a: float = 12.0) -> Topology:
    """Three three-phase chargers under one board: 12 A per phase is room for two
    minimums of 6 A."""
    built = Depot().node("gc", current_a=current_a)
    for name in ("ch-0", "ch-1", "ch-2"):
        built.charger(name, "gc")
    return built.topology()


def state(
    admission: dict[str, Admission] | None = None,
    *,
    current_a: float = 12.0,
    started_min: float = -60.0,
    **fields: object,
) -> Snapshot:
    sessions = tuple(
        session(evse_id, energy_kwh=20.0, hours_left=hours, started=at(started_min))
        for evse_id, hours in HOURS_LEFT.items()
    )
    return snapshot(depot(current_a), sessions=sessions, admission=admission or {}, **fields)


def on(minutes_ago: float) -> Admission:
    return Admission(True, at(-minutes_ago))


def off(minutes_ago: float) -> Admission:
    return Admission(False, at(-minutes_ago))


def run(snap: Snapshot) -> Allocation:
    allocation = allocate(snap)
    assert overloads(snap, allocation.limits_a) == []
    return allocation


def charging(allocation: Allocation) -> set[str]:
    return {e for e, view in allocation.evses.items() if view.state is EvseState.CHARGING}


def test_without_records_admission_goes_least_laxity_first() -> None:
    assert charging(run(state())) == {"ch-0/1", "ch-1/1"}


def test_an_evse_switched_on_less_than_min_on_ago_keeps_its_place() -> None:
    allocation = run(state({"ch-2/1": on(2)}))
    assert charging(allocation) == {"ch-0/1", "ch-2/1"}
    paused = allocation.evses["ch-1/1"]
    assert (paused.limit_a, paused.binding.kind) == (0.0, BindingKind.MIN_CURRENT_ADMISSION)


def test_once_on_for_min_on_it_takes_its_turn_again() -> None:
    assert charging(run(state({"ch-2/1": on(5)}))) == {"ch-0/1", "ch-1/1"}
    longer = replace(POLICY, min_on_s=600.0)
    assert charging(run(state({"ch-2/1": on(5)}, policy=longer))) == {"ch-0/1", "ch-2/1"}


def test_on_time_counts_from_the_session_start_when_that_is_later() -> None:
    """On at its start allowance for hours, its vehicle plugged in a minute ago: it has
    charged for a minute."""
    snap = state({"ch-2/1": on(180)}, started_min=-1.0)
    assert charging(run(snap)) == {"ch-0/1", "ch-2/1"}


def test_an_evse_switched_off_less_than_min_off_ago_waits_behind_its_tier() -> None:
    allocation = run(state({"ch-0/1": off(2)}))
    assert charging(allocation) == {"ch-1/1", "ch-2/1"}
    assert allocation.evses["ch-0/1"].state is EvseState.PAUSED
    assert charging(run(state({"ch-0/1": off(5)}))) == {"ch-0/1", "ch-1/1"}


def test_off_since_before_its_session_began_is_not_held_off() -> None:
    """At 0 A on a full board when its vehicle arrived: never switched off in this
    session."""
    assert charging(run(state({"ch-0/1": off(90)}, started_min=-60.0))) == {"ch-0/1", "ch-1/1"}
    assert charging(run(state({"ch-0/1": off(2)}, started_min=-3.0))) == {"ch-1/1", "ch-2/1"}


def test_held_off_is_switched_on_when_room_is_left_over() -> None:
    allocation = run(state({"ch-0/1": off(1)}, current_a=18.0))
    assert charging(allocation) == {"ch-0/1", "ch-1/1", "ch-2/1"}


def test_a_tighter_limit_pauses_a_held_on_evse_at_once() -> None:
    """Both ch-1 and ch-2 held on, room for one: the least lax of them keeps it; none
    at all with 5 A."""
    held = {"ch-1/1": on(1), "ch-2/1": on(1)}
    assert charging(run(state(held))) == {"ch-1/1", "ch-2/1"}
    assert charging(run(state(held, current_a=6.0))) == {"ch-1/1"}
    allocation = run(state(held, current_a=5.0))
    assert charging(allocation) == set()
    assert allocation.evses["ch-2/1"].binding.ref == "gc"


def test_a_higher_tier_takes_a_held_on_evses_room() -> None:
    snap = state({"ch-2/1": on(1)})
    urgent = tuple(
        replace(s, priority_class=1) if s.evse_id == "ch-2/1" else s for s in snap.sessions
    )
    assert charging(run(replace(snap, sessions=urgent))) == {"ch-0/1", "ch-1/1"}


def test_an_uncontrollable_charger_takes_a_held_on_evses_room() -> None:
    """ch-0 offline, assumed at 6 A: room for one more, the least lax held-on one."""
    offline = {"ch-0": ChargerState("ch-0", online=False, last_outcome=CommandOutcome.OFFLINE)}
    allocation = run(
        state({"ch-1/1": on(1), "ch-2/1": on(1)}, chargers=offline, previous_limits={"ch-0/1": 6.0})
    )
    assert allocation.evses["ch-0/1"].state is EvseState.UNCONTROLLABLE
    assert charging(allocation) == {"ch-1/1"}


def test_a_paused_evse_held_off_says_until_when() -> None:
    detail = run(state({"ch-0/1": off(2)})).evses["ch-0/1"].binding.detail
    assert detail.startswith("no room for the minimum 6.0 A at gc current")
    assert detail.endswith(
        "; switched off at 2024-03-04 08:58:00+00:00, it comes after the others of its tier "
        "until 2024-03-04 09:03:00+00:00"
        " (at least 5 min off)"
    )


def test_a_paused_evse_names_those_of_its_tier_held_on_at_its_limit() -> None:
    one = run(state({"ch-2/1": on(2)})).evses["ch-1/1"].binding.detail
    assert one.endswith(
        "; 1 EVSE of its tier there, switched on less than 5 min ago, keeps its place until "
        "2024-03-04 09:03:00+00:00"
    )
    both = run(state({"ch-1/1": on(1), "ch-2/1": on(4)}, current_a=12.0))
    detail = both.evses["ch-0/1"].binding.detail
    assert detail.endswith(
        "; 2 EVSEs of its tier there, switched on less than 5 min ago, keep their place, "
        "the first until 2024-03-04 09:01:00+00:00"
    )
    plain = run(state()).evses["ch-2/1"].binding.detail
    assert "switched" not in plain


def test_ranks_and_holds() -> None:
    snap = state({"ch-0/1": off(1), "ch-1/1": on(1), "ch-2/1": on(30)})
    structure = structure_of(snap.topology)
    demands = demands_of(snap, structure, effective_capacity(snap, structure).uncontrolled)
    ranks = admission_ranks(snap, structure, demands.sessions)
    by_id = {structure.evse_ids[i]: int(ranks[i]) for i in demands.sessions}
    assert by_id == {"ch-0/1": HELD_OFF, "ch-1/1": HELD_ON, "ch-2/1": FREE}
    ch1 = next(s for s in snap.sessions if s.evse_id == "ch-1/1")
    hold = hold_of(snap, ch1, snap.admission["ch-1/1"])
    assert hold is not None and hold.on and hold.until == at(-1) + timedelta(minutes=5)


# Over an hour of cycles


def _hour(policy: Policy) -> tuple[dict[str, list[tuple[float, bool]]], dict[str, float]]:
    """Six EVSEs of one tier, room for three, a cycle every 5 s for an hour; every limit
    accepted at once and charged at. Per EVSE, each switch (seconds, on), and the
    seconds it was on."""
    built = Depot().node("gc", current_a=18.0)
    names = [f"ch-{k}" for k in range(6)]
    for name in names:
        built.charger(name, "gc")
    topology = built.topology()
    sessions = {
        f"{name}/1": session(f"{name}/1", energy_kwh=150.0, hours_left=10.0 + k / 100)
        for k, name in enumerate(names)
    }
    in_force: dict[str, float] = {}
    admission: dict[str, Admission] = {}
    switches: dict[str, list[tuple[float, bool]]] = {e: [] for e in sessions}
    on_s = dict.fromkeys(sessions, 0.0)
    for cycle in range(720):
        now = T0 + timedelta(seconds=5 * cycle)
        snap = Snapshot(
            at=now,
            topology=topology,
            policy=policy,
            sessions=tuple(sessions.values()),
            previous_limits=dict(in_force),
            admission=dict(admission),
        )
        allocation = allocate(snap)
        assert overloads(snap, allocation.limits_a) == []
        for evse_id, limit in allocation.limits_a.items():
            evse = topology.evses[evse_id]
            record = switched(
                admission.get(evse_id), in_force.get(evse_id, evse.fallback_a), limit, now
            )
            if record is not None:
                admission[evse_id] = record
                switches[evse_id].append((5.0 * cycle, record.on))
            in_force[evse_id] = limit
            on_s[evse_id] += 5.0 if limit > 0 else 0.0
            s = sessions[evse_id]
            sessions[evse_id] = replace(
                s, energy_delivered_wh=s.energy_delivered_wh + limit * evse.watts_per_amp * 5 / 3600
            )
    return switches, on_s


def test_over_an_hour_no_evse_switches_sooner_than_the_minimum_on_and_off_times() -> None:
    """With equal needs, least laxity first would swap EVSEs whenever the ones paused
    fall behind; the minimum times space the swaps out — and each EVSE still has its
    turns."""
    sticky, on_s = _hour(POLICY)
    for evse_id, switches in sticky.items():
        for (t0, was_on), (t1, _) in itertools.pairwise(switches):
            least = POLICY.min_on_s if was_on else POLICY.min_off_s
            assert t1 - t0 >= least, f"{evse_id}: {'on' if was_on else 'off'} for {t1 - t0} s"
        assert 600 <= on_s[evse_id] <= 3000, f"{evse_id} charged {on_s[evse_id]} s of the hour"
    churn, _ = _hour(replace(POLICY, min_on_s=5.0, min_off_s=5.0))
    assert sum(map(len, churn.values())) > 3 * sum(map(len, sticky.values()))
