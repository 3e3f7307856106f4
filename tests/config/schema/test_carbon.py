"""The carbon price: a number, the currency and per tonne or kg; checked against the
tariff's currency."""

from __future__ import annotations

from pathlib import Path

import pytest

from depotctl.config.schema import Carbon
from depotctl.domain.planning import CarbonPrice
from tests.config.checks.validating import diagnostics, only


@pytest.mark.parametrize(
    ("text", "per_kg", "currency"),
    [("85 EUR/t", 0.085, "EUR"), ("0.14 AUD/kg", 0.14, "AUD"), ("0EUR/t", 0.0, "EUR")],
)
def test_a_carbon_price_is_per_kg_in_its_currency(text: str, per_kg: float, currency: str) -> None:
    carbon = Carbon.model_validate({"constant": "0.66 kg/kWh", "price": text})
    assert isinstance(carbon.price, CarbonPrice)
    assert (carbon.price.per_kg, carbon.price.currency) == (pytest.approx(per_kg), currency)


def test_a_carbon_price_writes_back_per_tonne() -> None:
    carbon = Carbon.model_validate({"constant": "0.66 kg/kWh", "price": "0.085 EUR/kg"})
    assert carbon.model_dump(mode="json")["price"] == "85 EUR/t"


@pytest.mark.parametrize(
    ("price", "rule"),
    [
        ("85", "quantity/malformed"),
        ("85 /t", "quantity/malformed"),
        ("85 eur/t", "quantity/malformed"),
        ("-5 EUR/t", "quantity/malformed"),
        ("2000 EUR/kg", "quantity/out-of-range"),
    ],
)
def test_a_price_that_is_not_one_is_named(
    tmp_path: Path, minimal_site_text: str, price: str, rule: str
) -> None:
    text = minimal_site_text + f"  carbon: {{constant: 0.66 kg/kWh, price: {price}}}\n"
    found = only(diagnostics(tmp_path, text), rule)
    assert found.span is not None and found.span.line == len(text.splitlines())


def test_a_price_without_a_tariff_has_nothing_to_match(
    tmp_path: Path, minimal_site_text: str
) -> None:
    text = minimal_site_text + "  carbon: {constant: 0.66 kg/kWh, price: 85 EUR/t}\n"
    assert diagnostics(tmp_path, text) == []
