"""The controller's limits, sent to chargers as OCPP charging profiles.

:class:`OcppDispatcher` gives every charger a :class:`~.queue.ChargerQueue` of its
own, so a charger that never answers stalls nobody but itself: ``send`` queues the
commands and returns at once, and each outcome — ``accepted``, ``rejected`` (with
the charger's status, or its CallError's code and description), ``timeout`` or
``offline`` — goes to the caller's report as soon as it is known.

Which increases may go out while a related decrease is unanswered is the control
loop's to decide (it sends such an increase only when it was computed with that
neighbour at its previous, higher limit); the dispatcher keeps each charger's own
order: decreases before increases.

Beside ``send``:

- ``renew(in_force, report)``, once per control cycle: dynamic profiles hold for
  ``validity_s`` only (so a charger lapses to its fallback if the controller dies);
  an unchanged limit is sent again once less than half its validity is left.
- ``on_connected(link)``, after each boot or reconnect: read the rate unit (unless
  configured), then send the fallback and the max profile; the report goes to
  ``on_connect``. A fallback refused or unanswered is sent again with backoff for as
  long as the connection lasts.

Every request and answer is kept in :attr:`OcppDispatcher.log`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from depotctl.domain.commands import LimitCommand
from depotctl.protocols.ocpp.commands import Clock, ConnectReport
from depotctl.protocols.ocpp.link import ChargerLink
from depotctl.protocols.ocpp.message_log import MessageLog
from depotctl.protocols.ocpp.queue import ChargerQueue, Report, Timing
from depotctl.protocols.ocpp.round_trips import RoundTrips

#: five-second timeouts, thirty-second profiles, retries from five seconds
DEFAULT_TIMING = Timing()


class OcppDispatcher:
    """Sends limits to the chargers that :meth:`on_connected` was told of."""

    def __init__(
        self,
        clock: Clock,
        timing: Timing = DEFAULT_TIMING,
        *,
        log_size: int = 10_000,
        on_connect: Callable[[ConnectReport], None] | None = None,
    ) -> None:
        self.clock = clock
        self.timing = timing
        self.on_connect = on_connect
        self.log = MessageLog(log_size)
        #: how long answers take, for every queue (with a wall ceiling to wait up to)
        self.round_trips = (
            RoundTrips(timing.min_wall_timeout_s, timing.max_wall_timeout_s)
            if timing.max_wall_timeout_s > 0
            else None
        )
        self._queues: dict[str, ChargerQueue] = {}

    def send(self, commands: Sequence[LimitCommand], report: Report) -> None:
        """Queue ``commands`` (at most one per EVSE) on their chargers' queues."""
        for command in commands:
            self._queue(command.charger_id).submit(command, report)

    def renew(self, in_force: Mapping[str, float], report: Report) -> int:
        """Renew the limits of ``in_force`` (by EVSE: what the controller holds in
        force, commands out excluded) whose profiles lapse within half their validity;
        how many were queued."""
        queued = 0
        for evse_id, limit in in_force.items():
            charger_id = evse_id.split("/", 1)[0]
            queue = self._queues.get(charger_id)
            if queue is not None and queue.renew(evse_id, limit, report):
                queued += 1
        return queued

    def retrying(self) -> frozenset[str]:
        """The EVSEs with a retry under way."""
        return frozenset().union(*(q.retrying() for q in self._queues.values()))

    async def on_connected(self, link: ChargerLink) -> None:
        """The OCPP server's ``on_connected`` hook: the charger can take calls."""
        self._queue(link.charge_point.charger_id).connected(link)

    async def close(self) -> None:
        """Stop every queue."""
        queues, self._queues = list(self._queues.values()), {}
        for queue in queues:
            await queue.close()

    def _queue(self, charger_id: str) -> ChargerQueue:
        queue = self._queues.get(charger_id)
        if queue is None:
            queue = self._queues[charger_id] = ChargerQueue(
                charger_id,
                self.clock,
                self.timing,
                self.log,
                on_connect=self._connected,
                round_trips=self.round_trips,
            )
            queue.start()
        return queue

    def _connected(self, report: ConnectReport) -> None:
        if self.on_connect is not None:
            self.on_connect(report)
