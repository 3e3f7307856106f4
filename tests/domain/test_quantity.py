"""Quantities parse strictly: one grammar, the right dimension, never a guessed unit."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from depotctl.domain import (
    UNITS,
    CarbonIntensity,
    Current,
    Dimension,
    Duration,
    Energy,
    Power,
    QuantityError,
    format_number,
    parse_quantity,
)
from depotctl.domain.quantity import BOUNDS, in_bounds
from tests.conftest import ROOT
from tests.domain.quantity_texts import OTHER_DIGITS, SPACES, quantity_values, verdict


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
    share=st.floats(min_value=-0.999, max_value=0.999),
    unit=st.sampled_from(sorted(UNITS)),
)
def test_printing_and_parsing_round_trip(share: float, unit: str) -> None:
    dimension, factor = UNITS[unit]
    magnitude = share * BOUNDS[dimension].largest / factor  # anywhere within the bound
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


# Bounds: finite, and within what a depot can have


#: The bounds docs/quantities.md gives, in base units (W, VA, A, V, Wh, s, per kWh, per
#: kW per month, per day, kg/kWh, fraction).
DOCUMENTED = {
    Dimension.POWER: 1e9,
    Dimension.APPARENT_POWER: 1e9,
    Dimension.CURRENT: 1e5,
    Dimension.VOLTAGE: 2e6,
    Dimension.ENERGY: 1e10,
    Dimension.DURATION: 3653 * 86400,
    Dimension.ENERGY_PRICE: 1e9,
    Dimension.DEMAND_PRICE: 1e9,
    Dimension.FIXED_CHARGE: 1e12,
    Dimension.CARBON_INTENSITY: 10,
    Dimension.RATIO: 10,
}


def test_every_dimension_has_its_documented_bound_written_in_its_own_grammar() -> None:
    assert {d: b.largest for d, b in BOUNDS.items()} == DOCUMENTED
    for dimension, bound in BOUNDS.items():
        assert parse_quantity(bound.written, (dimension,)).base == pytest.approx(bound.largest)


@pytest.mark.parametrize("unit", sorted(UNITS))
def test_each_unit_takes_its_bound_and_refuses_beyond_it(unit: str) -> None:
    dimension, factor = UNITS[unit]
    at_bound = BOUNDS[dimension].largest / factor
    for sign in (1, -1):
        inside = parse_quantity(f"{sign * at_bound * (1 - 1e-9)!r} {unit}", (dimension,))
        assert abs(inside.base) <= BOUNDS[dimension].largest
        with pytest.raises(QuantityError) as caught:
            parse_quantity(f"{sign * at_bound * (1 + 1e-6)!r} {unit}", (dimension,))
        assert caught.value.kind == "out-of-range"
        assert BOUNDS[dimension].written in caught.value.message


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("1e306 kW", Power),  # each case issue 11 found: infinity after the unit
        ("1e306 MW", Power),
        ("1e306 MWh", Energy),
        ("1e306 kA", Current),
        ("1e308 kW", Power),
        ("1e999 kW", Power),  # infinity before it
        ("-1e306 kW", Power),
        ("1000000000 kW", Power),  # 1 TW
        ("1001 MW", Power),  # a node limit in MW where kW was meant
        ("400000 MW", Power),
        ("450 kg/kWh", CarbonIntensity),  # g/kWh written as kg/kWh
        ("3654 d", Duration),
        ("1e309 ms", Duration),
    ],
)
def test_overflowing_and_unphysical_values_are_out_of_range(text: str, kind: type) -> None:
    with pytest.raises(QuantityError) as caught:
        kind.parse(text)
    assert caught.value.kind == "out-of-range"
    assert "out of range" in caught.value.message and "docs/quantities.md" in caught.value.hint


def test_tiny_values_are_finite_and_kept() -> None:
    assert Power.parse("1e-400 kW").base == 0.0
    assert Current.parse("1 mA").amps == pytest.approx(1e-3)


@pytest.mark.parametrize("digit", list(OTHER_DIGITS))
def test_only_ascii_digits_are_digits(digit: str) -> None:
    for text in (f"{digit} kW", f"4{digit}0 kW", f"400.{digit} kW", f"4e{digit} kW"):
        with pytest.raises(QuantityError) as caught:
            Power.parse(text)
        assert caught.value.kind == "malformed", text
        assert "0-9" in caught.value.message


@pytest.mark.parametrize("space", SPACES)
def test_no_whitespace_around_a_quantity(space: str) -> None:
    for text in (f"{space}400 kW", f"400 kW{space}", f"{space}400 kW{space}"):
        with pytest.raises(QuantityError) as caught:
            Power.parse(text)
        assert caught.value.kind == "malformed"
    assert Power.parse("400 kW") == Power.parse("400kW")


@pytest.mark.parametrize("space", [s for s in SPACES if s != " "])
def test_one_ascii_space_at_most_between_number_and_unit(space: str) -> None:
    with pytest.raises(QuantityError) as caught:
        Power.parse(f"400{space}kW")
    assert caught.value.kind == "malformed"


def test_an_integer_beyond_every_float_has_no_unit_and_does_not_overflow() -> None:
    with pytest.raises(QuantityError) as caught:
        Power.parse(10**400)
    assert caught.value.kind == "missing-unit"
    assert '"400 kW"' in caught.value.hint


def test_messages_escape_control_characters_and_cut_long_texts() -> None:
    with pytest.raises(QuantityError) as caught:
        Power.parse("400 k\x1b[31mW")
    assert "\x1b" not in caught.value.message and "\\x1b" in caught.value.message
    with pytest.raises(QuantityError) as caught:
        Power.parse("4" * 10_000 + " kW")
    assert len(caught.value.message) < 200


@given(value=quantity_values, dimension=st.sampled_from(list(Dimension)))
def test_any_value_parses_within_its_bound_or_is_refused_as_the_grammar_says(
    value: object, dimension: Dimension
) -> None:
    expected = verdict(value, (dimension,))
    try:
        quantity = parse_quantity(value, (dimension,))
    except QuantityError as error:
        assert expected.refused == error.kind or not expected.judged, (value, error.message)
        return
    assert in_bounds(dimension, quantity.base)
    assert quantity.dimension is dimension
    assert expected.refused is None, (value, expected)
    if expected.base is not None:
        assert quantity.base == pytest.approx(expected.base, rel=1e-12)


@given(value=st.floats() | st.integers(min_value=-(10**300), max_value=10**300))
def test_format_number_never_raises(value: float) -> None:
    text = format_number(value)
    assert text


def test_docs_list_every_bound_with_its_units() -> None:
    """docs/quantities.md's table: one row per dimension, its units and its bound."""
    rows = {}
    for line in (ROOT / "docs" / "quantities.md").read_text(encoding="utf-8").splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if len(cells) == 4 and cells[0] in {d.value for d in Dimension}:
            rows[Dimension(cells[0])] = (cells[1], cells[2])
    assert rows == {
        dimension: (", ".join(u for u, (d, _) in UNITS.items() if d is dimension), bound.written)
        for dimension, bound in BOUNDS.items()
    }
