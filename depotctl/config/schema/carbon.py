"""Carbon factors: a constant, a daily profile of 24 hourly values, or a dated series."""

from __future__ import annotations

from typing import Self

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from depotctl.config.schema.base import SchemaModel
from depotctl.config.schema.types import CarbonIntensityValue


class Carbon(SchemaModel):
    """Exactly one of ``constant``, ``profile`` or ``series``.

    Files are CSV, relative to the site file: a profile has rows ``hour,intensity``
    for hours 0–23; a series has rows ``time,intensity`` with ISO 8601 times that
    carry their offset, in order. Intensities carry their unit (``412 g/kWh``).
    """

    constant: CarbonIntensityValue | None = None
    profile: str | list[CarbonIntensityValue] | None = Field(
        None, description="A CSV file of 24 hourly values, or the 24 values inline."
    )
    series: str | None = Field(None, description="A CSV file of dated values.")

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        given = [
            name for name in ("constant", "profile", "series") if getattr(self, name) is not None
        ]
        if len(given) != 1:
            raise PydanticCustomError(
                "schema/invalid-value",
                "carbon needs exactly one of constant, profile or series"
                + (f" (got {', '.join(given)})" if given else ""),
                {"hint": "e.g. carbon: {constant: 0.66 kg/kWh}"},
            )
        return self
