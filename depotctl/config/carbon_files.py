"""Carbon files: a daily profile or a dated series of carbon intensities, as CSV.

Both formats are plain CSV (UTF-8, comma-separated), optionally gzip-compressed
(``.csv.gz``). Blank lines and lines starting with ``#`` (attribution, notes) are
skipped. The first other line is the header. Every intensity carries its unit
(``0.412 kg/kWh``, ``412 g/kWh``, ``412 kg/MWh``), and a file uses one unit throughout.

A **daily profile** has the header ``hour,intensity`` and one row for each hour of
the local day, 0 to 23, each exactly once::

    hour,intensity
    0,0.71 kg/kWh
    1,0.70 kg/kWh
    …
    23,0.72 kg/kWh

A **dated series** has the header ``time,intensity`` and rows whose times are ISO
8601 with their UTC offset, strictly increasing; each value holds from its time
until the next one::

    time,intensity
    2019-05-01T00:00:00+00:00,0.412 kg/kWh
    2019-05-01 00:05:00+00:00,0.398 kg/kWh

Problems raise :class:`CarbonFileError`, with the file's own line number where
there is one.
"""

from __future__ import annotations

import csv
import gzip
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Literal, TextIO

from depotctl.domain import UNITS, CarbonIntensity, Dimension, QuantityError
from depotctl.domain.quantity import in_bounds

PROFILE_HEADER = ("hour", "intensity")
SERIES_HEADER = ("time", "intensity")
HOURS = range(24)

#: What is wrong with a carbon file; the validate rule is ``carbon/<kind>``.
Problem = Literal[
    "missing-file", "malformed", "incomplete-profile", "unordered-series", "mixed-units"
]


class CarbonFileError(ValueError):
    """A carbon file that cannot be used: ``kind`` says why, ``line`` (1-based) where."""

    def __init__(
        self, kind: Problem, problem: str, path: Path | str | None, line: int | None = None
    ) -> None:
        self.kind: Problem = kind
        self.problem = problem
        self.path = path
        self.line = line
        super().__init__(self.located(str(path) if path is not None else None))

    def located(self, name: str | None) -> str:
        """The message with the file called ``name``: ``line 14 of carbon/x.csv: …``."""
        if name is None:
            return self.problem
        where = f"line {self.line} of {name}" if self.line is not None else name
        return f"{where}: {self.problem}"


@dataclass(frozen=True, slots=True)
class CarbonProfile:
    """Carbon intensity by hour of the local day: ``hourly[h]`` holds from h:00 to h+1:00."""

    hourly: tuple[CarbonIntensity, ...]

    @property
    def unit(self) -> str:
        return self.hourly[0].unit


@dataclass(frozen=True, slots=True)
class CarbonSeries:
    """Carbon intensity from each of ``times`` (aware, increasing) until the next."""

    times: tuple[datetime, ...]
    intensities: tuple[CarbonIntensity, ...]

    @property
    def unit(self) -> str:
        return self.intensities[0].unit


def read_profile(path: Path) -> CarbonProfile:
    """Read a daily profile CSV (``hour,intensity``, hours 0–23)."""
    by_hour: dict[int, CarbonIntensity] = {}
    units = _OneUnit(path)
    for line, (hour_text, value_text) in _rows(path, PROFILE_HEADER):
        hour = _hour(hour_text, path, line)
        if hour not in HOURS:
            raise CarbonFileError(
                "incomplete-profile", f"hour {hour} is not an hour of the day (0–23)", path, line
            )
        if hour in by_hour:
            raise CarbonFileError("incomplete-profile", f"hour {hour} is given twice", path, line)
        by_hour[hour] = units.check(_intensity(value_text, path, line), line)
    missing = [h for h in HOURS if h not in by_hour]
    if missing:
        raise CarbonFileError("incomplete-profile", f"no value for {_hours(missing)}", path)
    return CarbonProfile(tuple(by_hour[h] for h in HOURS))


def profile_of(values: Sequence[CarbonIntensity]) -> CarbonProfile:
    """A daily profile from 24 values given inline (hour 0 first).

    Errors have no path; their ``line`` is the 1-based position of the offending value.
    """
    if len(values) != len(HOURS):
        raise CarbonFileError(
            "incomplete-profile",
            f"a daily profile needs 24 hourly values (hours 0–23), got {len(values)}",
            None,
        )
    units = _OneUnit(None)
    for position, value in enumerate(values, start=1):
        units.check(value, position)
    return CarbonProfile(tuple(values))


def read_series(path: Path) -> CarbonSeries:
    """Read a dated series CSV (``time,intensity``, aware times, strictly increasing)."""
    times: list[datetime] = []
    intensities: list[CarbonIntensity] = []
    units = _OneUnit(path)
    previous_line = 0
    for line, (time_text, value_text) in _rows(path, SERIES_HEADER):
        at = _time(time_text, path, line)
        if times and at <= times[-1]:
            order = "repeats" if at == times[-1] else "is before"
            raise CarbonFileError(
                "unordered-series",
                f"time {time_text} {order} the time on line {previous_line}; "
                "times must be strictly increasing",
                path,
                line,
            )
        times.append(at)
        intensities.append(units.check(_intensity(value_text, path, line), line))
        previous_line = line
    if not times:
        raise CarbonFileError("malformed", "the series holds no values", path)
    return CarbonSeries(tuple(times), tuple(intensities))


class _OneUnit:
    """Checks that every value uses the unit of the first."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self.unit: str | None = None
        self.first_line = 0

    def check(self, value: CarbonIntensity, line: int) -> CarbonIntensity:
        if self.unit is None:
            self.unit, self.first_line = value.unit, line
        elif value.unit != self.unit:
            earlier = "line" if self.path is not None else "value"
            raise CarbonFileError(
                "mixed-units",
                f'"{value}" is in {value.unit}, but {earlier} {self.first_line} is in {self.unit}; '
                "use one unit throughout",
                self.path,
                line,
            )
        return value


def _rows(path: Path, header: tuple[str, str]) -> Iterator[tuple[int, tuple[str, str]]]:
    """``(line number, (first, second))`` for each data row, after checking the header."""
    with _open(path) as stream:
        reader = csv.reader(stream)
        seen_header = False
        try:
            for row in reader:
                cells = tuple(cell.strip() for cell in row)
                if not any(cells) or cells[0].startswith("#"):
                    continue
                line = reader.line_num
                if not seen_header:
                    if tuple(c.lower() for c in cells) != header:
                        raise CarbonFileError(
                            "malformed",
                            f'the header is "{",".join(cells)}", expected "{",".join(header)}"',
                            path,
                            line,
                        )
                    seen_header = True
                    continue
                if len(cells) != 2:
                    raise CarbonFileError(
                        "malformed",
                        f"expected 2 columns ({','.join(header)}), got {len(cells)}",
                        path,
                        line,
                    )
                yield line, (cells[0], cells[1])
        except (UnicodeDecodeError, EOFError, OSError, zlib.error, csv.Error) as error:
            where = reader.line_num if isinstance(error, csv.Error) else None
            raise CarbonFileError("malformed", _unreadable(error), path, where) from None
        if not seen_header:
            raise CarbonFileError("malformed", f'no header; expected "{",".join(header)}"', path)


def _open(path: Path) -> TextIO:
    try:
        if path.name.endswith(".gz"):
            return gzip.open(path, "rt", encoding="utf-8-sig", newline="")
        return open(path, encoding="utf-8-sig", newline="")
    except FileNotFoundError:
        raise CarbonFileError("missing-file", "no such file", path) from None
    except OSError as error:
        raise CarbonFileError("malformed", f"cannot be read: {error.strerror}", path) from None


def _unreadable(error: Exception) -> str:
    if isinstance(error, UnicodeDecodeError):
        return "is not UTF-8 text"
    if isinstance(error, csv.Error):
        return f"is not valid CSV ({error})"
    return f"is not a readable gzip file ({error})"


def _hour(text: str, path: Path, line: int) -> int:
    try:
        return int(text)
    except ValueError:
        raise CarbonFileError(
            "malformed", f'hour "{text}" is not a whole number (0–23)', path, line
        ) from None


def _time(text: str, path: Path, line: int) -> datetime:
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        raise CarbonFileError(
            "malformed",
            f'time "{text}" is not an ISO 8601 time like 2019-05-01T00:00:00+00:00',
            path,
            line,
        ) from None
    if at.tzinfo is None:
        raise CarbonFileError(
            "unordered-series",
            f'time "{text}" has no UTC offset; write it like {text}+00:00',
            path,
            line,
        )
    return at


#: A plain carbon intensity (``0.412 kg/kWh``), read without the general parser: a
#: series has thousands. Anything else goes through ``CarbonIntensity.parse``, which
#: accepts the same and explains the rest.
_PLAIN_VALUE = re.compile(r"([+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?) ?(\S+)")
_CARBON_UNITS = frozenset(u for u, (d, _) in UNITS.items() if d is Dimension.CARBON_INTENSITY)


def _intensity(text: str, path: Path, line: int) -> CarbonIntensity:
    plain = _PLAIN_VALUE.fullmatch(text)
    if plain is not None and plain[2] in _CARBON_UNITS:
        quantity = CarbonIntensity(float(plain[1]), plain[2])
        if in_bounds(Dimension.CARBON_INTENSITY, quantity.base):
            return quantity
    try:
        return CarbonIntensity.parse(text)
    except QuantityError as error:
        raise CarbonFileError("malformed", error.message, path, line) from None


def _hours(hours: list[int]) -> str:
    runs: list[list[int]] = []
    for hour in hours:
        if runs and hour == runs[-1][-1] + 1:
            runs[-1].append(hour)
        else:
            runs.append([hour])
    parts = [str(r[0]) if len(r) == 1 else f"{r[0]}–{r[-1]}" for r in runs]
    return ("hour " if len(hours) == 1 else "hours ") + ", ".join(parts)
