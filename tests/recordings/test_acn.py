"""Reading ACN-Data CSVs, mapping stations to EVSEs, selecting local dates, capping demand."""

from __future__ import annotations

import gzip
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from depotctl.domain.policy import Policy
from depotctl.domain.topology import Topology
from depotctl.recordings.acn import AcnFormatError, DemandBasis, read_sessions, select_sessions
from tests.recordings.conftest import CALTECH_CSV, FIXTURE_CSV

HEADER = FIXTURE_CSV.read_text().splitlines()[0]
MAY_13 = date(2019, 5, 13)


def test_reads_every_row_with_utc_times_and_wh() -> None:
    sessions = read_sessions(FIXTURE_CSV)
    assert [s.session_id for s in sessions] == [
        "s-before",
        "s-capped",
        "s-morning",
        "s-unknown",
        "s-next-day",
    ]
    morning = sessions[2]
    assert morning.arrival == datetime(2019, 5, 13, 15, 0, tzinfo=UTC)
    assert morning.arrival.tzinfo is UTC
    assert (morning.requested_wh, morning.delivered_wh) == (12_000.0, 9_500.0)
    assert morning.line == 4


def test_reads_gzip(tmp_path: Path) -> None:
    packed = tmp_path / "sessions.csv.gz"
    packed.write_bytes(gzip.compress(FIXTURE_CSV.read_bytes()))
    assert read_sessions(packed) == read_sessions(FIXTURE_CSV)


@pytest.mark.parametrize(
    ("row", "message"),
    [
        ("2019-05-13 25:00:00-07:00,2019-05-13 12:00:00-07:00,1,1,CA-305,x,,True", "arrival"),
        ("2019-05-13 08:00:00,2019-05-13 12:00:00-07:00,1,1,CA-305,x,,True", "no UTC offset"),
        (
            "2019-05-13 08:00:00-07:00,2019-05-13 12:00:00-07:00,lots,1,CA-305,x,,True",
            "not a number",
        ),
        ("2019-05-13 08:00:00-07:00,2019-05-13 12:00:00-07:00,1,-2,CA-305,x,,True", "≥ 0"),
        (
            "2019-05-13 08:00:00-07:00,2019-05-13 07:00:00-07:00,1,1,CA-305,x,,True",
            "before arrival",
        ),
        ("2019-05-13 08:00:00-07:00,2019-05-13 12:00:00-07:00,1", "fields"),
    ],
)
def test_a_bad_row_names_its_line(tmp_path: Path, row: str, message: str) -> None:
    good = FIXTURE_CSV.read_text().splitlines()[1]
    path = tmp_path / "bad.csv"
    path.write_text(f"{HEADER}\n{good}\n{row}\n")
    with pytest.raises(AcnFormatError) as caught:
        read_sessions(path)
    assert caught.value.line == 3
    assert message in caught.value.message
    assert str(caught.value).startswith(f"{path}:3: ")


def test_a_missing_column_is_reported_at_the_header(tmp_path: Path) -> None:
    path = tmp_path / "bad.csv"
    path.write_text("arrival,departure,station_id\n")
    with pytest.raises(AcnFormatError) as caught:
        read_sessions(path)
    assert caught.value.line == 1
    assert "delivered_energy (kWh)" in caught.value.message


def test_a_repeated_session_id_is_an_error(tmp_path: Path) -> None:
    good = FIXTURE_CSV.read_text().splitlines()[1]
    path = tmp_path / "twice.csv"
    path.write_text(f"{HEADER}\n{good}\n{good}\n")
    with pytest.raises(AcnFormatError, match="repeats line 2"):
        read_sessions(path)


def test_stations_map_to_evses_by_external_id(caltech: tuple[Topology, Policy]) -> None:
    topology, _ = caltech
    selection = select_sessions(read_sessions(FIXTURE_CSV), topology, MAY_13, MAY_13)
    assert {s.id: s.evse_id for s in selection.sessions} == {
        "s-capped": "ca-303/1",
        "s-morning": "ca-305/1",
    }


def test_selects_by_the_sites_local_date_and_counts_unknown_stations(
    caltech: tuple[Topology, Policy],
) -> None:
    topology, _ = caltech
    selection = select_sessions(read_sessions(FIXTURE_CSV), topology, MAY_13, MAY_13)
    # s-before arrives 2019-05-13 06:30 UTC, but on the 12th in Pasadena: left out.
    # s-unknown arrives on the 13th locally (the 14th in UTC): selected, then unmapped.
    assert selection.read == 5
    assert selection.outside_dates == 2
    assert selection.unknown_stations == {"CA-999": 1}
    assert selection.unmapped == 1


def test_demand_is_capped_by_what_the_window_can_deliver(
    caltech: tuple[Topology, Policy],
) -> None:
    topology, _ = caltech
    selection = select_sessions(read_sessions(FIXTURE_CSV), topology, MAY_13, MAY_13)
    capped, morning = selection.sessions
    evse = topology.evses["ca-303/1"]
    assert capped.recorded_wh == 15_000.0
    assert capped.demand_wh == pytest.approx(evse.max_current_a * evse.watts_per_amp * 2.0)
    assert capped.is_capped
    assert morning.demand_wh == 9_500.0 and not morning.is_capped


def test_requested_energy_can_be_the_demand(caltech: tuple[Topology, Policy]) -> None:
    topology, _ = caltech
    selection = select_sessions(
        read_sessions(FIXTURE_CSV), topology, MAY_13, MAY_13, DemandBasis.REQUESTED
    )
    assert [s.recorded_wh for s in selection.sessions] == [20_000.0, 12_000.0]


def test_a_session_arriving_on_a_taken_evse_is_left_out(caltech: tuple[Topology, Policy]) -> None:
    topology, _ = caltech
    selection = select_sessions(read_sessions(FIXTURE_CSV), topology)
    assert selection.overlapping == ("s-capped",)
    assert "s-before" in {s.id for s in selection.sessions}


def test_the_real_file_holds_46_sessions_arriving_on_2019_05_13(
    caltech: tuple[Topology, Policy],
) -> None:
    topology, _ = caltech
    sessions = read_sessions(CALTECH_CSV)
    assert len(sessions) == 3527
    selection = select_sessions(sessions, topology, MAY_13, MAY_13)
    # 46, as the ACN literature says for that day: the
    # file has 46 rows whose arrival, in Pasadena's time, is on 2019-05-13, all at
    # stations the site names, none overlapping; one (CA-502 17:58-19:14) asks more
    # than 76 min at 6.66 kW can deliver and is capped.
    assert len(selection.sessions) == 46
    assert selection.unmapped == 0 and not selection.overlapping
    assert sum(s.is_capped for s in selection.sessions) == 1


def test_every_station_of_the_real_file_is_an_evse_of_the_site(
    caltech: tuple[Topology, Policy],
) -> None:
    topology, _ = caltech
    selection = select_sessions(read_sessions(CALTECH_CSV), topology)
    assert selection.unmapped == 0
    assert len(selection.sessions) == 3527
