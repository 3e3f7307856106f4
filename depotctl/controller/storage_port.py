"""The port to a battery: what the controller asks of one, whatever speaks to it.

An adapter (the simulated battery of ``adapter: {type: simulated}``; later Modbus or
SunSpec) commands a power setpoint — W at the battery's terminals, above zero charging,
below discharging — and reads the battery's state. Failures are explicit: a command
answers with its :class:`~depotctl.domain.chargers.CommandOutcome` (accepted, or
rejected with the battery's reason, timed out, offline), and a read that fails raises
:class:`BatteryUnreachable`. The controller never assumes a setpoint not accepted is
applied: the battery counts at its metered power, or, with no fresh reading, as
charging at its maximum power.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from depotctl.domain.chargers import CommandOutcome


@dataclass(frozen=True, slots=True)
class BatteryReading:
    """A battery's state at ``at`` (aware, UTC): its net power (W, charge +) and its
    state of charge (a fraction of its usable capacity)."""

    power_w: float
    soc: float
    at: datetime


@dataclass(frozen=True, slots=True)
class SetpointAnswer:
    """What became of a setpoint: its outcome and, unless accepted, why."""

    outcome: CommandOutcome
    reason: str | None = None

    @property
    def accepted(self) -> bool:
        return self.outcome is CommandOutcome.ACCEPTED


class BatteryUnreachable(Exception):
    """A battery that could not be read (its adapter says why)."""


class BatteryPort(Protocol):
    """One battery, as the controller commands and reads it."""

    @property
    def battery_id(self) -> str:
        """The storage node's id in the site file."""
        ...

    async def command(self, setpoint_w: float) -> SetpointAnswer:
        """Ask for ``setpoint_w`` (W, charge +, discharge −) until told otherwise."""
        ...

    async def read(self) -> BatteryReading:
        """Its state now; :class:`BatteryUnreachable` when it cannot be read."""
        ...
