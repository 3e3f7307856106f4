"""Every simulated charger of a site, the scenario's vehicles coming and going, and
the clock they share: what ``depotctl sim chargers`` runs.

Vehicles plug in at their arrival (their EVSE, a free one of their charger, or any
free EVSE) and leave at their departure; times the scenario gave relative to the
start count from the moment the fleet is up (every charger's first connection
over). Shutting down stops every running
transaction (StopTransaction / TransactionEvent Ended), waits a little for the
messages to go, and closes the connections cleanly.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo

from depotctl.sim.chargers.charger import Session, SimulatedCharger
from depotctl.sim.chargers.simtime import ClockFollower, SimTime
from depotctl.sim.chargers.vehicles import Vehicle

#: wall seconds a shutdown waits for the last messages
FLUSH_S = 5.0


@dataclass
class Visit:
    """What became of one vehicle of the scenario."""

    vehicle: Vehicle
    charger: SimulatedCharger | None = None
    session: Session | None = None
    outcome: str = "expected"  # expected, charging, left, no free EVSE, EVSE taken

    @property
    def evse_id(self) -> str | None:
        if self.charger is None or self.session is None:
            return None
        evse = self.charger.charge_point.evse(self.session.evse)
        return evse.evse_id if evse else None

    @property
    def delivered_wh(self) -> float:
        return self.session.plug.delivered_wh if self.session else 0.0


class Fleet:
    """The chargers, the vehicles' visits, the shared time."""

    def __init__(
        self,
        chargers: Iterable[SimulatedCharger],
        time: SimTime,
        vehicles: Iterable[Vehicle] = (),
        follower: ClockFollower | None = None,
        zone: tzinfo = UTC,
    ) -> None:
        self.chargers = list(chargers)
        #: the site's time zone, to show times to people in
        self.zone = zone
        self.time = time
        self.follower = follower
        self.visits = [Visit(vehicle) for vehicle in vehicles]
        self.started_at = time.now()
        #: when every charger's first connection was over (the scenario's start)
        self.ready_at: datetime | None = None
        self.stopped_at: datetime | None = None
        self._stop = asyncio.Event()

    def stop(self) -> None:
        """End :meth:`run` (safe to call from a signal handler)."""
        self._stop.set()

    @property
    def stopping(self) -> bool:
        return self._stop.is_set()

    async def run(self, until: datetime | None = None, *, duration_s: float | None = None) -> None:
        """Run until :meth:`stop`, the controller's time ``until``, or ``duration_s``
        of it after the fleet is up; then shut down.

        The fleet is up once every charger's first connection is over (booted,
        refused or failed; wall time, at most the connection timeouts): at a fast
        clock the connections alone take minutes of the controller's time, so the
        scenario's relative times and ``duration_s`` count from then."""
        runs = [asyncio.create_task(charger.run()) for charger in self.chargers]
        helpers = []
        if self.follower is not None:
            helpers.append(asyncio.create_task(self.follower.run()))
        try:
            if await self._up():
                self.ready_at = self.time.now()
                for visit in self.visits:
                    visit.vehicle = visit.vehicle.anchored(self.ready_at)
                helpers.append(asyncio.create_task(self._scenario()))
                if duration_s is not None:
                    ends = self.ready_at + timedelta(seconds=duration_s)
                    until = ends if until is None else min(until, ends)
                if until is not None:
                    helpers.append(asyncio.create_task(self._stop_at(until)))
                await self._stop.wait()
        finally:
            for task in helpers:
                task.cancel()
            for task in helpers:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            await self._shut_down(runs)

    async def _up(self) -> bool:
        """Wait until the fleet is up; False if it was stopped first."""
        settled = asyncio.create_task(self.settled())
        stopped = asyncio.create_task(self._stop.wait())
        try:
            await asyncio.wait({settled, stopped}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            settled.cancel()
            stopped.cancel()
        return not self._stop.is_set()

    async def _stop_at(self, until: datetime) -> None:
        await self.time.sleep_until(until)
        self._stop.set()

    async def settled(self) -> bool:
        """Wait until every charger's first connection attempt is over (booted,
        failed or refused, or it stays away on request), at most a connection's
        open and answer timeouts (wall); whether they all are."""
        floor = max(
            (c.settings.open_timeout_s + c.settings.response_timeout_s for c in self.chargers),
            default=0.0,
        )
        waits = [charger.settled.wait() for charger in self.chargers]
        try:
            await asyncio.wait_for(asyncio.gather(*waits), floor)
        except TimeoutError:
            return False
        return True

    async def _shut_down(self, runs: list[asyncio.Task[None]]) -> None:
        for charger in self.chargers:
            charger.end_sessions()
        for visit in self.visits:
            if visit.outcome == "charging":
                visit.outcome = "stopped"
        await asyncio.gather(*(charger.flush(FLUSH_S) for charger in self.chargers))
        self.stopped_at = self.time.now()
        for charger in self.chargers:
            charger.close()
        await asyncio.gather(*runs, return_exceptions=True)

    # The scenario

    async def _scenario(self) -> None:
        events: list[tuple[datetime, int, str, int]] = []
        for index, visit in enumerate(self.visits):
            heapq.heappush(events, (visit.vehicle.arrival, index, "arrive", index))
        sequence = len(events)
        while events:
            at, _, kind, index = heapq.heappop(events)
            await self.time.sleep_until(at)
            visit = self.visits[index]
            if kind == "arrive":
                self._arrive(visit)
                departure = visit.vehicle.departure
                if visit.outcome == "charging" and departure is not None:
                    sequence += 1
                    heapq.heappush(events, (departure, sequence, "leave", index))
            elif visit.charger is not None and visit.session is not None:
                visit.charger.unplug(visit.session.evse)
                visit.outcome = "left"

    def _arrive(self, visit: Visit) -> None:
        found = self._place(visit.vehicle)
        if isinstance(found, str):
            visit.outcome = found
            return
        charger, number = found
        visit.charger = charger
        visit.session = charger.plug_in(number, visit.vehicle)
        visit.outcome = "charging"

    def _place(self, vehicle: Vehicle) -> tuple[SimulatedCharger, int] | str:
        """Where ``vehicle`` plugs in, or why it cannot."""
        if vehicle.evse is not None:
            for charger in self.chargers:
                for evse in charger.charge_point.evses:
                    if evse.evse_id == vehicle.evse:
                        if evse.number in charger.station.free():
                            return charger, evse.number
                        return "EVSE taken"
            return "not simulated"
        candidates = [
            c
            for c in self.chargers
            if vehicle.charger is None or c.charge_point.charger_id == vehicle.charger
        ]
        for charger in candidates:
            free = charger.station.free()
            if free:
                return charger, free[0]
        return "no free EVSE"

    # Figures

    def advance(self) -> datetime:
        """Integrate every charger up to now; the time it is."""
        now = self.time.now()
        for charger in self.chargers:
            charger.station.advance(now)
        return now
