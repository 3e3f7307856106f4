"""The headless demo's summary, from figures built here: each vehicle's energy as the
controller recorded it (every session on its EVSE during its stay) against its meter,
and the disagreements named with why; the measured check of the chargers' exact draws
against the limits in force (a real overload is a spell, a rotation within a minute is
none), and the minute check it falls back to without draw records."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from depotctl.config import load_site
from depotctl.demo.scenario import Cut
from depotctl.demo.script import LimitSample
from depotctl.demo.summary import Inputs, render_text, summarise
from depotctl.sim.chargers.draw_record import encode
from tests.conftest import EXAMPLES

START = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def _at(hours: float) -> str:
    return (START + timedelta(hours=hours)).isoformat()


def _vehicle(id_: str, evse: str, arrival: float, departure: float, wh: float) -> dict[str, Any]:
    return {
        "id": id_,
        "evse": evse,
        "arrival": _at(arrival),
        "departure": _at(departure),
        "energy_needed_wh": wh,
        "energy_delivered_wh": wh,
        "met": True,
        "outcome": "left",
    }


def _session(
    id_: str, evse: str, started: float, energy: str, *, open_: bool = False
) -> dict[str, Any]:
    return {
        "id": id_,
        "evse": evse,
        "started": _at(started),
        "energy_delivered": energy,
        "open": open_,
        "ended_at": None if open_ else _at(started + 1),
    }


def _summary(vehicles: list[dict[str, Any]], sessions: list[dict[str, Any]]) -> dict[str, Any]:
    topology, _ = load_site(EXAMPLES / "minimal.yaml")
    end = START + timedelta(hours=24)
    report = {"vehicles": vehicles, "from": START.isoformat(), "to": end.isoformat()}
    return summarise(Inputs(topology, START, end, 300.0, report, sessions, {}, [], []))


def test_each_vehicles_record_is_every_session_of_its_stay_against_its_meter() -> None:
    vehicles = [
        _vehicle("van-1", "chg-01/1", 0, 4, 20_000.0),
        _vehicle("van-2", "chg-01/1", 5, 12, 30_500.5),  # the same EVSE, after van-1
        _vehicle("bus-1", "chg-02/1", 1, 12, 80_000.0),
    ]
    sessions = [
        # started a little before van-1's arrival by the controller's (later) clock
        _session("chg-01:1", "chg-01/1", -0.01, "20 kWh"),
        # van-2's charger rebooted: a second transaction for the vehicle still plugged in
        _session("chg-01:2", "chg-01/1", 5, "10 kWh"),
        _session("chg-01:3", "chg-01/1", 8, "20.5 kWh"),
        # bus-1's end never reached the controller: open, at its last reading
        _session("chg-02:tx", "chg-02/1", 1, "75.2 kWh", open_=True),
    ]
    summary = _summary(vehicles, sessions)
    energy = summary["energy"]
    assert energy["controller_delivered_wh"] == 20_000 + 10_000 + 20_500 + 75_200
    assert energy["controller_sessions_open"] == 1
    assert (energy["vehicles_recorded"], energy["vehicles_agreeing"]) == (3, 2)
    recorded = {v["id"]: v["recorded"] for v in summary["vehicles"]}
    assert recorded["van-1"]["sessions"] == ["chg-01:1"]
    assert recorded["van-2"]["sessions"] == ["chg-01:2", "chg-01:3"]
    assert recorded["van-2"]["difference_wh"] == -0.5  # within a 1.6 meter's resolution
    assert recorded["van-2"]["agrees"]
    [wrong] = energy["disagreements"]
    assert (wrong["id"], wrong["controller_wh"], wrong["difference_wh"]) == (
        "bus-1",
        75_200.0,
        -4_800.0,
    )
    assert wrong["open"] == ["chg-02:tx"]

    text = render_text(summary)
    assert "agrees with the meter for 2 of 3 vehicles; 1 session still open" in text
    assert "bus-1 on chg-02/1: meter 80.000 kWh, controller 75.200 kWh over 1 session" in text


def test_a_vehicle_without_a_session_disagrees_unless_it_got_nothing() -> None:
    vehicles = [
        _vehicle("bus-1", "chg-01/1", 0, 4, 1_000.0),
        {**_vehicle("bus-2", "chg-02/1", 0, 4, 0.0), "energy_needed_wh": None},
    ]
    summary = _summary(vehicles, [])
    [wrong] = summary["energy"]["disagreements"]
    assert (wrong["id"], wrong["sessions"], wrong["difference_wh"]) == ("bus-1", [], -1_000.0)


# The measured check: the chargers' exact draws against the limits in force

CUT = Cut(
    "demo-peak-gc-main",
    "gc-main",
    30_000.0,
    100_000.0,
    START,  # 18:00 site time
    START + timedelta(hours=2),
)


def _report(draws: dict[str, list[tuple[float, float]]] | None) -> dict[str, Any]:
    """A simulator report from -1 h to +3 h; ``draws``: charger → (hours from START,
    kW) per change (None: a report of version 1, without draw records)."""
    origin = START - timedelta(hours=1)
    report: dict[str, Any] = {
        "version": 1 if draws is None else 2,
        "from": origin.isoformat(),
        "to": (START + timedelta(hours=3)).isoformat(),
        "vehicles": [],
        "chargers": [{"id": c} for c in ("chg-01", "chg-02")],
    }
    for charger in report["chargers"] if draws is not None else []:
        changes = [(START + timedelta(hours=h), kw * 1000) for h, kw in draws[charger["id"]]]
        charger["draw"] = encode(changes, origin)
    return report


def _checked(
    report: dict[str, Any],
    *,
    posted: datetime = START - timedelta(minutes=10),
    telemetry: dict[str, list[dict[str, Any]]] | None = None,
    samples: list[LimitSample] | None = None,
) -> dict[str, Any]:
    topology, _ = load_site(EXAMPLES / "minimal.yaml")
    return summarise(
        Inputs(
            topology,
            START - timedelta(hours=1),
            START + timedelta(hours=3),
            300.0,
            report,
            [],
            telemetry or {},
            samples or [],
            [(CUT, posted)],
        )
    )


def s(seconds: float) -> float:
    """Hours from START."""
    return seconds / 3600


def test_two_chargers_drawing_at_once_over_an_envelope_is_one_spell_from_its_start() -> None:
    summary = _checked(
        _report(
            {
                # both at 20 kW from 17:59:50: under the 100 kW static limit, over the
                # 30 kW envelope from 18:00:00, until chg-02 stops at 18:00:30
                "chg-01": [(s(-10), 20.0), (s(3600), 0.0)],
                "chg-02": [(s(-10), 12.0), (s(5), 20.0), (s(30), 0.0)],
            }
        )
    )
    assert summary["checked"]["measured"] == "draws"
    assert summary["checked"]["draw_changes"] == 5
    [spell] = summary["violations"]
    assert spell == {
        "check": "measured",
        "node": "gc-main",
        "kind": "import_power",
        "from": START.isoformat(),
        "to": (START + timedelta(seconds=30)).isoformat(),
        "seconds": 30.0,
        "load": 40.0,
        "peak_at": (START + timedelta(seconds=5)).isoformat(),
        "limit": 30.0,
        "unit": "kW",
        "source": "envelope demo-peak-gc-main",
    }
    text = render_text(summary)
    assert (
        "measured: gc-main import_power 40.0 kW over 30.0 kW (envelope demo-peak-gc-main) " in text
    )
    assert "18:00:00-18:00:30 (30 s)" in text
    assert "safety margin is its own buffer" in text


def test_an_envelope_posted_after_its_start_is_in_force_from_when_it_was_posted() -> None:
    report = _report({"chg-01": [(s(-10), 20.0), (s(50), 5.0)], "chg-02": [(s(-10), 20.0)]})
    [spell] = _checked(report, posted=START + timedelta(seconds=20))["violations"]
    assert (spell["from"], spell["seconds"], spell["load"]) == (
        (START + timedelta(seconds=20)).isoformat(),
        30.0,
        40.0,
    )
    assert _checked(report, posted=START + timedelta(minutes=5))["violations"] == []


def test_a_cut_that_arrived_in_its_window_is_reported_late_and_one_ahead_is_not() -> None:
    report = _report({"chg-01": [(s(-10), 5.0)], "chg-02": []})
    [late] = (summary := _checked(report, posted=START + timedelta(seconds=20)))["envelopes"]
    assert (late["start"], late["ahead"]) == (START.isoformat(), False)
    assert "late: it arrived at 18:00:20, after its window began at 18:00:00" in render_text(
        summary
    )
    [ahead] = (summary := _checked(report))["envelopes"]
    assert ahead["ahead"] and "late:" not in render_text(summary)


def test_a_rotation_inside_a_minute_is_no_violation_and_the_limit_itself_is_what_counts() -> None:
    # chg-01 goes down at 18:05:10 and chg-02 up a second later: the highest readings
    # of the minute add up to 40 kW, but never more than 29.9 kW was drawn at once,
    # over the controller's effective limit (28.5 kW, less its margin), under the
    # envelope itself (30 kW)
    report = _report(
        {
            "chg-01": [(s(0), 20.0), (s(310), 0.0)],
            "chg-02": [(s(0), 9.9), (s(311), 20.0)],
        }
    )
    minute = (START + timedelta(minutes=5)).isoformat()
    telemetry = {
        "chg-01": [{"minute": minute, "power_w_max": 20_000.0}],
        "chg-02": [{"minute": minute, "power_w_max": 20_000.0}],
    }
    samples = [
        LimitSample(START, "gc-main", "import_power", "kW", 28.5, 0.0, 20.0, "envelope"),
    ]
    summary = _checked(report, telemetry=telemetry, samples=samples)
    assert summary["checked"]["measured"] == "draws"
    assert summary["violations"] == []
    [gc] = summary["grid_connections"]
    assert gc["closest"] == {
        "load_kw": 29.9,
        "at": START.isoformat(),
        "limit_kw": 30.0,
        "source": "envelope demo-peak-gc-main",
    }
    # the peak during the envelope is the same exact series: 29.9 kW at once, not the
    # minute's 40 kW over the effective 28.5 kW that never happened
    [during] = gc["during_envelopes"]
    assert during["drawn"] == {**gc["closest"], "load_kw": 29.9, "at": START.isoformat()}
    assert during["peak"]["load_kw"] == 40.0
    text = render_text(summary)
    assert "closest to a limit, drawn at once: 29.9 kW at 18:00:00 against 30.0 kW" in text
    assert (
        "during demo-peak-gc-main, drawn at once: 29.9 kW at 18:00:00 against 30.0 kW "
        "(the envelope)\n" in text
    )
    assert "40.0 kW at 18:05 (each charger's highest minute, summed: an upper bound)" in text
    assert text.count("40.0 kW") == 1

    # without draw records, the minute check runs and says so: it counts both at 40 kW
    fallback = _checked(_report(None), telemetry=telemetry, samples=samples)
    assert fallback["checked"]["measured"] == "telemetry minutes"
    assert fallback["checked"]["no_draws"] == "simulator report version 1"
    [minute_check] = fallback["violations"]
    assert (minute_check["minute"], minute_check["load"], minute_check["limit"]) == (
        minute,
        40.0,
        28.5,
    )
    text = render_text(fallback)
    assert "measured: no draw records (simulator report version 1), so 1 minutes of" in text
    assert "measured: gc-main import_power 40.0 kW over 28.5 kW (envelope) at 18:05" in text
    assert (
        "during demo-peak-gc-main: 40.0 kW at 18:05 against 28.5 kW effective (each "
        "charger's highest minute, summed: an upper bound)" in text
    )


def test_the_summary_prints_site_time_its_first_line_stating_the_date_and_offset() -> None:
    # an envelope from 00:00 to 01:00 site time the next day (13:00-14:00 UTC), posted
    # at 23:50; both chargers at 20 kW, over its 30 kW from 00:00:00 to 00:00:30
    late = replace(CUT, start=START + timedelta(hours=6), end=START + timedelta(hours=7))
    draw = [(6 - s(10), 20.0), (6 + s(30), 0.0)]
    report = _report({"chg-01": draw, "chg-02": draw})
    end = START + timedelta(hours=8, seconds=5.5)
    report["to"] = end.isoformat()
    topology, _ = load_site(EXAMPLES / "minimal.yaml")
    posted = late.start - timedelta(minutes=10)
    inputs = Inputs(topology, START - timedelta(hours=1), end, 300.0, report, [], {}, [], [])
    summary = summarise(replace(inputs, cuts=[(late, posted)]))
    text = render_text(summary)
    assert text.splitlines()[0] == (
        f"Demo of {topology.site}: 2026-03-02 17:00:00+11:00 → 2026-03-03 02:00:05+11:00 "
        "(simulated, ×300); times below are site time on that first day, +1d the next"
    )
    assert "posted at 23:50 until 01:00 +1d\n" in text
    assert "(envelope demo-peak-gc-main) 00:00:00-00:00:30 +1d (30 s)" in text
    assert "during demo-peak-gc-main, drawn at once: 40.0 kW at 00:00:00 +1d against" in text


def test_the_check_counts_the_battery_and_the_solar_at_what_their_meters_read() -> None:
    # the planner example depot (400 kW import at gc-main): chg-01 at 150 kW for an hour
    # beside the workshop's 60 kW and the bus wash's 50 kW fallbacks — over the limit
    # only if the battery charged at its 150 kW maximum, which its meter says it never did
    topology, _ = load_site(EXAMPLES / "valid" / "planner" / "storage-solar-depot.yaml")
    start, end = START - timedelta(hours=1), START + timedelta(hours=3)
    report = _report({"chg-01": [(0.0, 150.0), (1.0, 0.0)], "chg-02": []})
    night = Inputs(topology, start, end, 300.0, report, [], {}, [], [])
    [spell] = summarise(night)["violations"]
    assert (spell["node"], spell["load"], spell["limit"]) == ("gc-main", 410.0, 400.0)
    idle = [
        {"minute": (start + timedelta(minutes=m)).isoformat(), "power_w_max": 0.0}
        for m in range(240)
    ]
    assert summarise(replace(night, assets={"m-bess": idle}))["violations"] == []
