"""Field types of the site schema: quantities with units, ids, times of day.

Each quantity field parses strictly with :mod:`depotctl.domain.quantity` and
reports failures as pydantic errors whose type is the rule id
(``quantity/missing-unit``), so the loader can name the rule.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, PydanticCustomError, core_schema

from depotctl.domain import UNITS, Dimension, Quantity, QuantityError, parse_quantity, quantity

_NUMBER = r"[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?"


def _unit_pattern(dimensions: tuple[Dimension, ...]) -> str:
    units = [re.escape(u) for u, (d, _) in UNITS.items() if d in dimensions]
    return rf"^{_NUMBER} ?(?:{'|'.join(units)})$"


@functools.lru_cache(maxsize=4096)
def _parse_text(text: str, dimensions: tuple[Dimension, ...]) -> Quantity:
    """Quantities are immutable and a site repeats the same few hundred of them."""
    return parse_quantity(text, dimensions)


class Marker:
    """An ``Annotated`` marker: pydantic parses the field with :meth:`validate`, writes it
    back as :meth:`serialization` says (as it is by default) and describes it in JSON
    Schema with :meth:`json_schema`."""

    __slots__ = ()

    def validate(self, value: Any) -> Any:
        raise NotImplementedError

    def json_schema(self) -> JsonSchemaValue:
        raise NotImplementedError

    def serialization(self) -> core_schema.SerSchema | None:
        return None

    def __get_pydantic_core_schema__(
        self, source: Any, handler: GetCoreSchemaHandler
    ) -> CoreSchema:
        return core_schema.no_info_plain_validator_function(
            self.validate, serialization=self.serialization()
        )

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return self.json_schema()


@dataclass(frozen=True, slots=True)
class Units(Marker):
    """``Annotated`` marker: parse the field as a quantity of ``dimensions``."""

    dimensions: tuple[Dimension, ...]
    description: str
    positive: bool = True

    @classmethod
    def signed(cls, dimension: Dimension, description: str) -> Units:
        """One dimension, zero and below allowed (a price, a measured power)."""
        return cls((dimension,), description, positive=False)

    def validate(self, value: Any) -> Quantity:
        if isinstance(value, Quantity) and value.dimension in self.dimensions:
            quantity = value
        else:
            try:
                quantity = (
                    _parse_text(value, self.dimensions)
                    if isinstance(value, str)
                    else parse_quantity(value, self.dimensions)
                )
            except QuantityError as error:
                raise PydanticCustomError(
                    f"quantity/{error.kind}", error.message, {"hint": error.hint}
                ) from None
        if self.positive and quantity.magnitude <= 0:
            raise PydanticCustomError(
                "quantity/not-positive",
                f"{quantity} must be above zero",
                {"hint": "a zero or negative value forbids everything; remove the limit instead"},
            )
        return quantity

    def serialization(self) -> core_schema.SerSchema:
        return core_schema.plain_serializer_function_ser_schema(str)

    def json_schema(self) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": _unit_pattern(self.dimensions),
            "description": self.description,
            "examples": [_EXAMPLES[d] for d in self.dimensions],
        }


_EXAMPLES = {
    Dimension.POWER: "400 kW",
    Dimension.APPARENT_POWER: "150 kVA",
    Dimension.CURRENT: "250 A",
    Dimension.VOLTAGE: "230 V",
    Dimension.ENERGY: "60 kWh",
    Dimension.DURATION: "30 s",
    Dimension.ENERGY_PRICE: "0.45 /kWh",
    Dimension.DEMAND_PRICE: "14.2 /kW/month",
    Dimension.FIXED_CHARGE: "2.10 /day",
    Dimension.CARBON_INTENSITY: "0.66 kg/kWh",
    Dimension.RATIO: "5 %",
}


PowerValue = Annotated[quantity.Power, Units((Dimension.POWER,), "A power: W, kW or MW.")]
ApparentPowerValue = Annotated[
    quantity.ApparentPower,
    Units((Dimension.APPARENT_POWER,), "An apparent power: VA, kVA or MVA."),
]
CurrentValue = Annotated[quantity.Current, Units((Dimension.CURRENT,), "A current per phase: A.")]
VoltageValue = Annotated[quantity.Voltage, Units((Dimension.VOLTAGE,), "A voltage: V or kV.")]
EnergyValue = Annotated[quantity.Energy, Units((Dimension.ENERGY,), "An energy: Wh, kWh, MWh.")]
DurationValue = Annotated[
    quantity.Duration, Units((Dimension.DURATION,), "A duration: ms, s, min, h or d.")
]
EnergyPriceValue = Annotated[
    quantity.EnergyPrice, Units.signed(Dimension.ENERGY_PRICE, "A price per kWh or MWh.")
]
DemandPriceValue = Annotated[
    quantity.DemandPrice, Units.signed(Dimension.DEMAND_PRICE, "A demand charge per kW per month.")
]
FixedChargeValue = Annotated[
    quantity.FixedCharge, Units.signed(Dimension.FIXED_CHARGE, "A fixed charge per day or month.")
]
CarbonIntensityValue = Annotated[
    quantity.CarbonIntensity,
    Units.signed(Dimension.CARBON_INTENSITY, "Carbon intensity: kg/kWh, g/kWh."),
]
RatioValue = Annotated[quantity.Ratio, Units.signed(Dimension.RATIO, "A percentage: 5 %.")]
CurrentOrPowerValue = Annotated[
    quantity.Current | quantity.Power,
    Units(
        (
            Dimension.CURRENT,
            Dimension.POWER,
        ),
        "A current per phase (A) or a power (kW).",
    ),
]


@dataclass(frozen=True, slots=True)
class Text(Marker):
    """``Annotated`` marker: a string matching ``pattern``, else ``schema/invalid-value``
    (quoting the value unless ``echo`` is False: where a secret may have been pasted)."""

    pattern: str
    what: str
    hint: str
    echo: bool = True

    def validate(self, value: Any) -> str:
        if not isinstance(value, str):
            raise PydanticCustomError(
                "schema/wrong-type",
                f"{self.what} must be a string, got {type(value).__name__}",
                {"hint": self.hint},
            )
        if not re.fullmatch(self.pattern, value):
            said = f'"{value}"' if self.echo else "the value"
            raise PydanticCustomError(
                "schema/invalid-value", f"{said} is not a valid {self.what}", {"hint": self.hint}
            )
        return value

    def json_schema(self) -> JsonSchemaValue:
        return {"type": "string", "pattern": f"^(?:{self.pattern})$", "description": self.what}


NODE_ID_PATTERN = r"[a-z0-9][a-z0-9._-]*"
NodeId = Annotated[
    str,
    Text(
        NODE_ID_PATTERN,
        "node id",
        "ids are lowercase letters, digits, '-', '_' and '.', starting with a letter or digit",
    ),
]
TimeOfDay = Annotated[
    str,
    Text(
        r"(?:[01]\d|2[0-3]):[0-5]\d|24:00",
        "time of day (HH:MM)",
        'write a local time like "05:30"; quote it in YAML and use "24:00" for the end of day',
    ),
]
MonthDay = Annotated[
    str,
    Text(
        r"(?:0[1-9]|1[0-2])-(?:0[1-9]|[12]\d|3[01])",
        "date in the year (MM-DD)",
        'write it like "01-01" or "12-31", quoted',
    ),
]
EnvVarName = Annotated[
    str,
    Text(
        r"[A-Za-z_][A-Za-z0-9_]*",
        "environment variable name",
        "name the variable, like CP01_PASSWORD; never the secret itself",
        echo=False,  # a password pasted here must not be printed back
    ),
]
