"""The OCPP dispatcher against real ``ocpp`` library chargers over real websockets on
loopback: outcomes, a queue per charger (a silent one stalls nobody), holding an EVSE
by TxProfile and stand-in, the transaction lifecycle, the fallback on connect,
renewal, retries.

Timeouts, retries and renewals run on the controller's clock: the tests pause a
:class:`SimClock` and move it on; answers come over the network, so the tests wait
for them (bounded), never for a time to pass."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
from collections.abc import Callable, Coroutine
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

import pytest

from depotctl.controller.clock import SimClock
from depotctl.domain.charge_points import ChargePoint, ChargePointEvse, OcppVersion, RateUnit
from depotctl.domain.chargers import CommandOutcome
from depotctl.domain.commands import CommandPurpose, Delivery, LimitCommand, Outcome
from depotctl.protocols.ocpp.commands import ConnectReport
from depotctl.protocols.ocpp.dispatcher import OcppDispatcher
from depotctl.protocols.ocpp.message_log import Exchange
from depotctl.protocols.ocpp.profiles import ProfilePurpose
from depotctl.protocols.ocpp.queue import Timing
from tests.protocols.ocpp.profile_rig import NO_ANSWER, Behaviour, Depot, depot

T = TypeVar("T")

ACCEPTED, REJECTED = CommandOutcome.ACCEPTED, CommandOutcome.REJECTED
TIMEOUT, OFFLINE = CommandOutcome.TIMEOUT, CommandOutcome.OFFLINE
START = datetime(2025, 3, 4, 22, 0, tzinfo=UTC)
#: five-second timeouts on the test's clock, no wall floor; retries not before an hour
TIMING = Timing(timeout_s=5.0, validity_s=40.0, retry_initial_s=3600.0, probe_wall_s=5.0)


def run(scenario: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(scenario, 60))


def charger(
    number: int,
    version: OcppVersion = OcppVersion.V16,
    *,
    rate_unit: RateUnit | None = RateUnit.AMPS,
    evses: int = 1,
) -> ChargePoint:
    return ChargePoint(
        ocpp_id=f"CP-{number}",
        charger_id=f"chg-{number}",
        version=version,
        password=None,
        evses=tuple(ChargePointEvse(f"chg-{number}/{n}", n) for n in range(1, evses + 1)),
        number_phases=3,
        watts_per_amp=690.0,
        rating_a=32.0,
        fallback_a=8.0,
        rate_unit=rate_unit,
    )


def fleet(*charge_points: ChargePoint) -> dict[str, ChargePoint]:
    return {cp.ocpp_id: cp for cp in charge_points}


def command(evse_id: str, limit: float, previous: float | None = 8.0) -> LimitCommand:
    charger_id = evse_id.split("/")[0]
    return LimitCommand(evse_id, charger_id, limit, previous, START, path=(charger_id, "gc"))


class Reports:
    """The outcomes reported, in order, and a way to wait for them."""

    def __init__(self) -> None:
        self.outcomes: list[Outcome] = []
        self._arrived = asyncio.Event()

    def __call__(self, outcome: Outcome) -> None:
        self.outcomes.append(outcome)
        self._arrived.set()

    async def wait(self, count: int) -> list[Outcome]:
        """The first ``count`` outcomes, once there (bounded by the scenario's timeout)."""
        while len(self.outcomes) < count:
            self._arrived.clear()
            await self._arrived.wait()
        return self.outcomes[:count]

    def of(self, evse_id: str) -> list[Outcome]:
        return [o for o in self.outcomes if o.command.evse_id == evse_id]


async def connected(
    rig: Depot, clock: SimClock | None = None, timing: Timing = TIMING
) -> tuple[OcppDispatcher, list[ConnectReport]]:
    """A dispatcher told of every charger of the rig, each through its connect routine."""
    reports: list[ConnectReport] = []
    clock = clock or paused()
    d = OcppDispatcher(clock, timing, on_connect=reports.append)
    for link in rig.links.values():
        await d.on_connected(link)
    await until(lambda: len(reports) == len(rig.links))
    return d, reports


def paused() -> SimClock:
    clock = SimClock(START)
    clock.pause()
    return clock


async def until(condition: Callable[[], bool]) -> None:
    """Wait for a condition that arrives over the network (bounded by ``run``)."""
    while not condition():
        await asyncio.sleep(0.005)


def profiles(rig: Depot, ocpp_id: str) -> list[dict[str, Any]]:
    """The SetChargingProfile payloads a charger received after its connect routine
    (fallback and max profile left out)."""
    return [
        r.payload
        for r in rig.received(ocpp_id)
        if r.payload["profile"]["stack_level"] != 0
        or r.payload["profile"]["charging_profile_purpose"] == "TxProfile"
    ]


def requests(d: OcppDispatcher, evse_id: str) -> list[Any]:
    return [e for e in d.log if e.evse_id == evse_id and e.exchange is Exchange.REQUEST]


def purpose(payload: dict[str, Any]) -> str:
    return str(payload["profile"]["charging_profile_purpose"])


def limit_of(payload: dict[str, Any]) -> float:
    schedule = payload["profile"]["charging_schedule"]
    if isinstance(schedule, list):  # 2.0.1
        schedule = schedule[0]
    return float(schedule["charging_schedule_period"][0]["limit"])


# -- outcomes and what holds an EVSE ----------------------------------------------


def test_a_running_transaction_gets_a_tx_profile_in_both_versions() -> None:
    async def scenario() -> None:
        async with depot(fleet(charger(1), charger(2, OcppVersion.V201))) as rig:
            tx16 = await rig.start_transaction("CP-1", 1)
            tx201 = await rig.start_transaction("CP-2", 1)
            d, _ = await connected(rig)
            reports = Reports()
            d.send([command("chg-1/1", 16.0), command("chg-2/1", 12.5)], reports)
            outcomes = await reports.wait(2)
            assert [o.result for o in outcomes] == [ACCEPTED, ACCEPTED]
            # above the 8 A fallback: the TxProfile alone holds it, valid for 40 s
            assert all(o.held_until == START + timedelta(seconds=40) for o in outcomes)
            [got16] = profiles(rig, "CP-1")
            assert (purpose(got16), got16["connector_id"], limit_of(got16)) == (
                "TxProfile",
                1,
                16.0,
            )
            assert got16["profile"]["transaction_id"] == int(tx16)
            [got201] = profiles(rig, "CP-2")
            assert (purpose(got201), limit_of(got201)) == ("TxProfile", 12.5)
            assert got201["profile"]["transaction_id"] == tx201
            await d.close()

    run(scenario())


def test_below_its_fallback_an_evse_is_held_by_its_stand_in_too() -> None:
    """What a vehicle plugging in starts at must not be above the limit the engine
    counts: below the fallback, the connector's stand-in TxDefaultProfile carries the
    limit too (a running transaction also gets its TxProfile)."""

    async def scenario() -> None:
        async with depot(fleet(charger(1, evses=2))) as rig:
            await rig.start_transaction("CP-1", 1)
            d, _ = await connected(rig)
            reports = Reports()
            d.send([command("chg-1/1", 0.0), command("chg-1/2", 0.0)], reports)
            outcomes = await reports.wait(2)
            assert [o.result for o in outcomes] == [ACCEPTED, ACCEPTED]
            sent = [(p["connector_id"], purpose(p), limit_of(p)) for p in profiles(rig, "CP-1")]
            assert sent == [
                (1, "TxProfile", 0.0),
                (1, "TxDefaultProfile", 0.0),
                (2, "TxDefaultProfile", 0.0),
            ]
            stand_in = profiles(rig, "CP-1")[-1]["profile"]
            assert stand_in["stack_level"] == 1
            periods = stand_in["charging_schedule"]["charging_schedule_period"]
            assert periods[1]["limit"] == 8.0  # it lapses to the fallback
            # back at the fallback: nothing to send an idle EVSE (its stand-in lapses)
            d.send([command("chg-1/2", 8.0, 0.0)], reports)
            [back] = (await reports.wait(3))[2:]
            assert (back.result, back.held_until) == (ACCEPTED, None)
            assert len(profiles(rig, "CP-1")) == 3
            await d.close()

    run(scenario())


def test_a_rejection_carries_the_chargers_status_and_reason() -> None:
    async def scenario() -> None:
        behaviours = {
            "CP-1": Behaviour(status="Rejected"),
            "CP-2": Behaviour(
                status="Rejected",
                status_info={"reason_code": "NoProfile", "additional_info": "unsupported"},
            ),
        }
        async with depot(fleet(charger(1), charger(2, OcppVersion.V201)), behaviours) as rig:
            d = OcppDispatcher(paused(), TIMING)
            for link in rig.links.values():
                await d.on_connected(link)
            reports = Reports()
            d.send([command("chg-1/1", 6.0), command("chg-2/1", 6.0)], reports)
            outcomes = sorted(await reports.wait(2), key=lambda o: o.command.evse_id)
            assert [(o.result, o.reason, o.held_until) for o in outcomes] == [
                (REJECTED, "Rejected", None),
                (REJECTED, "Rejected (NoProfile: unsupported)", None),
            ]
            await d.close()

    run(scenario())


def test_a_silent_charger_times_out_on_the_clock_and_holds_up_nobody() -> None:
    """CP-1 never answers: its commands wait on its own queue and time out when the
    clock has moved 5 s past them; CP-2 is answered meanwhile."""

    async def scenario() -> None:
        clock = paused()
        async with depot(fleet(charger(1, evses=2), charger(2))) as rig:
            d, _ = await connected(rig, clock)
            rig.behaviours["CP-1"].delay_s = NO_ANSWER
            reports = Reports()
            d.send(
                [command("chg-1/1", 6.0), command("chg-1/2", 6.0), command("chg-2/1", 6.0)],
                reports,
            )
            [answered] = await reports.wait(1)
            assert (answered.command.evse_id, answered.result) == ("chg-2/1", ACCEPTED)
            await until(lambda: len(profiles(rig, "CP-1")) == 1)
            clock.advance(4.9)
            await asyncio.sleep(0.05)
            assert len(reports.outcomes) == 1  # not yet: 5 s of the clock
            clock.advance(0.1)
            first = (await reports.wait(2))[1]
            assert (first.command.evse_id, first.result) == ("chg-1/1", TIMEOUT)
            assert first.reason == "no answer within 5 s"
            # it may have landed: it counts until its profile would lapse
            assert first.delivery is Delivery.UNANSWERED
            assert first.held_until == START + timedelta(seconds=40)
            # then the next one goes (a charger that does not answer may read nothing more)
            await until(lambda: len(requests(d, "chg-1/2")) == 1)
            clock.advance(5)
            second = (await reports.wait(3))[2]
            assert (second.command.evse_id, second.result) == ("chg-1/2", TIMEOUT)
            await d.close()

    run(scenario())


def test_an_unknown_or_disconnected_charger_is_offline_and_sent_nothing() -> None:
    async def scenario() -> None:
        async with depot(fleet(charger(1), charger(2))) as rig:
            d, _ = await connected(rig)
            await rig.disconnect("CP-2")
            reports = Reports()
            d.send(
                [command("chg-1/1", 6.0), command("chg-2/1", 6.0), command("chg-9/1", 6.0)],
                reports,
            )
            outcomes = {o.command.evse_id: o for o in await reports.wait(3)}
            assert outcomes["chg-1/1"].result is ACCEPTED
            for gone in ("chg-2/1", "chg-9/1"):
                assert (outcomes[gone].result, outcomes[gone].reason) == (OFFLINE, "not connected")
                assert outcomes[gone].delivery is Delivery.NOT_SENT
            assert profiles(rig, "CP-2") == []
            await d.close()

    run(scenario())


def test_a_connection_that_closes_while_waiting_is_offline_and_may_have_landed() -> None:
    async def scenario() -> None:
        async with depot(fleet(charger(1))) as rig:
            d, _ = await connected(rig)
            rig.behaviours["CP-1"].delay_s = NO_ANSWER
            reports = Reports()
            d.send([command("chg-1/1", 6.0)], reports)
            await until(lambda: bool(profiles(rig, "CP-1")))
            await rig.disconnect("CP-1")
            [outcome] = await reports.wait(1)
            assert outcome.result is OFFLINE
            assert outcome.reason is not None and outcome.reason.startswith("connection closed")
            assert outcome.delivery is Delivery.UNANSWERED and outcome.held_until is not None
            await d.close()

    run(scenario())


def test_decreases_go_out_first_on_a_charger_and_a_newer_command_supersedes() -> None:
    async def scenario() -> None:
        async with depot(fleet(charger(1, evses=3))) as rig:
            d, _ = await connected(rig)
            rig.behaviours["CP-1"].delay_s = 0.05  # the first call holds the queue a moment
            reports = Reports()
            d.send(
                [
                    command("chg-1/1", 6.0, 2.0),  # increase (below the fallback: a stand-in)
                    command("chg-1/2", 2.0, 10.0),  # decrease
                    command("chg-1/3", 4.0, 10.0),  # decrease, superseded below
                ],
                reports,
            )
            d.send([command("chg-1/3", 3.0, 10.0)], reports)
            await reports.wait(4)
            superseded = [o for o in reports.outcomes if o.result is None]
            assert [(o.command.limit_a, o.reason) for o in superseded] == [
                (4.0, "superseded by a newer command")
            ]
            order = [(p["connector_id"], limit_of(p)) for p in profiles(rig, "CP-1")]
            assert order == [(2, 2.0), (3, 3.0), (1, 6.0)]
            await d.close()

    run(scenario())


def test_the_message_log_is_bounded_and_ordered() -> None:
    async def scenario() -> None:
        async with depot(fleet(charger(1))) as rig:
            await rig.start_transaction("CP-1", 1)
            d = OcppDispatcher(paused(), TIMING, log_size=5)
            await d.on_connected(rig.links["CP-1"])
            reports = Reports()
            for n, limit in enumerate((20.0, 19.0, 18.0, 17.0), start=1):
                d.send([command("chg-1/1", limit, limit + 1)], reports)
                await reports.wait(n)
            entries = list(d.log)
            assert len(entries) == 5
            assert [e.seq for e in entries] == list(range(8, 13))
            assert all(e.purpose is ProfilePurpose.DYNAMIC for e in entries)
            assert all(a.seq < b.seq and a.at <= b.at for a, b in itertools.pairwise(entries))
            await d.close()

    run(scenario())


# -- the transaction lifecycle ----------------------------------------------------


def test_a_tx_not_found_closes_the_transaction_and_the_evse_stays_controllable() -> None:
    """2.0.1: a TxProfile for a transaction the station no longer has is answered
    Rejected/TxNotFound: the transaction is closed, the EVSE held as an idle one (its
    stand-in below the fallback) and the command accepted."""

    async def scenario() -> None:
        behaviours = {
            "CP-2": Behaviour(tx_status="Rejected", status_info={"reason_code": "TxNotFound"})
        }
        async with depot(fleet(charger(2, OcppVersion.V201)), behaviours) as rig:
            transaction = await rig.start_transaction("CP-2", 1)
            d, _ = await connected(rig)
            reports = Reports()
            d.send([command("chg-2/1", 5.0)], reports)
            [outcome] = await reports.wait(1)
            assert outcome.result is ACCEPTED
            assert rig.links["CP-2"].ended == [transaction]
            sent = [(purpose(p), limit_of(p)) for p in profiles(rig, "CP-2")]
            assert sent == [("TxProfile", 5.0), ("TxDefaultProfile", 5.0)]
            await d.close()

    run(scenario())


def test_a_rejected_tx_profile_asks_the_charger_whether_its_transaction_still_runs() -> None:
    """1.6 says only Rejected. The dispatcher asks for the connector's status: if it is
    Available the transaction is over (closed, the EVSE held as idle, accepted);
    if it still charges, the charger refuses the limit (rejected)."""

    async def scenario() -> None:
        behaviours = {
            "CP-1": Behaviour(tx_status="Rejected", connector_status="Available"),
            "CP-3": Behaviour(tx_status="Rejected", connector_status="Charging"),
        }
        async with depot(fleet(charger(1), charger(3)), behaviours) as rig:
            await rig.start_transaction("CP-1", 1)
            await rig.start_transaction("CP-3", 1)
            d, _ = await connected(rig)
            reports = Reports()
            d.send([command("chg-1/1", 5.0), command("chg-3/1", 5.0)], reports)
            outcomes = {o.command.evse_id: o for o in await reports.wait(2)}
            assert outcomes["chg-1/1"].result is ACCEPTED
            assert rig.links["CP-1"].transaction_of(1) is None
            assert outcomes["chg-3/1"].result is REJECTED
            assert rig.links["CP-3"].transaction_of(1) is not None
            for ocpp_id in ("CP-1", "CP-3"):
                assert [r.action for r in rig.chargers[ocpp_id].received].count(
                    "TriggerMessage"
                ) == 1
            await d.close()

    run(scenario())


def test_a_refused_tx_profile_for_a_transaction_a_boot_left_unconfirmed_closes_it() -> None:
    """After a boot the charger has not named the transaction again: its refusal says
    enough (no status probe), and the EVSE is held as an idle one."""

    async def scenario() -> None:
        behaviours = {"CP-1": Behaviour(tx_status="Rejected", connector_status="Charging")}
        async with depot(fleet(charger(1)), behaviours) as rig:
            transaction = await rig.start_transaction("CP-1", 1)
            d, _ = await connected(rig)
            rig.links["CP-1"].unconfirmed_ids.add(transaction)  # as if it had booted
            reports = Reports()
            d.send([command("chg-1/1", 5.0)], reports)
            [outcome] = await reports.wait(1)
            assert outcome.result is ACCEPTED
            assert rig.links["CP-1"].ended == [transaction]
            assert "TriggerMessage" not in [r.action for r in rig.chargers["CP-1"].received]
            await d.close()

    run(scenario())


def test_a_tx_profile_waits_until_the_charger_knows_its_transactions_id() -> None:
    """1.6 gives a transaction its id in the answer to StartTransaction: a TxProfile
    naming it goes out only once that answer has (not refused as unknown)."""

    async def scenario() -> None:
        async with depot(fleet(charger(1))) as rig:
            transaction = await rig.start_transaction("CP-1", 1)
            d, _ = await connected(rig)
            link = rig.links["CP-1"]
            link.announcing_evses.add(1)  # the answer is still on its way
            sent_before_announced: list[int] = []

            def announce() -> None:
                sent_before_announced.append(len(profiles(rig, "CP-1")))
                link.announcing_evses.clear()

            asyncio.get_running_loop().call_later(0.2, announce)
            reports = Reports()
            d.send([command("chg-1/1", 16.0)], reports)
            [outcome] = await reports.wait(1)
            assert outcome.result is ACCEPTED
            assert sent_before_announced == [0]
            [got] = profiles(rig, "CP-1")
            assert purpose(got) == "TxProfile"
            assert got["profile"]["transaction_id"] == int(transaction)
            await d.close()

    run(scenario())


def test_a_call_error_is_summarised_without_the_pdu() -> None:
    from depotctl.protocols.ocpp.queue import _summary

    pdu = '{"connectorId": 1, "csChargingProfiles": {"chargingProfileId": 101, ' + "x" * 400
    assert _summary("FormationViolation", f"Payload is invalid {pdu}") == (
        "FormationViolation: Payload is invalid"
    )
    assert _summary("InternalError", "") == "InternalError"
    long = _summary("GenericError", "y" * 500)
    assert len(long) < 140 and long.endswith("…")


# -- connect, renew, retry --------------------------------------------------------


def test_on_connect_a_charger_gets_its_fallback_then_its_max_profile() -> None:
    async def scenario() -> None:
        chargers = fleet(
            charger(1, rate_unit=None),
            charger(2, OcppVersion.V201, rate_unit=None),
            charger(3, rate_unit=None),
        )
        behaviours = {
            "CP-1": Behaviour(rate_units="Current,Power"),
            "CP-2": Behaviour(rate_units="W"),
            "CP-3": Behaviour(rate_units=None),  # does not know the key: the 1.6 default
        }
        async with depot(chargers, behaviours) as rig:
            d, reports = await connected(rig)
            got = {r.ocpp_id: r for r in reports}
            assert [(got[o].rate_unit, got[o].rate_unit_source) for o in sorted(got)] == [
                (RateUnit.AMPS, "charger"),
                (RateUnit.WATTS, "charger"),
                (RateUnit.AMPS, "default"),
            ]
            assert all(r.controllable and r.max_profile is ACCEPTED for r in reports)
            assert [r.action for r in rig.chargers["CP-1"].received] == [
                "GetConfiguration",
                "SetChargingProfile",
                "SetChargingProfile",
            ]
            fallback, maximum = (r.payload for r in rig.received("CP-1"))
            assert fallback["connector_id"] == 0
            assert purpose(fallback) == "TxDefaultProfile"
            assert fallback["profile"]["stack_level"] == 0
            assert "valid_to" not in fallback["profile"]
            assert limit_of(fallback) == 8.0
            assert purpose(maximum) == "ChargePointMaxProfile"
            assert limit_of(maximum) == 32.0
            fallback201 = rig.received("CP-2")[0].payload
            assert fallback201["profile"]["charging_schedule"][0]["charging_rate_unit"] == "W"
            assert limit_of(fallback201) == 8.0 * 690
            # the unit read on connect is kept for the connection: no second read
            await rig.start_transaction("CP-2", 1)
            sent = Reports()
            d.send([command("chg-2/1", 16.0)], sent)
            await sent.wait(1)
            assert len(rig.received("CP-2", "GetVariables")) == 1
            assert limit_of(rig.received("CP-2")[-1].payload) == 16.0 * 690
            await d.close()

    run(scenario())


def test_a_rejected_fallback_is_sent_again_with_backoff_until_accepted() -> None:
    async def scenario() -> None:
        clock = paused()
        timing = replace(TIMING, retry_initial_s=10.0)
        async with depot(fleet(charger(1)), {"CP-1": Behaviour(status="Rejected")}) as rig:
            d, reports = await connected(rig, clock, timing)
            assert (reports[0].fallback, reports[0].fallback_reason) == (REJECTED, "Rejected")
            rig.behaviours["CP-1"].status = "Accepted"
            await asyncio.sleep(0.05)
            assert len(reports) == 1  # not before its backoff, on the clock
            clock.advance(10)
            await until(lambda: len(reports) == 2)
            assert reports[1].controllable
            clock.advance(3600)
            await asyncio.sleep(0.05)
            assert len(reports) == 2  # one chain, and it is done
            fallbacks = [
                r for r in rig.received("CP-1") if r.payload["profile"]["stack_level"] == 0
            ]
            assert len(fallbacks) == 4  # fallback and max, rejected; then both again
            await d.close()

    run(scenario())


def test_a_reconnected_charger_is_asked_its_rate_unit_again() -> None:
    async def scenario() -> None:
        behaviours = {"CP-1": Behaviour(rate_units="Power")}
        async with depot(fleet(charger(1, rate_unit=None)), behaviours) as rig:
            d, reports = await connected(rig)
            assert reports[0].rate_unit is RateUnit.WATTS
            await rig.disconnect("CP-1")
            rig.behaviours["CP-1"].rate_units = "Current"
            await rig.connect("CP-1")
            await d.on_connected(rig.links["CP-1"])
            await until(lambda: len(reports) == 2)
            assert reports[1].rate_unit is RateUnit.AMPS
            await d.close()

    run(scenario())


def test_unchanged_limits_are_renewed_before_they_lapse_and_never_while_offline() -> None:
    async def scenario() -> None:
        clock = paused()
        async with depot(fleet(charger(1, evses=2), charger(2))) as rig:
            await rig.start_transaction("CP-1", 1)
            await rig.start_transaction("CP-1", 2)
            await rig.start_transaction("CP-2", 1)
            d, _ = await connected(rig, clock)
            reports = Reports()
            d.send(
                [command("chg-1/1", 16.0), command("chg-1/2", 10.0), command("chg-2/1", 12.0)],
                reports,
            )
            await reports.wait(3)
            in_force = {"chg-1/1": 16.0, "chg-1/2": 10.0, "chg-2/1": 12.0}
            clock.advance(19)
            assert d.renew(in_force, reports) == 0  # more than half the validity left
            clock.advance(2)
            await rig.disconnect("CP-2")
            # 12 A is not what chg-1/2 holds; CP-2 is gone: neither is renewed
            queued = d.renew({**in_force, "chg-1/2": 12.0}, reports)
            assert queued == 1
            [renewal] = (await reports.wait(4))[3:]
            assert (renewal.command.evse_id, renewal.command.purpose, renewal.result) == (
                "chg-1/1",
                CommandPurpose.RENEWAL,
                ACCEPTED,
            )
            first, _, again = profiles(rig, "CP-1")
            ids = (first["profile"]["charging_profile_id"], again["profile"]["charging_profile_id"])
            assert ids[0] == ids[1]  # it replaces its predecessor
            assert renewal.held_until == clock.now().replace(microsecond=0) + timedelta(seconds=40)
            for _ in range(3):  # every tick: nothing for the offline charger, ever
                assert d.renew({"chg-2/1": 12.0}, reports) == 0
            await d.close()

    run(scenario())


def test_a_rejected_limit_is_retried_with_a_safe_probe_until_accepted() -> None:
    async def scenario() -> None:
        clock = paused()
        timing = replace(TIMING, retry_initial_s=5.0)
        async with depot(fleet(charger(1))) as rig:
            await rig.start_transaction("CP-1", 1)
            d, _ = await connected(rig, clock, timing)
            rig.behaviours["CP-1"].status = "Rejected"
            reports = Reports()
            d.send([command("chg-1/1", 20.0, 12.0)], reports)
            [rejected] = await reports.wait(1)
            assert rejected.result is REJECTED
            assert d.retrying() == {"chg-1/1"}
            clock.advance(5)
            [again] = (await reports.wait(2))[1:]
            # the probe: never more than what it last accepted
            assert (again.command.purpose, again.command.limit_a, again.result) == (
                CommandPurpose.RETRY,
                12.0,
                REJECTED,
            )
            rig.behaviours["CP-1"].status = "Accepted"
            clock.advance(9.9)
            await asyncio.sleep(0.05)
            assert len(reports.outcomes) == 2  # backoff doubles: 10 s
            clock.advance(0.1)
            [accepted] = (await reports.wait(3))[2:]
            assert accepted.result is ACCEPTED and d.retrying() == frozenset()
            await d.close()

    run(scenario())


def test_a_new_command_ends_a_retry_chain_and_going_offline_stops_it() -> None:
    async def scenario() -> None:
        clock = paused()
        timing = replace(TIMING, retry_initial_s=5.0)
        async with depot(fleet(charger(1), charger(2)), {}) as rig:
            d, _ = await connected(rig, clock, timing)
            for ocpp_id in ("CP-1", "CP-2"):
                rig.behaviours[ocpp_id].status = "Rejected"
            reports = Reports()
            d.send([command("chg-1/1", 6.0), command("chg-2/1", 6.0)], reports)
            await reports.wait(2)
            assert d.retrying() == {"chg-1/1", "chg-2/1"}
            rig.behaviours["CP-1"].status = "Accepted"
            d.send([command("chg-1/1", 7.0)], reports)  # one chain per EVSE: this one
            await reports.wait(3)
            await rig.disconnect("CP-2")
            await until(lambda: d.retrying() == frozenset())  # gone: its chain with it
            clock.advance(3600)
            await asyncio.sleep(0.05)
            assert len(reports.outcomes) == 3  # and nothing more came of it
            assert len(profiles(rig, "CP-2")) == 1  # nothing re-sent while it is away
            await d.close()

    run(scenario())


# -- through the real OCPP endpoint ----------------------------------------------


def test_through_the_endpoint_nothing_is_sent_before_the_boot() -> None:
    """A charger the endpoint has seen before connects again: no call may go out before
    its BootNotification is answered (many chargers never answer one), then the
    fallback and the max profile follow."""
    from depotctl.protocols.ocpp.connection import ChargerConnection
    from tests.protocols.ocpp.chargers import raw
    from tests.protocols.ocpp.endpoint_rig import charge_point as rig_charge_point
    from tests.protocols.ocpp.endpoint_rig import endpoint
    from tests.protocols.ocpp.profile_rig import boot, charger_class

    async def scenario() -> None:
        cp = rig_charge_point("CP-16", "chg-16", OcppVersion.V16)
        async with endpoint(cp) as rig:
            reports: list[ConnectReport] = []
            d = OcppDispatcher(paused(), TIMING, on_connect=reports.append)
            rig.server.on_connected(d.on_connected)
            for attempt in range(2):  # the second time, the endpoint knows it
                async with raw(rig.url, cp.ocpp_id, cp.version.value) as websocket:
                    client = charger_class(cp.version)(cp.ocpp_id, websocket)
                    client.behaviour = Behaviour(rate_units="Current")
                    client.received = []
                    receiving = asyncio.create_task(_receive(client))
                    link = None
                    while link is None:
                        link = rig.server.links().get("chg-16")
                        await asyncio.sleep(0.005)
                    assert isinstance(link, ChargerConnection) and not link.ready
                    await asyncio.sleep(0.1)
                    assert client.received == [], attempt  # silent until it boots
                    await boot(client, cp.version)
                    await until(lambda n=attempt: len(reports) == n + 1)
                    assert [r.action for r in client.received] == [
                        "GetConfiguration",
                        "SetChargingProfile",
                        "SetChargingProfile",
                    ]
                    receiving.cancel()
                    with contextlib.suppress(asyncio.CancelledError):
                        await receiving
                await until(lambda: "chg-16" not in rig.server.links())
            await d.close()

    run(scenario())


async def _receive(client: Any) -> None:
    from websockets.exceptions import ConnectionClosed

    with contextlib.suppress(ConnectionClosed, asyncio.CancelledError):
        await client.start()


def test_outcomes_say_what_may_hold() -> None:
    at = START
    sent = command("chg-1/1", 6.0)
    assert Outcome(sent, ACCEPTED, held_until=at).may_hold
    assert not Outcome(sent, REJECTED).may_hold
    assert Outcome(sent, TIMEOUT, delivery=Delivery.UNANSWERED, held_until=at).may_hold
    assert not Outcome(sent, None, "superseded", Delivery.NOT_SENT).accepted
    assert next(e for e in Exchange if e.is_answer) is Exchange.RESPONSE


# A loaded machine and a boot: what makes a healthy charger uncontrollable, and what not


def test_an_answer_late_only_because_the_machine_is_loaded_is_no_timeout() -> None:
    """Every answer takes 0.5 s of wall time (a loaded machine) on a fast clock: its
    five seconds pass at once, and a fixed wall floor (0.05 s here, 2 s in the demo
    at ×20 while answers took up to 3.6 s) timed out every call of a healthy charger,
    leaving it uncontrollable until a retry. The wall wait follows how long answers
    take (learned from the connect routine's), so the command is answered, accepted;
    a charger that does not answer at all still times out, within the ceiling."""

    async def scenario() -> None:
        clock = paused()
        timing = replace(TIMING, min_wall_timeout_s=0.05, max_wall_timeout_s=5.0)
        behaviours = {"CP-1": Behaviour(delay_s=0.5), "CP-2": Behaviour(delay_s=0.5)}
        async with depot(fleet(charger(1), charger(2)), behaviours) as rig:
            d, _ = await connected(rig, clock, timing)  # fallback and max: 0.5 s each
            assert d.round_trips is not None and d.round_trips.wait_s() > 0.5
            reports = Reports()
            d.send([command("chg-1/1", 6.0)], reports)
            await until(lambda: len(profiles(rig, "CP-1")) == 1)
            clock.advance(5)  # the controller's five seconds: only the wall wait is left
            [outcome] = await reports.wait(1)
            assert (outcome.result, outcome.reason) == (ACCEPTED, None)
            rig.behaviours["CP-2"].delay_s = NO_ANSWER
            d.send([command("chg-2/1", 6.0)], reports)
            await until(lambda: len(profiles(rig, "CP-2")) == 1)
            clock.advance(5)
            silent = (await reports.wait(2))[1]
            assert (silent.result, silent.delivery) == (TIMEOUT, Delivery.UNANSWERED)
            await d.close()

    run(scenario())


@pytest.mark.parametrize("version", [OcppVersion.V16, OcppVersion.V201])
def test_a_charger_back_from_a_boot_is_controllable_once_its_fallback_is_in_place(
    version: OcppVersion,
) -> None:
    """After a boot the controller asks about each transaction the boot left
    unconfirmed (a TriggerMessage): the charger is reported connected — controllable
    — once its fallback and max profile are answered, not after those questions too
    (each a round trip, ×20 on the demo's clock). The questions still come before any
    limit."""

    async def scenario() -> None:
        behaviours = {"CP-1": Behaviour(trigger_delay_s=NO_ANSWER)}
        async with depot(fleet(charger(1, version)), behaviours) as rig:
            transaction = await rig.start_transaction("CP-1", 1)
            rig.links["CP-1"].unconfirmed_ids.add(transaction)  # as if it had booted
            reports: list[ConnectReport] = []
            d = OcppDispatcher(paused(), TIMING, on_connect=reports.append)
            await d.on_connected(rig.links["CP-1"])
            await asyncio.wait_for(until(lambda: len(reports) == 1), 10)
            [report] = reports
            assert report.controllable and report.max_profile is ACCEPTED
            await until(lambda: len(rig.received("CP-1", "TriggerMessage")) == 1)
            outcomes = Reports()
            d.send([command("chg-1/1", 5.0)], outcomes)
            await asyncio.sleep(0.05)
            assert not outcomes.outcomes  # behind the question still unanswered
            assert len(rig.received("CP-1")) == 2  # the fallback and the max profile
            await d.close()

    run(scenario())
