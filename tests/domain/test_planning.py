"""The planner's settings in base units, and the carbon price."""

from __future__ import annotations

from datetime import timedelta

import pytest

from depotctl.domain.planning import CarbonPrice, PlannerSettings


def test_the_defaults_plan_nothing_and_a_day_of_quarter_hours_when_enabled() -> None:
    settings = PlannerSettings()
    assert not settings.enabled
    assert settings.blocks == 96
    assert settings.carbon_price is None


def test_a_carbon_price_shows_per_tonne() -> None:
    assert str(CarbonPrice(0.085, "EUR")) == "85 EUR/t"


def test_a_horizon_of_zero_is_refused_naming_the_field() -> None:
    with pytest.raises(ValueError, match="horizon 0:00:00 must be positive; give spec"):
        PlannerSettings(horizon=timedelta(0))
