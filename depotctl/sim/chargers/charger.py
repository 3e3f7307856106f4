"""One simulated charger: its websocket connection to the controller, and what it does
over it whatever the protocol version.

The charger connects to ``URL/{ocpp_id}`` with its subprotocol and HTTP Basic
credentials, boots (on every connection, as many real chargers do), announces its
connectors, sends heartbeats at the interval it is given, and meter values every
``meter_interval_s`` of the controller's time. Everything it sends goes through one
ordered outbox: transaction messages wait out a lost connection and go when it is
back (at least once); heartbeats and meter values are dropped instead. Requests
from the controller are answered by the protocol side (:mod:`v16`, :mod:`v201`),
which calls back here for anything about profiles; none is answered before the
connection's BootNotification was accepted.

It can reboot (:meth:`SimulatedCharger.reboot`, or at the times its misbehaviour
asks): the connection drops without a close handshake, every transaction and every
profile but the persistent ones are forgotten, and after the boot time it connects
anew; vehicles still plugged in then start new transactions.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import itertools
import json
import logging
import time as wall
import uuid
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol
from urllib.parse import quote

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed, InvalidHandshake, InvalidStatus
from websockets.typing import Subprotocol

from depotctl.credentials import read_password
from depotctl.domain.charge_points import ChargePoint, OcppVersion, RateUnit
from depotctl.sim.chargers.faults import Fault, Timeline
from depotctl.sim.chargers.misbehaviour import NONE, Misbehaviour
from depotctl.sim.chargers.profiles import InvalidProfile, Profile, Purpose
from depotctl.sim.chargers.refusals import refusal
from depotctl.sim.chargers.simtime import SimTime
from depotctl.sim.chargers.stack import (
    Capabilities,
    ClearCriteria,
    ProfileRejected,
    ProfileStack,
)
from depotctl.sim.chargers.station import ChargingState, Plug, Station
from depotctl.sim.chargers.vehicles import Vehicle

LOG = logging.getLogger("depotctl.sim.chargers")

#: wall seconds between connection attempts, the last one repeated
RECONNECT_DELAYS_S = (1.0, 2.0, 5.0, 10.0, 30.0)
#: a transaction message is given up after this many unanswered attempts
MAX_ATTEMPTS = 3
#: requests kept in a charger's receive log (the oldest go first)
RECEIVED_KEPT = 1_000
#: round trips of its own calls kept per charger (the oldest go first)
ROUND_TRIPS_KEPT = 1_000


@dataclass(frozen=True, slots=True)
class Settings:
    """How every simulated charger behaves on the wire. ``url`` is the controller's
    OCPP base (``ws://host:port/ocpp``); intervals are controller seconds,
    timeouts wall seconds."""

    url: str
    meter_interval_s: float = 10.0
    heartbeat_s: float = 300.0
    response_timeout_s: float = 30.0
    open_timeout_s: float = 10.0
    vendor: str = "depotctl"
    model: str = "sim-charger"


@dataclass
class Stats:
    """What happened to one charger, for the summary."""

    connects: int = 0
    disconnects: int = 0
    boots: int = 0
    profiles_received: int = 0
    profiles_accepted: int = 0
    profiles_rejected: int = 0
    profiles_ignored: int = 0
    profiles_cleared: int = 0
    requests_unanswered: int = 0
    requests_before_boot: int = 0
    reboots: int = 0
    reconnects_without_boot: int = 0
    meter_values_sent: int = 0
    #: meter values replaced by a newer sample before they were sent
    meter_values_coalesced: int = 0
    messages_refused: int = 0
    messages_unanswered: int = 0
    last_error: str | None = None
    last_rejection: str | None = None


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer to a profile request; ``reason`` a 2.0.1 ``reasonCode``."""

    accepted: bool
    reason: str | None = None
    message: str | None = None


@dataclass(slots=True)
class Received:
    """A request from the controller as it arrived: the wall time (epoch seconds,
    comparable across processes), the controller's time, the action and its payload
    (as sent, camelCase). For ``SetChargingProfile``: the verdict and the wall time it
    was given, both None while (or when) it went unanswered."""

    wall_s: float
    at: datetime
    action: str
    payload: dict[str, Any]
    verdict: Verdict | None = None
    answered_wall_s: float | None = None


@dataclass(frozen=True, slots=True)
class MeterSample:
    """One EVSE's readings at ``at`` (the time stamp to send)."""

    at: datetime
    register_wh: float  #: the energy register, as a meter counts it
    power_w: float
    amps: float  #: per line, on each of ``phases``
    phases: tuple[str, ...]
    soc_percent: float | None = None


@dataclass
class Session:
    """A vehicle's visit on an EVSE, as the protocol reports it."""

    evse: int
    plug: Plug
    seq_no: int = 0  #: the next 2.0.1 TransactionEvent's seqNo
    reported: ChargingState | None = None  #: the state last sent; None: none on this link
    ended_at: datetime | None = None
    meter_stop_wh: float | None = None
    stop_reason: str = "EVDisconnected"
    started: bool = False  # its start was reported
    refused: bool = False  # the controller refused its token

    def next_seq(self) -> int:
        seq, self.seq_no = self.seq_no, self.seq_no + 1
        return seq


class Link(Protocol):
    """One connection's protocol side (1.6 or 2.0.1); ``booted`` once it may answer."""

    booted: bool

    async def start(self) -> None: ...
    async def boot(self) -> tuple[str, int]: ...
    async def heartbeat(self) -> None: ...
    async def announce(self) -> None: ...
    async def status(self, evse: int) -> None: ...
    async def start_session(self, session: Session) -> None: ...
    async def state_changed(self, session: Session, state: ChargingState) -> None: ...
    async def stop_session(self, session: Session) -> None: ...
    async def meter_values(
        self, evse: int, session: Session | None, sample: MeterSample
    ) -> None: ...


LinkFactory = Callable[["SimulatedCharger", ClientConnection], Link]


@dataclass
class _Item:
    send: Callable[[Link], Awaitable[None]]
    droppable: bool
    attempts: int = 0
    #: items with a key replace an unsent one with the same key (the latest sample wins)
    key: str | None = None


@dataclass
class _Outbox:
    items: deque[_Item] = field(default_factory=deque)
    wake: asyncio.Event = field(default_factory=asyncio.Event)
    empty: asyncio.Event = field(default_factory=asyncio.Event)


class SimulatedCharger:
    """A charger of the site, simulated: ``run()`` until ``close()``."""

    def __init__(
        self,
        charge_point: ChargePoint,
        time: SimTime,
        settings: Settings,
        misbehaviour: Misbehaviour = NONE,
        *,
        dc: bool = False,
        started_at: datetime | None = None,
    ) -> None:
        self.charge_point = charge_point
        self.time = time
        self.settings = settings
        self.misbehaviour = misbehaviour
        self.dc = dc
        self.started_at = started_at or time.now()
        units = misbehaviour.rate_units or (
            frozenset({charge_point.rate_unit})
            if charge_point.rate_unit
            else frozenset({RateUnit.AMPS, RateUnit.WATTS})
        )
        self.stack = ProfileStack(
            Capabilities(
                units=units,
                tx_profile=not charge_point.tx_profile_unsupported,
                v16=charge_point.version is OcppVersion.V16,
            )
        )
        self.station = Station(charge_point, self.stack, time.now())
        self.stats = Stats()
        #: the controller's latest requests, oldest first (for tests and benchmarks)
        self.received: deque[Received] = deque(maxlen=RECEIVED_KEPT)
        #: wall seconds from each of its calls to the controller's answer, latest last:
        #: how late answers come on this machine (a reboot costs a few of them)
        self.round_trips: deque[float] = deque(maxlen=ROUND_TRIPS_KEPT)
        self.sessions: dict[int, Session] = {}
        self.online = False
        self.online_since: datetime | None = None
        self.heartbeat_s = settings.heartbeat_s
        self.meter_interval_s = settings.meter_interval_s
        #: rebooted and not booted again yet: powered off, then without transactions
        self.rebooting = False
        #: set once the first connection attempt is over (booted, failed or refused),
        #: or the charger stays away on request: no network wait is pending
        self.settled = asyncio.Event()
        self._outbox = _Outbox()
        self._outbox.empty.set()
        self._closing = asyncio.Event()
        self._interrupt = asyncio.Event()  # drop the connection now: an outage, a reboot
        self._down_until: datetime | None = None  # a reboot keeps it away until then
        self._transactions_begun = 0  # 2.0.1: the charger numbers its transactions
        self._link: Link | None = None
        self._socket: ClientConnection | None = None

    @property
    def ocpp_id(self) -> str:
        return self.charge_point.ocpp_id

    @property
    def v16(self) -> bool:
        return self.charge_point.version is OcppVersion.V16

    @property
    def units(self) -> frozenset[RateUnit]:
        return self.stack.capabilities.units

    def preferred_unit(self) -> RateUnit:
        """The unit to report in when the controller names none."""
        order = (RateUnit.WATTS, RateUnit.AMPS) if self.dc else (RateUnit.AMPS, RateUnit.WATTS)
        return next(unit for unit in order if unit in self.units)

    # Vehicles (called by the scenario)

    def plug_in(self, number: int, vehicle: Vehicle) -> Session:
        """``vehicle`` plugs into EVSE ``number`` now. Offline, it is authorised
        locally and the transaction is reported when the connection is back."""
        now = self.time.now()
        plug = self.station.plug_in(number, vehicle, now)
        if not self.v16:
            plug.transaction_id = self._new_transaction_id(number, now)
        if not self.online and self.stats.boots > 0 and not self.rebooting:
            self.station.authorise(number, now)  # offline: authorised locally
        session = Session(number, plug)
        self.sessions[number] = session
        self._enqueue(lambda link: link.start_session(session), droppable=False)
        return session

    def unplug(self, number: int, reason: str = "EVDisconnected") -> Session | None:
        """The vehicle on ``number`` leaves now; its transaction ends."""
        session = self.sessions.pop(number, None)
        now = self.time.now()
        if session is None:
            if self.station.evses[number].plug is not None:
                self.station.unplug(number, now)  # left while rebooting: no transaction
            return None
        self.station.unplug(number, now)
        session.ended_at = now
        session.meter_stop_wh = self.station.evses[number].register_wh
        session.stop_reason = reason
        self._enqueue(lambda link: link.stop_session(session), droppable=False)
        return session

    def _new_transaction_id(self, number: int, at: datetime) -> str:
        self._transactions_begun += 1
        return _transaction_id(self.ocpp_id, number, at, self._transactions_begun)

    def authorise(self, number: int) -> None:
        """The controller accepted the vehicle's token: it may draw from now."""
        self.station.authorise(number, self.time.now())

    # Requests (called by the protocol side as each arrives, answered or not)

    def receive(self, raw: str) -> None:
        """Log a request frame from the controller (``[2, id, action, payload]``)."""
        try:
            frame = json.loads(raw)
            action, payload = str(frame[2]), frame[3]
        except (ValueError, LookupError, TypeError):
            return
        if isinstance(payload, dict):
            self.received.append(Received(wall.time(), self.time.now(), action, payload))

    # Profiles (called by the protocol side, inside a handler: no calls from here)

    def set_profile(self, evse: int, parse: Callable[[datetime], Profile]) -> Verdict:
        """``SetChargingProfile``: install what ``parse`` reads, as the charger's
        rules and its misbehaviour say (the verdict goes to the receive log too)."""
        verdict = self._set_profile(evse, parse)
        request = next(
            (r for r in reversed(self.received) if r.action == "SetChargingProfile"), None
        )
        if request is not None and request.verdict is None:
            request.verdict, request.answered_wall_s = verdict, wall.time()
        return verdict

    def _set_profile(self, evse: int, parse: Callable[[datetime], Profile]) -> Verdict:
        self.stats.profiles_received += 1
        now = self.time.now()
        behaviour = self.misbehaviour
        if behaviour.reject_profiles:
            return self._reject("Misbehaviour", "rejecting every profile (reject-profiles)")
        try:
            profile = parse(now)
        except InvalidProfile as error:
            return self._reject("InvalidProfile", str(error))
        if behaviour.reject_tx_profiles and profile.purpose is Purpose.TX:
            return self._reject(
                "UnsupportedPurpose", "TxProfile not supported (reject-tx-profiles)"
            )
        if behaviour.ignore_profiles:
            self.stats.profiles_accepted += 1
            self.stats.profiles_ignored += 1
            return Verdict(True)
        self.station.advance(now)
        try:
            self.stack.install(profile, self.station.evses, self.station.transactions())
        except ProfileRejected as error:
            return self._reject(error.reason, error.message)
        self.station.changed(now)
        self.stats.profiles_accepted += 1
        self._report_states()
        return Verdict(True)

    def clear_profiles(self, criteria: ClearCriteria) -> int:
        """``ClearChargingProfile``: how many were removed."""
        if self.misbehaviour.ignore_profiles:
            return 1
        now = self.time.now()
        self.station.advance(now)
        removed = self.stack.clear(criteria)
        self.station.changed(now)
        self.stats.profiles_cleared += removed
        self._report_states()
        return removed

    def composite(
        self, evse: int, duration_s: float, unit: RateUnit | None
    ) -> tuple[datetime, RateUnit, list[tuple[float, float]]] | None:
        """``GetCompositeSchedule``: (start, unit, periods), None for an unknown EVSE."""
        if evse != 0 and evse not in self.station.evses:
            return None
        now = self.time.now()
        self.station.advance(now)
        chosen = unit if unit is not None else self.preferred_unit()
        return now, chosen, self.station.composite(evse, duration_s, chosen)

    def _reject(self, reason: str, message: str) -> Verdict:
        self.stats.profiles_rejected += 1
        self.stats.last_rejection = message
        return Verdict(False, reason, message)

    # Readings

    def sample(self, number: int) -> MeterSample:
        """EVSE ``number`` now (time-stamped in the past when told to be stale)."""
        now = self.time.now()
        self.station.advance(now)
        evse = self.station.evses[number]
        stale = self.misbehaviour.stale_meter_s
        phases = ("L1", "L2", "L3") if self.charge_point.number_phases == 3 else ("L1",)
        return MeterSample(
            at=now - timedelta(seconds=stale) if stale else now,
            register_wh=evse.register_wh,
            power_w=evse.draw_w,
            amps=self.charge_point.amps(evse.draw_w),
            phases=phases,
            soc_percent=evse.plug.soc_percent if evse.plug else None,
        )

    # Running

    async def run(self) -> None:
        """Connect, and reconnect after every loss (and every requested outage or
        reboot, once it is over), until :meth:`close`."""
        helpers = [
            asyncio.create_task(self._meter_loop()),
            asyncio.create_task(self._fault_loop()),
        ]
        failures = 0
        try:
            while not self._closing.is_set():
                await self._sit_out()
                if self._closing.is_set():
                    break
                booted = await self._connection()
                interrupted = self._interrupt.is_set()
                self.settled.set()
                failures = 0 if booted or interrupted else failures + 1
                if self._closing.is_set():
                    break
                # at once after a connection that worked or was cut on request; else back off
                delay = (
                    RECONNECT_DELAYS_S[min(failures, len(RECONNECT_DELAYS_S)) - 1]
                    if failures
                    else 0.2
                )
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._closing.wait(), delay)
        finally:
            self.settled.set()
            for task in helpers:
                task.cancel()
            for task in helpers:
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    def end_sessions(self, reason: str = "Local") -> None:
        """Stop every running transaction (the simulator is shutting down)."""
        for number in list(self.sessions):
            self.unplug(number, reason)

    async def flush(self, timeout_s: float) -> bool:
        """Wait (wall) until everything queued is sent; False if it was not."""
        if not self.online:
            return not self._outbox.items
        try:
            await asyncio.wait_for(self._outbox.empty.wait(), timeout_s)
        except TimeoutError:
            return False
        return True

    def close(self) -> None:
        """Stop :meth:`run` (the connection closes cleanly)."""
        self._closing.set()

    async def drop(self) -> None:
        """Lose the connection abruptly (no close handshake), as a network fault."""
        socket = self._socket
        if socket is not None:
            socket.transport.abort()

    # The connection

    def _url(self) -> str:
        return f"{self.settings.url.rstrip('/')}/{quote(self.ocpp_id, safe='')}"

    def _headers(self) -> list[tuple[str, str]]:
        password = self.charge_point.password
        if password is None:
            return []
        secret = f"{self.ocpp_id}:{read_password(password)}".encode()
        return [("Authorization", "Basic " + base64.b64encode(secret).decode("ascii"))]

    async def _connection(self) -> bool:
        """One connection, from connect to loss; whether the boot was accepted."""
        from depotctl.sim.chargers.v16 import V16Link
        from depotctl.sim.chargers.v201 import V201Link

        factory: LinkFactory = V16Link if self.v16 else V201Link
        booted = asyncio.Event()
        try:
            async with connect(
                self._url(),
                subprotocols=[Subprotocol(self.charge_point.version.value)],
                additional_headers=self._headers(),
                open_timeout=self.settings.open_timeout_s,
                proxy=None,
                compression=None,
            ) as socket:
                if socket.subprotocol != self.charge_point.version.value:
                    self._failed(f"the controller did not accept {self.charge_point.version.value}")
                    return False
                self.stats.connects += 1
                self._socket = socket
                link = factory(self, socket)
                self._link = link
                await self._serve(link, booted)
        except InvalidStatus as error:
            self._failed(refusal(error.response.status_code))
        except (OSError, InvalidHandshake, TimeoutError) as error:
            self._failed(f"cannot connect to {self._url()}: {error}")
        except ConnectionClosed:
            pass
        finally:
            if self._socket is not None:
                self.stats.disconnects += 1
            self._went_offline()
        return booted.is_set()

    async def _serve(self, link: Link, booted: asyncio.Event) -> None:
        """Listen and talk until the connection ends, an outage or a reboot begins
        (even one that began while connecting), or close."""
        listener = asyncio.create_task(link.start())
        talker = asyncio.create_task(self._talk(link, booted))
        interrupt = asyncio.create_task(self._interrupt.wait())
        closing = asyncio.create_task(self._closing.wait())
        tasks = {listener, talker, interrupt, closing}
        done: set[asyncio.Task[Any]] = set()
        try:
            done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
        finally:
            if interrupt in done:
                LOG.info("%s: dropping the connection (on request)", self.ocpp_id)
                await self.drop()
            for task in tasks:
                task.cancel()
            # bounded: a call in flight ends with the connection, or at its timeout
            await asyncio.wait(tasks, timeout=2.0)
        for task in (listener, talker):
            if task in done and not task.cancelled() and task.exception() is not None:
                error = task.exception()
                if not isinstance(error, ConnectionClosed):
                    self._failed(f"{type(error).__name__}: {error}")

    async def _talk(self, link: Link, booted: asyncio.Event) -> None:
        """Boot until accepted (unless it only reconnects, with
        ``reconnect-without-boot``), announce, then heartbeats and the outbox. A
        reboot meanwhile ends the connection: from then on this one does nothing."""
        generation = self.stats.reboots
        if self.misbehaviour.reconnect_without_boot and self.stats.boots and not self.rebooting:
            link.booted = True  # booted at power-up: it answers at once
            self.stats.reconnects_without_boot += 1
        else:
            while True:
                status, interval = await link.boot()
                if status == "Accepted":
                    self.boot_interval(interval)
                    break
                await self.time.sleep(interval if interval > 0 else 60)
            self.stats.boots += 1
        if self.stats.reboots != generation:
            await asyncio.get_running_loop().create_future()  # cancelled with the connection
        booted.set()
        self.settled.set()
        self.online = True
        self.online_since = self.time.now()
        heartbeat = asyncio.create_task(self._heartbeats())
        try:
            await link.announce()
            for session in self.sessions.values():
                session.reported = None
            if self.stats.reboots != generation:
                await asyncio.get_running_loop().create_future()  # as above
            if self.rebooting:
                self.rebooting = False
                self._restart_transactions()
            self._report_states()
            await self._drain(link)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    def boot_interval(self, interval: int) -> None:
        """The heartbeat interval the controller gave (0: keep ours)."""
        if interval > 0:
            self.heartbeat_s = float(interval)

    async def _heartbeats(self) -> None:
        while True:
            await self.time.sleep(self.heartbeat_s)
            self._enqueue(lambda link: link.heartbeat(), droppable=True)

    async def _drain(self, link: Link) -> None:
        from ocpp.exceptions import OCPPError

        outbox = self._outbox
        while True:
            raise_if_cancelled()
            while not outbox.items:
                outbox.empty.set()
                outbox.wake.clear()
                await outbox.wake.wait()
            item = outbox.items[0]
            try:
                await item.send(link)
            except OCPPError as error:  # a CallError: the controller refused it
                self.stats.messages_refused += 1
                self.stats.last_error = f"refused: {error}"
            except TimeoutError:
                self.stats.messages_unanswered += 1
                item.attempts += 1
                if not item.droppable and item.attempts < MAX_ATTEMPTS:
                    continue
            if outbox.items and outbox.items[0] is item:
                outbox.items.popleft()

    def _enqueue(
        self, send: Callable[[Link], Awaitable[None]], *, droppable: bool, key: str | None = None
    ) -> None:
        """Queue a message. One with a ``key`` replaces a queued one with the same key
        that is not being sent yet: a charger whose controller answers slower than it
        samples keeps its latest meter values, not an ever longer backlog that would hold
        up its transactions' messages behind it."""
        if droppable and not self.online:
            return
        items = self._outbox.items
        if key is not None:
            for item in itertools.islice(items, 1, None):  # the first may be on the wire
                if item.key == key and item.attempts == 0:
                    item.send = send
                    self.stats.meter_values_coalesced += 1
                    return
        items.append(_Item(send, droppable, key=key))
        self._outbox.empty.clear()
        self._outbox.wake.set()

    def _went_offline(self) -> None:
        self.online = False
        self.online_since = None
        self._socket = None
        self._link = None
        kept = [item for item in self._outbox.items if not item.droppable]
        self._outbox.items = deque(kept)
        if not kept:
            self._outbox.empty.set()

    def _failed(self, message: str) -> None:
        if message != self.stats.last_error:
            LOG.warning("%s: %s", self.ocpp_id, message)
        self.stats.last_error = message

    # Faults

    def reboot(self, boot_s: float | None = None) -> None:
        """Reboot now, as a real charger does when it loses power or resets: the
        connection drops without a close handshake; every transaction is forgotten
        (never reported ended) and the vehicles stop drawing; every profile but the
        persistent ones (:meth:`ProfileStack.power_cycle`) is gone, and so is
        everything queued to send. It stays away ``boot_s`` controller seconds
        (default its ``boot-time``), then connects anew and boots; vehicles still
        plugged in start new transactions."""
        now = self.time.now()
        boot = self.misbehaviour.boot_time_s if boot_s is None else boot_s
        self.station.advance(now)
        for evse in self.station.evses.values():
            if evse.plug is not None:
                evse.plug.forget()
        self.stack.power_cycle()
        self.station.changed(now)
        self.sessions.clear()
        self._outbox.items.clear()
        self._outbox.empty.set()
        self.online = False
        self.rebooting = True
        self.stats.reboots += 1
        until = now + timedelta(seconds=boot)
        self._down_until = until if self._down_until is None else max(self._down_until, until)
        LOG.info("%s: rebooting, back at %s", self.ocpp_id, iso(until))
        self._interrupt.set()

    def _restart_transactions(self) -> None:
        """Booted after a reboot: each vehicle still plugged in starts a new
        transaction (authorised anew)."""
        now = self.time.now()
        for number, evse in self.station.evses.items():
            plug = evse.plug
            if plug is None or number in self.sessions:
                continue
            self.station.advance(now)
            plug.restart(now, evse.register_wh)
            if not self.v16:
                plug.transaction_id = self._new_transaction_id(number, now)
            session = Session(number, plug)
            self.sessions[number] = session
            self._enqueue(_start(session), droppable=False)

    @property
    def timeline(self) -> Timeline:
        return Timeline(self.misbehaviour, self.started_at)

    def _down_end(self) -> datetime | None:
        """Until when the charger stays away now (an outage, a reboot), or None."""
        now = self.time.now()
        ends = [
            end
            for end in (self.timeline.outage_end(now), self._down_until)
            if end is not None and end > now
        ]
        return max(ends, default=None)

    async def _sit_out(self) -> None:
        """Wait until no outage or reboot keeps the charger away (one may begin, or
        be extended, meanwhile)."""
        while not self._closing.is_set():
            self._interrupt.clear()
            end = self._down_end()
            if end is None:
                return
            self.settled.set()  # away on request: no network wait pending
            waits = {
                asyncio.create_task(self.time.sleep_until(end)),
                asyncio.create_task(self._closing.wait()),
                asyncio.create_task(self._interrupt.wait()),
            }
            try:
                await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
            finally:
                for task in waits:
                    task.cancel()

    async def _fault_loop(self) -> None:
        """Begin each requested outage (drop the connection) and reboot on time."""
        after: datetime | None = None
        while (upcoming := self.timeline.next_after(after)) is not None:
            at, faults = upcoming
            await self.time.sleep_until(at)
            after = at
            if Fault.REBOOT in faults:
                self.reboot()
            if Fault.OUTAGE in faults:
                self._interrupt.set()

    # Meter values and states

    async def _meter_loop(self) -> None:
        """A tick every ``meter_interval_s`` on a fixed grid (no drift)."""
        due = self.time.now()
        while True:
            due += timedelta(seconds=self.meter_interval_s)
            now = self.time.now()
            while due <= now - timedelta(seconds=self.meter_interval_s):
                due += timedelta(seconds=self.meter_interval_s)  # time jumped: skip
            await self.time.sleep_until(due)
            self.tick()

    def tick(self) -> None:
        """Integrate to now, report state changes and (online) meter values."""
        self.station.advance(self.time.now())
        self._report_states()
        if self.online:
            for number in self.station.evses:
                self._meter(number)

    def _meter(self, number: int) -> None:
        sample = self.sample(number)
        session = self.sessions.get(number)

        async def send(link: Link) -> None:
            await link.meter_values(number, session, sample)
            self.stats.meter_values_sent += 1

        self._enqueue(send, droppable=True, key=f"meter {number}")

    def trigger(self, message: str, evse: int | None) -> None:
        """``TriggerMessage``, after the answer: send what was asked for (a
        StatusNotification for the EVSE named, every one without)."""
        if message == "Heartbeat":
            self._enqueue(lambda link: link.heartbeat(), droppable=True)
        elif message == "StatusNotification" and evse is not None:
            self._enqueue(lambda link: link.status(evse), droppable=True)
        elif message == "StatusNotification":
            self._enqueue(lambda link: link.announce(), droppable=True)
        elif message == "BootNotification":
            self._enqueue(self._reboot_notice, droppable=True)
        elif message == "MeterValues":
            numbers = [evse] if evse in self.station.evses else list(self.station.evses)
            for number in numbers:
                self._meter(number)

    async def _reboot_notice(self, link: Link) -> None:
        _, interval = await link.boot()
        self.boot_interval(interval)

    def _report_states(self) -> None:
        if not self.online:
            return
        for session in self.sessions.values():
            if not session.started or session.refused:
                continue  # its start is still to be reported, or it was refused
            state = self.station.state(session.evse)
            if state is not session.reported:
                session.reported = state
                self._enqueue(_state_change(session, state), droppable=False)


def raise_if_cancelled() -> None:
    """Raise if the current task was asked to stop. Python 3.11's ``wait_for`` (used
    by the ``ocpp`` library for every call) can swallow a cancellation that arrives
    as its answer does; checking before each call makes the stop stick."""
    task = asyncio.current_task()
    if task is not None and task.cancelling():
        raise asyncio.CancelledError


def iso(instant: datetime) -> str:
    """An OCPP time stamp: UTC, milliseconds, ``Z``."""
    return instant.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _transaction_id(ocpp_id: str, evse: int, at: datetime, number: int) -> str:
    """A 2.0.1 transaction id the charger makes up (at most 36 characters): its
    ``number``-th, so two at the same instant differ; the same run, the same ids."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"{ocpp_id}/{evse}/{at.isoformat()}/{number}"))


def _start(session: Session) -> Callable[[Link], Awaitable[None]]:
    async def send(link: Link) -> None:
        await link.start_session(session)

    return send


def _state_change(session: Session, state: ChargingState) -> Callable[[Link], Awaitable[None]]:
    async def send(link: Link) -> None:
        await link.state_changed(session, state)

    return send
