"""Reading carbon CSVs: daily profiles and dated series, plain or gzip, with the CSV's
own line numbers in every error."""

from __future__ import annotations

import gzip
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from depotctl.config.carbon_files import (
    CarbonFileError,
    profile_of,
    read_profile,
    read_series,
)
from depotctl.domain import CarbonIntensity


def write(path: Path, *lines: str) -> Path:
    if path.name.endswith(".gz"):
        with gzip.open(path, "wt", encoding="utf-8") as stream:
            stream.write("\n".join(lines) + "\n")
    else:
        path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


def profile_rows(unit: str = "kg/kWh", hours: range = range(24)) -> list[str]:
    return ["hour,intensity", *(f"{h},0.{50 + h} {unit}" for h in hours)]


def series_rows(count: int = 4, start: str = "2019-05-01T00:00:00+00:00") -> list[str]:
    first = datetime.fromisoformat(start)
    return [
        "time,intensity",
        *(
            f"{(first + timedelta(minutes=5 * k)).isoformat()},0.{200 + k} kg/kWh"
            for k in range(count)
        ),
    ]


def error_of(reader: Callable[[Path], object], path: Path) -> CarbonFileError:
    with pytest.raises(CarbonFileError) as caught:
        reader(path)
    return caught.value


# Profiles


def test_a_profile_gives_one_intensity_per_hour_in_hour_order(tmp_path: Path) -> None:
    rows = profile_rows()
    path = write(tmp_path / "p.csv", rows[0], *reversed(rows[1:]))
    profile = read_profile(path)
    assert len(profile.hourly) == 24
    assert profile.hourly[0] == CarbonIntensity(0.50, "kg/kWh")
    assert profile.hourly[23] == CarbonIntensity(0.73, "kg/kWh")
    assert profile.unit == "kg/kWh"


def test_a_profile_skips_comments_and_blank_lines_and_tolerates_spaces(tmp_path: Path) -> None:
    path = write(
        tmp_path / "p.csv",
        "# source: a grid operator",
        "",
        " hour , intensity ",
        *(f" {h} , {500 + h} g/kWh " for h in range(24)),
    )
    assert read_profile(path).hourly[1] == CarbonIntensity(501, "g/kWh")


def test_a_profile_missing_hours_names_them(tmp_path: Path) -> None:
    rows = [*profile_rows(hours=range(5)), *profile_rows(hours=range(7, 24))[1:]]
    path = write(tmp_path / "p.csv", *rows)
    error = error_of(read_profile, path)
    assert error.kind == "incomplete-profile"
    assert error.problem == "no value for hours 5–6"
    assert error.line is None


def test_a_profile_hour_given_twice_is_reported_at_its_second_line(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", *profile_rows(), "3,0.6 kg/kWh")
    error = error_of(read_profile, path)
    assert (error.kind, error.line) == ("incomplete-profile", 26)
    assert "hour 3 is given twice" in error.problem


def test_a_profile_hour_24_is_not_an_hour_of_the_day(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", *profile_rows(hours=range(1, 25)))
    error = error_of(read_profile, path)
    assert (error.kind, error.line) == ("incomplete-profile", 25)


def test_a_value_without_a_unit_is_malformed_at_its_line(tmp_path: Path) -> None:
    rows = profile_rows()
    rows[13] = "12,0.49"
    path = write(tmp_path / "x.csv", "# comment", *rows)
    error = error_of(read_profile, path)
    assert (error.kind, error.line) == ("malformed", 15)
    assert error.located("carbon/x.csv") == (
        'line 15 of carbon/x.csv: "0.49" has no unit; expected a carbon intensity'
    )


@pytest.mark.parametrize(
    ("row", "words"),
    [
        ("noon,0.5 kg/kWh", 'hour "noon" is not a whole number'),
        ("12,0.5 kW", "but a carbon intensity is expected"),
        ("12,lots kg/kWh", "is not a quantity"),
        ("12,0.5 kg/kWh,extra", "expected 2 columns"),
        ("12,450 kg/kWh", "is out of range"),  # g/kWh written as kg/kWh
        ("12,1e309 g/kWh", "is out of range"),
        ("12,５ kg/kWh", "not one of 0-9"),
        ("12,0.٥ kg/kWh", "not one of 0-9"),
    ],
)
def test_a_bad_row_is_malformed_at_its_line(tmp_path: Path, row: str, words: str) -> None:
    rows = profile_rows()
    rows[13] = row
    error = error_of(read_profile, write(tmp_path / "p.csv", *rows))
    assert (error.kind, error.line) == ("malformed", 14)
    assert words in error.problem


def test_a_wrong_header_is_malformed_at_the_header_line(tmp_path: Path) -> None:
    path = write(tmp_path / "p.csv", "# intensities", "hour,kg_per_kwh", "0,0.5 kg/kWh")
    error = error_of(read_profile, path)
    assert (error.kind, error.line) == ("malformed", 2)
    assert 'expected "hour,intensity"' in error.problem


def test_a_series_file_read_as_a_profile_fails_on_its_header(tmp_path: Path) -> None:
    error = error_of(read_profile, write(tmp_path / "s.csv", *series_rows()))
    assert (error.kind, error.line) == ("malformed", 1)


def test_a_profile_in_two_units_is_reported_where_the_unit_changes(tmp_path: Path) -> None:
    rows = profile_rows()
    rows[20] = "19,790 g/kWh"
    error = error_of(read_profile, write(tmp_path / "p.csv", *rows))
    assert (error.kind, error.line) == ("mixed-units", 21)
    assert "line 2 is in kg/kWh" in error.problem


def test_an_inline_profile_needs_24_values_in_one_unit() -> None:
    values = [CarbonIntensity(0.5, "kg/kWh")] * 24
    assert profile_of(values).hourly == tuple(values)
    with pytest.raises(CarbonFileError) as short:
        profile_of(values[:23])
    assert short.value.kind == "incomplete-profile"
    assert "got 23" in short.value.problem
    with pytest.raises(CarbonFileError) as mixed:
        profile_of([*values[:5], CarbonIntensity(500, "g/kWh"), *values[6:]])
    assert (mixed.value.kind, mixed.value.line) == ("mixed-units", 6)


# Series


def test_a_series_keeps_its_times_with_their_offsets(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.csv",
        "time,intensity",
        "2019-05-01T00:00:00-07:00,0.41 kg/kWh",
        "2019-05-01 00:05:00-07:00,0.40 kg/kWh",
    )
    series = read_series(path)
    assert series.times[0] == datetime(2019, 5, 1, 7, tzinfo=UTC)
    assert series.times[1] - series.times[0] == timedelta(minutes=5)
    assert series.intensities == (CarbonIntensity(0.41, "kg/kWh"), CarbonIntensity(0.40, "kg/kWh"))


def test_a_gzip_series_reads_like_a_plain_one(tmp_path: Path) -> None:
    plain = read_series(write(tmp_path / "s.csv", *series_rows(50)))
    packed = read_series(write(tmp_path / "s.csv.gz", *series_rows(50)))
    assert packed == plain
    assert len(packed.times) == 50


def test_a_gzip_error_keeps_its_line_number(tmp_path: Path) -> None:
    rows = series_rows(10)
    rows[7] = "2019-05-01T00:30:00+00:00,0.2 kgkWh"
    error = error_of(read_series, write(tmp_path / "s.csv.gz", *rows))
    assert (error.kind, error.line) == ("malformed", 8)


def test_a_time_out_of_order_names_its_line_and_the_line_before(tmp_path: Path) -> None:
    rows = series_rows(10)
    rows[6], rows[7] = rows[7], rows[6]
    error = error_of(read_series, write(tmp_path / "s.csv", *rows))
    assert (error.kind, error.line) == ("unordered-series", 8)
    assert "is before the time on line 7" in error.problem


def test_a_repeated_time_is_not_strictly_increasing(tmp_path: Path) -> None:
    rows = series_rows(3)
    error = error_of(read_series, write(tmp_path / "s.csv", *rows, rows[-1]))
    assert (error.kind, error.line) == ("unordered-series", 5)
    assert "repeats" in error.problem


def test_the_same_instant_in_another_offset_is_a_repeat(tmp_path: Path) -> None:
    path = write(
        tmp_path / "s.csv",
        "time,intensity",
        "2019-05-01T07:00:00+00:00,0.4 kg/kWh",
        "2019-05-01T00:00:00-07:00,0.4 kg/kWh",
    )
    assert error_of(read_series, path).kind == "unordered-series"


def test_a_time_without_offset_is_refused(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "time,intensity", "2019-05-01 00:00:00,0.4 kg/kWh")
    error = error_of(read_series, path)
    assert (error.kind, error.line) == ("unordered-series", 2)
    assert "no UTC offset" in error.problem


def test_a_time_that_does_not_parse_is_malformed(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", "time,intensity", "01/05/2019 00:00,0.4 kg/kWh")
    error = error_of(read_series, path)
    assert (error.kind, error.line) == ("malformed", 2)


def test_a_series_in_two_units_is_reported_where_the_unit_changes(tmp_path: Path) -> None:
    path = write(tmp_path / "s.csv", *series_rows(3), "2019-05-01T00:15:00+00:00,230 g/kWh")
    error = error_of(read_series, path)
    assert (error.kind, error.line) == ("mixed-units", 5)


def test_a_series_with_only_a_header_is_malformed(tmp_path: Path) -> None:
    assert error_of(read_series, write(tmp_path / "s.csv", "time,intensity")).kind == "malformed"


def test_an_empty_file_has_no_header(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_text("")
    error = error_of(read_series, tmp_path / "s.csv")
    assert error.kind == "malformed"
    assert "no header" in error.problem


def test_a_missing_file_is_its_own_kind(tmp_path: Path) -> None:
    assert error_of(read_series, tmp_path / "nope.csv").kind == "missing-file"
    assert error_of(read_profile, tmp_path / "nope.csv.gz").kind == "missing-file"


def test_a_file_that_is_not_utf8_or_not_gzip_is_malformed(tmp_path: Path) -> None:
    (tmp_path / "latin.csv").write_bytes("time,intensity\n# Zürich\xe9\n".encode("latin-1"))
    assert "not UTF-8" in error_of(read_series, tmp_path / "latin.csv").problem
    (tmp_path / "fake.csv.gz").write_text("time,intensity\n")
    assert "gzip" in error_of(read_series, tmp_path / "fake.csv.gz").problem


def test_a_byte_order_mark_before_the_header_is_ignored(tmp_path: Path) -> None:
    (tmp_path / "s.csv").write_bytes(("\ufeff" + "\n".join(series_rows(2)) + "\n").encode())
    assert len(read_series(tmp_path / "s.csv").times) == 2


def test_a_month_of_five_minute_rows_reads_quickly(tmp_path: Path) -> None:
    start = datetime(2019, 5, 1, tzinfo=UTC)
    rows = [
        f"{(start + timedelta(minutes=5 * k)).isoformat()},{0.2 + (k % 97) / 1000:.4f} kg/kWh"
        for k in range(31 * 288)
    ]
    path = write(tmp_path / "month.csv.gz", "time,intensity", *rows)
    best = min(_cpu_time(read_series, path) for _ in range(3))
    assert len(read_series(path).times) == 8928
    assert best < 0.1, f"{best * 1000:.0f} ms of CPU for 8,928 rows"


def _cpu_time(reader: Callable[[Path], object], path: Path) -> float:
    """The CPU time of one read (this process's own: what other processes take of the
    machine does not count, as wall time would)."""
    began = time.process_time()
    reader(path)
    return time.process_time() - began
