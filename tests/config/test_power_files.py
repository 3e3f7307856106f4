"""Forecast files: a dated series of powers, read into watts; each problem with its line."""

from __future__ import annotations

import gzip
from datetime import UTC, datetime
from pathlib import Path

import pytest

from depotctl.config.power_files import PowerFileError, read_power_series


def write(tmp_path: Path, *lines: str, name: str = "f.csv") -> Path:
    path = tmp_path / name
    text = "\n".join(lines) + "\n"
    path.write_bytes(gzip.compress(text.encode()) if name.endswith(".gz") else text.encode())
    return path


def test_a_series_reads_in_watts_and_utc(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "# forecast",
        "",
        "time,power",
        "2026-12-07T10:00:00+11:00,1.5 kW",
        "2026-12-07T11:00:00+11:00,0 W",
        name="pv.csv.gz",
    )
    series = read_power_series(path)
    assert series.times == (
        datetime(2026, 12, 6, 23, tzinfo=UTC),
        datetime(2026, 12, 7, tzinfo=UTC),
    )
    assert series.watts == (1500.0, 0.0)


@pytest.mark.parametrize(
    ("rows", "problem", "line"),
    [
        (["time,kw"], 'the header is "time,kw", expected "time,power"', 1),
        (["time,power", "2026-12-07T10:00:00,1 kW"], "has no UTC offset", 2),
        (["time,power", "yesterday,1 kW"], "is not an ISO 8601 time", 2),
        (["time,power", "2026-12-07T10:00:00Z,1"], "has no unit", 2),
        (["time,power", "2026-12-07T10:00:00Z,1 kWh"], "energy", 2),
        (["time,power", "2026-12-07T10:00:00Z,-1 kW"], "is below zero", 2),
        (["time,power", "2026-12-07T10:00:00Z,1 kW,x"], "expected 2 columns", 2),
        (
            ["time,power", "2026-12-07T10:00:00Z,1 kW", "2026-12-07T10:00:00Z,2 kW"],
            "is not after the time on the row before it",
            3,
        ),
        (["time,power"], "has a header but no values", None),
        (["# only a note"], "the file is empty", None),
    ],
)
def test_a_problem_names_its_line(
    tmp_path: Path, rows: list[str], problem: str, line: int | None
) -> None:
    with pytest.raises(PowerFileError) as raised:
        read_power_series(write(tmp_path, *rows))
    assert problem in raised.value.problem
    assert raised.value.line == line
    assert not raised.value.missing


def test_a_missing_file_says_so(tmp_path: Path) -> None:
    with pytest.raises(PowerFileError) as raised:
        read_power_series(tmp_path / "nope.csv")
    assert raised.value.missing
