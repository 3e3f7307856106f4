"""The control loop's :class:`~depotctl.controller.dispatch.Dispatcher` over OCPP.

A thin adapter on :class:`~depotctl.protocols.ocpp.dispatcher.OcppDispatcher`: the
controller's ``LimitCommand`` already has everything the protocol side needs, so
``dispatch`` passes the commands through and wraps the outcomes. What the protocol
side sends of its own accord (renewals, retries) comes back as ``Outcome``\\ s of
``LimitCommand``\\ s stamped with the clock's time.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

from depotctl.controller.clock import Clock
from depotctl.controller.dispatch import LimitCommand, Outcome
from depotctl.protocols.ocpp.commands import ConnectReport, DispatchOutcome, ProfileCommand
from depotctl.protocols.ocpp.dispatcher import OcppDispatcher
from depotctl.protocols.ocpp.link import ChargerLink


class OcppDispatch:
    """Dispatches through ``ocpp`` (the protocol-level dispatcher, built here).

    ``on_outcome`` receives each retry's outcome as it happens (an accepted one makes
    its charger controllable again); ``on_connect`` each charger's connect report.
    Both run on the event loop and must not block."""

    def __init__(
        self,
        links: Callable[[], Mapping[str, ChargerLink]],
        clock: Clock,
        *,
        timeout_s: float = 5.0,
        validity_s: float = 30.0,
        on_outcome: Callable[[Outcome], None] | None = None,
        on_connect: Callable[[ConnectReport], None] | None = None,
    ) -> None:
        self.clock = clock
        self.on_outcome = on_outcome
        self.ocpp = OcppDispatcher(
            links,
            clock,
            timeout_s=timeout_s,
            validity_s=validity_s,
            on_retry=self._retried,
            on_connect=on_connect,
        )

    async def dispatch(self, commands: Sequence[LimitCommand]) -> list[Outcome]:
        results = await self.ocpp.dispatch(commands)
        return [Outcome(r.command, r.result, r.reason) for r in results]

    async def renew(self, in_force: Mapping[str, float]) -> list[Outcome]:
        """Renew the unchanged limits near the end of their validity (once a cycle)."""
        return [self.outcome(r) for r in await self.ocpp.renew(in_force)]

    async def on_connected(self, link: ChargerLink) -> None:
        """The OCPP server's ``on_connected`` hook (after a boot or reconnect): the
        fallback, the max profile; the report goes to ``on_connect``."""
        await self.ocpp.on_connected(link)

    async def close(self) -> None:
        await self.ocpp.close()

    def outcome(self, result: DispatchOutcome[ProfileCommand]) -> Outcome:
        command = result.command
        return Outcome(
            LimitCommand(
                command.evse_id,
                command.charger_id,
                command.limit_a,
                command.previous_a,
                self.clock.now(),
                path=command.path,
            ),
            result.result,
            result.reason,
        )

    def _retried(self, result: DispatchOutcome[ProfileCommand]) -> None:
        if self.on_outcome is not None:
            self.on_outcome(self.outcome(result))
