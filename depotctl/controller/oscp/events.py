"""What the Capacity Providers say, into the controller's store and journal.

:class:`ControllerCapacityProviderEvents` implements the OSCP endpoints' port
(:class:`~depotctl.protocols.oscp.events.CapacityProviderEvents`). Each message is
one unit of work with its request id, so a repeated request changes nothing:

- ``register``: the peer's token (kept in the state directory) and base URL. A
  registration the peer starts (or starts again) is answered with this controller's
  own ``register`` and a fresh token — the one before stops working at once; the
  peer's answer to a registration of this controller's completes it. Either way a
  ``handshake`` follows. ``DELETE register`` forgets both tokens and the queued
  messages; the source's envelopes stay and it goes offline at its deadline;
- ``handshake``: the peer's required behaviour (how often this controller sends
  heartbeats, how it aggregates measurements), acknowledged with this controller's;
- ``heartbeat``: the source is heard from, alive until ``offline_mode_at``;
- ``update_group_capacity_forecast``: :mod:`.forecasts`.

Answers go to the outbox (:mod:`~depotctl.controller.store.oscp`), which the link
(:mod:`.link`) delivers.
"""

from __future__ import annotations

import hmac
import logging
import uuid
from collections.abc import Callable
from dataclasses import replace
from datetime import datetime

from depotctl.controller.oscp.forecasts import take_forecast
from depotctl.controller.oscp.peers import OscpPeer, oscp_peers
from depotctl.controller.oscp.tokens import OscpTokens
from depotctl.controller.service import AppliedSite, Controller
from depotctl.controller.store import JournalKind, NewJournalEntry, UnitOfWork, journal_entry
from depotctl.controller.store.oscp import NewOutboxMessage, PeerRecord
from depotctl.credentials import CredentialMissing, read_password
from depotctl.protocols.oscp.events import Caller, Inbound, OscpRefused
from depotctl.protocols.oscp.messages import (
    Handshake,
    HandshakeAcknowledge,
    Heartbeat,
    OscpMessage,
    Register,
    RequiredBehaviour,
    UpdateGroupCapacityForecast,
    VersionUrl,
)
from depotctl.protocols.oscp.quirks import NO_QUIRKS, PeerQuirks

log = logging.getLogger("depotctl.oscp")

#: The OSCP version this controller speaks.
VERSION = "2.0"


class ControllerCapacityProviderEvents:
    """The controller as the OSCP endpoints' port (see the module docstring).
    ``base_url`` is what this controller announces at ``register`` (its public
    ``…/oscp/fp/2.0``); ``wake`` tells the link a message was queued."""

    def __init__(
        self,
        controller: Controller,
        tokens: OscpTokens,
        *,
        base_url: str,
        wake: Callable[[], None] = lambda: None,
    ) -> None:
        self.controller = controller
        self.tokens = tokens
        self.base_url = base_url
        self.wake = wake
        self._peers: tuple[AppliedSite, dict[str, OscpPeer]] | None = None

    # who is calling

    def peers(self) -> dict[str, OscpPeer]:
        """The OSCP sources of the site in force, by id (worked out once a revision)."""
        applied = self.controller.applied
        if applied is None:
            return {}
        if self._peers is None or self._peers[0] is not applied:
            targets = {s.id: s.targets for s in applied.topology.sources.values()}
            base_dir = self.controller.base_dir_of(applied.revision)
            self._peers = (applied, oscp_peers(applied.site, base_dir, targets))
        return self._peers[1]

    def caller(self, token: str) -> Caller | None:
        peers = self.peers()
        for source in peers:
            if self.tokens.is_ours(source, token):
                return Caller(source, initial=False)
        for source, peer in peers.items():
            initial = self.initial_token(peer)
            if initial is not None and _same(initial, token):
                return Caller(source, initial=True)
        return None

    def initial_token(self, peer: OscpPeer) -> str | None:
        """The source's initial token now, None when it cannot be read (logged)."""
        try:
            return read_password(peer.initial_token)
        except CredentialMissing as missing:
            log.warning(
                "OSCP source %s: its initial token cannot be read: %s", peer.source, missing
            )
            return None

    def quirks(self, source: str) -> PeerQuirks:
        peer = self.peers().get(source)
        return peer.quirks if peer is not None else NO_QUIRKS

    def seen(self, source: str, request_id: str) -> bool:
        return self.controller.units().oscp.seen(source, request_id)

    def now(self) -> datetime:
        return self.controller.clock.now()

    # what the peer says

    def registered(self, inbound: Inbound, message: Register) -> None:
        version = _version_url(message)
        source = inbound.source
        with self._unit(inbound) as uow:
            record = uow.oscp.get(source)
            completes = record.awaiting_register and not inbound.caller.initial
            self.tokens.set_theirs(source, message.token)
            # a registration of ours still waiting to go (its address unreachable, say)
            # is overtaken by the peer's: it would block what follows in the outbox
            uow.oscp.drop_initial(source)
            if not completes:
                self.queue(uow, source, self.registration(source), inbound.at, inbound.request_id)
            self.queue(
                uow, source, Handshake(required_behaviour=self.behaviour(source)), inbound.at
            )
            uow.oscp.put(
                replace(
                    record,
                    base_url=version.base_url,
                    registered_at=inbound.at,
                    awaiting_register=False,
                )
            )
            uow.sources.heard_from(source, inbound.at)
            how = "completed" if completes else "answered with this controller's, a new token"
            uow.journal.record(
                [
                    journal_entry(
                        JournalKind.OSCP_REGISTERED,
                        f"source {source} registered at {version.base_url} (OSCP {VERSION}); "
                        f"registration {how}",
                        at=inbound.at,
                        data={"source": source, "base_url": version.base_url, "registered": True},
                    )
                ]
            )
        self.wake()

    def unregistered(self, inbound: Inbound) -> None:
        source = inbound.source
        with self._unit(inbound) as uow:
            self.tokens.forget(source)
            dropped = uow.oscp.drop_outbox(source)
            uow.oscp.put(PeerRecord(source))
            uow.journal.record(
                [
                    journal_entry(
                        JournalKind.OSCP_REGISTERED,
                        f"source {source} ended its registration; {dropped} queued messages "
                        "dropped; its envelopes stay until they end, and it goes offline at "
                        "its deadline",
                        at=inbound.at,
                        data={"source": source, "registered": False, "dropped": dropped},
                    )
                ]
            )

    def handshake(self, inbound: Inbound, message: Handshake) -> None:
        source = inbound.source
        with self._unit(inbound) as uow:
            record = _with_behaviour(uow.oscp.get(source), message.required_behaviour)
            uow.oscp.put(record)
            acknowledgement = HandshakeAcknowledge(required_behaviour=self.behaviour(source))
            self.queue(uow, source, acknowledgement, inbound.at, inbound.request_id)
            uow.sources.heard_from(source, inbound.at)
            uow.journal.record([_behaviour_entry(source, record, inbound.at, "handshake")])
        self.wake()

    def handshake_acknowledged(self, inbound: Inbound, message: HandshakeAcknowledge) -> None:
        source = inbound.source
        with self._unit(inbound) as uow:
            record = uow.oscp.get(source)
            if message.required_behaviour is not None:
                record = _with_behaviour(record, message.required_behaviour)
            record = replace(record, handshake_at=inbound.at)
            uow.oscp.put(record)
            uow.sources.heard_from(source, inbound.at)
            uow.journal.record([_behaviour_entry(source, record, inbound.at, "acknowledgement")])

    def heartbeat(self, inbound: Inbound, message: Heartbeat) -> None:
        source = inbound.source
        with self._unit(inbound) as uow:
            was_online = uow.sources.states().get(source)
            uow.sources.heard_from(source, inbound.at, deadline=message.offline_mode_at)
            uow.oscp.put(replace(uow.oscp.get(source), offline_mode_at=message.offline_mode_at))
        if was_online is None or not was_online.online:
            self.controller.changed(f"source {source} heard from")

    def capacity_forecast(self, inbound: Inbound, message: UpdateGroupCapacityForecast) -> None:
        peers = self.peers()
        peer = peers[inbound.source]
        if message.group_id != peer.group_id:
            owner = next((p.source for p in peers.values() if p.group_id == message.group_id), None)
            if owner is not None:
                raise OscpRefused(
                    403,
                    f"group {message.group_id} belongs to source {owner}; this token is "
                    f"source {inbound.source}'s (group {peer.group_id})",
                )
            raise OscpRefused(
                404,
                f"group {message.group_id} is not known here; source {inbound.source} "
                f"is group {peer.group_id}",
            )
        with self._unit(inbound) as uow:
            summary = take_forecast(uow, peer, message, inbound)
        self.controller.changed(summary)

    # what this controller says

    def registration(self, source: str) -> Register:
        """This controller's ``register``, with a fresh token for the peer."""
        return Register(
            token=self.tokens.new_ours(source),
            version_url=[VersionUrl(version=VERSION, base_url=self.base_url)],
        )

    def behaviour(self, source: str) -> RequiredBehaviour:
        """What this controller asks of the peer: heartbeats as the site agreed."""
        peer = self.peers().get(source)
        interval = peer.heartbeat_interval_s if peer is not None else None
        return RequiredBehaviour(heartbeat_interval=interval, measurement_configuration=[])

    def queue(
        self,
        uow: UnitOfWork,
        source: str,
        message: OscpMessage,
        at: datetime,
        correlation_id: str | None = None,
        *,
        initial_token: bool = False,
    ) -> None:
        """Queue ``message`` for the peer of ``source``."""
        uow.oscp.queue(
            NewOutboxMessage(
                source=source,
                message=message.endpoint,
                request_id=str(uuid.uuid4()),
                body=message.model_dump(mode="json", exclude_none=True),
                at=at,
                correlation_id=correlation_id,
                initial_token=initial_token,
            )
        )

    def _unit(self, inbound: Inbound) -> _OnceUnit:
        return _OnceUnit(self.controller.units(), inbound)


class _OnceUnit:
    """A unit of work that records the request's id with its effect (the endpoints
    answer a request id seen before without handling it again)."""

    def __init__(self, uow: UnitOfWork, inbound: Inbound) -> None:
        self.uow = uow
        self.inbound = inbound

    def __enter__(self) -> UnitOfWork:
        self.uow.__enter__()
        self.uow.oscp.first_time(self.inbound.source, self.inbound.request_id, self.inbound.at)
        return self.uow

    def __exit__(self, *exc: object) -> None:
        self.uow.__exit__(*exc)


def _same(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


def _version_url(message: Register) -> VersionUrl:
    for version in message.version_url:
        if version.version == VERSION:
            return version
    offered = ", ".join(v.version for v in message.version_url)
    raise OscpRefused(
        400, f"register offers OSCP {offered}; depotctl speaks {VERSION}: add a {VERSION} base_url"
    )


def _with_behaviour(record: PeerRecord, behaviour: RequiredBehaviour) -> PeerRecord:
    return replace(
        record,
        heartbeat_interval_s=behaviour.heartbeat_interval,
        measurement_configuration=tuple(str(c) for c in behaviour.measurement_configuration),
    )


def _behaviour_entry(source: str, record: PeerRecord, at: datetime, what: str) -> NewJournalEntry:
    interval = record.heartbeat_interval_s
    heartbeats = f"heartbeats every {interval:g} s" if interval else "no heartbeats"
    measurements = ", ".join(record.measurement_configuration) or "none"
    return journal_entry(
        JournalKind.OSCP_HANDSHAKE,
        f"source {source} {what}: it asks for {heartbeats}; measurements: {measurements}",
        at=at,
        data={
            "source": source,
            "heartbeat_interval_s": interval,
            "measurement_configuration": list(record.measurement_configuration),
        },
    )
