"""Scenarios: YAML, CSV, and ACN-Data sessions mapped onto the Caltech garage."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from depotctl.sim.chargers.run import load_charge_points
from depotctl.sim.chargers.scenario import Place, Scenario, ScenarioError, read_scenario
from tests.conftest import EXAMPLES
from tests.recordings.conftest import CALTECH_CSV, CALTECH_SITE, FIXTURE_CSV

SYDNEY = ZoneInfo("Australia/Sydney")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
#: 17:00 in Sydney (AEDT)
START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)


def minimal(path: Path, start: datetime = START) -> Scenario:
    _, topology, points = load_charge_points(EXAMPLES / "minimal.yaml")
    return read_scenario(
        path,
        start=start,
        zone=SYDNEY,
        topology=topology,
        place=Place.of(topology, points.values()),
    )


def caltech(path: Path, start: datetime, **dates: date) -> Scenario:
    _, topology, points = load_charge_points(CALTECH_SITE)
    return read_scenario(
        path,
        start=start,
        zone=LOS_ANGELES,
        topology=topology,
        place=Place.of(topology, points.values()),
        **dates,
    )


def problems(path: Path) -> list[str]:
    with pytest.raises(ScenarioError) as caught:
        minimal(path)
    return caught.value.text().splitlines()


def test_a_yaml_scenario_resolves_its_times_places_and_needs(tmp_path: Path) -> None:
    path = tmp_path / "evening.yaml"
    path.write_text(
        """apiVersion: depotctl/v1
kind: Scenario
metadata: {description: An evening at the minimal depot}
vehicles:
  - {id: bus-1, evse: chg-01/1, arrival: +5 min, departure: "06:00", energy: 40 kWh, max_power: 11 kW}
  - {id: bus-2, charger: CP-02, arrival: "18:30", departure: 2 h, battery: 60 kWh, soc: 25 %}
  - {id: bus-3, arrival: "2026-03-03T08:00:00+11:00", id_tag: TAG-3}
misbehave:
  CP-01: [reject-profiles, "offline=2 min@10 min"]
"""
    )
    scenario = minimal(path)
    bus1, bus2, bus3 = scenario.vehicles
    assert scenario.description == "An evening at the minimal depot"
    assert (bus1.evse, bus1.arrival) == ("chg-01/1", START + timedelta(minutes=5))
    assert bus1.departure == datetime(2026, 3, 3, 6, 0, tzinfo=SYDNEY)
    assert (bus1.energy_wh, bus1.max_power_w) == (40000.0, 11000.0)
    assert bus2.charger == "chg-02"
    assert bus2.arrival == datetime(2026, 3, 2, 18, 30, tzinfo=SYDNEY)
    assert bus2.departure == bus2.arrival + timedelta(hours=2)
    assert bus2.energy_wh == 45000.0  # 75 % of 60 kWh
    assert (bus3.evse, bus3.charger, bus3.tag) == (None, None, "TAG-3")
    behaviour = scenario.misbehaviour["chg-01"]
    assert behaviour.reject_profiles and behaviour.outages[0].after_s == 600


def test_times_relative_to_the_start_count_from_when_the_fleet_is_up(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text(
        """vehicles:
  - {id: relative, arrival: +5 min, departure: 2 h}
  - {id: leaves-at-six, arrival: +5 min, departure: "06:00"}
  - {id: at-half-past-six, arrival: "18:30", departure: 1 h}
  - {id: iso, arrival: "2026-03-02T18:00:00+11:00"}
"""
    )
    by_id = {v.id: v for v in minimal(path).vehicles}
    relative, six = by_id["relative"], by_id["leaves-at-six"]
    half_past, iso = by_id["at-half-past-six"], by_id["iso"]
    up = START + timedelta(minutes=3)
    moved = relative.anchored(up)
    assert (moved.arrival, moved.departure) == (
        up + timedelta(minutes=5),
        up + timedelta(hours=2, minutes=5),
    )
    assert six.anchored(up).arrival == up + timedelta(minutes=5)
    assert six.anchored(up).departure == six.departure  # a clock time stays put
    assert half_past.anchored(up) == half_past
    assert iso.anchored(up) == iso


def test_a_local_time_already_past_today_is_tomorrow(tmp_path: Path) -> None:
    path = tmp_path / "s.yaml"
    path.write_text('vehicles: [{arrival: "07:00"}]\n')
    (vehicle,) = minimal(path).vehicles
    assert vehicle.arrival == datetime(2026, 3, 3, 7, 0, tzinfo=SYDNEY)
    assert vehicle.id == "v1"


def test_yaml_problems_point_at_their_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "broken.yaml"
    path.write_text(
        """kind: Scenario
vehicles:
  - arrival: +5 min
    energy: 40
  - arrival: +1 h
    evse: chg-09/1
  - arrival: "18:00"
    departure: "2026-03-02T17:00:00+11:00"
misbehave:
  CP-01: [explode]
  CP-77: reject-profiles
"""
    )
    found = problems(path)
    assert f"{path}:4:13: energy: 40 has no unit; expected an energy" in found[0]
    assert found[1] == f"{path}:6:11: no evse 'chg-09/1' in the site"
    assert found[2] == f"{path}:8:16: departure is not after arrival"
    assert found[3].startswith(f"{path}:10:11: unknown mode 'explode'")
    assert found[4] == f"{path}:11:3: no charger 'CP-77' in the site"


def test_a_yaml_syntax_error_is_one_problem(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("vehicles: [\n")
    (line,) = problems(path)
    assert line.startswith(f"{path}:1:12: ")  # where the list opened is left open


def test_a_csv_scenario_has_one_vehicle_a_line(tmp_path: Path) -> None:
    path = tmp_path / "vehicles.csv"
    path.write_text(
        "id,evse,arrival,departure,energy,max_power\n"
        "bus-1,chg-01/1,+10 min,+8 h,50 kWh,22 kW\n"
        "bus-2,,+0 s,,,\n"
    )
    bus2, bus1 = minimal(path).vehicles
    assert bus1.departure == START + timedelta(minutes=10, hours=8)
    assert (bus1.energy_wh, bus1.max_power_w) == (50000.0, 22000.0)
    assert (bus2.arrival, bus2.evse, bus2.energy_wh, bus2.departure) == (START, None, None, None)


def test_csv_problems_name_the_line_and_column(tmp_path: Path) -> None:
    path = tmp_path / "vehicles.csv"
    path.write_text("id,arrival,energy\nbus-1,+10 min,lots\n")
    (line,) = problems(path)
    assert line.startswith(f"{path}:2:3: energy:")


def test_acn_sessions_map_stations_onto_the_caltech_evses() -> None:
    start = datetime(2026, 3, 2, 0, 0, tzinfo=LOS_ANGELES)
    scenario = caltech(FIXTURE_CSV, start, first=date(2019, 5, 13), last=date(2019, 5, 13))
    assert [(v.id, v.evse) for v in scenario.vehicles] == [
        ("s-capped", "ca-303/1"),
        ("s-morning", "ca-305/1"),
    ]
    morning = scenario.vehicles[1]
    assert morning.arrival == datetime(2026, 3, 2, 8, 0, tzinfo=LOS_ANGELES)
    assert morning.departure == datetime(2026, 3, 2, 12, 0, tzinfo=LOS_ANGELES)
    assert morning.energy_wh == 9500.0  # delivered energy, as sim replay takes it
    assert scenario.left_out == {"outside the dates": 2, "at a station no EVSE names": 1}


def test_acn_sessions_already_gone_are_left_out_and_those_running_plug_in_at_the_start() -> None:
    start = datetime(2026, 3, 2, 9, 0, tzinfo=LOS_ANGELES)
    scenario = caltech(FIXTURE_CSV, start, first=date(2019, 5, 13), last=date(2019, 5, 13))
    (morning,) = scenario.vehicles
    assert morning.id == "s-morning" and morning.arrival == start
    assert scenario.left_out["gone before the start"] == 1


def test_acn_days_keep_their_distance_when_shifted() -> None:
    start = datetime(2026, 3, 2, 0, 0, tzinfo=LOS_ANGELES)
    scenario = caltech(FIXTURE_CSV, start)
    arrivals = {v.id: v.arrival.astimezone(LOS_ANGELES) for v in scenario.vehicles}
    assert arrivals["s-before"] == datetime(2026, 3, 2, 23, 30, tzinfo=LOS_ANGELES)
    assert arrivals["s-next-day"] == datetime(2026, 3, 4, 0, 20, tzinfo=LOS_ANGELES)
    assert "s-capped" not in arrivals  # it overlaps s-before on CA-303
    assert scenario.left_out["overlapping on their EVSE"] == 1


def test_a_real_acn_day_maps_onto_the_garage() -> None:
    start = datetime(2026, 3, 2, 0, 0, tzinfo=LOS_ANGELES)
    day = date(2019, 5, 13)
    scenario = caltech(CALTECH_CSV, start, first=day, last=day)
    _, topology, _ = load_charge_points(CALTECH_SITE)
    assert len(scenario.vehicles) >= 40
    assert all(v.evse in topology.evses for v in scenario.vehicles)
    assert all(v.arrival.astimezone(LOS_ANGELES).date() == start.date() for v in scenario.vehicles)


def test_an_unknown_file_kind_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "vehicles.json"
    path.write_text("{}")
    assert problems(path) == [f"{path}: expected a .yaml, .yml, .csv or .csv.gz file"]
