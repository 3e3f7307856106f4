"""Power forecasts of site loads and generation: 24 hourly values, or a dated series in
a CSV file relative to the site file (``depotctl.config.power_files``).

The values' checks (24 of them, none negative, a generator's within its peak, the file
readable) are the ``site-load/forecast`` and ``generation/forecast`` rules.
"""

from __future__ import annotations

from typing import Annotated, ClassVar, Self

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from depotctl.config.schema.base import SchemaModel
from depotctl.config.schema.types import Units
from depotctl.domain import Dimension, quantity

#: A forecast power: zero allowed (no sun at night).
ForecastPower = Annotated[
    quantity.Power, Units((Dimension.POWER,), "A power: W, kW or MW; zero allowed.", False)
]
#: A generator's forecast value: a power, or a share of its peak (``60 %``).
OutputValue = Annotated[
    quantity.Power | quantity.Ratio,
    Units((Dimension.POWER, Dimension.RATIO), "A power (kW) or a share of the peak (%).", False),
]

_SERIES = (
    "A CSV (or .csv.gz) file, relative to the site file: header time,power; rows like "
    "2026-12-07T10:00:00+11:00,42.5 kW; each value holds until the next."
)


class _ProfileOrSeries(SchemaModel):
    """A forecast: exactly one of ``profile`` and ``series`` (each subclass has both)."""

    _EXAMPLE: ClassVar[str] = "forecast: {series: forecasts/office.csv}"

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [name for name in ("profile", "series") if getattr(self, name) is not None]
        if len(given) != 1:
            raise PydanticCustomError(
                "schema/invalid-value",
                "a forecast needs exactly one of profile or series"
                + (f" (got {', '.join(given)})" if given else ""),
                {"hint": f"e.g. {self._EXAMPLE}"},
            )
        return self


class DayTypeProfile(SchemaModel):
    """24 hourly values (hour 0 first) for Monday to Friday and for the weekend."""

    weekdays: list[ForecastPower] = Field(description="24 values, Monday to Friday.")
    weekends: list[ForecastPower] = Field(description="24 values, Saturday and Sunday.")


class LoadForecast(_ProfileOrSeries):
    """What a site load will draw: 24 hourly values for every day, 24 per day type, or a
    dated series."""

    profile: list[ForecastPower] | DayTypeProfile | None = Field(
        None, description="24 hourly values (hour 0 first), or {weekdays: […], weekends: […]}."
    )
    series: str | None = Field(None, min_length=1, description=_SERIES)


class GenerationForecast(_ProfileOrSeries):
    """What a generator will produce: 24 hourly values (kW, or % of its peak), or a dated
    series (kW)."""

    profile: list[OutputValue] | None = Field(
        None, description="24 hourly values (hour 0 first), each a power or a share of the peak."
    )
    series: str | None = Field(None, min_length=1, description=_SERIES)

    _EXAMPLE: ClassVar[str] = "forecast: {series: forecasts/pv.csv}"
