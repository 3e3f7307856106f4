"""The simulator's summary says what the chargers went through: reboots, requests
left unanswered because they came before the boot."""

from __future__ import annotations

from datetime import timedelta
from zoneinfo import ZoneInfo

import pytest

from depotctl.domain.charge_points import OcppVersion
from depotctl.sim.chargers.charger import Settings, SimulatedCharger
from depotctl.sim.chargers.fleet import Fleet
from depotctl.sim.chargers.report import live_line, round_trips, to_json, to_text
from depotctl.sim.chargers.simtime import SimTime
from tests.sim.chargers.builders import PASSWORD, PASSWORD_ENV, START, charge_point, vehicle
from tests.sim.chargers.rig import VERSIONS, rig, run


def test_reboots_and_requests_before_boot_are_counted() -> None:
    time = SimTime(START, 0)
    chargers = [
        SimulatedCharger(charge_point(OcppVersion.V16, ocpp_id=f"CP-{n}"), time, Settings("ws://x"))
        for n in (1, 2)
    ]
    for charger in chargers:
        charger.stats.boots, charger.stats.connects = 2, 2
    chargers[0].reboot()
    chargers[1].reboot()
    chargers[1].reboot()
    chargers[0].stats.requests_before_boot = chargers[0].stats.requests_unanswered = 3
    fleet = Fleet(chargers, time)
    report = to_json(fleet, site="s", url="ws://x")
    assert [c["reboots"] for c in report["chargers"]] == [1, 2]
    assert [c["requests_before_boot"] for c in report["chargers"]] == [3, 0]
    text = to_text(fleet, site="s", url="ws://x")
    assert "  chargers   2 of 2 booted, 4 connections, 0 closed or lost, 3 reboots\n" in text
    assert "3 requests left unanswered (3 before boot)" in text


def test_each_chargers_draw_record_is_in_the_report_a_reboot_dropping_it_to_nothing() -> None:
    time = SimTime(START, 0)
    charger = SimulatedCharger(charge_point(OcppVersion.V16), time, Settings("ws://x"))
    idle = SimulatedCharger(charge_point(OcppVersion.V16, ocpp_id="CP-2"), time, Settings("ws://x"))
    fleet = Fleet([charger, idle], time)
    charger.stats.boots = 1  # booted before, offline now: the vehicle is authorised locally
    charger.plug_in(1, vehicle(energy_kwh=100.0))
    time.advance(600)
    charger.reboot()  # the vehicle stays plugged in and draws nothing
    time.advance(60.5)
    report = to_json(fleet, site="s", url="ws://x")
    assert report["version"] == 2
    drawn, quiet = report["chargers"]
    assert drawn["draw"] == "0:22080 600:0"
    assert quiet["draw"] == "0:0"
    assert drawn["energy_wh"] == 22_080 * 600 / 3600


@VERSIONS
def test_the_round_trips_of_the_chargers_calls_are_in_the_report(
    version: OcppVersion, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Each answered call (its boot, its statuses) is timed on the wall clock; the
    report gives how many, the median, the 95th percentile and the longest — what a
    reboot costs on a loaded machine is a few of them."""

    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)

    async def test() -> None:
        async with rig(version) as r:
            assert not round_trips([])["calls"]
            await r.csms.wait_for(lambda: len(r.charger.round_trips) >= 2)  # boot, statuses
            kept = sorted(r.charger.round_trips)
            report = to_json(Fleet([r.charger], r.time), site="s", url=r.csms.url)
            trips = report["round_trips"]
            assert trips["calls"] == len(kept) >= 2
            assert 0 < trips["p50_s"] <= trips["p95_s"] <= trips["max_s"] == round(kept[-1], 4)

    run(test)


def test_the_summary_prints_every_time_in_the_sites_time_and_the_json_in_utc() -> None:
    """A vehicle plugged in at the start (its arrival the controller's UTC time) and
    one arriving the next site day: both in site time, the table's heading stating the
    date and offset once; START is 01:00 on 3 March in Sydney (+11:00)."""
    time = SimTime(START, 0)
    chargers = [
        SimulatedCharger(charge_point(OcppVersion.V16, ocpp_id=f"CP-{n}"), time, Settings("ws://x"))
        for n in (1, 2)
    ]
    early = vehicle("bus-1", arrival=START, hours=5, energy_kwh=10.0)
    late = vehicle("bus-2", arrival=START + timedelta(hours=23), hours=1, energy_kwh=10.0)
    fleet = Fleet(chargers, time, [early, late], zone=ZoneInfo("Australia/Sydney"))
    for visit, charger in zip(fleet.visits, chargers, strict=True):
        visit.charger, visit.session = charger, charger.plug_in(1, visit.vehicle)
    time.advance(600)
    text = to_text(fleet, site="s", url="ws://x")
    assert (
        "  time       2026-03-03 01:00:00+11:00 → 2026-03-03 01:10:00+11:00 (the controller's "
        "clock" in text
    )
    assert "Vehicles (site time: 2026-03-03, +11:00; +1d the next day)\n" in text
    rows = {line.split()[0]: line.split() for line in text.splitlines() if "bus-" in line}
    assert rows["bus-1"][2:4] == ["01:00", "06:00"]
    assert rows["bus-2"][2:6] == ["00:00", "+1d", "01:00", "+1d"]
    assert "UTC" not in text
    assert live_line(fleet).startswith("2026-03-03 01:10:00+11:00 ×0 · ")
    arrivals = [v["arrival"] for v in to_json(fleet, site="s", url="ws://x")["vehicles"]]
    assert arrivals == [START.isoformat(), (START + timedelta(hours=23)).isoformat()]
