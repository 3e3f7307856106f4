"""Quantities parse strictly: one grammar, the right dimension, never a guessed unit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from depotctl.domain import (
    UNITS,
    Current,
    Dimension,
    Duration,
    Energy,
    Power,
    QuantityError,
    format_number,
    parse_quantity,
)


@pytest.mark.parametrize(
    ("text", "watts"),
    [
        ("400 kW", 400_000),
        ("400kW", 400_000),
        ("0.4 MW", 400_000),
        ("1500 W", 1500),
        ("-5 kW", -5000),
    ],
)
def test_power_parses_with_or_without_the_space(text: str, watts: float) -> None:
    assert Power.parse(text).base == pytest.approx(watts)


@pytest.mark.parametrize(
    ("text", "seconds"), [("30 s", 30), ("5 min", 300), ("5min", 300), ("2 h", 7200)]
)
def test_durations_follow_the_same_grammar(text: str, seconds: float) -> None:
    assert Duration.parse(text).seconds == seconds


def test_a_bare_number_has_no_unit() -> None:
    with pytest.raises(QuantityError) as caught:
        Current.parse(250)
    assert caught.value.kind == "missing-unit"
    assert '"250 A"' in caught.value.hint


def test_energy_where_power_is_expected_is_the_wrong_unit() -> None:
    with pytest.raises(QuantityError) as caught:
        Power.parse("400 kWh")
    assert caught.value.kind == "wrong-unit"
    assert "energy" in caught.value.message and "power" in caught.value.message


def test_a_miscased_unit_suggests_the_right_one() -> None:
    with pytest.raises(QuantityError) as caught:
        Power.parse("400 kw")
    assert caught.value.kind == "wrong-unit"
    assert 'did you mean "400 kW"' in caught.value.hint


@pytest.mark.parametrize(
    "text", ["", "kW", "400  kW", "4 00 kW", "100 - 120 A", "1e999 kW", "nan kW"]
)
def test_malformed_text_is_rejected(text: str) -> None:
    with pytest.raises(QuantityError):
        Power.parse(text)


def test_booleans_are_not_numbers() -> None:
    with pytest.raises(QuantityError) as caught:
        Current.parse(True)
    assert caught.value.kind == "malformed"


def test_comparison_is_by_value_across_units() -> None:
    assert Power.parse("0.4 MW") == Power.parse("400 kW")
    assert Power.parse("399 kW") < Power.parse("0.4 MW")
    assert hash(Power.parse("0.4 MW")) == hash(Power.parse("400 kW"))


def test_quantities_of_different_dimensions_do_not_compare() -> None:
    with pytest.raises(TypeError):
        _ = Power.parse("1 kW") < Energy.parse("1 kWh")  # type: ignore[operator]


def test_of_builds_from_the_base_unit() -> None:
    assert str(Power.of(22_000)) == "22 kW"
    assert str(Current.of(6)) == "6 A"


@given(
    magnitude=st.floats(min_value=-1e9, max_value=1e9, allow_nan=False, allow_infinity=False),
    unit=st.sampled_from(sorted(UNITS)),
)
def test_printing_and_parsing_round_trip(magnitude: float, unit: str) -> None:
    dimension = UNITS[unit][0]
    quantity = parse_quantity(f"{format_number(magnitude)} {unit}", (dimension,))
    reparsed = parse_quantity(str(quantity), (dimension,))
    assert reparsed.unit == unit
    assert reparsed.magnitude == pytest.approx(quantity.magnitude, rel=1e-5)


@given(unit=st.sampled_from(sorted(UNITS)), number=st.integers(min_value=1, max_value=10_000))
def test_a_unit_of_another_dimension_is_always_rejected(unit: str, number: int) -> None:
    dimension = UNITS[unit][0]
    others = tuple(d for d in Dimension if d is not dimension)
    with pytest.raises(QuantityError) as caught:
        parse_quantity(f"{number} {unit}", others)
    assert caught.value.kind == "wrong-unit"
