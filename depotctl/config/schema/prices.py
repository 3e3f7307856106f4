"""Dynamic energy prices: a series of day-ahead (or other market) prices the site pays
for energy instead of its tariff's time-of-use prices."""

from __future__ import annotations

from pydantic import Field

from depotctl.config.schema.base import SchemaModel


class Prices(SchemaModel):
    """A price series file, relative to the site file (``depotctl.config.price_files``)."""

    series: str = Field(
        min_length=1,
        description="A CSV (or .csv.gz) file: start_utc,price_<currency>_per_<kwh|mwh>; "
        "each price holds until the next.",
    )
