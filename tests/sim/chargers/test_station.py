"""The physical side: energy integrated over the controller's time, and the EVSE states."""

from __future__ import annotations

import math
from datetime import datetime, timedelta

import pytest

from depotctl.sim.chargers.profiles import Purpose
from depotctl.sim.chargers.stack import ProfileStack
from depotctl.sim.chargers.station import ChargingState, Station
from tests.sim.chargers.builders import START, WATTS_PER_AMP, charge_point, profile, vehicle


def station(evses: int = 1) -> Station:
    return Station(charge_point(evses=evses), ProfileStack(), START)


def minutes(m: float) -> timedelta:
    return timedelta(minutes=m)


def test_a_plugged_vehicle_draws_nothing_until_authorised() -> None:
    s = station()
    s.plug_in(1, vehicle(), START)
    assert s.state(1) is ChargingState.EV_CONNECTED
    s.advance(START + minutes(10))
    assert s.evses[1].register_wh == 0
    s.authorise(1, START + minutes(10))
    assert s.state(1) is ChargingState.CHARGING
    assert s.evses[1].draw_w == 32 * WATTS_PER_AMP


def test_energy_integrates_across_a_lapse_exactly_whatever_the_steps() -> None:
    def run(steps: int) -> float:
        s = station()
        s.plug_in(1, vehicle(), START)
        s.authorise(1, START)
        s.evses[1].plug.transaction_id = "101"  # type: ignore[union-attr]
        s.stack.install(profile(8, id=1, evse=0), (1,), s.transactions())
        dynamic = profile(
            20, id=2, purpose=Purpose.TX, transaction_id="101", valid_to=START + minutes(30)
        )
        s.stack.install(dynamic, (1,), s.transactions())
        s.changed(START)
        for step in range(1, steps + 1):
            s.advance(START + minutes(60 * step / steps))
        return s.evses[1].register_wh

    expected = (20 * 690.0 * 0.5) + (8 * 690.0 * 0.5)
    assert math.isclose(run(1), expected)
    assert math.isclose(run(7), expected)
    assert math.isclose(run(60), expected)


def test_a_vehicle_stops_at_its_energy_need() -> None:
    s = station()
    s.plug_in(1, vehicle(energy_kwh=5.0, max_kw=10.0), START)
    s.authorise(1, START)
    s.advance(START + minutes(20))
    plug = s.evses[1].plug
    assert plug is not None
    assert math.isclose(plug.delivered_wh, 3333.333333, rel_tol=1e-6)
    s.advance(START + minutes(90))
    assert math.isclose(plug.delivered_wh, 5000.0)
    assert math.isclose(s.evses[1].register_wh, 5000.0)
    assert s.evses[1].draw_w == 0
    assert s.state(1) is ChargingState.SUSPENDED_EV


def test_a_zero_limit_suspends_the_evse() -> None:
    s = station()
    s.stack.install(profile(0, evse=0), (1,), {})
    s.plug_in(1, vehicle(), START)
    s.authorise(1, START)
    assert s.state(1) is ChargingState.SUSPENDED_EVSE


def test_state_of_charge_follows_the_energy() -> None:
    s = station()
    s.plug_in(1, vehicle(battery_kwh=100.0, soc=20.0, max_kw=10.0), START)
    s.authorise(1, START)
    s.advance(START + minutes(60))
    plug = s.evses[1].plug
    assert plug is not None and plug.soc_percent is not None
    assert math.isclose(plug.soc_percent, 30.0)


def test_unplugging_ends_the_transaction_and_its_tx_profiles() -> None:
    s = station()
    s.plug_in(1, vehicle(), START)
    s.authorise(1, START)
    s.evses[1].plug.transaction_id = "101"  # type: ignore[union-attr]
    s.stack.install(profile(10, purpose=Purpose.TX, transaction_id="101"), (1,), s.transactions())
    s.advance(START + minutes(60))
    plug = s.unplug(1, START + minutes(60))
    assert plug is not None and math.isclose(plug.delivered_wh, 6900.0)
    assert s.stack.profiles == []
    assert s.state(1) is ChargingState.IDLE
    assert s.free() == [1]


def test_two_evses_share_the_charger_cap() -> None:
    s = station(evses=2)
    s.stack.install(profile(40, evse=0, purpose=Purpose.STATION_MAX), (1, 2), {})
    for number in (1, 2):
        s.plug_in(number, vehicle(f"v{number}"), START)
        s.authorise(number, START)
    assert s.evses[1].draw_w == s.evses[2].draw_w == 20 * 690.0
    s.advance(START + minutes(30))
    assert math.isclose(s.evses[1].register_wh + s.evses[2].register_wh, 40 * 690.0 / 2)


def _energy_wh(changes: list[tuple[datetime, float]], until: datetime) -> float:
    """The energy of a draw record up to ``until``: watts × how long each held."""
    ends = [at for at, _ in changes[1:]] + [until]
    return sum(
        w * (end - at).total_seconds() / 3600 for (at, w), end in zip(changes, ends, strict=True)
    )


def test_the_draw_record_holds_each_change_of_the_total_draw_and_adds_up_to_the_meter() -> None:
    s = station(evses=2)
    s.plug_in(1, vehicle("v1", energy_kwh=12.0), START)
    s.authorise(1, START)  # no profile: its rating, 32 A
    s.evses[1].plug.transaction_id = "101"  # type: ignore[union-attr]
    s.advance(START + minutes(10))
    # an 8 A default for the whole charger, and for v1 a 20 A TxProfile until 14:40,
    # installed in the same instant: only the outcome is recorded
    s.stack.install(profile(8, id=1, evse=0), (1, 2), s.transactions())
    s.changed(START + minutes(10))
    tx = profile(20, id=2, purpose=Purpose.TX, transaction_id="101", valid_to=START + minutes(40))
    s.stack.install(tx, (1,), s.transactions())
    s.changed(START + minutes(10))
    s.plug_in(2, vehicle("v2"), START + minutes(20))
    s.advance(START + minutes(25))  # plugged, not authorised: draws nothing yet
    s.authorise(2, START + minutes(25))
    s.advance(START + minutes(200))  # v1 becomes full on the way
    s.unplug(2, START + minutes(210))

    amps = [at_w[1] / WATTS_PER_AMP for at_w in s.drawn.changes]
    assert amps == pytest.approx([32, 20, 28, 16, 8, 0])
    instants = [at for at, _ in s.drawn.changes]
    # 12 kWh: 3.68 at 32 A for 10 min, 6.9 at 20 A for 30 min, 1.42 at 8 A
    full = START + minutes(40) + timedelta(hours=1420 / (8 * WATTS_PER_AMP))
    assert instants[:4] == [START, *(START + minutes(m) for m in (10, 25, 40))]
    assert abs((instants[4] - full).total_seconds()) < 1e-3
    assert instants[5] == START + minutes(210)
    metered = sum(e.register_wh for e in s.evses.values())
    assert math.isclose(metered, 12_000 + 8 * WATTS_PER_AMP * 185 / 60)
    assert math.isclose(_energy_wh(s.drawn.changes, START + minutes(210)), metered, rel_tol=1e-9)
