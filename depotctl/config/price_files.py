"""Price series files: dynamic energy prices (day-ahead market prices) as CSV.

Plain CSV (UTF-8, comma-separated), optionally gzip-compressed (``.csv.gz``). Blank
lines and lines starting with ``#`` are skipped. The first other line is the header,
``start_utc,price_<currency>_per_<kwh|mwh>``; its second column names the currency (ISO
4217, any case) and the unit of every price. Each row is an instant (ISO 8601 with its
UTC offset or ``Z``) and a price, negative prices included; instants strictly increase,
and each price holds until the next one, the last for as long as the step before it
(an hour in an hourly file)::

    start_utc,price_eur_per_mwh
    2023-01-01T00:00:00Z,-1.46
    2023-01-01T01:00:00Z,-1.52

This is the format of ``nl_day_ahead_2023-2024.csv.gz`` (ev2gym) as is. Problems raise
:class:`PriceFileError`, with the file's own line number where there is one.
"""

from __future__ import annotations

import csv
import datetime as dt
import gzip
import math
import re
import zlib
from collections.abc import Iterator
from pathlib import Path
from typing import Literal

from depotctl.config.schema.site import Site
from depotctl.domain.price_series import PriceSeries

#: What is wrong with a price file; the validate rule is ``prices/<kind>``.
Problem = Literal["missing-file", "malformed", "unordered-series"]
_PRICE_COLUMN = re.compile(r"price_([a-z]{3})_per_(kwh|mwh)")
_PER_KWH = {"kwh": 1.0, "mwh": 1e-3}


class PriceFileError(ValueError):
    """A price file that cannot be used: ``kind`` says why, ``line`` (1-based) where."""

    def __init__(self, kind: Problem, problem: str, line: int | None = None) -> None:
        self.kind: Problem = kind
        self.problem = problem
        self.line = line
        super().__init__(problem if line is None else f"line {line}: {problem}")


def _rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """The file's rows that are not blank or comments, with their line numbers."""
    try:
        raw = path.read_bytes()
        text = (gzip.decompress(raw) if path.name.endswith(".gz") else raw).decode("utf-8")
    except FileNotFoundError:
        raise PriceFileError("missing-file", f'"{path}" does not exist') from None
    except (OSError, EOFError, zlib.error, gzip.BadGzipFile, UnicodeDecodeError) as error:
        raise PriceFileError("malformed", f"cannot be read: {error}") from None
    for number, line in enumerate(text.splitlines(), start=1):
        if line.strip() and not line.lstrip().startswith("#"):
            yield number, next(csv.reader([line]))


def _instant(text: str, line: int) -> dt.datetime:
    try:
        instant = dt.datetime.fromisoformat(text.strip())
    except ValueError:
        raise PriceFileError(
            "malformed", f'"{text}" is not an ISO 8601 time like 2023-01-01T00:00:00Z', line
        ) from None
    if instant.utcoffset() is None:
        raise PriceFileError(
            "unordered-series", f'"{text}" has no UTC offset; write it with Z or +00:00', line
        )
    return instant.astimezone(dt.UTC)


def _price(text: str, line: int) -> float:
    try:
        value = float(text)
    except ValueError:
        value = math.nan
    if not math.isfinite(value):
        raise PriceFileError("malformed", f'"{text}" is not a price (a plain number)', line)
    return value


def read_price_series(path: Path, name: str | None = None) -> PriceSeries:
    """The series in ``path``, its prices per kWh."""
    rows = _rows(path)
    header = next(rows, None)
    if header is None:
        raise PriceFileError("malformed", "the file is empty; it needs a header and prices")
    line, columns = header
    match = _PRICE_COLUMN.fullmatch(columns[1].strip().lower()) if len(columns) == 2 else None
    if match is None or columns[0].strip() != "start_utc":
        raise PriceFileError(
            "malformed",
            f'header "{",".join(columns)}" is not start_utc,price_<currency>_per_<kwh|mwh>',
            line,
        )
    per_kwh = _PER_KWH[match.group(2)]
    starts: list[dt.datetime] = []
    prices: list[float] = []
    for line, row in rows:
        if len(row) != 2:
            raise PriceFileError(
                "malformed",
                f"expected 2 columns (start_utc, price), found {len(row)}; "
                "write prices with a decimal point, not a comma",
                line,
            )
        instant = _instant(row[0], line)
        if starts and instant <= starts[-1]:
            raise PriceFileError(
                "unordered-series",
                f"{row[0].strip()} is not after the row before it ({starts[-1].isoformat()})",
                line,
            )
        starts.append(instant)
        prices.append(_price(row[1], line) * per_kwh)
    if not starts:
        raise PriceFileError("malformed", "the file has a header but no prices")
    step = starts[-1] - starts[-2] if len(starts) > 1 else dt.timedelta(hours=1)
    return PriceSeries(
        name or path.name, match.group(1).upper(), tuple(starts), tuple(prices), starts[-1] + step
    )


def site_price_series(site: Site, base_dir: Path) -> PriceSeries | None:
    """The dynamic prices a valid site names (``prices: {series: …}``), or None."""
    prices = site.spec.prices
    return None if prices is None else read_price_series(base_dir / prices.series)
