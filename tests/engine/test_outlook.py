"""Each session's outlook — expected energy at departure, shortfall and the constraint
that causes it — on hand-made depots (figures worked out by hand), and its
properties over generated depots."""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import datetime, time, timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depotctl.domain.chargers import ChargerState
from depotctl.domain.sessions import RequirementSource
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.topology import Topology
from depotctl.engine import Allocation, BindingKind, EvseState, allocate, session_outlooks
from tests.engine.conftest import POLICY, T0, Depot, deadline_and_need, session, snapshot
from tests.engine.strategies import SYDNEY, snapshots

#: a three-phase 230 V EVSE draws 3 × 230 W per amp per line
W_PER_A = 690.0


def two_on_forty_amps() -> Topology:
    """Two 32 A three-phase chargers behind a 40 A circuit: 20 A each when both want
    all they can get."""
    return (
        Depot()
        .node("gc", current_a=400.0)
        .node("db-1", "gc", current_a=40.0)
        .charger("a", "db-1")
        .charger("b", "db-1")
        .topology()
    )


def test_a_near_departure_behind_a_full_circuit_is_short_by_what_the_circuit_withholds() -> None:
    """Both need 50 kWh within 1 h: each gets 20 A = 13.8 kW, so each expects
    13.8 kWh and is 36.2 kWh short, because db-1 is full."""
    topology = two_on_forty_amps()
    sessions = (
        session("a/1", energy_kwh=50.0, hours_left=1.0),
        session("b/1", energy_kwh=50.0, hours_left=1.0),
    )
    snap = snapshot(topology, sessions=sessions)
    allocation = allocate(snap)
    assert allocation.limits_a == {"a/1": 20.0, "b/1": 20.0}
    outlook = session_outlooks(snap, allocation)["s-a/1"]
    assert outlook.limit_a == 20.0
    assert outlook.limit_w == pytest.approx(20 * W_PER_A)
    assert outlook.expected_wh == pytest.approx(20 * W_PER_A * 1.0)
    assert outlook.shortfall_wh == pytest.approx(50_000 - 13_800)
    assert not outlook.on_track and not outlook.overdue
    assert outlook.constraint is not None
    assert (outlook.constraint.kind, outlook.constraint.ref) == (BindingKind.NODE_LIMIT, "db-1")
    assert outlook.constraint == allocation.evses["a/1"].binding  # the engine's own binding
    # 50 kWh at 13.8 kW take 3 h 37 min 23 s: after the departure
    assert outlook.complete_at == T0 + timedelta(hours=50 / 13.8)
    assert outlook.departure == T0 + timedelta(hours=1)


def test_plenty_of_time_is_on_track_without_a_constraint() -> None:
    """20 kWh in 12 h at 20 A (13.8 kW): complete after 1.45 h, long before departure."""
    topology = two_on_forty_amps()
    sessions = (
        session("a/1", energy_kwh=20.0, hours_left=12.0, delivered_kwh=4.0),
        session("b/1", energy_kwh=20.0, hours_left=12.0),
    )
    snap = snapshot(topology, sessions=sessions)
    allocation = allocate(snap)
    assert allocation.evses["a/1"].binding.kind is BindingKind.NODE_LIMIT  # still binding
    outlook = session_outlooks(snap, allocation)["s-a/1"]
    assert outlook.on_track
    assert outlook.expected_wh == 20_000 and outlook.shortfall_wh == 0
    assert outlook.constraint is None
    assert outlook.complete_at == T0 + timedelta(hours=16 / 13.8)
    assert (outlook.required_wh, outlook.delivered_wh) == (20_000, 4_000)
    assert outlook.requirement_source is RequirementSource.SCHEDULE


def test_a_session_too_big_for_its_own_charger_names_the_charger_limit() -> None:
    """Alone on the circuit, a gets its full 32 A (22.08 kW): 40 kWh in 1 h still
    falls 17.92 kWh short, and the cause is the EVSE's own rating."""
    topology = two_on_forty_amps()
    snap = snapshot(topology, sessions=(session("a/1", energy_kwh=40.0, hours_left=1.0),))
    allocation = allocate(snap)
    outlook = session_outlooks(snap, allocation)["s-a/1"]
    assert outlook.limit_a == 32.0
    assert outlook.shortfall_wh == pytest.approx(40_000 - 32 * W_PER_A)
    assert outlook.constraint is not None
    assert (outlook.constraint.kind, outlook.constraint.ref) == (BindingKind.CHARGER_LIMIT, "a/1")


def test_a_paused_session_expects_only_what_it_has_and_names_where_there_was_no_room() -> None:
    """A 10 A circuit has room for one 6 A minimum: the urgent b is admitted, a pauses."""
    topology = (
        Depot()
        .node("gc", current_a=400.0)
        .node("db-1", "gc", current_a=10.0)
        .charger("a", "db-1")
        .charger("b", "db-1")
        .topology()
    )
    sessions = (
        session("a/1", energy_kwh=10.0, hours_left=12.0, delivered_kwh=3.0),
        session("b/1", energy_kwh=40.0, hours_left=1.0),
    )
    snap = snapshot(topology, sessions=sessions)
    allocation = allocate(snap)
    assert allocation.evses["a/1"].state is EvseState.PAUSED
    outlook = session_outlooks(snap, allocation)["s-a/1"]
    assert outlook.limit_a == 0.0
    assert outlook.expected_wh == 3_000
    assert outlook.shortfall_wh == 7_000
    assert outlook.complete_at is None
    assert outlook.constraint is not None
    assert outlook.constraint.kind is BindingKind.MIN_CURRENT_ADMISSION
    assert outlook.constraint.ref == "db-1"


def test_a_session_past_its_departure_is_overdue_with_what_is_missing() -> None:
    topology = two_on_forty_amps()
    sessions = (session("a/1", energy_kwh=30.0, hours_left=-0.5, delivered_kwh=12.0),)
    snap = snapshot(topology, sessions=sessions)
    allocation = allocate(snap)
    assert allocation.limits_a["a/1"] == 32.0  # still charging
    outlook = session_outlooks(snap, allocation)["s-a/1"]
    assert outlook.overdue
    assert outlook.expected_wh == 12_000
    assert outlook.shortfall_wh == 18_000
    assert not outlook.on_track
    assert outlook.constraint == allocation.evses["a/1"].binding
    # complete 18 kWh later at 22.08 kW, if it stays
    assert outlook.complete_at == T0 + timedelta(hours=18 / 22.08)


def test_a_session_that_has_its_energy_is_complete_now() -> None:
    topology = two_on_forty_amps()
    sessions = (session("a/1", energy_kwh=30.0, hours_left=3.0, delivered_kwh=30.0),)
    snap = snapshot(topology, sessions=sessions)
    allocation = allocate(snap)
    assert allocation.evses["a/1"].binding.kind is BindingKind.ENERGY_SATISFIED
    outlook = session_outlooks(snap, allocation)["s-a/1"]
    assert outlook.on_track and outlook.constraint is None
    assert outlook.expected_wh == 30_000 and outlook.shortfall_wh == 0
    assert outlook.complete_at == T0


def test_more_delivered_than_required_is_never_expected_to_shrink() -> None:
    topology = two_on_forty_amps()
    sessions = (session("a/1", energy_kwh=10.0, hours_left=3.0, delivered_kwh=25.0),)
    snap = snapshot(topology, sessions=sessions)
    outlook = session_outlooks(snap, allocate(snap))["s-a/1"]
    assert outlook.expected_wh == 25_000 and outlook.shortfall_wh == 0 and outlook.on_track


def test_a_session_without_a_requirement_is_measured_against_the_sites_default() -> None:
    """Plugged in at 19:00 Sydney, T0 is 20:00 there; the default is 60 kWh by 21:00:
    at 32 A (22.08 kW) for 1 h it is 37.92 kWh short."""
    assert T0.astimezone(SYDNEY).hour == 20
    topology = two_on_forty_amps()
    policy = replace(POLICY, default_departure=time(21, 0, tzinfo=SYDNEY))
    started = datetime(2024, 3, 4, 19, 0, tzinfo=SYDNEY)
    snap = snapshot(topology, policy, sessions=(session("a/1", energy_kwh=None, started=started),))
    outlook = session_outlooks(snap, allocate(snap))["s-a/1"]
    assert outlook.requirement_source is RequirementSource.DEFAULT
    assert outlook.required_wh == 60_000
    assert outlook.departure == T0 + timedelta(hours=1)
    assert outlook.departure.utcoffset() == timedelta(0)
    assert outlook.shortfall_wh == pytest.approx(60_000 - 32 * W_PER_A)


def test_an_uncontrollable_charger_is_measured_at_the_draw_assumed_for_it() -> None:
    """Charger a refused its last command at 10 A: it is assumed to keep 10 A."""
    topology = two_on_forty_amps()
    sessions = (session("a/1", energy_kwh=30.0, hours_left=2.0),)
    chargers = {"a": ChargerState("a", online=False, last_accepted_limit_a=10.0)}
    snap = snapshot(topology, sessions=sessions, chargers=chargers)
    allocation = allocate(snap)
    outlook = session_outlooks(snap, allocation)["s-a/1"]
    assert outlook.limit_a == 10.0
    assert outlook.expected_wh == pytest.approx(10 * W_PER_A * 2)
    assert outlook.constraint is not None
    assert (outlook.constraint.kind, outlook.constraint.ref) == (BindingKind.UNCONTROLLABLE, "a")


def test_a_session_on_an_evse_the_site_does_not_have_gets_no_outlook() -> None:
    topology = two_on_forty_amps()
    snap = snapshot(topology, sessions=(session("a/1"), session("gone/1")))
    assert set(session_outlooks(snap, allocate(snap))) == {"s-a/1"}


def test_an_uncomputably_slow_completion_is_none() -> None:
    """A requirement so large that it would complete after the year 9999."""
    topology = two_on_forty_amps()
    snap = snapshot(topology, sessions=(session("a/1", energy_kwh=1e15, hours_left=2.0),))
    outlook = session_outlooks(snap, allocate(snap))["s-a/1"]
    assert outlook.complete_at is None and not outlook.on_track


# Properties

FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def _expected_by_definition(snap: Snapshot, allocation: Allocation, session_id: str) -> float:
    """Delivered + the current limit's energy until the departure, capped at the
    requirement — from the issue's demand rules, not the engine's."""
    s = next(s for s in snap.sessions if s.id == session_id)
    deadline, need = deadline_and_need(snap, s)
    evse = snap.topology.evses[s.evse_id]
    watts = allocation.evses[s.evse_id].limit_a * evse.watts_per_amp
    hours = max((deadline - snap.at).total_seconds() / 3600, 0.0)
    return s.energy_delivered_wh + min(need, watts * hours)


def _raised(
    allocation: Allocation, snap: Snapshot, extra: dict[str, float], *, base: bool = True
) -> Allocation:
    """The same allocation with each EVSE's limit raised by ``extra`` amps (with
    ``base`` False: each of those set to exactly ``extra``)."""
    evses = {}
    for evse_id, view in allocation.evses.items():
        start = view.limit_a if base or evse_id not in extra else 0.0
        amps = start + extra.get(evse_id, 0.0)
        spec = snap.topology.evses[evse_id]
        evses[evse_id] = replace(view, limit_a=amps, limit_w=amps * spec.watts_per_amp)
    return Allocation(at=allocation.at, evses=evses)


@FAST
@given(snapshots(), st.data())
def test_outlooks_keep_their_definition(snap: Snapshot, data: st.DataObject) -> None:
    allocation = allocate(snap)
    outlooks = session_outlooks(snap, allocation)
    # generated snapshots hold one session per EVSE, all on the site's EVSEs
    assert set(outlooks) == {s.id for s in snap.sessions}
    for outlook in outlooks.values():
        required, delivered = outlook.required_wh, outlook.delivered_wh
        assert outlook.shortfall_wh >= 0
        assert outlook.expected_wh >= delivered
        assert outlook.expected_wh <= max(required, delivered)
        if delivered <= required:
            assert outlook.expected_wh <= required
            assert outlook.expected_wh + outlook.shortfall_wh == pytest.approx(required)
        assert (outlook.shortfall_wh == 0) == outlook.on_track
        assert (outlook.constraint is None) == outlook.on_track
        if outlook.constraint is not None:
            assert outlook.constraint == allocation.evses[outlook.evse_id].binding
        assert outlook.expected_wh == pytest.approx(
            _expected_by_definition(snap, allocation, outlook.session_id), abs=1.0
        )
        if outlook.overdue and not outlook.on_track:
            assert outlook.expected_wh == delivered
        if outlook.limit_a == 0 and not outlook.on_track:
            assert outlook.expected_wh == delivered and outlook.complete_at is None
        if outlook.complete_at is not None and outlook.on_track and not outlook.overdue:
            # complete by the departure, give or take the 1 Wh tolerance
            if outlook.limit_w > 0:
                slack = timedelta(seconds=1 / outlook.limit_w * 3600 + 1e-3)
                assert outlook.complete_at <= outlook.departure + slack
            else:
                assert outlook.complete_at == snap.at

    amps = st.sampled_from([0.0, 0.1, 1.0, 6.0, 32.0])
    extra = {evse_id: data.draw(amps) for evse_id in sorted(allocation.evses)}
    larger = session_outlooks(snap, _raised(allocation, snap, extra))
    for session_id, outlook in outlooks.items():
        more = larger[session_id]
        assert more.shortfall_wh <= outlook.shortfall_wh
        assert more.expected_wh >= outlook.expected_wh
        if outlook.on_track:
            assert more.on_track


@pytest.mark.parametrize("limit_a", [0.0, 6.0, 16.0, 32.0])
def test_completion_and_shortfall_agree_at_any_limit(limit_a: float) -> None:
    """Complete before departure ⇔ no shortfall (away from the tolerance)."""
    topology = two_on_forty_amps()
    snap = snapshot(topology, sessions=(session("a/1", energy_kwh=30.0, hours_left=1.5),))
    allocation = _raised(allocate(replace(snap, sessions=())), snap, {"a/1": limit_a}, base=False)
    outlook = session_outlooks(snap, allocation)["s-a/1"]
    completes = outlook.complete_at is not None and outlook.complete_at <= outlook.departure
    assert completes == outlook.on_track
    assert outlook.shortfall_wh == pytest.approx(max(30_000 - limit_a * W_PER_A * 1.5, 0.0))
    assert math.isclose(outlook.expected_wh, min(30_000, limit_a * W_PER_A * 1.5))
