"""A replay's emissions: the ledger's sums and what it cannot cover, and the real
Caltech day checked against the MOER file and the replay's own trace, computed here
without depotctl's carbon code."""

from __future__ import annotations

import csv
import gzip
import io
from collections import defaultdict
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from depotctl.config import carbon_file_intensity, site_file_carbon_intensity
from depotctl.domain.carbon import ConstantIntensity, SeriesIntensity
from depotctl.domain.policy import Policy
from depotctl.domain.topology import Topology
from depotctl.engine import allocate
from depotctl.recordings import read_sessions
from depotctl.replay.carbon import CarbonLedger
from depotctl.replay.run import ReplaySettings, run_replay
from depotctl.replay.trace import TraceWriter
from tests.conftest import ROOT
from tests.recordings.conftest import CALTECH_CSV, CALTECH_SITE, FIXTURE_CSV
from tests.replay.conftest import allocate_16a

LA = ZoneInfo("America/Los_Angeles")
MOER = ROOT / "data" / "carbon" / "caiso-sce-moer-2019-05-08.csv.gz"
T0 = datetime(2019, 5, 13, 7, 0, tzinfo=UTC)  # local midnight
FIVE = timedelta(minutes=5)


def test_the_ledger_sums_per_session_and_local_day() -> None:
    ledger = CarbonLedger(ConstantIntensity(0.4), LA)
    ledger.record("a", T0 - FIVE, T0, 1000)  # 23:55 on the 12th, local
    ledger.record("a", T0, T0 + FIVE, 500)
    ledger.record("b", T0, T0 + FIVE, 250)
    ledger.record("c", T0, T0 + FIVE, 0)
    tally = ledger.tally()
    assert tally.total.kg == pytest.approx(0.7)  # 1.75 kWh × 0.4
    assert tally.by_session["a"].kg == pytest.approx(0.6)
    assert tally.by_session["b"].kg == pytest.approx(0.1)
    assert tally.by_session["c"].kg == 0.0
    assert {d: a.kg for d, a in tally.by_day.items()} == {
        date(2019, 5, 12): pytest.approx(0.4),
        date(2019, 5, 13): pytest.approx(0.3),
    }
    assert tally.uncovered == () and tally.covers is None


def test_energy_a_series_does_not_cover_leaves_its_figures_unknown_never_zero() -> None:
    series = SeriesIntensity.of((T0, T0 + FIVE), (0.2, 0.3), "two points")  # to T0 + 10 min
    ledger = CarbonLedger(series, LA)
    ledger.record("a", T0, T0 + FIVE, 1000)
    ledger.record("a", T0 + 2 * FIVE, T0 + 3 * FIVE, 1000)  # past the series
    ledger.record("b", T0 + FIVE, T0 + 2 * FIVE, 1000)
    ledger.record("b", T0 + 3 * FIVE, T0 + 4 * FIVE, 0)  # none drawn: nothing unknown
    tally = ledger.tally()
    assert tally.by_session["a"].kg is None
    assert tally.by_session["a"].covered_kg == pytest.approx(0.2)
    assert tally.by_session["a"].uncovered_wh == 1000
    assert tally.by_session["b"].kg == pytest.approx(0.3)
    assert tally.total.kg is None and tally.by_day[date(2019, 5, 13)].kg is None
    assert tally.uncovered == ((T0 + 2 * FIVE, T0 + 3 * FIVE),)
    assert tally.covers == (T0, T0 + 2 * FIVE)


@pytest.fixture(scope="module")
def may_13(caltech: tuple[Topology, Policy]) -> tuple[dict[str, object], str]:
    """The Caltech garage on 2019-05-13 at 150 kVA with the real engine: the report's
    JSON and the trace."""
    topology, policy = caltech
    carbon = carbon_file_intensity(MOER, LA)
    day = date(2019, 5, 13)
    trace = io.StringIO()
    sessions, settings = read_sessions(CALTECH_CSV), ReplaySettings(first=day, last=day)
    report = run_replay(topology, policy, sessions, settings, allocate, TraceWriter(trace), carbon)
    return report.to_json(), trace.getvalue()


def _moer() -> dict[datetime, float]:
    """The MOER file read here with csv alone: each 5-minute value by its UTC time."""
    values = {}
    with gzip.open(MOER, "rt", encoding="utf-8") as stream:
        rows = [row for row in csv.reader(stream) if row and not row[0].startswith("#")]
    assert rows[0] == ["time", "intensity"]
    for time_text, value_text in rows[1:]:
        number, unit = value_text.split(" ")
        assert unit == "kg/kWh"
        values[datetime.fromisoformat(time_text).astimezone(UTC)] = float(number)
    return values


def _independent(trace: str, shift: timedelta = timedelta(0)) -> dict[str, dict[str, float]]:
    """kg CO2e per session and per local day: each trace row's energy (its step is one
    5-minute MOER interval) times the MOER value at the step's start."""
    moer = _moer()
    by_session: dict[str, float] = defaultdict(float)
    by_day: dict[str, float] = defaultdict(float)
    for row in csv.DictReader(io.StringIO(trace)):
        if row["kind"] != "evse" or not row["session"] or float(row["step_wh"]) == 0:
            continue
        at = datetime.fromisoformat(row["time"].replace("Z", "+00:00"))
        assert at.minute % 5 == 0 and at.second == 0  # on the MOER grid
        kg = float(row["step_wh"]) / 1000 * moer[at + shift]
        by_session[row["session"]] += kg
        by_day[at.astimezone(LA).date().isoformat()] += kg
    return {"session": dict(by_session), "day": dict(by_day)}


def test_may_13_carbon_equals_an_independent_computation(
    may_13: tuple[dict[str, object], str],
) -> None:
    data, trace = may_13
    carbon = data["carbon"]
    assert isinstance(carbon, dict)
    expected = _independent(trace)
    # the trace rounds each step's energy to 0.001 Wh: at most ~1e-5 kg over the day
    tolerance = 1e-4
    assert carbon["uncovered"] == [] and carbon["uncovered_kwh"] == 0
    assert carbon["kg_co2e"] == pytest.approx(sum(expected["day"].values()), abs=tolerance)
    assert {d["date"]: d["kg_co2e"] for d in carbon["by_day"]} == pytest.approx(
        expected["day"], abs=tolerance
    )
    sessions = data["session_results"]
    assert isinstance(sessions, list)
    drew = {s["id"]: s["kg_co2e"] for s in sessions if s["delivered_kwh"] > 0}
    assert drew == pytest.approx(expected["session"], abs=tolerance)
    # the check can fail: the same energy a step off the MOER grid is far from it
    shifted = _independent(trace, FIVE)
    assert abs(sum(shifted["day"].values()) - carbon["kg_co2e"]) > 100 * tolerance


def test_a_day_the_sites_week_of_moer_does_not_cover_is_reported_unknown(
    caltech: tuple[Topology, Policy],
) -> None:
    """The site's own series is the first week of May 2019: 2019-05-13 has no
    intensity, and the report says so instead of a zero."""
    topology, policy = caltech
    week = site_file_carbon_intensity(CALTECH_SITE)
    assert isinstance(week, SeriesIntensity)
    day = date(2019, 5, 13)
    sessions, settings = read_sessions(FIXTURE_CSV), ReplaySettings(first=day, last=day)
    report = run_replay(topology, policy, sessions, settings, allocate_16a, None, week)
    carbon = report.to_json()["carbon"]
    assert carbon["kg_co2e"] is None and carbon["uncovered_kwh"] > 0
    assert carbon["covers"] == {"start": "2019-05-01T07:00:00Z", "end": "2019-05-08T07:00:00Z"}
    assert all(d["kg_co2e"] is None for d in carbon["by_day"])
    assert {r["kg_co2e"] for r in report.to_json()["session_results"]} == {None}
    text = report.to_text()
    assert "unknown: " in text and "kg CO2e for" not in text
    assert "has no carbon intensity (it covers 2019-05-01 00:00:00-07:00 to 2019-05-08" in text
