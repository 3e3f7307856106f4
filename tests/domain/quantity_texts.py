"""Strings over the whole quantity grammar and around it, for property tests, and what
the grammar says of each (an oracle written apart from the parser: exact decimals).

``quantity_texts()`` draws numbers with signs, decimals and exponents (up to the ones
that overflow a float), digits of other scripts, whitespace around and inside, every
unit of every dimension, miscased and made-up units, and each dimension's bound in
each of its units with a hair either side.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal, localcontext

from hypothesis import strategies as st

from depotctl.domain.quantity import BOUNDS, UNITS, Dimension

#: Digits that ``float()`` and ``str.isdigit`` take but the grammar refuses: full-width,
#: Arabic-Indic, extended Arabic-Indic, Devanagari, Bengali, Thai, mathematical bold,
#: and superscript two (a digit to ``isdigit``, not to ``float``).
OTHER_DIGITS = "０５９٣٤۴४৫๖𝟗²"
#: Whitespace of several kinds, ASCII and not.
SPACES = [" ", "  ", "\t", "\n", "\r\n", "\u00a0", "\u2009", "\u3000", "\u2028", "\x0b"]

_ASCII_DIGITS = st.text(alphabet="0123456789", min_size=1, max_size=12)
_ANY_DIGITS = st.text(alphabet="0123456789" + OTHER_DIGITS, min_size=1, max_size=6)


def _now_and_then(
    draw: st.DrawFn, usual: st.SearchStrategy[str], odd: st.SearchStrategy[str]
) -> str:
    """``usual``, and one time in six ``odd``."""
    return draw(odd if draw(st.integers(min_value=0, max_value=5)) == 0 else usual)


@st.composite
def numbers(draw: st.DrawFn) -> str:
    """A number as text: sign, integer and fraction parts, exponent; now and then a
    digit of another script, an odd sign or a piece missing."""

    def digits() -> str:
        return _now_and_then(draw, _ASCII_DIGITS, _ANY_DIGITS)

    sign = _now_and_then(draw, st.sampled_from(["", "", "-", "+"]), st.sampled_from(["--", "−"]))
    shape = draw(st.sampled_from(["int", "int", "decimal", "trailing-dot", "leading-dot", "dot"]))
    if shape == "int":
        body = digits()
    elif shape == "decimal":
        body = f"{digits()}.{digits()}"
    elif shape == "trailing-dot":
        body = digits() + "."
    elif shape == "leading-dot":
        body = "." + digits()
    else:
        body = "."
    if draw(st.booleans()):
        e = draw(st.sampled_from(["e", "E", "e+", "e-", "E-"]))
        body += e + _now_and_then(draw, st.integers(0, 400).map(str), _ANY_DIGITS)
    return sign + body


_UNITS = sorted(UNITS)
_JUNK_UNITS = ["", "kw", "KW", "TW", "GW", "kWh/h", "A A", "k W", "amps", "%%", "/kwh", "°C"]


@st.composite
def units(draw: st.DrawFn) -> str:
    """A unit of any dimension (mostly), a miscased or made-up one, or none."""
    unit = draw(st.sampled_from(_UNITS))
    odd = st.sampled_from([unit.lower(), unit.upper(), *_JUNK_UNITS]) | st.text(max_size=4)
    return _now_and_then(draw, st.just(unit), odd)


def _bound_edges() -> list[str]:
    """Every unit's bound, and a hair (a millionth) either side, both signs."""
    edges: list[str] = []
    for unit, (dimension, factor) in UNITS.items():
        at_bound = BOUNDS[dimension].largest / factor
        for scale in (1.0, 1 - 1e-6, 1 + 1e-6, 10.0):
            for sign in (1, -1):
                edges.append(f"{sign * at_bound * scale!r} {unit}")
    return edges


BOUND_EDGES = _bound_edges()


@st.composite
def quantity_texts(draw: st.DrawFn) -> str:
    """A string over the quantity grammar and around it."""
    if draw(st.integers(min_value=0, max_value=9)) == 0:
        return draw(st.sampled_from(BOUND_EDGES) | st.text(max_size=12))
    number = draw(numbers())
    unit = draw(units())
    gap = _now_and_then(draw, st.sampled_from(["", " "]), st.sampled_from(SPACES))
    before = _now_and_then(draw, st.just(""), st.sampled_from(SPACES))
    after = _now_and_then(draw, st.just(""), st.sampled_from(SPACES))
    return f"{before}{number}{gap}{unit}{after}"


#: A JSON or YAML value where a quantity belongs: mostly strings, sometimes bare numbers
#: (integers beyond every float among them), booleans or null.
quantity_values = st.one_of(
    quantity_texts(),
    quantity_texts(),
    quantity_texts(),
    st.integers(min_value=-(10**400), max_value=10**400),
    st.floats(allow_nan=False, allow_infinity=False),
    st.booleans(),
)


# The oracle

_ASCII_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_ASCII_QUANTITY = re.compile(rf"({_ASCII_NUMBER.pattern}) ?([^\s0-9]+)")
#: How close to a bound the oracle stays silent (the float product may round either way).
_HAIR = Decimal("1e-9")


@dataclass(frozen=True, slots=True)
class Verdict:
    """What the grammar says of a text: ``refused`` with the error kind, or accepted
    with ``base`` (None where the oracle does not judge: a hair from a bound)."""

    refused: str | None = None
    base: float | None = None
    judged: bool = True


def verdict(value: object, dimensions: tuple[Dimension, ...]) -> Verdict:
    """The grammar's answer for ``value`` as one of ``dimensions``."""
    if not isinstance(value, str) or isinstance(value, bool):
        return Verdict(refused="missing-unit" if _is_number(value) else "malformed")
    if value != value.strip() or any(not c.isascii() and c.isnumeric() for c in value):
        return Verdict(refused="malformed")
    if _ASCII_NUMBER.fullmatch(value):
        return Verdict(refused="missing-unit")
    match = _ASCII_QUANTITY.fullmatch(value)
    if match is None:
        return Verdict(refused="malformed")
    number, unit = match.groups()
    if unit not in UNITS or UNITS[unit][0] not in dimensions:
        return Verdict(refused="wrong-unit")
    dimension, factor = UNITS[unit]
    with localcontext() as context:
        context.prec = 60
        context.Emax = 10**8
        context.Emin = -(10**8)
        exact = abs(Decimal(number) * Decimal(factor))
        largest = Decimal(BOUNDS[dimension].largest)
        if exact > largest * (1 + _HAIR):
            return Verdict(refused="out-of-range")
        if exact >= largest * (1 - _HAIR):
            return Verdict(judged=False)
    return Verdict(base=float(number) * factor)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)
