"""The simulated Capacity Provider's side of the link, one pass at a time, on the
controller's clock.

Each pass (every :data:`PASS_S` of wall time, or at once when a request arrives):

- silent (``--silent-at``/``--silent-for``): nothing is sent, and the endpoints answer
  503, until the silence ends;
- the answers the endpoints queued go out: a ``register`` of this provider's to the
  controller's, a ``handshake_acknowledge`` to its handshake;
- unregistered, and no registration from the controller within
  :data:`REGISTER_WAIT_S` of the start, this provider registers itself (the initial
  token), again every :data:`REGISTER_WAIT_S` until it is;
- registered, a heartbeat every interval the controller asked for at its handshake,
  naming ``offline_mode_at`` (the site's ``offline_after`` on, else three intervals);
- registered, each forecast of the profile whose time has come is sent; one the
  controller cannot take for now is tried again, one it refuses for good is recorded
  with its reason.

A request that goes unanswered (or answered 5xx) holds everything back for
:data:`HOLD_S` of wall time, so that a controller that is down is not hammered.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from depotctl.protocols.oscp.messages import (
    Heartbeat,
    OscpMessage,
    Register,
    UpdateGroupCapacityForecast,
)
from depotctl.protocols.oscp.peer import CapacityProviderClient, Delivery
from depotctl.sim.chargers.simtime import SimTime
from depotctl.sim.derms.profile import PlannedForecast
from depotctl.sim.derms.provider import CapacityProvider, body_of

log = logging.getLogger("depotctl.sim.derms")

#: Wall time between passes when no request wakes the link.
PASS_S = 0.05
#: Wall time nothing is sent after a request went unanswered (the controller down).
HOLD_S = 1.0
#: The controller's time to wait for its registration before registering: longer than
#: the controller waits between its own attempts (5 min at the most).
REGISTER_WAIT_S = 330.0
#: ``offline_mode_at`` in heartbeat intervals, where the site names no offline_after.
OFFLINE_AFTER_INTERVALS = 3


@dataclass(frozen=True, slots=True)
class Silence:
    """When the provider says nothing: ``[start, end)``; ``end`` None: to the end."""

    start: datetime
    end: datetime | None

    def holds(self, at: datetime) -> bool:
        return self.start <= at and (self.end is None or at < self.end)


@dataclass(frozen=True, slots=True)
class Sent:
    """A message this provider sent and how it went."""

    at: datetime
    endpoint: str
    request_id: str
    body: dict[str, Any]
    delivery: Delivery


@dataclass
class LinkSettings:
    """Where the controller's endpoints are (None: only answer its registration), the
    site's ``offline_after``, the silence on cue and when to stop (the controller's
    time)."""

    controller_url: str | None
    offline_after_s: float | None
    silence: Silence | None = None
    until: datetime | None = None


@dataclass
class ProviderLink:
    """Registers, answers, sends heartbeats and forecasts (see the module)."""

    provider: CapacityProvider
    client: CapacityProviderClient
    time: SimTime
    plan: list[PlannedForecast]
    settings: LinkSettings
    #: the controller's time the run started, which the profile's times count from
    started_at: datetime
    sent: list[Sent] = field(default_factory=list)
    #: the forecasts the controller acknowledged, in the order sent
    forecasts: list[UpdateGroupCapacityForecast] = field(default_factory=list)
    #: the forecasts the controller refused for good, with its reason
    refusals: list[tuple[PlannedForecast, str]] = field(default_factory=list)
    #: when the provider went silent and came back (the controller's time)
    silences: list[tuple[datetime, datetime | None]] = field(default_factory=list)
    _due: list[PlannedForecast] = field(init=False)
    _next_heartbeat: datetime | None = None
    _next_register: datetime = field(init=False)
    _held_until: float = 0.0  # the event loop's time

    def __post_init__(self) -> None:
        self._due = list(self.plan)
        self._next_register = self.started_at + timedelta(seconds=REGISTER_WAIT_S)

    @property
    def heartbeats(self) -> int:
        return sum(1 for s in self.sent if s.endpoint == Heartbeat.endpoint)

    @property
    def done(self) -> bool:
        """Whether ``--until`` has come."""
        until = self.settings.until
        return until is not None and self.time.now() >= until

    async def run(self, stop: asyncio.Event) -> None:
        """Pass after pass until ``stop`` or ``--until``; a failing pass is logged."""
        while not stop.is_set() and not self.done:
            try:
                await self.one_pass()
            except Exception:  # a bug here must not end the simulation silently
                log.exception("a pass of the simulated provider failed")
            self.provider.woken.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self.provider.woken.wait(), PASS_S)

    async def one_pass(self) -> None:
        """Answer, register, send heartbeats and forecasts once (unless silent)."""
        now = self.time.now()
        if self._silent(now) or asyncio.get_running_loop().time() < self._held_until:
            return
        await self._answer()
        provider = self.provider
        if provider.theirs is None or provider.fp_url is None:
            await self._register(now)
            return
        await self._heartbeat(now)
        await self._forecasts(now)

    def _silent(self, now: datetime) -> bool:
        silence = self.settings.silence
        silent = silence is not None and silence.holds(now)
        if silent and not self.provider.silent:
            log.warning("silent, as asked (--silent-at): no heartbeats, every request 503")
            self.silences.append((now, None))
        elif not silent and self.provider.silent:
            log.warning("heard from again (--silent-for is over): a heartbeat at once")
            self.silences[-1] = (self.silences[-1][0], now)
            self._next_heartbeat = now  # at once
        self.provider.silent = silent
        return silent

    async def _answer(self) -> None:
        provider = self.provider
        while provider.answers and provider.fp_url is not None and provider.theirs is not None:
            answer = provider.answers[0]
            delivery = await self._send(answer.message, correlation_id=answer.correlation_id)
            if isinstance(answer.message, Register):
                if delivery.acknowledged:
                    provider.token_acknowledged(answer.message.token)
                elif delivery.final:
                    provider.token_refused(answer.message.token)
            if not delivery.final:
                return  # tried again the next pass
            provider.answers.pop(0)

    async def _register(self, now: datetime) -> None:
        url = self.settings.controller_url
        if url is None or now < self._next_register:
            return
        self._next_register = now + timedelta(seconds=REGISTER_WAIT_S)
        registration = self.provider.registration()
        log.info("registering at %s", url)
        delivery = await self._send(registration, base_url=url, token=self.provider.initial_token)
        if delivery.final and not delivery.acknowledged:
            self.provider.token_refused(registration.token)

    async def _heartbeat(self, now: datetime) -> None:
        interval = self.provider.heartbeat_interval_s
        if not interval or (self._next_heartbeat is not None and now < self._next_heartbeat):
            return
        offline_after = self.settings.offline_after_s or OFFLINE_AFTER_INTERVALS * interval
        beat = Heartbeat(offline_mode_at=now + timedelta(seconds=offline_after))
        self._next_heartbeat = now + timedelta(seconds=interval)
        await self._send(beat)

    async def _forecasts(self, now: datetime) -> None:
        while self._due and self._due[0].send_at <= now:
            planned = self._due[0]
            delivery = await self._send(planned.message)
            if not delivery.final:
                return  # the next pass tries again
            self._due.pop(0)
            if delivery.acknowledged:
                self.forecasts.append(planned.message)
            else:
                self.refusals.append((planned, delivery.error or f"{delivery.status}"))
                log.warning("forecast refused: %s", delivery.error)

    async def _send(
        self,
        message: OscpMessage,
        *,
        correlation_id: str | None = None,
        base_url: str | None = None,
        token: str | None = None,
    ) -> Delivery:
        url = base_url or self.provider.fp_url
        presented = token or self.provider.theirs
        assert url is not None and presented is not None
        body = body_of(message)
        request_id = str(uuid.uuid4())
        delivery = await self.client.send(
            url,
            message.endpoint,
            body,
            token=presented,
            request_id=request_id,
            correlation_id=correlation_id,
        )
        self.sent.append(Sent(self.time.now(), message.endpoint, request_id, body, delivery))
        if not delivery.acknowledged:
            log.info("%s to %s: %s", message.endpoint, url, delivery.error)
        if delivery.status is None or delivery.status >= 500:  # down, or overwhelmed
            self._held_until = asyncio.get_running_loop().time() + HOLD_S
        return delivery
