"""The site's planner settings and carbon price, in base units (``spec.planner``,
``spec.carbon.price``): what the horizon planner is asked to do."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class CarbonPrice:
    """What a kg of CO2e costs the site, in ``currency`` (ISO 4217, the tariff's)."""

    per_kg: float
    currency: str

    def __str__(self) -> str:
        return f"{self.per_kg * 1000:g} {self.currency}/t"


@dataclass(frozen=True, slots=True)
class PlannerSettings:
    """Whether the controller plans, over how long a horizon, in blocks of what length,
    and how often it plans again without an event (seconds). ``carbon_price`` is None
    when the site names none: carbon then costs nothing in the plan."""

    enabled: bool = False
    horizon_s: float = 24 * 3600.0
    block_s: float = 15 * 60.0
    replan_s: float = 5 * 60.0
    carbon_price: CarbonPrice | None = None

    @property
    def blocks(self) -> int:
        """Blocks in the horizon (a valid site's horizon is a whole number of them)."""
        return round(self.horizon_s / self.block_s)
