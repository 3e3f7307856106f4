"""What the dispatcher needs of the controller's clock, and what it reports when a
charger connects. The commands and their outcomes are the domain's
(:mod:`depotctl.domain.commands`)."""

from __future__ import annotations

from collections.abc import Awaitable
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from depotctl.domain.charge_points import RateUnit
from depotctl.domain.chargers import CommandOutcome


class Clock(Protocol):
    def now(self) -> datetime: ...

    @property
    def speed(self) -> float: ...

    def sleep(self, seconds: float) -> Awaitable[None]:
        """Something to await that returns once ``seconds`` of this clock have passed
        since the call."""
        ...


@dataclass(frozen=True, slots=True)
class ConnectReport:
    """What the connect routine did. The charger is controllable once its fallback is
    accepted; a rejected max profile is worth a journal line, nothing more."""

    charger_id: str
    ocpp_id: str
    rate_unit: RateUnit
    rate_unit_source: str  # configured | charger | default
    fallback: CommandOutcome
    fallback_reason: str | None
    max_profile: CommandOutcome
    max_profile_reason: str | None

    @property
    def controllable(self) -> bool:
        return self.fallback is CommandOutcome.ACCEPTED
