"""Carbon factors: a constant, a daily profile of 24 hourly values, or a dated series;
and the price the site puts on a tonne of CO2e, for the planner."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Annotated, Any, Self

from pydantic import Field, model_validator
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import PydanticCustomError, core_schema

from depotctl.config.schema.base import SchemaModel
from depotctl.config.schema.types import CarbonIntensityValue, Marker
from depotctl.domain.planning import CarbonPrice

_CARBON_PRICE = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+) ?([A-Z]{3})/(t|kg)", re.ASCII)
#: no carbon market has priced a tonne above a few hundred; a million is a typo
_MOST_PER_KG = 1000.0


@dataclass(frozen=True, slots=True)
class CarbonPriceText(Marker):
    """``Annotated`` marker: a carbon price with its currency, per tonne or per kg
    (``85 EUR/t``, ``0.085 EUR/kg``)."""

    def validate(self, value: Any) -> CarbonPrice:
        if isinstance(value, CarbonPrice):
            return value
        hint = {"hint": 'write the price, the tariff\'s currency and "/t", like "85 EUR/t"'}
        match = _CARBON_PRICE.fullmatch(value) if isinstance(value, str) else None
        if match is None:
            raise PydanticCustomError(
                "quantity/malformed", f"{value!r} is not a carbon price like 85 EUR/t", hint
            )
        number, currency, per = match.groups()
        per_kg = float(number) / (1000.0 if per == "t" else 1.0)
        if not math.isfinite(per_kg) or per_kg > _MOST_PER_KG:
            raise PydanticCustomError(
                "quantity/out-of-range",
                f"{value} is beyond any carbon price (at most 1000000 {currency}/t)",
                {"hint": "check the number and its unit: /t is per tonne, /kg per kilogram"},
            )
        return CarbonPrice(per_kg, currency)

    def serialization(self) -> core_schema.SerSchema:
        return core_schema.plain_serializer_function_ser_schema(str)

    def json_schema(self) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": f"^{_CARBON_PRICE.pattern}$",
            "description": "A carbon price in the tariff's currency, per tonne or kg of CO2e.",
            "examples": ["85 EUR/t"],
        }


CarbonPriceValue = Annotated[CarbonPrice, CarbonPriceText()]


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
    price: CarbonPriceValue | None = Field(
        None,
        description="What a tonne of CO2e costs the site, in its tariff's currency "
        "(85 EUR/t); the planner weighs carbon at it. None: carbon costs nothing.",
    )

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
