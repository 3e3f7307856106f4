"""The utility tariff the site pays: seasons, time-of-use energy, demand and fixed charges."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from depotctl.config.schema.base import SchemaModel
from depotctl.config.schema.types import (
    DemandPriceValue,
    EnergyPriceValue,
    FixedChargeValue,
    MonthDay,
    TimeOfDay,
)

#: ``days`` takes one name or a list: all, weekdays, weekends, mon … sun
#: (``depotctl.domain.tariff_calendar.DAY_GROUPS`` and ``DAY_NAMES``).
Days = str | list[str]


class EnergyWindow(SchemaModel):
    """A time-of-use window; ``to`` before ``from`` wraps past midnight."""

    name: str
    days: Days = Field(description="all, weekdays, weekends, or day names (mon … sun).")
    from_: TimeOfDay = Field(alias="from")
    to: TimeOfDay
    price: EnergyPriceValue


class DemandWindow(SchemaModel):
    """A demand charge on the peak power inside its window within a billing month."""

    name: str
    days: Days = "all"
    from_: TimeOfDay = Field("00:00", alias="from")
    to: TimeOfDay = "24:00"
    period: str | None = Field(
        None, description="Name of the energy window it applies in, instead of from/to."
    )
    price: DemandPriceValue


class Season(SchemaModel):
    name: str
    from_: MonthDay = Field(alias="from")
    to: MonthDay
    energy: list[EnergyWindow] = Field(min_length=1)
    demand: list[DemandWindow] = Field(default_factory=list)


class TariffSpec(SchemaModel):
    currency: str = Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code, e.g. AUD.")
    seasons: list[Season] = Field(min_length=1)
    demand: list[DemandWindow] = Field(
        default_factory=list, description="Demand charges that apply in every season."
    )
    fixed: FixedChargeValue | None = None


class TariffRef(SchemaModel):
    """A tariff kept in its own file, relative to the site file: a ``kind: Tariff``
    document, or (``format: acnportal``) an acnportal tariff JSON read as is."""

    ref: str = Field(min_length=1)
    format: Literal["depotctl", "acnportal"] = Field(
        "depotctl",
        description="depotctl: a kind: Tariff YAML document; acnportal: an acnportal "
        "tariff JSON (schedule[] with effective_start/end, dow_mask, times, tariffs, "
        "demand_charge), read as is.",
    )
