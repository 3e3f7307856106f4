"""Quantities written with their unit: ``400 kW``, ``250 A``, ``5 min``, ``0.45 /kWh``.

One grammar everywhere (site YAML, CLI flags, snapshots, the API): a number in ASCII
digits, an optional single space, a unit, nothing around them. Units are
case-sensitive and never guessed: ``400`` and ``400 kWh`` are both errors where a
power is expected. A value whose size no depot has (``BOUNDS``: ``1 TW`` is a typo,
``1e306 kW`` an attack) is refused, so every parsed quantity is finite in its base
unit and products of a few of them stay finite (``docs/quantities.md``).
"""

from __future__ import annotations

import difflib
import math
import re
from dataclasses import dataclass
from enum import StrEnum
from typing import ClassVar, Self, overload


class Dimension(StrEnum):
    """What a quantity measures; each has one base unit."""

    POWER = "power"
    APPARENT_POWER = "apparent power"
    CURRENT = "current"
    VOLTAGE = "voltage"
    ENERGY = "energy"
    DURATION = "duration"
    ENERGY_PRICE = "energy price"
    DEMAND_PRICE = "demand price"
    FIXED_CHARGE = "fixed charge"
    CARBON_INTENSITY = "carbon intensity"
    RATIO = "ratio"


#: each dimension's units as written -> factor to the dimension's base unit
_FACTORS: dict[Dimension, dict[str, float]] = {
    Dimension.POWER: {"W": 1.0, "kW": 1e3, "MW": 1e6},
    Dimension.APPARENT_POWER: {"VA": 1.0, "kVA": 1e3, "MVA": 1e6},
    Dimension.CURRENT: {"mA": 1e-3, "A": 1.0, "kA": 1e3},
    Dimension.VOLTAGE: {"V": 1.0, "kV": 1e3},
    Dimension.ENERGY: {"Wh": 1.0, "kWh": 1e3, "MWh": 1e6},
    Dimension.DURATION: {"ms": 1e-3, "s": 1.0, "min": 60.0, "h": 3600.0, "d": 86400.0},
    Dimension.ENERGY_PRICE: {"/kWh": 1.0, "/MWh": 1e-3},
    Dimension.DEMAND_PRICE: {"/kW/month": 1.0},
    # 1 /month is 12/365.25 /day
    Dimension.FIXED_CHARGE: {"/day": 1.0, "/month": 12 / 365.25},
    Dimension.CARBON_INTENSITY: {"kg/kWh": 1.0, "g/kWh": 1e-3, "kg/MWh": 1e-3, "t/MWh": 1.0},
    Dimension.RATIO: {"%": 0.01},
}

#: unit as written -> (dimension, factor to the dimension's base unit)
UNITS: dict[str, tuple[Dimension, float]] = {
    unit: (dimension, factor)
    for dimension, factors in _FACTORS.items()
    for unit, factor in factors.items()
}

#: the unit each dimension is shown in by default, for hints
EXAMPLE_UNIT: dict[Dimension, str] = {
    Dimension.POWER: "kW",
    Dimension.APPARENT_POWER: "kVA",
    Dimension.CURRENT: "A",
    Dimension.VOLTAGE: "V",
    Dimension.ENERGY: "kWh",
    Dimension.DURATION: "s",
    Dimension.ENERGY_PRICE: "/kWh",
    Dimension.DEMAND_PRICE: "/kW/month",
    Dimension.FIXED_CHARGE: "/day",
    Dimension.CARBON_INTENSITY: "kg/kWh",
    Dimension.RATIO: "%",
}


@dataclass(frozen=True, slots=True)
class Bound:
    """The largest magnitude a dimension takes, in its base unit (``largest``) and as
    a site file writes it (``written``); the sign is each field's own rule."""

    largest: float
    written: str


#: Beyond these, a value is a typo or an attack (reasons in docs/quantities.md).
BOUNDS: dict[Dimension, Bound] = {
    Dimension.POWER: Bound(1e9, "1000 MW"),
    Dimension.APPARENT_POWER: Bound(1e9, "1000 MVA"),
    Dimension.CURRENT: Bound(1e5, "100 kA"),
    Dimension.VOLTAGE: Bound(2e6, "2000 kV"),
    Dimension.ENERGY: Bound(1e10, "10000 MWh"),
    Dimension.DURATION: Bound(3653 * 86400.0, "3653 d"),
    Dimension.ENERGY_PRICE: Bound(1e9, "1e9 /kWh"),
    Dimension.DEMAND_PRICE: Bound(1e9, "1e9 /kW/month"),
    Dimension.FIXED_CHARGE: Bound(1e12, "1e12 /day"),
    Dimension.CARBON_INTENSITY: Bound(10.0, "10 kg/kWh"),
    Dimension.RATIO: Bound(10.0, "1000 %"),
}


def in_bounds(dimension: Dimension, base: float) -> bool:
    """Whether ``base`` (in the dimension's base unit) is finite and within its bound."""
    return math.isfinite(base) and abs(base) <= BOUNDS[dimension].largest


#: ASCII digits only (``\d`` and ``float()`` take any script's digits).
_GRAMMAR = re.compile(
    r"(?P<number>[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?) ?(?P<unit>\S.*)?",
    re.ASCII,
)


class QuantityError(ValueError):
    """A quantity that does not parse; ``kind`` is ``malformed``, ``missing-unit``,
    ``wrong-unit`` or ``out-of-range``, and ``hint`` says what would be accepted."""

    def __init__(self, kind: str, message: str, hint: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message
        self.hint = hint


def _units_of(dimensions: tuple[Dimension, ...]) -> list[str]:
    return [unit for unit, (dim, _) in UNITS.items() if dim in dimensions]


def _describe(dimensions: tuple[Dimension, ...]) -> str:
    return " or ".join(f"{_article(d.value)} {d.value}" for d in dimensions)


def _article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def _example(number: str, dimensions: tuple[Dimension, ...]) -> str:
    return " or ".join(f'"{number} {EXAMPLE_UNIT[d]}"' for d in dimensions)


#: each dimension's class (its subclass of :class:`Quantity`)
_CLASSES: dict[Dimension, type[Quantity]] = {}


@dataclass(frozen=True, slots=True)
class Quantity:
    """A number with its unit, as written; ``base`` is the value in the base unit."""

    magnitude: float
    unit: str

    DIMENSION: ClassVar[Dimension | None] = None

    def __init_subclass__(cls, *, dimension: Dimension) -> None:
        """``class Power(Quantity, dimension=Dimension.POWER)``: the class of that
        dimension's quantities, which :func:`parse_quantity` builds. (No ``super()``:
        the slots dataclass is a copy of the class that body was compiled in.)"""
        cls.DIMENSION = dimension
        _CLASSES[dimension] = cls

    @property
    def dimension(self) -> Dimension:
        return UNITS[self.unit][0]

    @property
    def base(self) -> float:
        """The value in its dimension's base unit (W, VA, A, V, Wh, s, per kWh, …)."""
        return self.magnitude * UNITS[self.unit][1]

    @classmethod
    def parse(cls, text: object) -> Self:
        """Parse ``text`` strictly as this class's dimension."""
        dimensions = (cls.DIMENSION,) if cls.DIMENSION else tuple(Dimension)
        quantity = parse_quantity(text, dimensions)
        return cls(quantity.magnitude, quantity.unit)

    @classmethod
    def of(cls, base_value: float) -> Self:
        """Build from a value in the base unit, shown in the dimension's usual unit."""
        assert cls.DIMENSION is not None
        unit = EXAMPLE_UNIT[cls.DIMENSION]
        return cls(base_value / UNITS[unit][1], unit)

    def __str__(self) -> str:
        return f"{format_number(self.magnitude)} {self.unit}"

    def _key(self, other: object) -> tuple[float, float]:
        if not isinstance(other, Quantity) or other.dimension is not self.dimension:
            raise TypeError(f"cannot compare {self} with {other!r}")
        return self.base, other.base

    def __lt__(self, other: object) -> bool:
        a, b = self._key(other)
        return a < b

    def __le__(self, other: object) -> bool:
        a, b = self._key(other)
        return a <= b

    def __gt__(self, other: object) -> bool:
        a, b = self._key(other)
        return a > b

    def __ge__(self, other: object) -> bool:
        a, b = self._key(other)
        return a >= b

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity) or other.dimension is not self.dimension:
            return NotImplemented
        return math.isclose(self.base, other.base, rel_tol=1e-12, abs_tol=1e-12)

    def __hash__(self) -> int:
        return hash((self.dimension, round(self.base, 9)))


class InUnit:
    """A quantity's value in a unit ``size`` times its dimension's base unit (a power's
    ``kw``: ``InUnit(1e3)``)."""

    def __init__(self, size: float = 1.0) -> None:
        self.size = size

    @overload
    def __get__(self, quantity: None, owner: type[Quantity]) -> Self: ...
    @overload
    def __get__(self, quantity: Quantity, owner: type[Quantity] | None = None) -> float: ...
    def __get__(
        self, quantity: Quantity | None, owner: type[Quantity] | None = None
    ) -> Self | float:
        return self if quantity is None else quantity.base / self.size


class Power(Quantity, dimension=Dimension.POWER):
    kw = InUnit(1e3)


class ApparentPower(Quantity, dimension=Dimension.APPARENT_POWER): ...


class Current(Quantity, dimension=Dimension.CURRENT):
    amps = InUnit()


class Voltage(Quantity, dimension=Dimension.VOLTAGE):
    volts = InUnit()


class Energy(Quantity, dimension=Dimension.ENERGY): ...


class Duration(Quantity, dimension=Dimension.DURATION):
    seconds = InUnit()


class EnergyPrice(Quantity, dimension=Dimension.ENERGY_PRICE): ...


class DemandPrice(Quantity, dimension=Dimension.DEMAND_PRICE): ...


class FixedCharge(Quantity, dimension=Dimension.FIXED_CHARGE): ...


class CarbonIntensity(Quantity, dimension=Dimension.CARBON_INTENSITY): ...


class Ratio(Quantity, dimension=Dimension.RATIO):
    fraction = InUnit()


def format_number(value: float) -> str:
    """``250`` not ``250.0``; ``0.45`` not ``0.45000000000000001``; ``inf`` and ``nan``
    as themselves (never raises)."""
    if not math.isfinite(value):
        return str(value)
    if value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return f"{value:.6g}"


def _bare(number: int | float) -> str | None:
    """A bare number as a message shows it; None for an integer beyond every float."""
    try:
        return format_number(float(number))
    except OverflowError:
        return None


def _quoted(text: str, longest: int = 40) -> str:
    """``text`` in double quotes for a message: unprintable characters escaped, a long
    text cut short."""
    cut = text if len(text) <= longest else text[: longest - 1] + "…"
    return (
        '"'
        + "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in cut)
        + '"'
    )


def parse_quantity(text: object, dimensions: tuple[Dimension, ...]) -> Quantity:
    """Parse ``text`` as one of ``dimensions``; raise :class:`QuantityError` with a hint.

    Returns an instance of the dimension's class (``Power``, ``Current``, …), finite
    and within its dimension's :data:`BOUNDS`.
    """
    wanted = _describe(dimensions)
    if isinstance(text, bool) or not isinstance(text, str | int | float):
        raise QuantityError(
            "malformed",
            f"expected {wanted} written as a string with a unit, got {type(text).__name__}",
            f"write it like {_example('400', dimensions)}",
        )
    if not isinstance(text, str):
        number = _bare(text)
        raise QuantityError(
            "missing-unit",
            f"{number or 'a number'} has no unit; expected {wanted}",
            f"write it with its unit, like {_example(number or '400', dimensions)}",
        )
    shown = _quoted(text)
    if text != text.strip():
        raise QuantityError(
            "malformed",
            f"{shown} has spaces around it; expected {wanted}",
            f"write it without them, like {_quoted(text.strip())}",
        )
    if any(not c.isascii() and c.isnumeric() for c in text):
        raise QuantityError(
            "malformed",
            f"{shown} has a digit that is not one of 0-9; expected {wanted}",
            f"write the number in the digits 0-9, like {_example('400', dimensions)}",
        )
    match = _GRAMMAR.fullmatch(text)
    if match is None:
        raise QuantityError(
            "malformed",
            f"{shown} is not a quantity; expected {wanted}",
            f"a number, an optional space, a unit: {_example('400', dimensions)}",
        )
    number, unit = match.group("number"), match.group("unit")
    if unit is not None and (any(c.isspace() for c in unit) or any(c.isdigit() for c in unit)):
        raise QuantityError(
            "malformed",
            f"{shown} is not a quantity; expected {wanted}",
            f"one number and one unit, like {_example(number, dimensions)}",
        )
    if unit is None:
        raise QuantityError(
            "missing-unit",
            f"{shown} has no unit; expected {wanted}",
            f"write it with its unit, like {_example(number, dimensions)}",
        )
    known = UNITS.get(unit)
    if known is None:
        accepted = _units_of(dimensions)
        close = difflib.get_close_matches(unit, accepted, n=1, cutoff=0.5) or [
            u for u in accepted if u.lower() == unit.lower()
        ]
        suggestion = f'did you mean "{number} {close[0]}"? ' if close else ""
        raise QuantityError(
            "wrong-unit",
            f"unknown unit {_quoted(unit)} in {shown}; expected {wanted}",
            f"{suggestion}units accepted here: {', '.join(accepted)}",
        )
    dimension, factor = known
    if dimension not in dimensions:
        raise QuantityError(
            "wrong-unit",
            f"{shown} is {_article(dimension.value)} {dimension.value}, "
            f"but {wanted} is expected here",
            f"units accepted here: {', '.join(_units_of(dimensions))}",
        )
    magnitude = float(number)
    if not in_bounds(dimension, magnitude * factor):
        raise QuantityError(
            "out-of-range",
            f"{shown} is out of range: no depot has {_article(dimension.value)} "
            f"{dimension.value} beyond ±{BOUNDS[dimension].written}",
            "check the number and its unit (docs/quantities.md lists each range)",
        )
    return _CLASSES[dimension](magnitude, unit)
