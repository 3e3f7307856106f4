"""The physical side of one simulated charger: its EVSEs, the vehicles on them, their
energy registers, integrated over the controller's time.

:meth:`Station.advance` integrates exactly between instants: the draw is constant
between profile boundaries and the instants a vehicle becomes full, so the energy
does not depend on how often it is called. The station records its total draw as it
changes (:attr:`Station.drawn`: what its meter saw, at once). No I/O, no clock: time
comes in.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from depotctl.domain.charge_points import ChargePoint, RateUnit
from depotctl.sim.chargers.composite import (
    Electrical,
    EvseInput,
    Running,
    boundaries,
    composite_schedule,
    draws,
)
from depotctl.sim.chargers.draw_record import DrawRecord
from depotctl.sim.chargers.stack import ProfileStack
from depotctl.sim.chargers.vehicles import Vehicle

#: energy still needed below this counts as none (float dust)
FULL_WH = 1e-6


class ChargingState(StrEnum):
    """An EVSE's state, in 2.0.1 terms (1.6 statuses are derived from it)."""

    IDLE = "Idle"  # no vehicle
    EV_CONNECTED = "EVConnected"  # plugged in, not authorised (yet)
    CHARGING = "Charging"
    SUSPENDED_EV = "SuspendedEV"  # the vehicle wants nothing (full)
    SUSPENDED_EVSE = "SuspendedEVSE"  # the limit is 0


@dataclass
class Plug:
    """A vehicle on an EVSE: since when, what it got, its transaction (the one
    begun at the plug-in, or after a reboot the one begun at ``restarted_at``)."""

    vehicle: Vehicle
    plugged_at: datetime
    delivered_wh: float = 0.0
    authorised_at: datetime | None = None
    transaction_id: str | None = None
    meter_start_wh: float = 0.0
    restarted_at: datetime | None = None

    @property
    def begins(self) -> datetime:
        """When its current transaction began (before authorisation)."""
        return self.restarted_at or self.plugged_at

    def forget(self) -> None:
        """The charger rebooted: no transaction, no authorisation (it draws nothing)."""
        self.authorised_at = None
        self.transaction_id = None

    def restart(self, at: datetime, register_wh: float) -> None:
        """A new transaction for the vehicle still plugged in, from ``at``."""
        self.forget()
        self.restarted_at = at
        self.meter_start_wh = register_wh

    @property
    def remaining_wh(self) -> float:
        need = self.vehicle.energy_wh
        return math.inf if need is None else max(0.0, need - self.delivered_wh)

    @property
    def soc_percent(self) -> float | None:
        vehicle = self.vehicle
        if vehicle.battery_wh is None or vehicle.soc_percent is None or vehicle.battery_wh <= 0:
            return None
        return min(100.0, vehicle.soc_percent + 100.0 * self.delivered_wh / vehicle.battery_wh)

    def demand_w(self) -> float:
        """What the vehicle would take now (W): 0 before authorisation or when full."""
        if self.authorised_at is None or self.remaining_wh <= FULL_WH:
            return 0.0
        return math.inf if self.vehicle.max_power_w is None else self.vehicle.max_power_w


@dataclass
class Evse:
    number: int
    rating_w: float
    register_wh: float = 0.0
    plug: Plug | None = None
    draw_w: float = 0.0


class Station:
    """The EVSEs of one charger under its profile stack, integrated up to ``at``."""

    def __init__(self, charge_point: ChargePoint, stack: ProfileStack, at: datetime) -> None:
        self.charge_point = charge_point
        self.stack = stack
        self.at = at
        self.electrical = Electrical(charge_point.watts_per_amp, charge_point.number_phases)
        rating_w = charge_point.watts(charge_point.rating_a)
        self.evses = {e.number: Evse(e.number, rating_w) for e in charge_point.evses}
        #: the total draw, each instant it changed (from ``at`` on)
        self.drawn = DrawRecord()
        self._refresh()

    # Vehicles

    def plug_in(self, number: int, vehicle: Vehicle, at: datetime) -> Plug:
        self.advance(at)
        evse = self.evses[number]
        if evse.plug is not None:
            raise ValueError(f"EVSE {number} is taken by {evse.plug.vehicle.id}")
        evse.plug = Plug(vehicle, at, meter_start_wh=evse.register_wh)
        self._refresh()
        return evse.plug

    def authorise(self, number: int, at: datetime) -> None:
        """The vehicle on ``number`` may draw from ``at`` on."""
        self.advance(at)
        plug = self.evses[number].plug
        if plug is not None and plug.authorised_at is None:
            plug.authorised_at = at
        self._refresh()

    def unplug(self, number: int, at: datetime) -> Plug | None:
        """The vehicle leaves; its transaction's ``TxProfile``s go with it."""
        self.advance(at)
        evse = self.evses[number]
        plug, evse.plug = evse.plug, None
        self.stack.end_transaction(number)
        self._refresh()
        return plug

    def free(self) -> list[int]:
        return [n for n, e in self.evses.items() if e.plug is None]

    # State

    def state(self, number: int) -> ChargingState:
        evse = self.evses[number]
        plug = evse.plug
        if plug is None:
            return ChargingState.IDLE
        if plug.authorised_at is None:
            return ChargingState.EV_CONNECTED
        if evse.draw_w > 0:
            return ChargingState.CHARGING
        if plug.remaining_wh <= FULL_WH or (plug.vehicle.max_power_w or 1.0) <= 0:
            return ChargingState.SUSPENDED_EV
        return ChargingState.SUSPENDED_EVSE

    def transactions(self) -> dict[int, str | None]:
        """The transaction id per EVSE with a vehicle (None: not known yet)."""
        return {n: e.plug.transaction_id for n, e in self.evses.items() if e.plug is not None}

    def inputs(self) -> dict[int, EvseInput]:
        return {
            n: EvseInput(
                rating_w=e.rating_w,
                demand_w=e.plug.demand_w() if e.plug else 0.0,
                running=_running(e.plug),
            )
            for n, e in self.evses.items()
        }

    def total_w(self) -> float:
        return sum(e.draw_w for e in self.evses.values())

    def composite(self, evse: int, duration_s: float, unit: RateUnit) -> list[tuple[float, float]]:
        """``GetCompositeSchedule`` from ``at``: (seconds, limit in ``unit``)."""
        return composite_schedule(
            self.stack.profiles, self.inputs(), evse, self.at, duration_s, self.electrical, unit
        )

    # Time

    def changed(self, at: datetime) -> None:
        """The profiles changed at ``at`` (integrate up to it first)."""
        self.advance(at)
        self._refresh()

    def advance(self, to: datetime) -> None:
        """Integrate every EVSE's energy from ``at`` to ``to``."""
        if to <= self.at:
            return
        starts = [r.started_at for r in (_running(e.plug) for e in self.evses.values()) if r]
        edges = [*boundaries(self.stack.profiles, self.at, to, starts), to]
        t = self.at
        for edge in edges:
            while t < edge:
                t = self._step(t, edge)
        self.at = to
        self._refresh()

    def _step(self, t: datetime, edge: datetime) -> datetime:
        """Integrate from ``t`` at the draws of ``t`` until ``edge`` or until the first
        vehicle becomes full, whichever is first; returns where it got to."""
        now = draws(self.stack.profiles, self.inputs(), t, self.electrical)
        end = edge
        for number, watts in now.items():
            plug = self.evses[number].plug
            if watts > 0 and plug is not None and math.isfinite(plug.remaining_wh):
                full = t + timedelta(hours=plug.remaining_wh / watts)
                end = min(end, max(full, t + timedelta(microseconds=1)))
        hours = (end - t).total_seconds() / 3600.0
        for number, watts in now.items():
            evse = self.evses[number]
            evse.draw_w = watts
            if watts <= 0 or evse.plug is None:
                continue
            energy = min(watts * hours, evse.plug.remaining_wh)
            evse.plug.delivered_wh += energy
            evse.register_wh += energy
        self.drawn.note(t, self.total_w())
        return end

    def _refresh(self) -> None:
        now = draws(self.stack.profiles, self.inputs(), self.at, self.electrical)
        for number, watts in now.items():
            self.evses[number].draw_w = watts
        self.drawn.note(self.at, self.total_w())


def _running(plug: Plug | None) -> Running | None:
    if plug is None:
        return None
    return Running(plug.transaction_id, plug.authorised_at or plug.begins)
