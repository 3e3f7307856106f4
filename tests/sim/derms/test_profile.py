"""Profiles: YAML and CSV into the forecasts the provider sends, times read ahead from
the run's start in the site's zone, and every mistake refused at its place."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from itertools import pairwise
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from depotctl.protocols.oscp import CapacityForecastType, ForecastedBlockUnit, PhaseIndicator
from depotctl.sim.derms.profile import ProfileError, read_profile
from tests.conftest import EXAMPLES
from tests.protocols.oscp.schemas import assert_conforms

SYDNEY = ZoneInfo("Australia/Sydney")
#: 16:30 in Sydney (UTC+11 in March)
START = datetime(2026, 3, 2, 5, 30, tzinfo=UTC)


def _read(path: Path) -> list:  # type: ignore[type-arg]
    return read_profile(path, group_id="G-1", start=START, zone=SYDNEY)


def _write(tmp_path: Path, text: str, name: str = "profile.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_the_bundled_evening_cut_is_the_bus_depots_peak_in_site_time() -> None:
    consumption, fallback = _read(EXAMPLES / "derms-evening-cut.yaml")
    assert (
        consumption.send_at == START
        and consumption.message.type is CapacityForecastType.CONSUMPTION
    )
    blocks = consumption.blocks
    assert len(blocks) == 8
    assert blocks[0].start_time == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 18:00 in Sydney
    assert blocks[-1].end_time == datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
    assert all(b.end_time == n.start_time for b, n in pairwise(blocks))
    assert {(b.capacity, b.unit, b.phase) for b in blocks} == {
        (660, ForecastedBlockUnit.KW, PhaseIndicator.ALL)
    }
    assert fallback.message.type is CapacityForecastType.FALLBACK_CONSUMPTION
    for planned in (consumption, fallback):
        assert planned.message.group_id == "G-1"
        assert_conforms("UpdateGroupCapacityForecast", planned.message.to_wire())


def test_units_offsets_and_a_later_send_time(tmp_path: Path) -> None:
    profile = _write(
        tmp_path,
        """\
forecasts:
  - send_at: "+1h"
    type: generation
    blocks:
      - {start: "+2h", duration: 30min, capacity: 250 A, phase: two}
      - {duration: 1 h, capacity: 1 MW}
      - {start: "2026-03-02T09:00:00Z", duration: 15min, capacity: 5000 W}
  - blocks:
      - {start: "+0s", duration: 15min, capacity: 0 kW}
""",
    )
    first, later = _read(profile)
    assert first.send_at == START and first.message.type is CapacityForecastType.CONSUMPTION
    assert first.blocks[0].capacity == 0  # a protective zero
    assert later.send_at == START + timedelta(hours=1)
    assert later.message.type is CapacityForecastType.GENERATION
    amps, megawatt, watts = later.blocks
    assert (amps.capacity, amps.unit, amps.phase) == (
        250,
        ForecastedBlockUnit.A,
        PhaseIndicator.TWO,
    )
    assert amps.start_time == START + timedelta(hours=2)
    assert megawatt.start_time == amps.end_time  # follows the block before
    assert (megawatt.capacity, megawatt.unit) == (1000, ForecastedBlockUnit.KW)
    assert (watts.capacity, watts.unit) == (5000, ForecastedBlockUnit.W)


def test_a_csv_profile_is_one_block_a_row(tmp_path: Path) -> None:
    profile = _write(
        tmp_path,
        "send_at,type,start,duration,capacity,phase\n"
        ",CONSUMPTION,18:00,15min,660 kW,\n"
        ",CONSUMPTION,,15min,700 kW,\n"
        "+30min,FALLBACK_CONSUMPTION,18:00,2h,600 kW,ALL\n",
        "profile.csv",
    )
    consumption, fallback = _read(profile)
    assert [b.capacity for b in consumption.blocks] == [660, 700]
    bad = _write(tmp_path, profile.read_text().replace("700 kW", "700 kWh"), "bad.csv")
    with pytest.raises(ProfileError) as refused:
        _read(bad)
    assert refused.value.message.startswith(f"{bad}:3: capacity: ")
    assert consumption.blocks[1].start_time == consumption.blocks[0].end_time
    assert fallback.send_at == START + timedelta(minutes=30)


@pytest.mark.parametrize(
    ("block", "says"),
    [
        ("{start: '+1h', duration: 15min, capacity: 60 kWh}", "energy"),
        ("{start: '+1h', duration: 15min, capacity: 660}", "no unit"),
        ("{start: '+1h', duration: 15min, capacity: -5 kW}", "negative"),
        ("{duration: 15min, capacity: 5 kW}", "start: the first block needs one"),
        ("{start: '+1h', duration: 0 s, capacity: 5 kW}", "longer than 0 s"),
        ("{start: '+1h', duration: 15min, capacity: 5 kW, phase: FOUR}", "no OSCP phase"),
        ("{start: 'soon', duration: 15min, capacity: 5 kW}", "start"),
    ],
    ids=["energy", "no-unit", "negative", "no-start", "zero-duration", "phase", "time"],
)
def test_a_bad_block_is_refused_at_its_place(tmp_path: Path, block: str, says: str) -> None:
    profile = _write(tmp_path, f"forecasts:\n  - blocks:\n      - {block}\n")
    with pytest.raises(ProfileError) as refused:
        _read(profile)
    assert f"{profile}: forecasts[0].blocks[0]" in refused.value.message
    assert says in refused.value.message and refused.value.exit_code == 1


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("forecasts: []\n", "no forecasts"),
        ("blocks: []\n", "a list under forecasts:"),
        (
            "forecasts:\n  - type: MAXIMUM\n"
            "    blocks: [{start: '+1h', duration: 1h, capacity: 1 kW}]\n",
            "no OSCP forecast type",
        ),
        ("forecasts: [{type: CONSUMPTION}]\n", "forecasts[0].blocks"),
        ("forecasts: [\n", "not YAML"),
    ],
    ids=["empty", "no-forecasts-key", "type", "no-blocks", "yaml"],
)
def test_a_bad_profile_is_refused_saying_what_to_write(
    tmp_path: Path, text: str, says: str
) -> None:
    with pytest.raises(ProfileError) as refused:
        _read(_write(tmp_path, text))
    assert says in refused.value.message


def test_a_csv_without_its_columns_and_a_missing_file_are_refused(tmp_path: Path) -> None:
    with pytest.raises(ProfileError) as columns:
        _read(_write(tmp_path, "start,capacity\n+1h,5 kW\n", "p.csv"))
    assert "the header lacks send_at, type, duration" in columns.value.message
    with pytest.raises(ProfileError) as missing:
        _read(tmp_path / "absent.yaml")
    assert missing.value.exit_code == 3 and "cannot read" in missing.value.message
