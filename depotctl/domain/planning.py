"""The site's planner settings and carbon price (``spec.planner``,
``spec.carbon.price``): what the horizon planner is asked to do."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

#: The default horizon: a day.
HORIZON = timedelta(hours=24)
#: The default block: a quarter-hour, the billing and market settlement period.
BLOCK = timedelta(minutes=15)
#: The default replanning interval: a plan at least this often (events replan at once);
#: a plan older than it and a block is stale.
REPLAN = timedelta(minutes=5)


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
    and how often at least it plans again (events replan at once). ``carbon_price`` is
    None when the site names none: carbon then costs nothing in the plan."""

    enabled: bool = False
    horizon: timedelta = HORIZON
    block: timedelta = BLOCK
    replan: timedelta = REPLAN
    carbon_price: CarbonPrice | None = None

    def __post_init__(self) -> None:
        for name in ("horizon", "block", "replan"):
            value: timedelta = getattr(self, name)
            if value <= timedelta(0):
                raise ValueError(
                    f"planner settings: {name} {value} must be positive; "
                    f"give spec.planner.{name} a duration above zero"
                )

    @property
    def blocks(self) -> int:
        """Blocks in the horizon (a valid site's horizon is a whole number of them)."""
        return round(self.horizon / self.block)
