"""The controller's limits, sent to chargers as OCPP charging profiles.

:class:`OcppDispatcher` sends one dynamic profile per command and answers with one
outcome per command: ``accepted``, ``rejected`` (with the charger's status or
CallError), ``timeout`` or ``offline``. Commands go out concurrently across
chargers, one call at a time per charger, decreases first; an increase whose path
shares a node with a pending decrease waits until that decrease is answered or has
timed out (:mod:`.pending`); others do not wait. An increase whose related decrease
was not accepted is not sent at all (``rejected``, "not sent: …"): the charger that
did not come down still draws what it had, so the room the increase was planned
into is not there; the next cycle plans again around it.

Beside ``dispatch``:

- ``renew(in_force)``, once per control cycle: dynamic profiles are valid for
  ``validity_s`` only (so a charger lapses to its fallback if the controller
  dies); a limit that did not change is sent again once less than half of its
  validity is left.
- ``on_connected(link)``, after each boot or reconnect: read the rate unit (unless
  configured), then send the fallback and the max profile.
- Retries: a rejected or unanswered limit is tried again after 5 s, 10 s, 20 s, …
  (at most ``retry_max_s``, in clock time) with a safe probe — the lower of the
  limit and the one it replaced — until the charger accepts it, goes offline or a
  new command for that EVSE supersedes it. Each retry's outcome goes to
  ``on_retry``: an accepted one makes the charger controllable again.

Every request and answer is kept in :attr:`OcppDispatcher.log`.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from depotctl.domain.charge_points import ChargePoint, ChargePointEvse, RateUnit
from depotctl.domain.chargers import CommandOutcome
from depotctl.protocols.ocpp.commands import (
    C,
    Clock,
    ConnectReport,
    DispatchOutcome,
    LimitOrder,
    ProfileCommand,
)
from depotctl.protocols.ocpp.link import CallErrorReceived, ChargerLink, LinkClosed, LinkTimeout
from depotctl.protocols.ocpp.message_log import Exchange, MessageLog
from depotctl.protocols.ocpp.pending import Nodes, PendingDecreases, nodes_of, share_a_node
from depotctl.protocols.ocpp.profiles import (
    ProfilePurpose,
    choose_rate_unit,
    dynamic_request,
    fallback_request,
    max_request,
    rate_unit_request,
    rate_units_answered,
)

log = logging.getLogger("depotctl.ocpp.dispatch")

#: how long past the link's own timeout the dispatcher waits before giving up on it
_GRACE_S = 1.0
_NOT_RETRIED = (CommandOutcome.ACCEPTED, CommandOutcome.OFFLINE)


@dataclass(frozen=True, slots=True)
class _Held:
    """A dynamic profile the charger accepted, and until when it holds."""

    limit_a: float
    valid_until: datetime
    charger_id: str
    path: tuple[str, ...]


class OcppDispatcher:
    """Sends limits over the links ``links()`` returns (any keys: a charger's link is
    found by ``link.charge_point.charger_id``)."""

    def __init__(
        self,
        links: Callable[[], Mapping[str, ChargerLink]],
        clock: Clock,
        *,
        timeout_s: float = 5.0,
        validity_s: float = 30.0,
        retry_initial_s: float = 5.0,
        retry_max_s: float = 300.0,
        log_size: int = 10_000,
        on_retry: Callable[[DispatchOutcome[ProfileCommand]], None] | None = None,
        on_connect: Callable[[ConnectReport], None] | None = None,
    ) -> None:
        self._links = links
        self._clock = clock
        self.timeout_s = timeout_s
        self.validity_s = validity_s
        self.retry_initial_s = retry_initial_s
        self.retry_max_s = retry_max_s
        self.on_retry = on_retry
        self.on_connect = on_connect
        self.log = MessageLog(log_size)
        self._pending = PendingDecreases()
        self._locks: dict[str, asyncio.Lock] = {}
        self._units: dict[str, tuple[ChargerLink, RateUnit]] = {}
        self._held: dict[str, _Held] = {}
        self._retries: dict[str, asyncio.Task[None]] = {}
        self._retry_sending: set[str] = set()
        self._connect_retries: dict[str, asyncio.Task[None]] = {}
        #: bumped by every command for an EVSE: a renewal or retry planned under an
        #: older generation is dropped rather than sent after a newer limit
        self._generation: dict[str, int] = {}

    # -- the control loop's side -------------------------------------------------

    async def dispatch(self, commands: Sequence[C]) -> list[DispatchOutcome[C]]:
        """Send ``commands`` (at most one per EVSE); one outcome each, in order."""
        for command in commands:
            self._generation[command.evse_id] = self._generation.get(command.evse_id, 0) + 1
            self._cancel_retry(command.evse_id)
        return await self._send_all(commands, retry=True)

    async def renew(self, in_force: Mapping[str, float]) -> list[DispatchOutcome[ProfileCommand]]:
        """Send again the limits of ``in_force`` (by EVSE, what the controller holds
        in force) whose profile has less than half its validity left. Only a limit
        this dispatcher saw accepted at that value is renewed, and none with a retry
        under way. Call it once per cycle, after applying ``dispatch``'s outcomes."""
        now = self._clock.now()
        due: list[ProfileCommand] = []
        for evse_id, limit in in_force.items():
            held = self._held.get(evse_id)
            if held is None or evse_id in self._retries or evse_id in self._retry_sending:
                continue
            if not math.isclose(held.limit_a, limit, abs_tol=1e-9):
                continue
            if (held.valid_until - now).total_seconds() > self.validity_s / 2:
                continue
            due.append(ProfileCommand(evse_id, held.charger_id, limit, limit, held.path))
        return await self._send_all(due, retry=True)

    def retrying(self) -> frozenset[str]:
        """The EVSEs with a retry under way."""
        return frozenset(self._retries) | self._retry_sending

    async def close(self) -> None:
        """Stop every retry."""
        tasks = [*self._retries.values(), *self._connect_retries.values()]
        self._retries.clear()
        self._connect_retries.clear()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    # -- the OCPP server's side ----------------------------------------------------

    async def on_connected(self, link: ChargerLink) -> ConnectReport:
        """After a boot or reconnect (from a task of its own, never inside a message
        handler): read the rate unit unless configured, send the fallback, then the
        max profile at the charger's rating. Reported to ``on_connect`` too; a
        fallback rejected or unanswered is sent again with the retries' backoff for
        as long as this connection lasts (each attempt reported)."""
        self._cancel_connect_retry(link.charge_point.charger_id)
        return await self._connect(link, attempt=0)

    async def _connect(self, link: ChargerLink, attempt: int) -> ConnectReport:
        charge_point = link.charge_point
        async with self._lock(charge_point.charger_id):
            unit, source = await self._read_rate_unit(link)
            at = self._clock.now()
            fallback, fallback_reason, _ = await self._exchange(
                link, fallback_request(charge_point, unit, at), ProfilePurpose.FALLBACK
            )
            maximum: CommandOutcome = fallback
            maximum_reason = fallback_reason
            if fallback is not CommandOutcome.OFFLINE:
                maximum, maximum_reason, _ = await self._exchange(
                    link, max_request(charge_point, unit, at), ProfilePurpose.MAX
                )
        report = ConnectReport(
            charge_point.charger_id,
            charge_point.ocpp_id,
            unit,
            source,
            fallback,
            fallback_reason,
            maximum,
            maximum_reason,
        )
        if fallback not in _NOT_RETRIED:
            self._connect_retries[charge_point.charger_id] = asyncio.get_running_loop().create_task(
                self._connect_again(link, attempt + 1)
            )
        if self.on_connect is not None:
            try:
                self.on_connect(report)
            except Exception:
                log.exception("on_connect failed for %s", charge_point.charger_id)
        return report

    async def _connect_again(self, link: ChargerLink, attempt: int) -> None:
        await asyncio.sleep(self._backoff_s(attempt - 1) / max(self._clock.speed, 1e-9))
        if link.online:
            await self._connect(link, attempt)

    def _cancel_connect_retry(self, charger_id: str) -> None:
        task = self._connect_retries.pop(charger_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()

    # -- sending -----------------------------------------------------------------

    async def _send_all(
        self, commands: Sequence[C], *, retry: bool, generation: int | None = None
    ) -> list[DispatchOutcome[C]]:
        if not commands:
            return []
        links = self._links_by_charger()
        order = sorted(
            range(len(commands)), key=lambda i: (not commands[i].is_decrease, commands[i].evse_id)
        )
        # every decrease is pending from now: an increase planned below must see it
        tickets = {
            i: self._pending.add(nodes_of(commands[i].charger_id, commands[i].path))
            for i in order
            if commands[i].is_decrease
        }
        queues: dict[str, list[int]] = {}
        for i in order:
            queues.setdefault(commands[i].charger_id, []).append(i)
        outcomes: dict[int, DispatchOutcome[C]] = {}
        #: the nodes of this batch's decreases that were not accepted
        failed: list[Nodes] = []

        async def run(charger_id: str, indices: list[int]) -> None:
            link = links.get(charger_id)
            stuck: tuple[CommandOutcome, str] | None = None
            for i in indices:
                command = commands[i]
                try:
                    if stuck is not None:
                        outcomes[i] = DispatchOutcome(command, *stuck)
                        self._note_not_sent(command, link, stuck[1])
                    else:
                        outcomes[i] = await self._deliver(command, link, generation, failed)
                        if outcomes[i].result in (CommandOutcome.TIMEOUT, CommandOutcome.OFFLINE):
                            stuck = (outcomes[i].result, f"not sent: {outcomes[i].reason}")
                except Exception as error:  # a bug must not stall the cycle
                    log.exception("dispatching %s failed", command.evse_id)
                    outcomes[i] = DispatchOutcome(
                        command, CommandOutcome.REJECTED, f"{type(error).__name__}: {error}"
                    )
                finally:
                    if i in tickets:
                        outcome = outcomes.get(i)
                        if outcome is None or outcome.result is not CommandOutcome.ACCEPTED:
                            failed.append(nodes_of(command.charger_id, command.path))
                        self._pending.resolve(tickets.pop(i))  # after noting a failure

        try:
            await asyncio.gather(*(run(c, indices) for c, indices in queues.items()))
        finally:
            for token in tickets.values():
                self._pending.resolve(token)
        results = [outcomes[i] for i in range(len(commands))]
        if retry:
            for outcome in results:
                if outcome.result not in _NOT_RETRIED:
                    self._schedule_retry(_probe(outcome.command), attempt=0)
        return results

    async def _deliver(
        self,
        command: C,
        link: ChargerLink | None,
        generation: int | None,
        failed: Sequence[Nodes] = (),
    ) -> DispatchOutcome[C]:
        """One dynamic profile: wait for related decreases (increases only), then send
        it while holding the charger's lock. An increase related to a decrease of
        ``failed`` (not accepted) is not sent."""
        if not command.is_decrease:
            nodes = nodes_of(command.charger_id, command.path)
            await self._pending.wait_clear(nodes)
            if any(share_a_node(nodes, other) for other in failed):
                held = "not sent: a decrease under a shared node was not accepted"
                self._note_not_sent(command, link, held)
                return DispatchOutcome(command, CommandOutcome.REJECTED, held)
        if link is None or not link.online:  # it may have reconnected meanwhile
            link = self._links_by_charger().get(command.charger_id)
        if link is None or not link.online:
            self._note_not_sent(command, link, "not connected")
            return DispatchOutcome(command, CommandOutcome.OFFLINE, "not connected")
        charge_point = link.charge_point
        evse = _evse(charge_point, command.evse_id)
        if evse is None:
            unknown = f"{command.evse_id} is not an EVSE of charge point {charge_point.ocpp_id}"
            self._note_not_sent(command, link, unknown)
            return DispatchOutcome(command, CommandOutcome.REJECTED, unknown)
        async with self._lock(command.charger_id):
            if generation is not None and self._generation.get(command.evse_id, 0) != generation:
                return DispatchOutcome(command, CommandOutcome.REJECTED, "superseded")
            unit = await self._rate_unit(link)
            at = self._clock.now()
            request = dynamic_request(
                charge_point,
                evse.number,
                command.limit_a,
                unit,
                at,
                self.validity_s,
                link.transaction_of(evse.number),
            )
            result, reason, _ = await self._exchange(
                link, request, ProfilePurpose.DYNAMIC, command.evse_id
            )
        if result is CommandOutcome.ACCEPTED:
            self._held[command.evse_id] = _Held(
                command.limit_a,
                at.replace(microsecond=0) + timedelta(seconds=max(int(self.validity_s), 1)),
                command.charger_id,
                tuple(command.path),
            )
        elif result is CommandOutcome.OFFLINE:
            self._held.pop(command.evse_id, None)  # not renewed until a new command is accepted
        return DispatchOutcome(command, result, reason)

    async def _exchange(
        self,
        link: ChargerLink,
        request: Any,
        purpose: ProfilePurpose | None,
        evse_id: str | None = None,
    ) -> tuple[CommandOutcome, str | None, Any]:
        """One call, logged: its outcome, the reason when not accepted, the response."""
        charge_point = link.charge_point
        action = type(request).__name__

        def note(exchange: Exchange, payload: Any = None, detail: str | None = None) -> int:
            return self.log.add(
                self._clock.now(),
                charge_point.charger_id,
                charge_point.ocpp_id,
                exchange,
                action,
                purpose=purpose,
                evse_id=evse_id,
                payload=payload,
                request_seq=sent,
                detail=detail,
            ).seq

        sent: int | None = None
        sent = note(Exchange.REQUEST, request)
        try:
            async with asyncio.timeout(self.timeout_s + _GRACE_S):
                response = await link.call(request, timeout_s=self.timeout_s)
        except (LinkTimeout, TimeoutError):
            reason = f"no answer within {self.timeout_s:g} s"
            note(Exchange.TIMEOUT, detail=reason)
            return CommandOutcome.TIMEOUT, reason, None
        except LinkClosed as error:
            reason = f"connection closed{f': {error}' if str(error) else ''}"
            note(Exchange.CLOSED, detail=reason)
            return CommandOutcome.OFFLINE, reason, None
        except CallErrorReceived as error:
            reason = f"CallError {error}"
            note(Exchange.CALL_ERROR, detail=reason)
            return CommandOutcome.REJECTED, reason, None
        except Exception as error:
            reason = f"{type(error).__name__}: {error}"
            note(Exchange.FAILED, detail=reason)
            return CommandOutcome.REJECTED, reason, None
        status = getattr(response, "status", None)
        if status is None or str(status) == "Accepted":
            note(Exchange.RESPONSE, response)
            return CommandOutcome.ACCEPTED, None, response
        reason = _status_reason(str(status), getattr(response, "status_info", None))
        note(Exchange.RESPONSE, response, reason)
        return CommandOutcome.REJECTED, reason, response

    def _note_not_sent(self, command: LimitOrder, link: ChargerLink | None, reason: str) -> None:
        self.log.add(
            self._clock.now(),
            command.charger_id,
            link.charge_point.ocpp_id if link is not None else "",
            Exchange.NOT_SENT,
            "SetChargingProfile",
            purpose=ProfilePurpose.DYNAMIC,
            evse_id=command.evse_id,
            detail=reason,
        )

    # -- rate unit -----------------------------------------------------------------

    async def _rate_unit(self, link: ChargerLink) -> RateUnit:
        """The unit for this connection (the charger's lock is held)."""
        configured = link.charge_point.rate_unit
        if configured is not None:
            return configured
        cached = self._units.get(link.charge_point.charger_id)
        if cached is not None and cached[0] is link:
            return cached[1]
        unit, _ = await self._read_rate_unit(link)
        return unit

    async def _read_rate_unit(self, link: ChargerLink) -> tuple[RateUnit, str]:
        """Ask the charger which units it takes (once per connection) and choose."""
        charge_point = link.charge_point
        if charge_point.rate_unit is not None:
            return charge_point.rate_unit, "configured"
        result, _, response = await self._exchange(
            link, rate_unit_request(charge_point.version), None
        )
        offered = (
            rate_units_answered(charge_point.version, response)
            if result is CommandOutcome.ACCEPTED
            else frozenset()
        )
        unit = choose_rate_unit(charge_point, offered)
        if result is not CommandOutcome.OFFLINE:
            self._units[charge_point.charger_id] = (link, unit)
        return unit, "charger" if offered else "default"

    # -- retries -------------------------------------------------------------------

    def _schedule_retry(self, probe: ProfileCommand, attempt: int) -> None:
        self._cancel_retry(probe.evse_id)
        delay_s = self._backoff_s(attempt)
        generation = self._generation.get(probe.evse_id, 0)
        self._retries[probe.evse_id] = asyncio.get_running_loop().create_task(
            self._retry(probe, attempt, delay_s, generation)
        )

    async def _retry(
        self, probe: ProfileCommand, attempt: int, delay_s: float, generation: int
    ) -> None:
        """Wait, send ``probe``, report; again later if it failed. Once sending, it is
        never cancelled (a newer command for the EVSE makes it drop its outcome)."""
        evse_id = probe.evse_id
        await asyncio.sleep(delay_s / max(self._clock.speed, 1e-9))
        self._retry_sending.add(evse_id)
        try:
            [outcome] = await self._send_all([probe], retry=False, generation=generation)
        finally:
            self._retry_sending.discard(evse_id)
        mine = self._retries.get(evse_id) is asyncio.current_task()
        if mine:
            del self._retries[evse_id]
        if not mine or self._generation.get(evse_id, 0) != generation:
            return  # a newer command took over this EVSE
        if outcome.result not in _NOT_RETRIED:
            self._schedule_retry(probe, attempt + 1)
        if self.on_retry is not None:
            try:
                self.on_retry(outcome)
            except Exception:
                log.exception("on_retry failed for %s", evse_id)

    def _backoff_s(self, attempt: int) -> float:
        """Clock seconds before retry ``attempt`` (0, 1, …): doubling, capped."""
        return float(min(self.retry_max_s, self.retry_initial_s * 2**attempt))

    def _cancel_retry(self, evse_id: str) -> None:
        """Forget the EVSE's retry; stop it unless it is already sending."""
        task = self._retries.pop(evse_id, None)
        if task is not None and evse_id not in self._retry_sending:
            task.cancel()

    # -- plumbing ------------------------------------------------------------------

    def _lock(self, charger_id: str) -> asyncio.Lock:
        lock = self._locks.get(charger_id)
        if lock is None:
            lock = self._locks[charger_id] = asyncio.Lock()
        return lock

    def _links_by_charger(self) -> dict[str, ChargerLink]:
        by_charger: dict[str, ChargerLink] = {}
        for link in self._links().values():
            charger_id = link.charge_point.charger_id
            if charger_id not in by_charger or link.online:
                by_charger[charger_id] = link
        return by_charger


def _probe(command: LimitOrder) -> ProfileCommand:
    """What a retry sends: never more than the limit the charger last accepted."""
    previous = command.previous_a
    limit = command.limit_a if previous is None else min(command.limit_a, previous)
    return ProfileCommand(command.evse_id, command.charger_id, limit, previous, tuple(command.path))


def _evse(charge_point: ChargePoint, evse_id: str) -> ChargePointEvse | None:
    return next((e for e in charge_point.evses if e.evse_id == evse_id), None)


def _status_reason(status: str, info: Any) -> str:
    """``Rejected`` or ``Rejected (TxNotFound: …)`` from a 2.0.1 ``statusInfo``."""
    if not info:
        return status
    names = ("reason_code", "additional_info")
    code, more = (info.get(n) if isinstance(info, dict) else getattr(info, n, None) for n in names)
    detail = ": ".join(str(part) for part in (code, more) if part)
    return f"{status} ({detail})" if detail else status
