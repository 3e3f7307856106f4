"""Carbon factors: the file exists and parses; a profile covers 24 h; a series is
ordered and in one unit."""

from __future__ import annotations

import os
from collections.abc import Iterator

from depotctl.config.carbon_files import (
    CarbonFileError,
    Problem,
    profile_of,
    read_profile,
    read_series,
)
from depotctl.config.checks.context import SiteContext, site_check
from depotctl.config.checks.prices import tariff_currency
from depotctl.config.rules import Finding, Path, Rule, error

MISSING_FILE = error(
    "carbon/missing-file",
    "a carbon profile or series file that does not exist",
    "the path is relative to the site file; fix it or add the file",
)
MALFORMED = error(
    "carbon/malformed",
    "a carbon CSV that does not parse (header, number, time or unit)",
    'a profile is "hour,intensity" rows like "0,0.71 kg/kWh"; a series is "time,intensity" '
    'rows like "2019-05-01T00:00:00+00:00,0.412 kg/kWh"',
)
_FORMATS = {
    "profile": 'a profile CSV has the header "hour,intensity" and rows like "0,0.71 kg/kWh"',
    "series": 'a series CSV has the header "time,intensity" and rows like '
    '"2019-05-01T00:00:00+00:00,0.412 kg/kWh"',
}
INCOMPLETE_PROFILE = error(
    "carbon/incomplete-profile",
    "a daily carbon profile that does not cover hours 0–23 exactly once",
    "give one value for each hour of the day, 0 to 23",
)
UNORDERED_SERIES = error(
    "carbon/unordered-series",
    "a carbon series whose times are not strictly increasing, or lack their UTC offset",
    "sort the rows by time, drop repeated times, and write each time with its offset (+00:00)",
)
MIXED_UNITS = error(
    "carbon/mixed-units",
    "a carbon profile or series whose values use more than one unit",
    "convert every value to one unit, like kg/kWh",
)

PRICE_CURRENCY = error(
    "carbon/price-currency",
    "a carbon price in another currency than the site's tariff",
    "write the carbon price in the tariff's currency, like 85 EUR/t for a tariff in EUR",
)

_RULES: dict[Problem, Rule] = {
    "missing-file": MISSING_FILE,
    "malformed": MALFORMED,
    "incomplete-profile": INCOMPLETE_PROFILE,
    "unordered-series": UNORDERED_SERIES,
    "mixed-units": MIXED_UNITS,
}


@site_check
def carbon_factors(ctx: SiteContext) -> Iterator[Finding]:
    carbon = ctx.site.spec.carbon
    if carbon is None:
        return
    path = ("spec", "carbon")
    if isinstance(carbon.profile, list):
        try:
            profile_of(carbon.profile)
        except CarbonFileError as error:
            at: Path = (*path, "profile")
            if error.line is not None:
                at = (*at, error.line - 1)  # the position of the offending value
            yield _RULES[error.kind].at(at, error.problem)
    elif isinstance(carbon.profile, str):
        yield from _file(ctx, "profile", carbon.profile)
    elif carbon.series is not None:
        yield from _file(ctx, "series", carbon.series)


@site_check
def carbon_price(ctx: SiteContext) -> Iterator[Finding]:
    carbon = ctx.site.spec.carbon
    if carbon is None or carbon.price is None:
        return
    tariff = tariff_currency(ctx)
    if tariff is not None and tariff != carbon.price.currency:
        yield PRICE_CURRENCY.at(
            ("spec", "carbon", "price"),
            f"carbon price {carbon.price} is in {carbon.price.currency} and the site's tariff "
            f"in {tariff}; the planner adds them in one currency",
            f"write the carbon price in {tariff}, the tariff's currency, like 85 {tariff}/t",
        )


def _file(ctx: SiteContext, field: str, reference: str) -> Iterator[Finding]:
    """Read the profile or series file; a finding for the first problem in it."""
    try:
        if field == "profile":
            read_profile(ctx.resolve(reference))
        else:
            read_series(ctx.resolve(reference))
    except CarbonFileError as error:
        at = ("spec", "carbon", field)
        if error.kind == "missing-file":
            looked = os.path.normpath(ctx.base_dir / reference)
            yield MISSING_FILE.at(
                at, f'carbon {field} file "{reference}" does not exist (looked for {looked})'
            )
        else:
            hint = _FORMATS[field] if error.kind == "malformed" else None
            yield _RULES[error.kind].at(at, error.located(reference), hint)
