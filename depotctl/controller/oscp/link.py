"""The controller's side of its OSCP links: registering, delivering the outbox, and
heartbeats, as one asyncio task.

Each pass (every :data:`PASS_S` of wall time, or at once when woken):

- a source of the site with no registration, and none queued, gets this
  controller's ``register`` (with the source's initial token) — so a source added
  by ``apply`` registers at once;
- a registered source's measurements of each period due are queued
  (:mod:`.measurements`);
- each source's due messages go out oldest first; a delivery that fails is tried
  again after a back-off (5 s doubling to 5 min of the controller's time, at least
  1 s of wall time), a refusal for good is dropped — both journaled — and a later
  message of the same source waits its turn (``register`` before ``handshake``);
- a registered peer that asked for heartbeats gets one every interval it asked,
  naming ``offline_mode_at``: three intervals on. Heartbeats are not queued: a
  late one is worthless.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import uuid
from dataclasses import replace
from datetime import datetime, timedelta

from depotctl.controller.oscp.events import ControllerCapacityProviderEvents
from depotctl.controller.oscp.measurements import group_points, is_due, queue_due
from depotctl.controller.oscp.peers import OscpPeer
from depotctl.controller.store import JournalKind, journal_entry
from depotctl.controller.store.oscp import NewOutboxMessage, OutboxMessage
from depotctl.protocols.oscp.messages import Heartbeat
from depotctl.protocols.oscp.peer import CapacityProviderClient, Delivery

log = logging.getLogger("depotctl.oscp")

#: Wall time between passes when nothing wakes the link.
PASS_S = 0.1
#: Back-off of a failed delivery, in the controller's time.
RETRY_FIRST_S = 5.0
RETRY_MAX_S = 300.0
#: A heartbeat's ``offline_mode_at``, in heartbeat intervals from its sending.
OFFLINE_AFTER_INTERVALS = 3


class OscpLink:
    """Registers, delivers and sends heartbeats for every OSCP source of the site."""

    def __init__(
        self, events: ControllerCapacityProviderEvents, client: CapacityProviderClient
    ) -> None:
        self.events = events
        self.client = client
        self._woken = asyncio.Event()
        self._next_heartbeat: dict[str, datetime] = {}
        self._heartbeats_failing: set[str] = set()
        events.wake = self._woken.set

    async def run(self, stop: asyncio.Event) -> None:
        """Pass after pass until ``stop`` is set; a failing pass is logged, never fatal."""
        while not stop.is_set():
            try:
                await self.one_pass()
            except Exception:  # a bug here must not stop the controller
                log.exception("OSCP link pass failed")
            self._woken.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._woken.wait(), PASS_S)
        await self.client.aclose()

    async def one_pass(self) -> None:
        """Register, deliver and send heartbeats once."""
        self.register_unregistered()
        self.queue_measurements()
        await self.deliver_due()
        await self.send_heartbeats()

    def register_unregistered(self) -> None:
        now = self.events.now()
        controller = self.events.controller
        for source, peer in self.events.peers().items():
            record = controller.units().oscp.get(source)  # a read: no transaction a pass
            if record.registered_at is not None or record.awaiting_register:
                continue
            with controller.units() as uow:
                record = uow.oscp.get(source)
                queued = any(m.queued.message == "register" for m in uow.oscp.outbox(source))
                if record.registered_at is not None or record.awaiting_register or queued:
                    continue
                registration = self.events.registration(source)
                self.events.queue(uow, source, registration, now, initial_token=True)
                uow.oscp.put(replace(record, awaiting_register=True))
                log.info("OSCP source %s: registering at %s", source, peer.base_url)

    def queue_measurements(self) -> None:
        controller, now = self.events.controller, self.events.now()
        for peer in self.events.peers().values():
            reading = controller.units()  # no transaction unless a period is due
            if not is_due(reading, peer, reading.oscp.get(peer.source), now):
                continue
            points = group_points(controller, peer)
            with controller.units() as uow:
                entries = queue_due(uow, peer, points, uow.oscp.get(peer.source), now)
                if entries:
                    uow.journal.record(entries)

    async def deliver_due(self) -> None:
        now = self.events.now()
        peers = self.events.peers()
        blocked: set[str] = set()
        for waiting in self.events.controller.units().oscp.outbox():
            source = waiting.queued.source
            if source in blocked or waiting.next_attempt_at > now:
                blocked.add(source)
                continue
            peer = peers.get(source)
            if peer is None:  # the source left the site: nobody to send to
                blocked.add(source)
                continue
            delivery = await self._send(waiting.queued, peer)
            if not delivery.acknowledged:
                blocked.add(source)
            self._settle(waiting, delivery)

    async def _send(self, message: NewOutboxMessage, peer: OscpPeer) -> Delivery:
        record = self.events.controller.units().oscp.get(message.source)
        token = (
            self.events.initial_token(peer)
            if message.initial_token
            else self.events.tokens.theirs(message.source)
        )
        if token is None:
            return Delivery(None, f"no token to present to source {message.source}")
        base_url = peer.base_url if message.initial_token else record.base_url or peer.base_url
        return await self.client.send(
            base_url,
            message.message,
            message.body,
            token=token,
            request_id=message.request_id,
            correlation_id=message.correlation_id,
            quirks=peer.quirks,
        )

    def _settle(self, waiting: OutboxMessage, delivery: Delivery) -> None:
        message = waiting.queued
        controller = self.events.controller
        now = self.events.now()
        with controller.units() as uow:
            if delivery.acknowledged:
                uow.oscp.delivered(waiting.id)
                return
            if delivery.final:
                uow.oscp.delivered(waiting.id)
                what = f"refused for good, dropped: {delivery.error}"
            else:
                backoff = min(RETRY_MAX_S, RETRY_FIRST_S * 2**waiting.attempts)
                wall_floor = controller.clock.speed  # one wall second
                retry_at = now + timedelta(seconds=max(backoff, wall_floor))
                uow.oscp.failed(waiting.id, delivery.error or "failed", retry_at)
                if waiting.attempts > 0:  # journal the first failure and the final one only
                    return
                what = f"not delivered, tried again from {retry_at.isoformat()}: {delivery.error}"
            uow.journal.record(
                [
                    journal_entry(
                        JournalKind.OSCP_DELIVERY,
                        f"{message.message} to source {message.source} {what}",
                        at=now,
                        data={
                            "source": message.source,
                            "message": message.message,
                            "request_id": message.request_id,
                            "status": delivery.status,
                        },
                    )
                ]
            )

    async def send_heartbeats(self) -> None:
        now = self.events.now()
        units = self.events.controller.units()
        for source, peer in self.events.peers().items():
            record = units.oscp.get(source)
            interval = record.heartbeat_interval_s
            token = self.events.tokens.theirs(source)
            if record.registered_at is None or not interval or token is None:
                continue
            due = self._next_heartbeat.get(source)
            if due is not None and now < due:
                continue
            offline_mode_at = now + timedelta(seconds=OFFLINE_AFTER_INTERVALS * interval)
            delivery = await self.client.send(
                record.base_url or peer.base_url,
                Heartbeat.endpoint,
                Heartbeat(offline_mode_at=offline_mode_at).model_dump(mode="json"),
                token=token,
                request_id=str(uuid.uuid4()),
                quirks=peer.quirks,
            )
            self._next_heartbeat[source] = now + timedelta(seconds=interval)
            if delivery.acknowledged:
                if source in self._heartbeats_failing:
                    self._heartbeats_failing.discard(source)
                    log.info("OSCP heartbeats to source %s delivered again", source)
            elif source not in self._heartbeats_failing:  # once, not every interval
                self._heartbeats_failing.add(source)
                log.warning("OSCP heartbeat to source %s: %s", source, delivery.error)
