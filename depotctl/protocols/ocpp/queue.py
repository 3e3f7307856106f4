"""One charger's commands, sent one call at a time and never waiting on another.

A :class:`ChargerQueue` holds what the controller wants of one charger and sends it
over the charger's link — one call at a time, as OCPP allows — in this order: the
connect routine (rate unit, fallback, max profile); then changes, decreases before
increases, by EVSE id; then retries whose time has come; then renewals. A charger
that never answers holds up only its own queue: every call times out on its own.

- A newer command for an EVSE replaces one not sent yet (reported superseded) and
  ends that EVSE's retry chain: at most one chain per EVSE.
- A change, renewal or retry that is rejected or unanswered is tried again after
  5 s, 10 s, 20 s, … (at most ``retry_max_s``) with a safe probe: the lower of its
  limit and the one it replaced.
- While the charger is not connected nothing is sent: a command is answered
  ``offline`` at once, and retries and renewals stop until it is back.

Holding an EVSE at a limit (:meth:`ChargerQueue._hold`) keeps two promises: a
running transaction draws at most the limit (a ``TxProfile``), and a vehicle
plugging in starts at most at it (the EVSE's stand-in ``TxDefaultProfile``, sent
whenever the limit is below the charger's fallback — the persistent fallback is
the start otherwise). A ``TxProfile`` refused because the transaction is over
(2.0.1 ``TxNotFound``, the book no longer listing it, or — asked with a
``TriggerMessage`` — the EVSE reporting ``Available``) closes that transaction and
holds the EVSE as an idle one; the charger stays controllable.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from depotctl.domain.charge_points import ChargePoint, ChargePointEvse, RateUnit
from depotctl.domain.chargers import CommandOutcome
from depotctl.domain.commands import CommandPurpose, Delivery, LimitCommand, Outcome
from depotctl.protocols.ocpp.commands import Clock, ConnectReport
from depotctl.protocols.ocpp.link import (
    AnswerUnreadable,
    CallErrorReceived,
    ChargerLink,
    LinkClosed,
    LinkTimeout,
)
from depotctl.protocols.ocpp.message_log import Exchange, MessageLog
from depotctl.protocols.ocpp.profiles import (
    EvseLimit,
    ProfilePurpose,
    choose_rate_unit,
    fallback_request,
    max_request,
    rate_unit_request,
    rate_units_answered,
    stand_in_request,
    status_trigger_request,
    transaction_reference,
    tx_request,
    valid_until,
)
from depotctl.protocols.ocpp.round_trips import RoundTrips

log = logging.getLogger("depotctl.ocpp.dispatch")

#: Where each outcome goes (the control loop's sink); called on the event loop.
Report = Callable[[Outcome], None]

#: below this the limit equals the fallback (amps)
_EPSILON_A = 1e-6


@dataclass(frozen=True, slots=True)
class Timing:
    """The dispatcher's times, in the controller's clock unless said otherwise.

    ``timeout_s``: a call unanswered this long has timed out — but never before
    ``min_wall_timeout_s`` of wall time, which a fast simulated clock would
    otherwise shrink below a network's round trip; with ``max_wall_timeout_s`` (0:
    none) the wall wait follows how long answers take, between the two
    (:class:`~depotctl.protocols.ocpp.round_trips.RoundTrips`), so that an answer late
    only because the machine is loaded is not taken for a lost one. ``validity_s``:
    how long a dynamic profile holds before it lapses to the fallback (renewed with
    half of it left).
    ``probe_wall_s``: how long (wall) to wait for the StatusNotification a
    ``TriggerMessage`` asked for, or for a new transaction's id to reach the charger."""

    timeout_s: float = 5.0
    min_wall_timeout_s: float = 0.0
    max_wall_timeout_s: float = 0.0
    validity_s: float = 30.0
    retry_initial_s: float = 5.0
    retry_max_s: float = 300.0
    probe_wall_s: float = 2.0


@dataclass(slots=True)
class _Order:
    command: LimitCommand
    report: Report
    attempt: int = 0
    not_before: datetime | None = None


@dataclass(slots=True)
class _Profiles:
    """The controller's dynamic profiles on one EVSE, as last accepted."""

    tx_limit_a: float | None = None
    tx_until: datetime | None = None
    stand_in_a: float | None = None
    stand_in_until: datetime | None = None

    def renewal_due(self, now: datetime, within_s: float) -> bool:
        ends = [t for t in (self.tx_until, self.stand_in_until) if t is not None]
        return any((end - now).total_seconds() <= within_s for end in ends)

    def holds(self, limit_a: float) -> bool:
        held = [a for a in (self.tx_limit_a, self.stand_in_a) if a is not None]
        return bool(held) and all(abs(a - limit_a) < _EPSILON_A for a in held)


@dataclass(slots=True)
class _Answer:
    result: CommandOutcome
    reason: str | None = None
    response: Any = None
    delivery: Delivery = Delivery.ANSWERED


@dataclass(slots=True)
class _Connect:
    link: ChargerLink
    attempt: int = 0
    not_before: datetime | None = None


@dataclass
class ChargerQueue:
    """One charger's queue (see the module docstring); started by :meth:`start`."""

    charger_id: str
    clock: Clock
    timing: Timing
    log: MessageLog
    on_connect: Callable[[ConnectReport], None] | None = None
    #: the endpoint's answer times (shared by every queue); None: a fixed wall floor
    round_trips: RoundTrips | None = None
    _link: ChargerLink | None = None
    _connect: _Connect | None = None
    _changes: dict[str, _Order] = field(default_factory=dict)
    _retries: dict[str, _Order] = field(default_factory=dict)
    _renewals: dict[str, _Order] = field(default_factory=dict)
    _profiles: dict[str, _Profiles] = field(default_factory=dict)
    _units: dict[int, RateUnit] = field(default_factory=dict)
    _wake: asyncio.Event = field(default_factory=asyncio.Event)
    _task: asyncio.Task[None] | None = None
    _closing: bool = False

    # -- what the dispatcher asks ------------------------------------------------

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._work())

    def connected(self, link: ChargerLink) -> None:
        """A (new) connection that can take calls: run the connect routine first."""
        self._link = link
        self._connect = _Connect(link)
        self._retries.clear()  # the limits go again after the connect routine
        self._renewals.clear()
        self._units.clear()
        self._wake.set()

    def submit(self, command: LimitCommand, report: Report) -> None:
        """Queue ``command``, replacing any older one for its EVSE not sent yet."""
        evse_id = command.evse_id
        older = self._changes.pop(evse_id, None)
        if older is not None:
            _safely(older.report, _superseded(older.command))
        self._retries.pop(evse_id, None)
        self._renewals.pop(evse_id, None)
        self._changes[evse_id] = _Order(command, report)
        self._wake.set()

    def renew(self, evse_id: str, limit_a: float, report: Report) -> bool:
        """Queue a renewal of ``evse_id`` at ``limit_a`` if its profiles hold that
        limit and lapse within half their validity, and nothing newer is queued."""
        if evse_id in self._changes or evse_id in self._retries or evse_id in self._renewals:
            return False
        profiles = self._profiles.get(evse_id)
        link = self._link
        if profiles is None or link is None or not link.online or not profiles.holds(limit_a):
            return False
        now = self.clock.now()
        if not profiles.renewal_due(now, self.timing.validity_s / 2):
            return False
        evse = _evse(link.charge_point, evse_id)
        if evse is None:
            return False
        command = LimitCommand(
            evse_id,
            self.charger_id,
            limit_a,
            limit_a,
            now,
            purpose=CommandPurpose.RENEWAL,
        )
        self._renewals[evse_id] = _Order(command, report)
        self._wake.set()
        return True

    def retrying(self) -> frozenset[str]:
        return frozenset(self._retries)

    async def close(self) -> None:
        self._closing = True
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task

    # -- the worker --------------------------------------------------------------

    async def _work(self) -> None:
        while not self._closing:
            self._wake.clear()
            try:
                job = self._next()
                if job is None:
                    await self._idle()
                else:
                    await job
            except asyncio.CancelledError:
                raise
            except Exception:  # a bug must not stop the charger's queue
                log.exception("the command queue of %s failed", self.charger_id)

    def _next(self) -> Any:
        """The next job (a coroutine), or None when there is nothing to do now."""
        link = self._link
        if link is None or not link.online:
            if self._changes or self._retries or self._renewals or self._profiles:
                self._went_offline()
            return None
        now = self.clock.now()
        connect = self._connect
        if connect is not None and (connect.not_before is None or connect.not_before <= now):
            return self._run_connect(connect)  # first: the fallback, before any limit
        if self._changes:
            order = min(
                self._changes.values(),
                key=lambda o: (not o.command.is_decrease, o.command.evse_id),
            )
            del self._changes[order.command.evse_id]
            return self._run_order(order)
        due = [o for o in self._retries.values() if o.not_before is None or o.not_before <= now]
        if due:
            order = min(due, key=lambda o: o.command.evse_id)
            del self._retries[order.command.evse_id]
            return self._run_order(order)
        if self._renewals:
            order = min(self._renewals.values(), key=lambda o: o.command.evse_id)
            del self._renewals[order.command.evse_id]
            return self._run_order(order)
        return None

    async def _idle(self) -> None:
        """Wait for work: a new command, the connection closing, or the next retry."""
        waits: set[asyncio.Future[Any]] = {asyncio.ensure_future(self._wake.wait())}
        link = self._link
        if link is not None and link.online:
            waits.add(asyncio.ensure_future(link.wait_closed()))
        times = [o.not_before for o in self._retries.values() if o.not_before is not None]
        if self._connect is not None and self._connect.not_before is not None:
            times.append(self._connect.not_before)
        if times:
            seconds = (min(times) - self.clock.now()).total_seconds()
            waits.add(asyncio.ensure_future(self.clock.sleep(max(seconds, 0.0))))
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            for waiting in waits:
                waiting.cancel()

    def _went_offline(self) -> None:
        """The connection is gone: what waits is answered offline, nothing more is
        retried or renewed until the charger is back."""
        for order in sorted(self._changes.values(), key=lambda o: o.command.evse_id):
            self._note_not_sent(order.command, "not connected")
            _safely(order.report, _offline(order.command))
        self._changes.clear()
        self._retries.clear()
        self._renewals.clear()
        self._profiles.clear()
        self._connect = None

    # -- the connect routine -----------------------------------------------------

    async def _run_connect(self, connect: _Connect) -> None:
        link = connect.link
        charge_point = link.charge_point
        unit, source = await self._read_rate_unit(link)
        at = self.clock.now()
        fallback = await self._call(
            link, fallback_request(charge_point, unit, at), ProfilePurpose.FALLBACK
        )
        maximum = fallback
        if fallback.result is not CommandOutcome.OFFLINE:
            maximum = await self._call(
                link, max_request(charge_point, unit, at), ProfilePurpose.MAX
            )
        if self._connect is connect:
            if fallback.result in (CommandOutcome.REJECTED, CommandOutcome.TIMEOUT):
                delay = self._backoff_s(connect.attempt)
                self._connect = _Connect(
                    link, connect.attempt + 1, self.clock.now() + timedelta(seconds=delay)
                )
            else:
                self._connect = None
        report = ConnectReport(
            charge_point.charger_id,
            charge_point.ocpp_id,
            unit,
            source,
            fallback.result,
            fallback.reason,
            maximum.result,
            maximum.reason,
        )
        if self.on_connect is not None and link is self._link:
            _safely(self.on_connect, report)
        # booted: does it still run them? (asked after the report: with its fallback
        # in place the charger is controllable, and the answers only settle which
        # transactions go on — before any limit is sent, as this job comes first)
        for transaction in link.unconfirmed():
            trigger = status_trigger_request(charge_point.version, transaction.evse_number)
            await self._call(link, trigger, None)

    # -- limits --------------------------------------------------------------------

    async def _run_order(self, order: _Order) -> None:
        outcome = await self._hold(order.command)
        if outcome.result in (CommandOutcome.REJECTED, CommandOutcome.TIMEOUT):
            evse_id = order.command.evse_id
            if evse_id not in self._changes:  # one chain per EVSE; a newer command ends it
                self._retries[evse_id] = _Order(
                    _probe(order.command, self.clock.now()),
                    order.report,
                    order.attempt + 1,
                    self.clock.now() + timedelta(seconds=self._backoff_s(order.attempt)),
                )
        _safely(order.report, outcome)

    async def _hold(self, command: LimitCommand) -> Outcome:
        """Hold the EVSE at ``command.limit_a`` (see the module docstring)."""
        link = self._link
        if link is None or not link.online:
            self._note_not_sent(command, "not connected")
            return _offline(command)
        charge_point = link.charge_point
        evse = _evse(charge_point, command.evse_id)
        if evse is None:
            reason = f"{command.evse_id} is not an EVSE of charge point {charge_point.ocpp_id}"
            self._note_not_sent(command, reason)
            return Outcome(command, CommandOutcome.REJECTED, reason, Delivery.NOT_SENT)
        unit = await self._rate_unit(link)
        at = self.clock.now()
        until = valid_until(at, self.timing.validity_s)
        limit = command.limit_a
        wanted = EvseLimit(evse.number, limit, unit, at, self.timing.validity_s)
        profiles = self._profiles.setdefault(command.evse_id, _Profiles())
        held: datetime | None = None  # the limit holds (or may) until then
        await self._announced(link, evse)
        running = link.transaction_of(evse.number)
        tx = transaction_reference(charge_point, running)
        if tx is not None and running is not None:
            request = tx_request(charge_point, wanted, tx)
            answer = await self._call(link, request, ProfilePurpose.DYNAMIC, command.evse_id)
            if answer.result is CommandOutcome.ACCEPTED:
                profiles.tx_limit_a, profiles.tx_until, held = limit, until, until
            elif answer.result is CommandOutcome.REJECTED and await self._transaction_over(
                link, evse, running, answer
            ):
                profiles.tx_limit_a = profiles.tx_until = None
                running = None
            else:
                return self._failed(command, answer, until)
        else:
            profiles.tx_limit_a = profiles.tx_until = None
        # the stand-in: what a vehicle starts at, and a running transaction's limit on a
        # charger that takes no TxProfile
        governs_running = running is not None and tx is None
        if governs_running or limit < charge_point.fallback_a - _EPSILON_A:
            request = stand_in_request(charge_point, wanted)
            answer = await self._call(link, request, ProfilePurpose.DYNAMIC, command.evse_id)
            if answer.result is not CommandOutcome.ACCEPTED:
                return self._failed(command, answer, until, partly=held)
            profiles.stand_in_a, profiles.stand_in_until, held = limit, until, until
        else:  # an earlier, lower stand-in lapses to the fallback: at most this limit
            profiles.stand_in_a = profiles.stand_in_until = None
        if profiles.tx_limit_a is None and profiles.stand_in_a is None:
            self._profiles.pop(command.evse_id, None)
        return Outcome(command, CommandOutcome.ACCEPTED, None, Delivery.ANSWERED, held)

    def _failed(
        self,
        command: LimitCommand,
        answer: _Answer,
        until: datetime,
        *,
        partly: datetime | None = None,
    ) -> Outcome:
        """Not accepted: the limit may still hold if a call went unanswered, or a part
        of the command was accepted."""
        unanswered = answer.delivery is Delivery.UNANSWERED
        if not unanswered and partly is None:  # nothing of ours changed on the charger
            return Outcome(command, answer.result, answer.reason, answer.delivery)
        return Outcome(
            command,
            answer.result,
            answer.reason,
            Delivery.UNANSWERED if unanswered else answer.delivery,
            until,
        )

    async def _announced(self, link: ChargerLink, evse: ChargePointEvse) -> None:
        """Wait (wall, at most ``probe_wall_s``) while the EVSE's new transaction's id
        is on its way to the charger: a TxProfile naming it first would be refused."""
        deadline = time.monotonic() + self.timing.probe_wall_s
        while link.announcing(evse.number) and link.online and time.monotonic() < deadline:
            await asyncio.sleep(0.01)

    async def _transaction_over(
        self, link: ChargerLink, evse: ChargePointEvse, transaction_id: str, answer: _Answer
    ) -> bool:
        """Whether a refused ``TxProfile`` was refused because the transaction is over
        (and it is then closed): the charger says ``TxNotFound``, the book no longer
        lists it, it was left unconfirmed by a boot, or, asked, the EVSE reports a
        status under which no transaction runs."""
        if "TxNotFound" in (answer.reason or ""):
            link.transaction_unknown(evse.number, transaction_id)
            return True
        if link.transaction_of(evse.number) != transaction_id:
            return True  # it ended while the profile was on its way
        if any(t.transaction_id == transaction_id for t in link.unconfirmed()):
            # not named since the charger booted, and now refused: it did not survive
            link.transaction_unknown(evse.number, transaction_id)
            return True
        trigger = status_trigger_request(link.charge_point.version, evse.number)
        heard = link.statuses_heard(evse.number)
        asked = await self._call(link, trigger, None, evse.evse_id)
        if asked.result is not CommandOutcome.ACCEPTED:
            return False
        # the StatusNotification asked for comes over the network, after the answer
        deadline = time.monotonic() + self.timing.probe_wall_s
        while link.statuses_heard(evse.number) == heard and link.online:
            if time.monotonic() >= deadline:
                break
            await asyncio.sleep(0.01)
        return link.transaction_of(evse.number) != transaction_id

    # -- calls ---------------------------------------------------------------------

    async def _call(
        self,
        link: ChargerLink,
        request: Any,
        purpose: ProfilePurpose | None,
        evse_id: str | None = None,
    ) -> _Answer:
        """One call, logged, timed on the controller's clock (with a wall floor)."""
        charge_point = link.charge_point
        action = type(request).__name__
        sent = self.log.add(
            self.clock.now(),
            charge_point.charger_id,
            charge_point.ocpp_id,
            Exchange.REQUEST,
            action,
            purpose=purpose,
            evse_id=evse_id,
            payload=request,
        ).seq

        def note(exchange: Exchange, payload: Any = None, detail: str | None = None) -> None:
            self.log.add(
                self.clock.now(),
                charge_point.charger_id,
                charge_point.ocpp_id,
                exchange,
                action,
                purpose=purpose,
                evse_id=evse_id,
                payload=payload,
                request_seq=sent,
                detail=detail,
            )

        began = time.monotonic()
        call = asyncio.ensure_future(link.call(request))
        # the call's time counts from now, not from when the timer first runs
        timer = asyncio.ensure_future(self._time_out(self.clock.sleep(self.timing.timeout_s)))
        try:
            await asyncio.wait({call, timer}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            timer.cancel()
            if not call.done():
                call.cancel()
                with contextlib.suppress(BaseException):
                    await call
        unanswered = call.cancelled() or not call.done()
        error = None if unanswered else call.exception()
        if unanswered or isinstance(error, LinkTimeout):
            if self.round_trips is not None:
                self.round_trips.timed_out()
            reason = f"no answer within {self.timing.timeout_s:g} s"
            note(Exchange.TIMEOUT, detail=reason)
            return _Answer(CommandOutcome.TIMEOUT, reason, None, Delivery.UNANSWERED)
        if self.round_trips is not None and not isinstance(error, LinkClosed):
            self.round_trips.answered(time.monotonic() - began)
        if isinstance(error, LinkClosed):
            reason = f"connection closed{f': {error}' if str(error) else ''}"
            note(Exchange.CLOSED, detail=reason)
            return _Answer(CommandOutcome.OFFLINE, reason, None, Delivery.UNANSWERED)
        if isinstance(error, CallErrorReceived):
            reason = f"CallError {_summary(error.code, error.description)}"
            note(Exchange.CALL_ERROR, detail=reason)
            return _Answer(CommandOutcome.REJECTED, reason)
        if isinstance(error, AnswerUnreadable):  # not an acceptance; it may have landed
            reason = _clip(str(error))
            note(Exchange.FAILED, detail=reason)
            return _Answer(CommandOutcome.REJECTED, reason, None, Delivery.UNANSWERED)
        if error is not None:
            reason = f"{type(error).__name__}: {_clip(str(error))}"
            note(Exchange.FAILED, detail=reason)
            return _Answer(CommandOutcome.REJECTED, reason, None, Delivery.NOT_SENT)
        response = call.result()
        status = getattr(response, "status", None)
        if status is None or str(status) == "Accepted":
            note(Exchange.RESPONSE, response)
            return _Answer(CommandOutcome.ACCEPTED, None, response)
        reason = _status_reason(str(status), getattr(response, "status_info", None))
        note(Exchange.RESPONSE, response, reason)
        return _Answer(CommandOutcome.REJECTED, reason, response)

    async def _time_out(self, on_the_clock: Awaitable[None]) -> None:
        """Return once a call has had its time: ``timeout_s`` of the controller's
        clock (``on_the_clock``) and at least the wall wait (:meth:`wall_wait_s`)."""
        began = time.monotonic()
        wall_s = self.wall_wait_s()
        await on_the_clock
        remaining = wall_s - (time.monotonic() - began)
        if remaining > 0:
            await asyncio.sleep(remaining)

    def wall_wait_s(self) -> float:
        """The least wall time a call is given: ``min_wall_timeout_s``, or what the
        endpoint's answer times say (:attr:`round_trips`)."""
        if self.round_trips is None:
            return self.timing.min_wall_timeout_s
        return self.round_trips.wait_s()

    # -- the rate unit ---------------------------------------------------------------

    async def _rate_unit(self, link: ChargerLink) -> RateUnit:
        configured = link.charge_point.rate_unit
        if configured is not None:
            return configured
        cached = self._units.get(id(link))
        if cached is not None:
            return cached
        unit, _ = await self._read_rate_unit(link)
        return unit

    async def _read_rate_unit(self, link: ChargerLink) -> tuple[RateUnit, str]:
        """Ask the charger which units it takes (once per connection) and choose."""
        charge_point = link.charge_point
        if charge_point.rate_unit is not None:
            return charge_point.rate_unit, "configured"
        answer = await self._call(link, rate_unit_request(charge_point.version), None)
        offered = (
            rate_units_answered(charge_point.version, answer.response)
            if answer.result is CommandOutcome.ACCEPTED
            else frozenset()
        )
        unit = choose_rate_unit(charge_point, offered)
        if answer.result is not CommandOutcome.OFFLINE:
            self._units = {id(link): unit}
        return unit, "charger" if offered else "default"

    # -- plumbing --------------------------------------------------------------------

    def _backoff_s(self, attempt: int) -> float:
        """Clock seconds before retry ``attempt`` (0, 1, …): doubling, capped."""
        timing = self.timing
        return float(min(timing.retry_max_s, timing.retry_initial_s * 2**attempt))

    def _note_not_sent(self, command: LimitCommand, reason: str) -> None:
        link = self._link
        self.log.add(
            self.clock.now(),
            command.charger_id,
            link.charge_point.ocpp_id if link is not None else "",
            Exchange.NOT_SENT,
            "SetChargingProfile",
            purpose=ProfilePurpose.DYNAMIC,
            evse_id=command.evse_id,
            detail=reason,
        )


def _evse(charge_point: ChargePoint, evse_id: str) -> ChargePointEvse | None:
    return next((e for e in charge_point.evses if e.evse_id == evse_id), None)


def _probe(command: LimitCommand, at: datetime) -> LimitCommand:
    """What a retry sends: never more than the limit the charger last accepted."""
    previous = command.previous_a
    limit = command.limit_a if previous is None else min(command.limit_a, previous)
    return replace(command, limit_a=limit, at=at, purpose=CommandPurpose.RETRY)


def _offline(command: LimitCommand) -> Outcome:
    return Outcome(command, CommandOutcome.OFFLINE, "not connected", Delivery.NOT_SENT)


def _superseded(command: LimitCommand) -> Outcome:
    return Outcome(command, None, "superseded by a newer command", Delivery.NOT_SENT)


def _safely(report: Callable[[Any], None], value: Any) -> None:
    try:
        report(value)
    except Exception:
        log.exception("reporting an outcome failed")


def _status_reason(status: str, info: Any) -> str:
    """``Rejected`` or ``Rejected (TxNotFound: …)`` from a 2.0.1 ``statusInfo``."""
    if not info:
        return status
    names = ("reason_code", "additional_info")
    code, more = (
        info.get(n) if isinstance(info, Mapping) else getattr(info, n, None) for n in names
    )
    detail = ": ".join(_clip(str(part)) for part in (code, more) if part)
    return f"{status} ({detail})" if detail else status


def _summary(code: str, description: str) -> str:
    """A CallError for the journal: its code and description, never the PDU a charger
    may have echoed after them."""
    text = description.split("\n", 1)[0]
    for marker in (" [", " {", "PDU", "pdu"):
        cut = text.find(marker)
        if cut > 0:
            text = text[:cut]
    text = _clip(text.strip().rstrip(":;,"))
    return f"{code}: {text}" if text else code


def _clip(text: str, limit: int = 120) -> str:
    return text if len(text) <= limit else text[: limit - 1] + "…"
