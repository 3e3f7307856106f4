"""Dynamic prices: the series file exists, parses, its instants increase, and it is in\nthe currency of the site's tariff."""

from __future__ import annotations

import os
from collections.abc import Iterator

from depotctl.config.checks.context import SiteContext, site_check
from depotctl.config.price_files import PriceFileError, read_price_series
from depotctl.config.rules import Finding, Rule, error
from depotctl.config.schema.tariff import TariffRef
from depotctl.config.tariff_value import read_tariff_ref

MISSING_FILE = error(
    "prices/missing-file",
    "a price series file that does not exist",
    "the path is relative to the site file; fix it or add the file",
)
MALFORMED = error(
    "prices/malformed",
    "a price series CSV that does not parse (header, time or price)",
    'the header is "start_utc,price_eur_per_mwh" (or another currency, per kwh or mwh); '
    'rows are like "2023-01-01T00:00:00Z,-1.46"',
)
UNORDERED_SERIES = error(
    "prices/unordered-series",
    "a price series whose times are not strictly increasing, or lack their UTC offset",
    "sort the rows by time, remove repeated times, and give each time its offset (Z)",
)
CURRENCY_MISMATCH = error(
    "prices/currency-mismatch",
    "a price series in another currency than the site's tariff",
    "use a series in the tariff's currency (its header names it: price_eur_per_mwh), or a "
    "tariff in the series' currency",
)
#: each problem's rule: ``prices/<kind>``
_RULES: dict[str, Rule] = {
    rule.id.removeprefix("prices/"): rule for rule in (MISSING_FILE, MALFORMED, UNORDERED_SERIES)
}


@site_check
def price_series(ctx: SiteContext) -> Iterator[Finding]:
    prices = ctx.site.spec.prices
    if prices is None:
        return
    at = ("spec", "prices", "series")
    try:
        series = read_price_series(ctx.resolve(prices.series))
    except PriceFileError as problem:
        if problem.kind == "missing-file":
            looked = os.path.normpath(ctx.base_dir / prices.series)
            message = f'price series file "{prices.series}" does not exist (looked for {looked})'
        else:
            where = f":{problem.line}" if problem.line is not None else ""
            message = f"{prices.series}{where}: {problem.problem}"
        yield _RULES[problem.kind].at(at, message)
        return
    tariff = tariff_currency(ctx)
    if tariff is not None and tariff != series.currency:
        yield CURRENCY_MISMATCH.at(
            at,
            f'price series "{prices.series}" is in {series.currency} and the site\'s tariff '
            f"in {tariff}; a bill is in one currency",
        )


def tariff_currency(ctx: SiteContext) -> str | None:
    """The currency of the site's tariff; None without one, or when its file is not a
    usable tariff (the tariff's own rules say why)."""
    tariff = ctx.site.spec.tariff
    if isinstance(tariff, TariffRef):
        try:
            return read_tariff_ref(tariff, ctx.base_dir).currency
        except (OSError, ValueError):
            return None
    return None if tariff is None else tariff.currency
