"""Power forecast files: a dated series of powers as CSV, for a site load's or a
generator's ``forecast: {series: …}`` (relative to the site file).

Plain CSV (UTF-8), optionally gzip-compressed (``.csv.gz``); blank lines and lines
starting with ``#`` are skipped. The header is ``time,power``; each row is an ISO 8601
time with its UTC offset and a power with its unit, never negative; times strictly
increase and each power holds until the next (the last for the step before it)::

    time,power
    2026-12-07T06:00:00+11:00,0 kW
    2026-12-07T07:00:00+11:00,12.5 kW

Problems raise :class:`PowerFileError` with the file's own line number where there is
one; validate reports them as the forecast's rule (``site-load/forecast``,
``generation/forecast``).
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import io
import zlib
from pathlib import Path

from depotctl.domain import Power, QuantityError
from depotctl.domain.forecast import PowerSeries

HEADER = ("time", "power")


class PowerFileError(ValueError):
    """A forecast file that cannot be used; ``line`` (1-based) says where, if known."""

    def __init__(self, problem: str, line: int | None = None, *, missing: bool = False) -> None:
        self.problem = problem
        self.line = line
        self.missing = missing
        super().__init__(problem if line is None else f"line {line}: {problem}")

    def located(self, name: str) -> str:
        """``forecasts/pv.csv:14: …``: the message with the file as the site names it."""
        return f"{name}{'' if self.line is None else f':{self.line}'}: {self.problem}"


def read_power_series(path: Path) -> PowerSeries:
    """The forecast in ``path``, in watts."""
    times: list[dt.datetime] = []
    watts: list[float] = []
    for line, (when, power) in _data_rows(path):
        at = _time(when, line)
        if times and at <= times[-1]:
            raise PowerFileError(f"{when} is not after the time on the row before it", line)
        times.append(at)
        watts.append(_power(power, line))
    if not times:
        raise PowerFileError("the file has a header but no values")
    return PowerSeries(tuple(times), tuple(watts))


def _data_rows(path: Path) -> list[tuple[int, tuple[str, str]]]:
    try:
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if path.name.endswith(".gz") else raw).decode("utf-8-sig")
    except FileNotFoundError:
        raise PowerFileError("no such file", missing=True) from None
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError) as error:
        raise PowerFileError(f"cannot be read: {error}") from None
    rows: list[tuple[int, tuple[str, str]]] = []
    header_seen = False
    for number, cells in enumerate(csv.reader(io.StringIO(text)), start=1):
        cells = [cell.strip() for cell in cells]
        if not any(cells) or cells[0].startswith("#"):
            continue
        if not header_seen:
            if tuple(cell.lower() for cell in cells) != HEADER:
                raise PowerFileError(
                    f'the header is "{",".join(cells)}", expected "time,power"', number
                )
            header_seen = True
        elif len(cells) != 2:
            raise PowerFileError(f"expected 2 columns (time, power), found {len(cells)}", number)
        else:
            rows.append((number, (cells[0], cells[1])))
    if not header_seen:
        raise PowerFileError('the file is empty; it needs the header "time,power" and values')
    return rows


def _time(text: str, line: int) -> dt.datetime:
    try:
        at = dt.datetime.fromisoformat(text)
    except ValueError:
        raise PowerFileError(
            f'"{text}" is not an ISO 8601 time like 2026-12-07T06:00:00+11:00', line
        ) from None
    if at.utcoffset() is None:
        raise PowerFileError(f'"{text}" has no UTC offset; write it like {text}+00:00', line)
    return at


def _power(text: str, line: int) -> float:
    try:
        power = Power.parse(text)
    except QuantityError as error:
        raise PowerFileError(error.message, line) from None
    if power.base < 0:
        raise PowerFileError(f"{power} is below zero; a forecast power never is", line)
    return power.base
