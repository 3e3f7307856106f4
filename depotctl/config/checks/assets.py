"""Storage and generation beside the chargers, and the forecasts of site loads and
generators: a battery's state-of-charge window, efficiencies, powers and adapter; a
forecast's 24 values or its file."""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence

from depotctl.config.checks.context import SiteContext, describe, site_check
from depotctl.config.power_files import PowerFileError, read_power_series
from depotctl.config.rules import Finding, Path, Rule, error
from depotctl.config.schema import Generation, SiteLoad, Storage
from depotctl.config.schema.forecast import DayTypeProfile
from depotctl.domain import Power, Ratio

SOC_BOUNDS = error(
    "storage/soc-bounds",
    "a battery's state-of-charge window that is empty or outside 0–100 %, or a simulated "
    "start outside it",
    "keep 0 % ≤ soc.min < soc.max ≤ 100 %, and the adapter's initial_soc between them",
)
EFFICIENCY = error(
    "storage/efficiency",
    "a battery's charge or discharge efficiency at or below 0 %, or above 100 %",
    "give each direction's efficiency from the datasheet, like 95 % (a 90 % round trip is "
    "about 95 % each way)",
)
POWER_EXCEEDS_RATING = error(
    "storage/power-exceeds-rating",
    "a battery's max_charge or max_discharge above its rating's power",
    "lower it to the inverter's rating, or correct the rating",
)
ADAPTER = error(
    "storage/adapter",
    "a battery adapter depotctl does not have (only simulated so far)",
    "use adapter: {type: simulated}",
)
LOAD_FORECAST = error(
    "site-load/forecast",
    "a site load forecast that is not 24 hourly powers of zero or more, or whose file is "
    "missing or does not parse",
    "give 24 values, hour 0 first, like 12 kW; or a CSV with the header time,power",
)
GENERATION_FORECAST = error(
    "generation/forecast",
    "a generation forecast that is not 24 hourly values from zero to the peak, or whose "
    "file is missing or does not parse",
    "give 24 values, hour 0 first, each a power up to the rating or a share like 60 %; or a "
    "CSV with the header time,power",
)
_HOURS = 24


def _node(index: int) -> Path:
    return ("spec", "nodes", index)


@site_check
def storage(ctx: SiteContext) -> Iterator[Finding]:
    for i, node in enumerate(ctx.node_list):
        if isinstance(node, Storage):
            yield from _soc(_node(i), node)
            yield from _efficiency(_node(i), node)
            yield from _powers(_node(i), node)
            if node.adapter.type != "simulated":
                yield ADAPTER.at(
                    (*_node(i), "adapter", "type"),
                    f'{describe(node)} adapter "{node.adapter.type}" is not one depotctl has; '
                    "only simulated so far",
                )


def _soc(at: Path, node: Storage) -> Iterator[Finding]:
    soc = node.soc
    for name, value in (("min", soc.min), ("max", soc.max)):
        if not 0.0 <= value.fraction <= 1.0:
            yield SOC_BOUNDS.at(
                (*at, "soc", name), f"{describe(node)} soc.{name} {value} is outside 0–100 %"
            )
            return
    if soc.min.fraction >= soc.max.fraction:
        yield SOC_BOUNDS.at(
            (*at, "soc", "min"),
            f"{describe(node)} soc.min {soc.min} is not below soc.max {soc.max}: "
            "it could neither charge nor discharge",
        )
        return
    start = node.adapter.initial_soc
    if not soc.min.fraction <= start.fraction <= soc.max.fraction:
        yield SOC_BOUNDS.at(
            (*at, "adapter", "initial_soc"),
            f"{describe(node)} adapter initial_soc {start} is outside its soc window "
            f"{soc.min}–{soc.max}",
        )


def _efficiency(at: Path, node: Storage) -> Iterator[Finding]:
    for name in ("charge", "discharge"):
        value: Ratio = getattr(node.efficiency, name)
        if not 0.0 < value.fraction <= 1.0:
            yield EFFICIENCY.at(
                (*at, "efficiency", name),
                f"{describe(node)} {name} efficiency {value} is not above 0 % and at most 100 %",
            )


def _powers(at: Path, node: Storage) -> Iterator[Finding]:
    rating = node.rating.power
    for name in ("max_charge", "max_discharge"):
        value: Power | None = getattr(node, name)
        if value is not None and value.base > rating.base:
            yield POWER_EXCEEDS_RATING.at(
                (*at, name), f"{describe(node)} {name} {value} is above its rating's {rating}"
            )


@site_check
def forecasts(ctx: SiteContext) -> Iterator[Finding]:
    for i, node in enumerate(ctx.node_list):
        if isinstance(node, SiteLoad) and node.forecast is not None:
            at = (*_node(i), "forecast")
            what = f"{describe(node)} forecast"
            profile = node.forecast.profile
            if isinstance(profile, DayTypeProfile):
                for day in ("weekdays", "weekends"):
                    yield from _values(
                        LOAD_FORECAST, (*at, "profile", day), f"{what} {day}", getattr(profile, day)
                    )
            elif profile is not None:
                yield from _values(LOAD_FORECAST, (*at, "profile"), what, profile)
            yield from _file(ctx, LOAD_FORECAST, at, what, node.forecast.series)
        elif isinstance(node, Generation) and node.forecast is not None:
            at = (*_node(i), "forecast")
            what = f"{describe(node)} forecast"
            if node.forecast.profile is not None:
                yield from _values(
                    GENERATION_FORECAST, (*at, "profile"), what, node.forecast.profile, node.rating
                )
            yield from _file(ctx, GENERATION_FORECAST, at, what, node.forecast.series, node.rating)


def _values(
    rule: Rule, at: Path, what: str, values: Sequence[Power | Ratio], peak: Power | None = None
) -> Iterator[Finding]:
    """24 values, none below zero; a generator's within its peak (or 100 %). The first
    problem only: one wrong value is usually a pattern."""
    if len(values) != _HOURS:
        yield rule.at(at, f"{what} has {len(values)} hourly values; a day needs 24 (hours 0–23)")
        return
    for hour, value in enumerate(values):
        if value.magnitude < 0:
            problem = "is below zero"
        elif isinstance(value, Ratio) and value.fraction > 1.0:
            problem = "is more than the whole peak"
        elif isinstance(value, Power) and peak is not None and value.base > peak.base:
            problem = f"is above the rating's {peak}"
        else:
            continue
        yield rule.at((*at, hour), f"{what}, hour {hour}: {value} {problem}")
        return


def _file(
    ctx: SiteContext,
    rule: Rule,
    at: Path,
    what: str,
    reference: str | None,
    peak: Power | None = None,
) -> Iterator[Finding]:
    """The series file reads (the first problem in it, with its line); a generator's
    values are within its peak."""
    if reference is None:
        return
    try:
        series = read_power_series(ctx.resolve(reference))
    except PowerFileError as problem:
        if problem.missing:
            looked = os.path.normpath(ctx.base_dir / reference)
            message = f'{what} file "{reference}" does not exist (looked for {looked})'
        else:
            message = f"{what}: {problem.located(reference)}"
        yield rule.at((*at, "series"), message)
        return
    if peak is not None and max(series.watts) > peak.base:
        worst = series.watts.index(max(series.watts))
        yield rule.at(
            (*at, "series"),
            f"{what}: {reference}: {Power.of(series.watts[worst])} at "
            f"{series.times[worst].isoformat()} is above the rating's {peak}",
        )
