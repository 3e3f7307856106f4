"""What the dispatcher is asked to send, and what came of it.

The dispatcher accepts any command with the attributes of :class:`LimitOrder` (the
controller's ``LimitCommand`` has them), so the protocol layer never imports the
controller; what it sends of its own accord (renewals, retries) is a
:class:`ProfileCommand`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Generic, Protocol, TypeVar

from depotctl.domain.charge_points import RateUnit
from depotctl.domain.chargers import CommandOutcome


class Clock(Protocol):
    def now(self) -> datetime: ...

    @property
    def speed(self) -> float: ...


class LimitOrder(Protocol):
    """What the dispatcher needs of a command (the controller's ``LimitCommand`` is
    one): set ``evse_id`` to ``limit_a`` amps per line; ``previous_a`` is the limit in
    force; ``path`` the charger and every node above it."""

    @property
    def evse_id(self) -> str: ...

    @property
    def charger_id(self) -> str: ...

    @property
    def limit_a(self) -> float: ...

    @property
    def previous_a(self) -> float | None: ...

    @property
    def path(self) -> tuple[str, ...]: ...

    @property
    def is_decrease(self) -> bool: ...


C = TypeVar("C", bound=LimitOrder)


@dataclass(frozen=True, slots=True)
class ProfileCommand:
    """A limit the dispatcher sends of its own accord: a renewal (``limit_a`` equals
    ``previous_a``) or a retry."""

    evse_id: str
    charger_id: str
    limit_a: float
    previous_a: float | None
    path: tuple[str, ...] = ()

    @property
    def is_decrease(self) -> bool:
        return self.previous_a is None or self.limit_a < self.previous_a


@dataclass(frozen=True, slots=True)
class DispatchOutcome(Generic[C]):
    command: C
    result: CommandOutcome
    reason: str | None = None


@dataclass(frozen=True, slots=True)
class ConnectReport:
    """What ``on_connected`` did. The charger is controllable once its fallback is
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
