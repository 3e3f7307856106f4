"""The replay report: its versioned JSON shape, and the text summary."""

from __future__ import annotations

import json
from datetime import date

import pytest

from depotctl.domain.policy import Policy
from depotctl.domain.topology import Topology
from depotctl.recordings import read_sessions
from depotctl.replay.report import FORMAT, ReplayReport
from depotctl.replay.run import ReplaySettings, run_replay
from depotctl.replay.script import ScriptedEnvelope
from tests.recordings.conftest import FIXTURE_CSV
from tests.replay.conftest import allocate_16a

MAY_13 = date(2019, 5, 13)


@pytest.fixture
def report(caltech: tuple[Topology, Policy]) -> ReplayReport:
    topology, policy = caltech
    settings = ReplaySettings(
        first=MAY_13,
        last=MAY_13,
        capacity_scale=0.5,
        envelopes=(ScriptedEnvelope.parse("17:00-21:00 50%"),),
    )
    return run_replay(topology, policy, read_sessions(FIXTURE_CSV), settings, allocate_16a)


def test_json_shape(report: ReplayReport) -> None:
    data = json.loads(json.dumps(report.to_json()))
    assert data["format"] == FORMAT == "depotctl/sim-replay/v1"
    assert set(data) == {
        "format",
        "site",
        "timezone",
        "settings",
        "period",
        "sessions",
        "energy",
        "demand_met",
        "deadlines_missed",
        "nodes",
        "violations",
        "wall_time",
        "session_results",
        "carbon",
        "cost",
        "planner",
    }
    assert data["carbon"] is None  # no intensity given
    assert data["cost"] is None  # no tariff given
    assert data["planner"] is None  # the allocator alone
    assert data["settings"] == {
        "from": "2019-05-13",
        "to": "2019-05-13",
        "step_s": 300.0,
        "capacity_scale": 0.5,
        "scaled_nodes": ["gc-caltech", "xfmr-acn", "secondary"],
        "demand": "delivered",
        "envelopes": ["17:00-21:00 50%"],
        "planner": False,
    }
    assert data["period"]["start"] == "2019-05-13T07:00:00Z"
    assert data["sessions"] == {
        "read": 5,
        "outside_dates": 2,
        "unknown_stations": {"CA-999": 1},
        "overlapping": [],
        "replayed": 2,
        "demand_capped": 1,
    }
    energy = data["energy"]
    assert energy["delivered_share"] == pytest.approx(
        energy["delivered_kwh"] / energy["demand_kwh"], abs=1e-6
    )
    assert data["demand_met"]["tolerance"] == 0.001
    assert data["demand_met"]["sessions"] + data["deadlines_missed"]["sessions"] == 2
    gc = next(n for n in data["nodes"] if n["id"] == "gc-caltech")
    assert gc["limits"] == {"current_a": None, "import_kw": 75.0}
    assert set(gc["peak"]) == {"current_a", "current_at", "power_kw", "power_at"}
    assert set(gc["peak"]["current_a"]) == {"L1", "L2", "L3"}
    assert data["violations"] == {"count": 0, "steps": 0, "items": []}
    assert set(data["wall_time"]) == {"total_s", "per_simulated_day_s", "by_local_day"}
    assert [r["id"] for r in data["session_results"]] == ["s-capped", "s-morning"]
    assert set(data["session_results"][0]) == {
        "id",
        "evse",
        "station",
        "arrival",
        "departure",
        "recorded_kwh",
        "demand_kwh",
        "delivered_kwh",
        "met",
        "kg_co2e",
    }


def test_text_ends_with_a_one_line_summary(report: ReplayReport) -> None:
    text = report.to_text()
    assert text.startswith("Replay of caltech-acn: 2019-05-13 (America/Los_Angeles), 5 min steps")
    assert "left out      1 at stations no EVSE names: CA-999 (1)" in text
    assert text.splitlines()[-1].startswith("Replay: 2 sessions, ")
    assert text.splitlines()[-1].endswith(" 0 violations.")


def test_text_prints_violation_times_in_site_time_and_json_in_utc(
    caltech: tuple[Topology, Policy],
) -> None:
    """A tree cut to 1 % of its capacity breaks its limits: each violation the text
    lists is at the site's time with its offset, to the second, which ``parse_instant``
    reads back to the instant the JSON gives in UTC."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from depotctl.domain.instants import parse_instant

    topology, policy = caltech
    settings = ReplaySettings(first=MAY_13, last=MAY_13, capacity_scale=0.01)
    report = run_replay(topology, policy, read_sessions(FIXTURE_CSV), settings, allocate_16a)
    zone = ZoneInfo(report.result.topology.timezone)
    items = report.to_json()["violations"]["items"]
    listed = [line for line in report.to_text().splitlines() if line.startswith("  ✗ ")]
    assert items and len(listed) == min(len(items), 20)
    assert "; site time):" in report.to_text()
    for line, item in zip(listed, items, strict=False):
        assert item["time"].endswith("Z")
        at = datetime.fromisoformat(item["time"])
        shown = line[len("  ✗ ") :].split(" ")
        printed = " ".join(shown[:2])
        assert printed == at.astimezone(zone).isoformat(sep=" ", timespec="seconds")
        assert printed.endswith("-07:00")  # May in Pasadena: PDT
        assert parse_instant(printed, now=at, zone=UTC) == at
        assert shown[2] == item["node"]
