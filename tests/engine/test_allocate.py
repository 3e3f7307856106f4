"""The allocator on hand-made depots: the corner cases of the issue, each limit and
binding computed by hand, and the Caltech ACN with a session on every EVSE."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta

import pytest

from depotctl.config import Site, compile_site, load_file
from depotctl.domain.chargers import ChargerState, CommandOutcome
from depotctl.domain.envelopes import (
    Direction,
    Envelope,
    EnvelopeMode,
    LimitUnit,
    SourceHealth,
)
from depotctl.domain.phases import Phase
from depotctl.domain.policy import Policy, UncontrollableAssumption
from depotctl.domain.sessions import Session
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.telemetry import Reading
from depotctl.domain.topology import NodeKind, NodeLimits, Topology
from depotctl.engine import Allocation, BindingKind, EvseState, LimitKind, allocate
from depotctl.engine.demand import default_departure
from tests.conftest import SITES
from tests.engine.conftest import T0, Depot, at, session, snapshot
from tests.engine.node_loads import overloads
from tests.engine.strategies import SYDNEY

ONLINE = {"dso": SourceHealth("dso", T0 - timedelta(seconds=5), 300.0)}


def envelope(
    envelope_id: str = "E-1",
    *,
    limit: float,
    unit: LimitUnit = LimitUnit.A,
    target: str = "gc",
    mode: EnvelopeMode = EnvelopeMode.NORMAL,
) -> Envelope:
    return Envelope(
        id=envelope_id,
        source="dso",
        target=target,
        direction=Direction.IMPORT,
        limit=limit,
        unit=unit,
        start=at(-10),
        end=at(50),
        received_at=at(-20),
        mode=mode,
    )


def three_chargers(**node: float) -> Topology:
    depot = Depot().node("gc", **node)  # type: ignore[arg-type]
    for name in ("ch-0", "ch-1", "ch-2"):
        depot.charger(name, "gc")
    return depot.topology()


def run(snap: Snapshot) -> Allocation:
    """Allocate, and check that no limit is exceeded whatever else the test asserts."""
    allocation = allocate(snap)
    assert overloads(snap, allocation.limits_a) == []
    return allocation


def everyone(topology: Topology, **fields: object) -> tuple[Session, ...]:
    return tuple(session(evse_id, **fields) for evse_id in sorted(topology.evses))  # type: ignore[arg-type]


# Envelopes


def test_an_envelope_tighter_than_the_minimum_currents_pauses_every_session() -> None:
    topology = three_chargers()
    snap = snapshot(
        topology,
        envelopes=(envelope(limit=5.0),),
        sources=ONLINE,
        sessions=everyone(topology),
    )
    allocation = run(snap)
    for view in allocation.evses.values():
        assert (view.limit_a, view.state) == (0.0, EvseState.PAUSED)
        assert (view.binding.kind, view.binding.ref) == (BindingKind.MIN_CURRENT_ADMISSION, "gc")
        assert "no room for the minimum 6.0 A" in view.binding.detail


def test_an_envelope_with_room_for_two_minimums_admits_two_and_pauses_the_third() -> None:
    """14 A per phase: 6 A each for the first two (by EVSE id: equal sessions), the 2 A
    left shared between them; the third would need 18 A."""
    topology = three_chargers()
    snap = snapshot(
        topology,
        envelopes=(envelope("E-9", limit=14.0),),
        sources=ONLINE,
        sessions=everyone(topology),
    )
    allocation = run(snap)
    assert allocation.limits_a == {"ch-0/1": 7.0, "ch-1/1": 7.0, "ch-2/1": 0.0}
    assert allocation.evses["ch-0/1"].binding.kind is BindingKind.ENVELOPE
    assert allocation.evses["ch-0/1"].binding.ref == "E-9"
    assert allocation.evses["ch-2/1"].binding.kind is BindingKind.MIN_CURRENT_ADMISSION


@pytest.mark.parametrize("unit", [LimitUnit.A, LimitUnit.W])
def test_an_envelope_of_zero_stops_everything_below_it(unit: LimitUnit) -> None:
    topology = three_chargers(current_a=400.0)
    snap = snapshot(
        topology,
        envelopes=(envelope(limit=0.0, unit=unit),),
        sources=ONLINE,
        sessions=everyone(topology),
    )
    allocation = run(snap)
    assert set(allocation.limits_a.values()) == {0.0}
    assert {v.binding.ref for v in allocation.evses.values()} == {"gc"}


def test_a_fresh_envelope_that_binds_is_named_with_its_id() -> None:
    """13.8 kW over one three-phase EVSE at 230 V: 20 A."""
    topology = Depot().node("gc", import_w=100_000.0).charger("ch", "gc").topology()
    snap = snapshot(
        topology,
        envelopes=(envelope("E-17", limit=13_800.0, unit=LimitUnit.W),),
        sources=ONLINE,
        sessions=everyone(topology),
    )
    view = run(snap).evses["ch/1"]
    assert view.limit_a == pytest.approx(20.0)
    assert view.limit_w == pytest.approx(13_800.0)
    assert (view.binding.kind, view.binding.ref) == (BindingKind.ENVELOPE, "E-17")
    assert "envelope E-17" in view.binding.detail
    assert "(fallback)" not in view.binding.detail


def test_an_offline_sources_envelope_still_binds_and_says_it_is_not_fresh() -> None:
    topology = Depot().node("gc").source("dso", "gc").charger("ch", "gc").topology()
    silent = {"dso": SourceHealth("dso", T0 - timedelta(hours=1), 300.0)}
    own_fallback = envelope("E-F", limit=12.0, mode=EnvelopeMode.FALLBACK)
    snap = snapshot(
        topology,
        envelopes=(envelope("E-1", limit=16.0), own_fallback),
        sources=silent,
        sessions=everyone(topology),
    )
    view = run(snap).evses["ch/1"]
    # the source's own fallback envelope replaces the site fallback (0 W here)
    assert view.limit_a == pytest.approx(12.0)
    assert (view.binding.kind, view.binding.ref) == (BindingKind.ENVELOPE, "E-F")
    assert "(envelope E-F, offline source dso's own fallback)" in view.binding.detail


def test_a_source_never_heard_from_leaves_its_node_at_the_site_fallback() -> None:
    """6.9 kW of site fallback over one three-phase EVSE at 230 V: 10 A."""
    depot = Depot().node("gc", import_w=100_000.0)
    depot.source("dso", "gc", fallback=NodeLimits(import_w=6_900.0))
    topology = depot.charger("ch", "gc").topology()
    view = run(snapshot(topology, sessions=everyone(topology))).evses["ch/1"]
    assert view.limit_a == pytest.approx(10.0)
    assert (view.binding.kind, view.binding.ref) == (BindingKind.FALLBACK, "dso")
    assert "fallback for offline source dso" in view.binding.detail


# Uncontrollable chargers, stale telemetry


def test_uncontrollable_chargers_alone_over_a_limit_leave_nothing_for_the_rest() -> None:
    depot = Depot().node("gc").node("db", "gc", current_a=32.0)
    depot.charger("old", "db", evses=2).charger("new-1", "db").charger("new-2", "db")
    topology = depot.topology()
    snap = snapshot(
        topology,
        Policy(safety_margin=0.0, uncontrollable=UncontrollableAssumption.RATING),
        sessions=everyone(topology),
        chargers={"old": ChargerState("old", online=False, last_accepted_limit_a=6.0)},
    )
    allocation = run(snap)
    for evse_id in ("new-1/1", "new-2/1"):
        view = allocation.evses[evse_id]
        assert (view.limit_a, view.state) == (0.0, EvseState.PAUSED)
        assert (view.binding.kind, view.binding.ref) == (BindingKind.MIN_CURRENT_ADMISSION, "db")
        assert "uncontrollable chargers are assumed to draw 64.0 A" in view.binding.detail
    old = allocation.evses["old/1"]
    assert (old.state, old.limit_a) == (EvseState.UNCONTROLLABLE, 32.0)
    assert (old.binding.kind, old.binding.ref) == (BindingKind.UNCONTROLLABLE, "old")
    assert "offline" in old.binding.detail
    assert allocation.limits_a["old/1"] == 0.0  # nothing is sent to it
    db = allocation.constraints[("db", LimitKind.CURRENT_L1)]
    assert (db.reserved, db.allocated) == (64.0, 0.0)
    assert db.headroom == pytest.approx(-32.0)


@pytest.mark.parametrize("last_accepted", [0.0, 10.0, None])
def test_a_charger_that_refused_its_last_command_gets_no_new_limit(
    last_accepted: float | None,
) -> None:
    """Even with a last accepted limit of 0 A (assumed to draw nothing) it is reported
    uncontrollable, and its session is not given power it would not receive."""
    depot = Depot().node("gc", current_a=100.0).charger("stuck", "gc").charger("ok", "gc")
    topology = depot.topology()
    state = ChargerState(
        "stuck", last_outcome=CommandOutcome.REJECTED, last_accepted_limit_a=last_accepted
    )
    allocation = run(snapshot(topology, sessions=everyone(topology), chargers={"stuck": state}))
    assert allocation.evses["stuck/1"].state is EvseState.UNCONTROLLABLE
    assert allocation.limits_a["stuck/1"] == 0.0
    assert (
        "did not accept its last command (rejected)" in allocation.evses["stuck/1"].binding.detail
    )
    assert allocation.evses["ok/1"].state is EvseState.CHARGING


def site_with_pumps() -> Topology:
    depot = Depot().node("gc").node("db", "gc", current_a=40.0)
    depot.load("pumps", "db", fallback_a=20.0)
    return depot.charger("ch", "db").topology()


def test_stale_site_load_never_counts_as_zero_and_is_named_when_it_binds() -> None:
    """The pumps last said 0 W a minute ago: they count as their 20 A fallback, so the
    EVSE gets 40 − 20 = 20 A. What is full is db's static limit: the binding names it,
    and its detail the stale reading reserved against it."""
    topology = site_with_pumps()
    old = Reading("pumps", T0 - timedelta(minutes=1), power_w=0.0)
    snap = snapshot(topology, sessions=everyone(topology), telemetry={"pumps": old})
    view = run(snap).evses["ch/1"]
    assert view.limit_a == pytest.approx(20.0)
    assert (view.binding.kind, view.binding.ref) == (BindingKind.NODE_LIMIT, "db")
    assert view.binding.detail.endswith(
        "20.0 A of it reserved for other load (site load 20.0 A with stale telemetry, "
        "counted at its fallback: the last reading of pumps is 1 min old)"
    )


def test_fresh_site_load_telemetry_is_used_as_measured() -> None:
    topology = site_with_pumps()
    fresh = Reading("pumps", T0, None, dict.fromkeys(Phase, 15.0))
    snap = snapshot(topology, sessions=everyone(topology), telemetry={"pumps": fresh})
    view = run(snap).evses["ch/1"]
    assert view.limit_a == pytest.approx(25.0)
    assert (view.binding.kind, view.binding.ref) == (BindingKind.NODE_LIMIT, "db")
    idle = run(snapshot(topology, sessions=everyone(topology), telemetry={"pumps": fresh}))
    assert idle.constraints[("db", LimitKind.CURRENT_L2)].reserved == pytest.approx(15.0)


# An EVSE's own caps


def one_charger() -> Topology:
    return Depot().node("gc", current_a=100.0).charger("ch", "gc").topology()


@pytest.mark.parametrize(
    ("fields", "limit", "kind"),
    [
        ({}, 32.0, BindingKind.CHARGER_LIMIT),
        ({"vehicle_max_current_a": 16.0}, 16.0, BindingKind.VEHICLE_LIMIT),
        ({"planned_rate_a": 10.0}, 10.0, BindingKind.PLANNED_RATE),
        # urgent (50 kWh in 2 h needs 2.3 h at 22 kW), but a plan holding it is followed
        ({"planned_rate_a": 10.0, "hours_left": 2.0}, 10.0, BindingKind.PLANNED_RATE),
        ({"delivered_kwh": 50.0}, 0.0, BindingKind.ENERGY_SATISFIED),
        ({"vehicle_max_current_a": 4.0}, 0.0, BindingKind.VEHICLE_LIMIT),  # below 6 A
    ],
    ids=["charger", "vehicle", "planned", "urgent-held-by-plan", "satisfied", "vehicle-below-min"],
)
def test_an_evses_own_cap_binds_with_its_reason(
    fields: dict[str, float], limit: float, kind: BindingKind
) -> None:
    topology = one_charger()
    view = run(snapshot(topology, sessions=everyone(topology, **fields))).evses["ch/1"]
    assert view.limit_a == pytest.approx(limit)
    assert (view.binding.kind, view.binding.ref) == (kind, "ch/1")
    assert view.state is (EvseState.CHARGING if limit else EvseState.PAUSED)


# Tiers


def two_on_ten_amps() -> Topology:
    """Room for one minimum current only."""
    return Depot().node("gc", current_a=10.0).charger("a", "gc").charger("b", "gc").topology()


def test_urgency_puts_a_session_in_the_earlier_tier() -> None:
    """b needs 40 kWh within 1 h (urgent); a needs 10 kWh within 12 h. By EVSE id a
    would come first; urgency admits b instead."""
    topology = two_on_ten_amps()
    sessions = (
        session("a/1", energy_kwh=10.0, hours_left=12.0),
        session("b/1", energy_kwh=40.0, hours_left=1.0),
    )
    allocation = run(snapshot(topology, sessions=sessions))
    assert allocation.limits_a == {"a/1": 0.0, "b/1": 10.0}
    assert (allocation.evses["a/1"].tier, allocation.evses["b/1"].tier) == (1, 0)
    assert allocation.evses["a/1"].binding.kind is BindingKind.MIN_CURRENT_ADMISSION


def test_priority_class_comes_before_urgency() -> None:
    topology = two_on_ten_amps()
    sessions = (
        session("a/1", energy_kwh=10.0, hours_left=12.0),
        session("b/1", energy_kwh=40.0, hours_left=1.0, priority_class=1),
    )
    allocation = run(snapshot(topology, sessions=sessions))
    assert allocation.limits_a == {"a/1": 10.0, "b/1": 0.0}
    assert (allocation.evses["a/1"].tier, allocation.evses["b/1"].tier) == (1, 2)


def test_a_session_without_a_requirement_gets_the_sites_default_deadline() -> None:
    """Plugged in at 19:00 Sydney time: full by the next 05:30 local."""
    topology = one_charger()
    started = datetime(2024, 3, 4, 19, 0, tzinfo=SYDNEY)
    policy = Policy(default_departure=time(5, 30, tzinfo=SYDNEY))
    snap = snapshot(topology, policy)
    assert default_departure(snap, started) == datetime(2024, 3, 5, 5, 30, tzinfo=SYDNEY)
    assert default_departure(snap, started.replace(hour=4)) == started.replace(hour=5, minute=30)


def test_a_session_without_a_requirement_is_urgent_when_its_default_deadline_is_near() -> None:
    """At 20:00 Sydney with a default of 60 kWh by 21:00, the unknown need is urgent
    (60 kWh take 2.7 h at 22 kW) and goes before a known, relaxed one."""
    topology = two_on_ten_amps()
    assert T0.astimezone(SYDNEY).hour == 20
    policy = Policy(
        safety_margin=0.0,
        default_departure=time(21, 0, tzinfo=SYDNEY),
        default_energy_wh=60_000.0,
    )
    sessions = (
        session("a/1", energy_kwh=10.0, hours_left=12.0),
        session("b/1", energy_kwh=None),
    )
    allocation = run(snapshot(topology, policy, sessions=sessions))
    assert allocation.limits_a == {"a/1": 0.0, "b/1": 10.0}
    assert allocation.evses["b/1"].tier == 0


# Phases and transformers


def test_line_to_line_evses_count_in_full_on_both_of_their_lines() -> None:
    """A 20 A/phase circuit: two L1-L2 EVSEs share L1 and L2 (10 A each); the L3
    EVSE has L3 to itself."""
    depot = Depot().node("gc").node("db", "gc", current_a=20.0)
    depot.charger("ab-1", "db", connection="L1-L2").charger("ab-2", "db", connection="L1-L2")
    topology = depot.charger("c", "db", connection="L3").topology()
    allocation = run(snapshot(topology, sessions=everyone(topology)))
    assert allocation.limits_a == {"ab-1/1": 10.0, "ab-2/1": 10.0, "c/1": 20.0}


def test_a_single_phase_evse_of_unknown_phase_counts_on_every_phase() -> None:
    depot = Depot().node("gc").node("db", "gc", current_a=20.0)
    depot.charger("known", "db", connection="L2").charger("unknown", "db", connection=None)
    topology = depot.topology()
    allocation = run(snapshot(topology, sessions=everyone(topology)))
    assert allocation.limits_a == {"known/1": 10.0, "unknown/1": 10.0}
    both = allocation.constraints[("db", LimitKind.CURRENT_L2)]
    assert both.allocated == pytest.approx(20.0)
    assert allocation.constraints[("db", LimitKind.CURRENT_L1)].allocated == pytest.approx(10.0)


def test_a_single_phase_node_carries_everything_on_its_one_conductor() -> None:
    depot = Depot().node("gc").node("sub", "gc", phases=1, current_a=24.0)
    depot.charger("x", "sub", connection="L1").charger("y", "sub", connection=None)
    topology = depot.topology()
    allocation = run(snapshot(topology, sessions=everyone(topology)))
    assert allocation.limits_a == {"x/1": 12.0, "y/1": 12.0}


@pytest.mark.parametrize(
    ("winding", "limit"),
    [
        # line for line: 20 A × 480/208 = 46.15 A on L1 and L2
        ("wye-wye", 46.1),
        # each secondary winding sits between two primary lines at 0.4333/√3 = 0.2502 A
        # per amp; primary L2 meets both windings a load on L1-L2 uses: 0.5004 A per amp,
        # so 20 A there carry 39.97 A
        ("delta-wye", 39.9),
        (None, 39.9),  # unknown: the worse of the two, line by line
    ],
)
def test_a_transformer_limits_the_current_on_its_primary(winding: str | None, limit: float) -> None:
    depot = Depot(volts=277.0).node("gc")
    depot.node("tx", "gc", kind=NodeKind.TRANSFORMER, current_a=20.0, ratio=208 / 480)
    depot.nodes["tx"] = replace(depot.nodes["tx"], winding=winding)
    depot.node("bus", "tx", volts=120.1)
    topology = depot.charger("ab", "bus", connection="L1-L2", max_a=80.0).topology()
    allocation = run(snapshot(topology, sessions=everyone(topology)))
    assert allocation.limits_a["ab/1"] == limit
    assert allocation.evses["ab/1"].binding.ref == "tx"


def test_an_unbalanced_site_load_below_a_delta_wye_counts_on_the_primary_lines_it_loads() -> None:
    """60 A on secondary L1 puts 15 A on primary L1 and L2; an EVSE on L2 (0.25 A per
    amp on primary L2) gets the 5 A left there: 19.9 A, not the 79.9 A it would get if
    the shop counted only on primary L1."""
    depot = Depot(volts=277.0).node("gc")
    depot.node("tx", "gc", kind=NodeKind.TRANSFORMER, current_a=20.0, ratio=208 / 480)
    depot.nodes["tx"] = replace(depot.nodes["tx"], winding="delta-wye")
    depot.node("bus", "tx", volts=120.1).load("shop", "bus", fallback_a=10.0)
    topology = depot.charger("ch", "bus", connection="L2", max_a=80.0).topology()
    reading = Reading("shop", T0, None, {Phase.L1: 60.0, Phase.L2: 0.0, Phase.L3: 0.0})
    snap = snapshot(topology, sessions=everyone(topology), telemetry={"shop": reading})
    view = run(snap).evses["ch/1"]
    assert view.limit_a == 19.9
    assert (view.binding.kind, view.binding.ref) == (BindingKind.NODE_LIMIT, "tx")


# Rounding, hysteresis, determinism


def test_limits_are_rounded_down_to_the_step() -> None:
    topology = three_chargers(current_a=20.0)
    allocation = run(snapshot(topology, sessions=everyone(topology)))
    assert set(allocation.limits_a.values()) == {6.6}  # 20 / 3 = 6.67, rounded down


def test_increases_smaller_than_the_hysteresis_wait_and_decreases_do_not() -> None:
    topology = three_chargers(current_a=21.0)  # 7 A each
    sessions = everyone(topology)
    previous = {"ch-0/1": 6.5, "ch-1/1": 8.0, "ch-2/1": 5.0}
    policy = Policy(safety_margin=0.0, hysteresis_a=1.0)
    allocation = run(snapshot(topology, policy, sessions=sessions, previous_limits=previous))
    assert allocation.limits_a == {
        "ch-0/1": 6.5,  # +0.5 A: held back
        "ch-1/1": 7.0,  # −1 A: at once
        "ch-2/1": 7.0,  # +2 A: more than the hysteresis
    }


def test_ties_go_by_evse_id_whatever_the_order_of_the_sessions() -> None:
    topology = two_on_ten_amps()
    sessions = everyone(topology)
    forward = run(snapshot(topology, sessions=sessions)).limits_a
    backward = run(snapshot(topology, sessions=sessions[::-1])).limits_a
    assert forward == backward == {"a/1": 10.0, "b/1": 0.0}


def test_a_second_session_on_an_evse_and_one_on_an_unknown_evse_are_ignored() -> None:
    topology = one_charger()
    sessions = (
        session("ch/1", vehicle_max_current_a=16.0),
        Session("s-z", "ch/1", T0, vehicle_max_current_a=8.0),
        Session("s-ghost", "nowhere/1", T0),
    )
    allocation = run(snapshot(topology, sessions=sessions))
    assert allocation.limits_a == {"ch/1": 16.0}
    assert allocation.evses["ch/1"].session_id == "s-ch/1"


def test_an_idle_evse_may_start_at_its_fallback_when_there_is_room() -> None:
    view = run(snapshot(one_charger())).evses["ch/1"]
    assert (view.limit_a, view.state, view.binding.kind) == (
        6.0,  # the Depot's chargers fall back to their minimum current
        EvseState.IDLE,
        BindingKind.NO_SESSION,
    )
    assert view.binding.detail == "idle: a vehicle may start at up to 6.0 A (its fallback)"


def test_a_full_node_gives_idle_evses_no_start_allowance_and_names_itself() -> None:
    """A vehicle plugging in while a node is full must not overload it: the idle EVSE's
    start allowance falls to 0 A (its charger is sent that), and sessions come first."""
    topology = Depot().node("gc", current_a=34.0).charger("a", "gc").charger("b", "gc").topology()
    allocation = run(snapshot(topology, sessions=(session("a/1"),)))
    # 34 A less 5 % is 32.3 A: the session takes its 32 A, 0.3 A is no minimum current
    assert allocation.limits_a == {"a/1": 32.0, "b/1": 0.0}
    idle = allocation.evses["b/1"]
    assert (idle.state, idle.binding.kind, idle.binding.ref) == (
        EvseState.IDLE,
        BindingKind.NODE_LIMIT,
        "gc",
    )
    assert idle.binding.detail.startswith("idle: a vehicle may start at up to 0.0 A:")


def test_idle_evses_start_allowances_fill_what_sessions_leave_by_evse_id() -> None:
    def three_chargers(limit_a: float) -> Topology:
        depot = Depot().node("gc", current_a=limit_a)
        return depot.charger("a", "gc").charger("b", "gc").charger("c", "gc").topology()

    roomy = run(snapshot(three_chargers(50.0), sessions=(session("a/1"),)))
    # 47.5 A effective: 32 A for the session, 15.5 A left: both idle EVSEs at their 6 A
    assert roomy.limits_a == {"a/1": 32.0, "b/1": 6.0, "c/1": 6.0}
    tight = run(snapshot(three_chargers(42.0), sessions=(session("a/1"),)))
    # 39.9 A effective: 7.9 A left, room for one minimum only (by EVSE id)
    assert tight.limits_a == {"a/1": 32.0, "b/1": 6.0, "c/1": 0.0}


# A real site


def test_the_caltech_acn_with_54_sessions_stays_within_its_transformer() -> None:
    loaded = load_file(SITES / "caltech-acn.yaml")
    site = loaded.documents[0].model
    assert isinstance(site, Site)
    topology, policy = compile_site(site, SITES)
    assert len(topology.evses) == 54
    sessions = everyone(topology, energy_kwh=20.0, hours_left=8.0)
    allocation = run(snapshot(topology, policy, sessions=sessions))
    transformer = [allocation.constraints[("xfmr-acn", k)] for k in LimitKind]
    for constraint in transformer:
        assert constraint.allocated <= constraint.effective_limit + 1e-6
    power = allocation.constraints[("xfmr-acn", LimitKind.IMPORT_POWER)]
    assert power.effective_limit == pytest.approx(150_000 * (1 - policy.safety_margin))
    assert sum(v.limit_w for v in allocation.evses.values()) == pytest.approx(power.allocated)
    assert power.allocated <= power.effective_limit
    for pod in ("av-pod", "cc-pod"):
        pod_limit = 80 * (1 - policy.safety_margin)
        assert allocation.constraints[(pod, LimitKind.CURRENT_L1)].allocated <= pod_limit
    states = {v.state for v in allocation.evses.values()}
    assert states <= {EvseState.CHARGING, EvseState.PAUSED}
    assert sum(v.state is EvseState.CHARGING for v in allocation.evses.values()) >= 40
    assert all(
        v.binding.ref != v.evse_id for v in allocation.evses.values()
    )  # all held by the tree
