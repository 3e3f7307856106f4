"""The simulated generators under ``serve --clock sim``, driven by the controller's
clock (:mod:`depotctl.controller.storage_sim` is the batteries' equivalent).

Each ``generation`` node whose site gives a ``forecast`` produces what the forecast
says at the clock's now (at most its ``peak_w``); its meter reads that as a net import
below zero, stored under its meter (or its own id) like any metered node's reading, so
the live capacity counts it as it would a real meter's (:mod:`depotctl.engine.asset_draw`).
A generator without a forecast, or outside its series' span, is not read: its reading
goes stale and it counts as producing nothing. :meth:`SimulatedGenerators.publish`
reads them all at the clock's now; :meth:`SimulatedGenerators.run` does so every tick
of the controller's clock, so a test that advances a paused clock and publishes moves
them.
"""

from __future__ import annotations

import asyncio
import contextlib
from datetime import datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from depotctl.controller.service import Controller
from depotctl.domain.telemetry import Reading
from depotctl.domain.topology import GenerationSpec, Topology


def generator_reading(
    generator: GenerationSpec, topology: Topology, at: datetime
) -> Reading | None:
    """What ``generator``'s meter reads at ``at`` on its forecast (None: no forecast
    says anything then)."""
    if generator.forecast is None:
        return None
    try:
        zone = ZoneInfo(topology.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        zone = ZoneInfo("UTC")
    made = generator.forecast.watts_at(at, zone)
    if made is None:
        return None
    made = min(max(made, 0.0), generator.peak_w)
    return Reading(generator.meter or generator.id, at, power_w=-made)


class SimulatedGenerators:
    """The site in force's generators on ``controller``'s clock (see the module)."""

    def __init__(self, controller: Controller) -> None:
        self.controller = controller

    def publish(self) -> list[Reading]:
        """Read every generator with a forecast at the clock's now and store the
        readings; the readings stored (none without a site)."""
        applied = self.controller.applied
        if applied is None:
            return []
        topology, at = applied.topology, self.controller.clock.now()
        readings = [
            reading
            for generator in topology.generation.values()
            if (reading := generator_reading(generator, topology, at)) is not None
        ]
        if readings:
            self.controller.units().telemetry.put(readings)
        return readings

    async def run(self, stop: asyncio.Event, tick_s: float) -> None:
        """Publish every ``tick_s`` of the controller's clock until ``stop`` is set."""
        while not stop.is_set():
            self.publish()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), tick_s / self.controller.clock.speed)
