"""The simulated battery (``adapter: {type: simulated}``), driven by the controller's
clock.

It follows its setpoint within its power limits and its state-of-charge window:
charging at P W stores P × the charge efficiency per hour; discharging at P W takes
P ÷ the discharge efficiency out; at the window's edge its power falls to 0 (it holds
its setpoint, and follows it again once it may). Its energy is integrated between
reads and commands from the clock, so a test that advances a paused clock moves it.

Two faults for tests and drills: :attr:`SimulatedBattery.refusal` makes it reject
every setpoint with that reason; :attr:`SimulatedBattery.silent` makes every read
fail (its meter goes stale).
"""

from __future__ import annotations

from depotctl.controller.clock import Clock
from depotctl.controller.storage_port import BatteryReading, BatteryUnreachable, SetpointAnswer
from depotctl.domain.chargers import CommandOutcome
from depotctl.domain.topology import StorageSpec


class SimulatedBattery:
    """One simulated battery (see the module); it starts at ``soc`` (a fraction; the
    site's ``initial_soc`` when None), idle."""

    def __init__(self, spec: StorageSpec, clock: Clock, *, soc: float | None = None) -> None:
        self.spec = spec
        self.clock = clock
        start = spec.initial_soc if soc is None else soc
        self.energy_wh = min(max(start, 0.0), 1.0) * spec.capacity_wh
        #: what it was last told (W, charge +), within its power limits
        self.setpoint_w = 0.0
        #: reject every setpoint with this reason (None: accept)
        self.refusal: str | None = None
        #: every read fails (its meter is silent)
        self.silent = False
        self._at = clock.now()

    @property
    def battery_id(self) -> str:
        return self.spec.id

    @property
    def soc(self) -> float:
        """Its state of charge now (a fraction of its capacity)."""
        self._advance()
        return self.energy_wh / self.spec.capacity_wh

    def power_w(self) -> float:
        """Its net power now: the setpoint, or 0 at the edge of its window."""
        self._advance()
        return self._power()

    async def command(self, setpoint_w: float) -> SetpointAnswer:
        if self.refusal is not None:
            return SetpointAnswer(CommandOutcome.REJECTED, self.refusal)
        self._advance()
        self.setpoint_w = min(max(setpoint_w, -self.spec.max_discharge_w), self.spec.max_charge_w)
        return SetpointAnswer(CommandOutcome.ACCEPTED)

    async def read(self) -> BatteryReading:
        if self.silent:
            raise BatteryUnreachable(
                f"battery {self.spec.id!r}: the simulated meter is silent (a test's fault)"
            )
        self._advance()
        return BatteryReading(self._power(), self.energy_wh / self.spec.capacity_wh, self._at)

    def _bounds_wh(self) -> tuple[float, float]:
        spec = self.spec
        return spec.min_soc * spec.capacity_wh, spec.max_soc * spec.capacity_wh

    def _power(self) -> float:
        low, high = self._bounds_wh()
        if self.setpoint_w > 0 and self.energy_wh >= high:
            return 0.0
        if self.setpoint_w < 0 and self.energy_wh <= low:
            return 0.0
        return self.setpoint_w

    def _advance(self) -> None:
        """Integrate its energy from the last instant to the clock's now."""
        now = self.clock.now()
        hours = max((now - self._at).total_seconds(), 0.0) / 3600.0
        self._at = max(now, self._at)
        power = self._power()
        low, high = self._bounds_wh()
        if power > 0:
            stored = power * self.spec.charge_efficiency * hours
            self.energy_wh = min(self.energy_wh + stored, max(high, self.energy_wh))
        elif power < 0:
            taken = -power / self.spec.discharge_efficiency * hours
            self.energy_wh = max(self.energy_wh - taken, min(low, self.energy_wh))
