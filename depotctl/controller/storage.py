"""The site's batteries under the controller: each cycle, the plan's setpoint for the
block now, sent safely; each battery read, into the controller's telemetry.

A battery's target is the usable plan's setpoint for the block now (W, charge +); with
no usable plan (none, failed, stale) it is 0: idle. What goes out depends on what the
allocation counts the battery at (its metered power, or its maximum charging power
when stale — never a setpoint, :mod:`depotctl.engine.asset_draw`):

- a target at or below that takes load off: it goes out at once, before the cycle's
  EVSE commands;
- a target above it adds load: it goes out only when no EVSE command is out (the
  cycle's decreases answered first; the next cycle runs as soon as they are), and at
  most up to the room the allocation left on the battery's path — its own count plus
  the least headroom of every power and current limit above it — never above.
  Meanwhile the battery is held at no more than it counts at.

A setpoint is in force only once the battery accepts it; until then (and after a
refusal, a timeout or an unreachable adapter) the battery counts at its metered power,
and the setpoint is asked again next cycle. Each battery is read every cycle, its
reading stored under its meter (or its own id) like any metered node's; a read that
fails stores nothing, and the reading goes stale. The journal says each change of
target once (``storage.setpoint``: the plan's or idle, and when the room clamps it),
and each refusal once (``storage.refused``).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from depotctl.controller.clock import Clock
from depotctl.controller.service import Controller, LiveState
from depotctl.controller.storage_port import BatteryPort, BatteryReading, BatteryUnreachable
from depotctl.controller.storage_sim import SimulatedBattery
from depotctl.controller.store import NewJournalEntry, journal_entry
from depotctl.domain.phases import load_current
from depotctl.domain.telemetry import Reading
from depotctl.domain.topology import StorageSpec, Topology
from depotctl.engine.allocation import LimitKind
from depotctl.engine.asset_draw import storage_draw
from depotctl.engine.phasors import FACET_COS

if TYPE_CHECKING:
    from depotctl.controller.loop import ControlLoop

log = logging.getLogger("depotctl.controller")

#: a setpoint within this of the one asked is not sent again (W)
RESEND_W = 1.0
#: how long (wall seconds) a battery has to answer a setpoint or a read
ANSWER_S = 5.0


class StorageKind(StrEnum):
    """The batteries' journal kinds."""

    SETPOINT = "storage.setpoint"
    REFUSED = "storage.refused"


@dataclass(frozen=True, slots=True)
class Steer:
    """One battery's decision in a cycle: its target and why, and what goes out (None:
    nothing this cycle), with the room that clamped it, if any (W)."""

    battery_id: str
    target_w: float
    why: str
    setpoint_w: float | None
    clamped_to_w: float | None = None


class Batteries:
    """The batteries of ``controller``'s site, each through its port (see the module)."""

    def __init__(self, controller: Controller, ports: Mapping[str, BatteryPort]) -> None:
        self.controller = controller
        self.ports = dict(ports)
        #: the latest reading of each battery that answered
        self.readings: dict[str, BatteryReading] = {}
        #: the setpoint each battery last accepted (W)
        self.accepted: dict[str, float] = {}
        self._asked: dict[str, float] = {}
        self._said: dict[str, tuple[float, str, bool]] = {}
        self._refused: dict[str, str] = {}
        self._locks: dict[str, asyncio.Lock] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    @classmethod
    def simulated(cls, controller: Controller) -> Batteries:
        """A simulated battery for every storage node of the site in force whose
        adapter is ``simulated``."""
        applied = controller.require_site()
        return cls(controller, simulated_ports(applied.topology, controller.clock))

    def attach(self, loop: ControlLoop) -> Batteries:
        """Steer the batteries in ``loop``'s cycles, and plan from their energy."""
        loop.batteries = self
        if self.controller.planning is not None:
            self.controller.planning.storage_wh = self.energy_wh
        return self

    def energy_wh(self) -> dict[str, float]:
        """What each battery read fresh holds now (Wh): the planner's start."""
        applied = self.controller.applied
        if applied is None:
            return {}
        now, stale_after = self.controller.clock.now(), applied.policy.stale_after_s
        energy = {}
        for battery_id, reading in list(self.readings.items()):  # read from the solver's thread
            spec = applied.topology.storage.get(battery_id)
            if spec is not None and abs((now - reading.at).total_seconds()) <= stale_after:
                energy[battery_id] = reading.soc * spec.capacity_wh
        return energy

    # -- each cycle -------------------------------------------------------------------

    def steer(self, live: LiveState, *, evse_commands_out: bool) -> list[Steer]:
        """Decide and send each battery's setpoint for ``live`` (see the module), then
        read every battery; needs a running event loop. A failure is logged: the
        batteries keep counting at their readings."""
        try:
            return self._steer(live, evse_commands_out=evse_commands_out)
        except Exception:
            log.exception("steering the batteries failed")
            return []

    def _steer(self, live: LiveState, *, evse_commands_out: bool) -> list[Steer]:
        if not self.ports:
            return []
        decisions = [
            self.decide(live, battery, evse_commands_out=evse_commands_out)
            for battery in live.snapshot.topology.storage.values()
            if battery.id in self.ports
        ]
        entries = [e for d in decisions if (e := self._said_entry(live, d)) is not None]
        if entries:
            with self.controller.units() as uow:
                uow.journal.record(entries)
        for decision in decisions:
            if decision.setpoint_w is not None:
                self._asked[decision.battery_id] = decision.setpoint_w
        self._spawn(self._round(live.snapshot.topology, decisions))
        return decisions

    def decide(self, live: LiveState, battery: StorageSpec, *, evse_commands_out: bool) -> Steer:
        """What ``battery`` is told in ``live``'s cycle (see the module)."""
        target, why = self.target(live, battery)
        counted = storage_draw(live.snapshot, battery)[1]
        if target <= counted:
            setpoint, clamp = target, None
        elif evse_commands_out:
            setpoint, clamp = counted, None  # held until the EVSE commands are answered
        else:
            allowed = counted + room_w(live, battery)
            setpoint, clamp = min(target, allowed), (allowed if allowed < target else None)
        asked = self._asked.get(battery.id)
        if asked is not None and abs(asked - setpoint) < RESEND_W:
            return Steer(battery.id, target, why, None, clamp)
        return Steer(battery.id, target, why, setpoint, clamp)

    def target(self, live: LiveState, battery: StorageSpec) -> tuple[float, str]:
        """The usable plan's setpoint for ``battery`` now, or 0 (idle), and why."""
        at = live.snapshot.at
        planning = self.controller.planning
        round_ = planning.usable(at) if planning is not None else None
        planned = round_.plan.setpoint_at(battery.id, at) if round_ and round_.plan else None
        if planned is None:
            return 0.0, "idle: no usable plan for it"
        planned = min(max(planned, -battery.max_discharge_w), battery.max_charge_w)
        return planned, "the plan's for the block now"

    async def settled(self) -> None:
        """Wait for every command and read started so far."""
        while self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)

    # -- commands and reads -----------------------------------------------------------

    def _spawn(self, work: object) -> None:
        assert asyncio.iscoroutine(work)
        task: asyncio.Task[None] = asyncio.get_running_loop().create_task(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _round(self, topology: Topology, decisions: list[Steer]) -> None:
        for decision in decisions:
            if decision.setpoint_w is not None:
                await self._command(decision.battery_id, decision.setpoint_w)
        await self.poll(topology)

    async def poll(self, topology: Topology | None = None) -> None:
        """Read every battery and store its reading (one that fails: nothing), for
        ``topology`` (None: the site in force; nothing without one)."""
        if topology is None:
            applied = self.controller.applied
            if applied is None:
                return
            topology = applied.topology
        readings = []
        for battery_id, port in self.ports.items():
            spec = topology.storage.get(battery_id)
            try:
                reading = await asyncio.wait_for(port.read(), ANSWER_S)
            except (BatteryUnreachable, TimeoutError) as error:
                log.warning("battery %s could not be read: %s", battery_id, error or "timeout")
                continue
            self.readings[battery_id] = reading
            if spec is not None:
                node = spec.meter or spec.id
                readings.append(Reading(node, reading.at, power_w=reading.power_w))
        if readings:
            self.controller.units().telemetry.put(readings)

    async def _command(self, battery_id: str, setpoint_w: float) -> None:
        lock = self._locks.setdefault(battery_id, asyncio.Lock())
        async with lock:  # one battery's setpoints go out in the order decided
            try:
                answer = await asyncio.wait_for(
                    self.ports[battery_id].command(setpoint_w), ANSWER_S
                )
                accepted, reason = answer.accepted, answer.reason or answer.outcome.value
            except TimeoutError:
                accepted, reason = False, f"no answer in {ANSWER_S:g} s"
        if accepted:
            self.accepted[battery_id] = setpoint_w
            self._refused.pop(battery_id, None)
            return
        self._asked.pop(battery_id, None)  # asked again next cycle
        if self._refused.get(battery_id) == reason:
            return
        self._refused[battery_id] = reason
        entry = journal_entry(
            StorageKind.REFUSED,
            f"battery {battery_id} did not take setpoint {_kw(setpoint_w)}: {reason}; it "
            "counts at its metered power (at its maximum charge while its reading is "
            "stale), and the setpoint is asked again each cycle",
            at=self.controller.clock.now(),
            data={"battery": battery_id, "setpoint_w": setpoint_w, "reason": reason},
        )
        self.controller.units().journal.record([entry])

    def _said_entry(self, live: LiveState, decision: Steer) -> NewJournalEntry | None:
        said = (round(decision.target_w, 1), decision.why, decision.clamped_to_w is not None)
        if self._said.get(decision.battery_id) == said:
            return None
        self._said[decision.battery_id] = said
        clamp = (
            f"; clamped to {_kw(decision.clamped_to_w)}, the room the allocation left"
            if decision.clamped_to_w is not None
            else ""
        )
        return journal_entry(
            StorageKind.SETPOINT,
            f"battery {decision.battery_id} target {_kw(decision.target_w)} "
            f"({decision.why}){clamp}",
            at=live.snapshot.at,
            data={
                "battery": decision.battery_id,
                "target_w": decision.target_w,
                "clamped_to_w": decision.clamped_to_w,
                "why": decision.why,
            },
        )


def room_w(live: LiveState, battery: StorageSpec) -> float:
    """The most ``battery`` may draw on top of what it counts at (W): the least
    headroom of every power and current limit on its path, currents at its own
    voltage and wiring (conservative above a step-down transformer) and as a line
    bounded by phasor facets counts them (up to 1/``FACET_COS`` of its amps); never
    below 0."""
    constraints = live.allocation.constraints
    amps_per_w = load_current(1.0, battery.connection, battery.voltage_ln) / FACET_COS
    watts_per_amp = 1.0 / amps_per_w
    room = float("inf")
    for node_id in live.snapshot.topology.path_up(battery.parent):
        for kind in LimitKind:
            constraint = constraints.get((node_id, kind))
            if constraint is None:
                continue
            per_w = 1.0 if kind is LimitKind.IMPORT_POWER else watts_per_amp
            room = min(room, constraint.headroom * per_w)
    return max(room, 0.0)


def simulated_ports(topology: Topology, clock: Clock) -> dict[str, BatteryPort]:
    """A simulated battery per storage node of ``topology`` with ``adapter: simulated``."""
    return {
        battery.id: SimulatedBattery(battery, clock)
        for battery in topology.storage.values()
        if battery.adapter == "simulated"
    }


def _kw(watts: float) -> str:
    return f"{watts / 1000.0:.1f} kW"
