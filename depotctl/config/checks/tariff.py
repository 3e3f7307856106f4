"""Tariffs: seasons cover the year and time-of-use windows each day exactly once; day
names exist; demand windows lie inside the tariff; the currency is an ISO 4217 code."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path as FsPath

from depotctl.config.acnportal_tariff import AcnportalTariffError, read_acnportal_tariff
from depotctl.config.checks.context import TARIFF_CHECKS, TariffContext, tariff_check
from depotctl.config.diagnostics import Severity
from depotctl.config.rules import SCHEMA_INVALID_VALUE, Finding, Path, error, warning
from depotctl.config.schema.tariff import DemandWindow, EnergyWindow, Season
from depotctl.domain.tariff_calendar import (
    DAY_GROUPS,
    DAY_NAMES,
    DailyWindow,
    DayRange,
    day_of_year,
    format_day_runs,
    format_days,
    format_ranges,
    gaps,
    overlaps,
    season_coverage,
)

UNKNOWN_DAY = error(
    "tariff/unknown-day",
    "a tariff window names a day that does not exist",
    "days are all, weekdays, weekends, or mon, tue, wed, thu, fri, sat, sun (lowercase)",
)
TOU_OVERLAP = error(
    "tariff/tou-overlap",
    "two energy windows of a season price the same minute",
    "end one window where the next begins: `to` is exclusive (07:00–15:00, then 15:00–21:00)",
)
TOU_GAP = error(
    "tariff/tou-gap",
    "a minute of some day of a season has no energy price",
    "add a window for those times, or widen a neighbouring one",
)
SEASON_OVERLAP = error(
    "tariff/season-overlap",
    "two seasons cover the same day of the year",
    "start each season the day after the previous one ends; from and to are both inclusive",
)
SEASON_GAP = error(
    "tariff/season-gap",
    "days of the year that no season covers",
    "extend a season, or add one, so that the seasons cover 01-01 to 12-31 (from and to inclusive)",
)
DEMAND_OUTSIDE_TARIFF = error(
    "tariff/demand-outside-tariff",
    "a demand window that names no energy window, is given twice, or covers no time",
    "give a demand window either period: (the name of an energy window) or from/to, not both",
)
INVALID_CURRENCY = warning(
    "tariff/invalid-currency",
    "a currency that is not an ISO 4217 code depotctl knows",
    "use the ISO 4217 code of the currency the utility bills in, like AUD, USD or EUR",
)

#: ISO 4217 codes of the currencies a depot is likely to be billed in.
CURRENCIES = frozenset(
    (
        "AED",
        "ARS",
        "AUD",
        "BDT",
        "BGN",
        "BRL",
        "CAD",
        "CHF",
        "CLP",
        "CNY",
        "COP",
        "CZK",
        "DKK",
        "EGP",
        "EUR",
        "GBP",
        "HKD",
        "HUF",
        "IDR",
        "ILS",
        "INR",
        "ISK",
        "JPY",
        "KES",
        "KRW",
        "KWD",
        "LKR",
        "MAD",
        "MXN",
        "MYR",
        "NGN",
        "NOK",
        "NZD",
        "PEN",
        "PHP",
        "PKR",
        "PLN",
        "QAR",
        "RON",
        "RSD",
        "SAR",
        "SEK",
        "SGD",
        "THB",
        "TRY",
        "TWD",
        "UAH",
        "USD",
        "UYU",
        "VND",
        "ZAR",
    )
)

_DAY_WORDS = (*DAY_GROUPS, *DAY_NAMES)
_DAY_ALIASES = {"everyday": "all", "daily": "all", "weekday": "weekdays", "weekend": "weekends"}

Window = EnergyWindow | DemandWindow


def _windows(ctx: TariffContext) -> Iterator[tuple[Path, Window]]:
    """Every window of the tariff, with its data path."""
    for s, season in enumerate(ctx.tariff.seasons):
        for kind in ("energy", "demand"):
            for w, window in enumerate(getattr(season, kind)):
                yield (*ctx.path, "seasons", s, kind, w), window
    for w, window in enumerate(ctx.tariff.demand):
        yield (*ctx.path, "demand", w), window


def _day_names(window: Window) -> list[str]:
    return [window.days] if isinstance(window.days, str) else list(window.days)


def suggest_day(name: str) -> str | None:
    """The day name most likely meant: ``Mon`` → ``mon``, ``weekday`` → ``weekdays``."""
    word = name.strip().lower()
    if word in _DAY_WORDS:
        return word
    if word in _DAY_ALIASES:
        return _DAY_ALIASES[word]
    if word[:3] in DAY_NAMES and len(word) >= 3:
        return word[:3]
    close = difflib.get_close_matches(word, _DAY_WORDS, n=1, cutoff=0.6)
    return close[0] if close else None


@tariff_check
def day_names(ctx: TariffContext) -> Iterator[Finding]:
    for path, window in _windows(ctx):
        listed = not isinstance(window.days, str)
        for n, name in enumerate(_day_names(window)):
            if name in _DAY_WORDS:
                continue
            guess = suggest_day(name)
            yield UNKNOWN_DAY.at(
                (*path, "days", n) if listed else (*path, "days"),
                f'window "{window.name}" names day "{name}", which is not a day name',
                f'did you mean "{guess}"? {UNKNOWN_DAY.hint}' if guess else None,
            )


def _daily(windows: list[EnergyWindow]) -> list[DailyWindow] | None:
    """The season's energy windows as clock-time windows; None if a day name is unknown
    (reported by ``day_names``)."""
    try:
        return [DailyWindow.parse(_day_names(w), w.from_, w.to) for w in windows]
    except KeyError:
        return None


@tariff_check
def time_of_use(ctx: TariffContext) -> Iterator[Finding]:
    for s, season in enumerate(ctx.tariff.seasons):
        daily = _daily(season.energy)
        if daily is None:
            continue
        path = (*ctx.path, "seasons", s, "energy")
        for overlap in overlaps(daily):
            first, second = season.energy[overlap.first], season.energy[overlap.second]
            yield TOU_OVERLAP.at(
                (*path, overlap.second),
                f'season "{season.name}": energy windows "{first.name}" and "{second.name}" '
                f"both price {format_days(overlap.days)} {format_ranges(overlap.ranges)}",
            )
        missing = sorted(gaps(daily), key=lambda gap: min(gap.days))
        if missing:
            uncovered = "; ".join(
                f"{format_days(g.days)} {format_ranges(g.ranges)}" for g in missing
            )
            yield TOU_GAP.at(
                path, f'season "{season.name}": no energy price on {uncovered}', at_key=True
            )


def _season_range(
    ctx: TariffContext, s: int, season: Season
) -> tuple[DayRange | None, list[Finding]]:
    """The season's days of the year; findings for a date no year has."""
    bounds: list[int] = []
    problems: list[Finding] = []
    for field, text in (("from", season.from_), ("to", season.to)):
        try:
            bounds.append(day_of_year(text))
        except ValueError as error:
            problems.append(
                SCHEMA_INVALID_VALUE.at(
                    (*ctx.path, "seasons", s, field),
                    f'season "{season.name}": {error}',
                    "use a date that exists, like 02-28, 04-30 or 02-29",
                )
            )
    return ((bounds[0], bounds[1]) if not problems else None), problems


@tariff_check
def seasons(ctx: TariffContext) -> Iterator[Finding]:
    ranges: list[DayRange] = []
    for s, season in enumerate(ctx.tariff.seasons):
        bounds, problems = _season_range(ctx, s, season)
        yield from problems
        if bounds is not None:
            ranges.append(bounds)
    if len(ranges) != len(ctx.tariff.seasons):
        return
    coverage = season_coverage(ranges)
    for (i, j), days in coverage.overlaps.items():
        first, second = ctx.tariff.seasons[i], ctx.tariff.seasons[j]
        yield SEASON_OVERLAP.at(
            (*ctx.path, "seasons", j),
            f'seasons "{first.name}" and "{second.name}" both cover {format_day_runs(days)}',
        )
    if coverage.gaps:
        leap_day_only = coverage.gaps == [day_of_year("02-29")]
        yield SEASON_GAP.at(
            (*ctx.path, "seasons"),
            f"no season covers {format_day_runs(coverage.gaps)}",
            "02-29 counts: end the season on 02-29 rather than 02-28 (other years skip it)"
            if leap_day_only
            else None,
            at_key=True,
        )


@tariff_check
def demand_windows(ctx: TariffContext) -> Iterator[Finding]:
    every_season = {w.name for season in ctx.tariff.seasons for w in season.energy}
    for s, season in enumerate(ctx.tariff.seasons):
        own = {w.name for w in season.energy}
        for d, window in enumerate(season.demand):
            path = (*ctx.path, "seasons", s, "demand", d)
            yield from _demand_window(path, window, own, f'season "{season.name}"')
    for d, window in enumerate(ctx.tariff.demand):
        path = (*ctx.path, "demand", d)
        yield from _demand_window(path, window, every_season, "any season")


def _demand_window(
    path: Path, window: DemandWindow, periods: set[str], scope: str
) -> Iterator[Finding]:
    explicit = sorted({"from_", "to"} & window.model_fields_set)
    if window.period is not None:
        if explicit:
            yield DEMAND_OUTSIDE_TARIFF.at(
                path,
                f'demand window "{window.name}" gives both period "{window.period}" and '
                f"{'/'.join(f.rstrip('_') for f in explicit)}; it can only have one",
                "keep period: to charge in the energy window's times, "
                "or from/to for times of its own",
            )
        if window.period not in periods:
            close = difflib.get_close_matches(window.period, sorted(periods), n=1, cutoff=0.6)
            known = ", ".join(sorted(periods))
            yield DEMAND_OUTSIDE_TARIFF.at(
                (*path, "period"),
                f'demand window "{window.name}" names period "{window.period}", '
                f"which is not an energy window of {scope}",
                (f'did you mean "{close[0]}"? ' if close else "") + f"energy windows: {known}",
            )
    elif window.from_ == window.to:
        yield DEMAND_OUTSIDE_TARIFF.at(
            path,
            f'demand window "{window.name}" runs from {window.from_} to {window.to}, '
            "so it covers no time at all",
            'for a demand charge on the whole day, write from: "00:00", to: "24:00" (the default)',
        )


@tariff_check
def currency(ctx: TariffContext) -> Iterator[Finding]:
    code = ctx.tariff.currency
    if code in CURRENCIES:
        return
    guess = suggest_currency(code)
    yield INVALID_CURRENCY.at(
        (*ctx.path, "currency"),
        f'currency "{code}" is not an ISO 4217 code depotctl knows',
        f'did you mean "{guess}"? {INVALID_CURRENCY.hint}' if guess else None,
    )


def suggest_currency(code: str) -> str | None:
    """The code most likely meant: the one known code of the same country (its first two
    letters, ``AUS`` → ``AUD``), or the same letters in another order (``GPB`` → ``GBP``)."""
    same_country = [known for known in CURRENCIES if known[:2] == code[:2]]
    if len(same_country) == 1:
        return same_country[0]
    same_letters = [known for known in CURRENCIES if sorted(known) == sorted(code)]
    return same_letters[0] if len(same_letters) == 1 else None


def acnportal_problem(file: FsPath) -> str | None:
    """Why an acnportal tariff JSON (``tariff: {ref: …, format: acnportal}``) is not a
    usable tariff, or None when it is one: it does not read as one, or the tariff it
    becomes breaks a tariff rule (a season or a day it leaves unpriced)."""
    try:
        spec = read_acnportal_tariff(file.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, AcnportalTariffError) as error:
        return f"is not an acnportal tariff: {error}"
    context = TariffContext(spec, ())
    errors = [
        f for check in TARIFF_CHECKS for f in check(context) if f.rule.severity is Severity.ERROR
    ]
    if not errors:
        return None
    return f"(format: acnportal) breaks {errors[0].rule.id}: {errors[0].message}"
