"""The planner's settings in base units, and the carbon price."""

from __future__ import annotations

from depotctl.domain.planning import CarbonPrice, PlannerSettings


def test_the_defaults_plan_nothing_and_a_day_of_quarter_hours_when_enabled() -> None:
    settings = PlannerSettings()
    assert not settings.enabled
    assert settings.blocks == 96
    assert settings.carbon_price is None


def test_a_carbon_price_shows_per_tonne() -> None:
    assert str(CarbonPrice(0.085, "EUR")) == "85 EUR/t"
