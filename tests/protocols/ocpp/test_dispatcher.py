"""The OCPP dispatcher against real ``ocpp`` library chargers over real websockets on
loopback: outcomes, the ordering rule, the fallback on connect, renewal, retries."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from collections.abc import Callable, Coroutine, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, TypeVar

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ocpp.v16 import call_result as result16
from websockets.exceptions import ConnectionClosed

from depotctl.controller.clock import RealClock, SimClock
from depotctl.controller.dispatch import LimitCommand, Outcome
from depotctl.controller.ocpp_dispatch import OcppDispatch
from depotctl.domain.charge_points import ChargePoint, ChargePointEvse, OcppVersion, RateUnit
from depotctl.domain.chargers import CommandOutcome
from depotctl.protocols.ocpp.commands import ConnectReport, DispatchOutcome, ProfileCommand
from depotctl.protocols.ocpp.dispatcher import OcppDispatcher
from depotctl.protocols.ocpp.link import CallErrorReceived, LinkClosed, LinkTimeout
from depotctl.protocols.ocpp.message_log import Exchange, LoggedMessage
from depotctl.protocols.ocpp.pending import nodes_of, share_a_node
from depotctl.protocols.ocpp.profiles import ProfilePurpose
from tests.protocols.ocpp.chargers import raw
from tests.protocols.ocpp.endpoint_rig import charge_point as rig_charge_point
from tests.protocols.ocpp.endpoint_rig import endpoint
from tests.protocols.ocpp.profile_rig import (
    NO_ANSWER,
    Behaviour,
    Depot,
    boot,
    charger_class,
    depot,
    start_transaction,
)

T = TypeVar("T")

ACCEPTED, REJECTED = CommandOutcome.ACCEPTED, CommandOutcome.REJECTED
TIMEOUT, OFFLINE = CommandOutcome.TIMEOUT, CommandOutcome.OFFLINE


def run(scenario: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(asyncio.wait_for(scenario, 30))


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


def command(evse_id: str, limit: float, previous: float | None, *path: str) -> ProfileCommand:
    charger_id = evse_id.split("/")[0]
    return ProfileCommand(evse_id, charger_id, limit, previous, (charger_id, *path))


def dispatcher(rig: Depot, **options: Any) -> OcppDispatcher:
    options.setdefault("retry_initial_s", 3600.0)  # no retries unless a test asks
    return OcppDispatcher(rig.current_links, RealClock(), **options)


def requests(d: OcppDispatcher, evse_id: str) -> list[LoggedMessage]:
    return [e for e in d.log if e.evse_id == evse_id and e.exchange is Exchange.REQUEST]


def answer(d: OcppDispatcher, evse_id: str) -> LoggedMessage:
    [entry] = [e for e in d.log if e.evse_id == evse_id and e.exchange.is_answer]
    return entry


def results(outcomes: Sequence[DispatchOutcome[Any]]) -> list[CommandOutcome]:
    return [o.result for o in outcomes]


# -- outcomes ---------------------------------------------------------------------


def test_both_versions_accept_a_tx_profile_for_their_transaction() -> None:
    async def scenario() -> None:
        chargers = fleet(charger(1), charger(2, OcppVersion.V201))
        async with depot(chargers) as rig:
            tx16 = await rig.start_transaction("CP-1", 1)
            tx201 = await rig.start_transaction("CP-2", 1)
            d = dispatcher(rig)
            outcomes = await d.dispatch(
                [command("chg-1/1", 16.0, 20.0, "gc"), command("chg-2/1", 12.5, 20.0, "gc")]
            )
            assert results(outcomes) == [ACCEPTED, ACCEPTED]
            [got16] = rig.received("CP-1")
            assert got16.payload["connector_id"] == 1
            profile16 = got16.payload["profile"]
            assert profile16["charging_profile_purpose"] == "TxProfile"
            assert profile16["transaction_id"] == int(tx16)
            assert profile16["charging_schedule"]["charging_schedule_period"][0]["limit"] == 16.0
            [got201] = rig.received("CP-2")
            profile201 = got201.payload["profile"]
            assert profile201["charging_profile_purpose"] == "TxProfile"
            assert profile201["transaction_id"] == tx201
            assert (
                profile201["charging_schedule"][0]["charging_schedule_period"][0]["limit"] == 12.5
            )

    run(scenario())


def test_an_evse_without_a_transaction_gets_a_tx_default_on_its_connector() -> None:
    async def scenario() -> None:
        async with depot(fleet(charger(1, evses=2))) as rig:
            d = dispatcher(rig)
            [outcome] = await d.dispatch([command("chg-1/2", 0.0, 16.0, "gc")])
            assert outcome.result is ACCEPTED
            [got] = rig.received("CP-1")
            assert got.payload["connector_id"] == 2
            assert got.payload["profile"]["charging_profile_purpose"] == "TxDefaultProfile"
            assert got.payload["profile"]["stack_level"] == 1

    run(scenario())


def test_a_rejection_carries_the_chargers_status_and_reason() -> None:
    async def scenario() -> None:
        behaviours = {
            "CP-1": Behaviour(status="Rejected"),
            "CP-2": Behaviour(
                status="Rejected",
                status_info={"reason_code": "TxNotFound", "additional_info": "no such tx"},
            ),
        }
        async with depot(fleet(charger(1), charger(2, OcppVersion.V201)), behaviours) as rig:
            d = dispatcher(rig)
            outcomes = await d.dispatch(
                [command("chg-1/1", 6.0, 10.0, "gc"), command("chg-2/1", 6.0, 10.0, "gc")]
            )
            assert [(o.result, o.reason) for o in outcomes] == [
                (REJECTED, "Rejected"),
                (REJECTED, "Rejected (TxNotFound: no such tx)"),
            ]
            await d.close()

    run(scenario())


def test_a_charger_that_never_answers_times_out_and_gets_nothing_more() -> None:
    async def scenario() -> None:
        behaviours = {"CP-1": Behaviour(delay_s=NO_ANSWER)}
        async with depot(fleet(charger(1, evses=2)), behaviours) as rig:
            d = dispatcher(rig, timeout_s=0.3)
            started = time.monotonic()
            outcomes = await d.dispatch(
                [command("chg-1/1", 6.0, 10.0, "gc"), command("chg-1/2", 6.0, 10.0, "gc")]
            )
            elapsed = time.monotonic() - started
            assert results(outcomes) == [TIMEOUT, TIMEOUT]
            assert outcomes[0].reason == "no answer within 0.3 s"
            assert outcomes[1].reason == "not sent: no answer within 0.3 s"
            assert 0.3 <= elapsed < 1.0  # the second waited for no second timeout
            assert len(rig.received("CP-1")) == 1
            await d.close()

    run(scenario())


def test_an_unknown_or_disconnected_charger_is_offline() -> None:
    async def scenario() -> None:
        async with depot(fleet(charger(1), charger(2))) as rig:
            d = dispatcher(rig)
            await rig.disconnect("CP-2")
            outcomes = await d.dispatch(
                [
                    command("chg-1/1", 6.0, 10.0, "gc"),
                    command("chg-2/1", 6.0, 10.0, "gc"),
                    command("chg-9/1", 6.0, 10.0, "gc"),  # never connected
                ]
            )
            assert results(outcomes) == [ACCEPTED, OFFLINE, OFFLINE]
            assert outcomes[1].reason == "not connected"

    run(scenario())


def test_a_connection_that_closes_while_waiting_is_offline() -> None:
    async def scenario() -> None:
        behaviours = {"CP-1": Behaviour(delay_s=NO_ANSWER)}
        async with depot(fleet(charger(1)), behaviours) as rig:
            d = dispatcher(rig, timeout_s=5.0)
            sending = asyncio.ensure_future(d.dispatch([command("chg-1/1", 6.0, 10.0, "gc")]))
            while not rig.received("CP-1"):
                await asyncio.sleep(0.01)
            await rig.disconnect("CP-1")
            [outcome] = await sending
            assert outcome.result is OFFLINE
            assert outcome.reason is not None and outcome.reason.startswith("connection closed")

    run(scenario())


# -- the ordering rule ------------------------------------------------------------


def test_an_increase_waits_for_a_pending_decrease_under_a_shared_node_only() -> None:
    """gc-a ─ db-1 ─ chg-1 (decrease; answers after 0.6 s), chg-2 (increase);
    gc-b ─ chg-3 (increase, unrelated): chg-2 goes out only after chg-1's answer,
    chg-3 at once."""

    async def scenario() -> None:
        chargers = fleet(charger(1), charger(2, OcppVersion.V201), charger(3))
        behaviours = {"CP-1": Behaviour(delay_s=0.6)}
        async with depot(chargers, behaviours) as rig:
            d = dispatcher(rig)
            outcomes = await d.dispatch(
                [
                    command("chg-2/1", 20.0, 10.0, "db-1", "gc-a"),
                    command("chg-3/1", 20.0, 10.0, "gc-b"),
                    command("chg-1/1", 10.0, 32.0, "db-1", "gc-a"),
                ]
            )
            assert results(outcomes) == [ACCEPTED, ACCEPTED, ACCEPTED]
            decrease_answered = answer(d, "chg-1/1")
            [related] = requests(d, "chg-2/1")
            [unrelated] = requests(d, "chg-3/1")
            assert decrease_answered.request_seq is not None
            assert decrease_answered.seq < related.seq
            assert unrelated.seq < decrease_answered.seq
            assert answer(d, "chg-3/1").seq < decrease_answered.seq  # did not wait at all
            # and as the chargers saw it
            [cut] = rig.received("CP-1")
            [raised] = rig.received("CP-2")
            [elsewhere] = rig.received("CP-3")
            assert raised.at >= cut.at + 0.6
            assert elsewhere.at < cut.at + 0.3

    run(scenario())


def test_an_increase_waits_out_a_decrease_that_times_out_and_is_then_held_back() -> None:
    """The charger that did not answer still draws its old limit: the room the
    increase was planned into is not there, so the increase is not sent (the next
    cycle plans around the uncontrollable charger)."""

    async def scenario() -> None:
        behaviours = {"CP-1": Behaviour(delay_s=NO_ANSWER)}
        async with depot(fleet(charger(1), charger(2), charger(3)), behaviours) as rig:
            d = dispatcher(rig, timeout_s=0.4)
            started = time.monotonic()
            outcomes = await d.dispatch(
                [
                    command("chg-1/1", 10.0, 32.0, "gc"),
                    command("chg-2/1", 20.0, 10.0, "gc"),
                    command("chg-3/1", 20.0, 10.0, "gc-elsewhere"),
                ]
            )
            assert results(outcomes) == [TIMEOUT, REJECTED, ACCEPTED]
            assert outcomes[1].reason == (
                "not sent: a decrease under a shared node was not accepted"
            )
            assert time.monotonic() - started >= 0.4  # it waited for the timeout
            assert answer(d, "chg-1/1").exchange is Exchange.TIMEOUT
            assert requests(d, "chg-2/1") == []
            assert answer(d, "chg-2/1").exchange is Exchange.NOT_SENT
            assert rig.received("CP-2") == []
            assert len(rig.received("CP-3")) == 1  # unrelated: sent at once
            await d.close()

    run(scenario())


def test_an_increase_is_held_back_when_a_related_decrease_is_rejected() -> None:
    async def scenario() -> None:
        behaviours = {"CP-1": Behaviour(status="Rejected")}
        async with depot(fleet(charger(1), charger(2)), behaviours) as rig:
            d = dispatcher(rig)
            outcomes = await d.dispatch(
                [command("chg-1/1", 10.0, 32.0, "gc"), command("chg-2/1", 20.0, 10.0, "gc")]
            )
            assert results(outcomes) == [REJECTED, REJECTED]
            assert rig.received("CP-2") == []
            await d.close()

    run(scenario())


def test_decreases_go_out_first_on_a_charger() -> None:
    async def scenario() -> None:
        async with depot(fleet(charger(1, evses=3))) as rig:
            d = dispatcher(rig)
            await d.dispatch(
                [
                    command("chg-1/1", 20.0, 10.0, "gc"),
                    command("chg-1/2", 5.0, 10.0, "gc"),
                    command("chg-1/3", 20.0, None, "gc"),  # nothing in force: a decrease
                ]
            )
            connectors = [r.payload["connector_id"] for r in rig.received("CP-1")]
            assert connectors == [2, 3, 1]

    run(scenario())


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
        reports = []
        async with depot(chargers, behaviours) as rig:
            d = OcppDispatcher(rig.current_links, RealClock(), on_connect=reports.append)
            got = [await d.on_connected(rig.links[ocpp_id]) for ocpp_id in ("CP-1", "CP-2", "CP-3")]
            assert got == reports
            assert [(r.rate_unit, r.rate_unit_source) for r in got] == [
                (RateUnit.AMPS, "charger"),
                (RateUnit.WATTS, "charger"),
                (RateUnit.AMPS, "default"),
            ]
            assert all(r.controllable and r.max_profile is ACCEPTED for r in got)
            assert [r.action for r in rig.chargers["CP-1"].received] == [
                "GetConfiguration",
                "SetChargingProfile",
                "SetChargingProfile",
            ]
            fallback, maximum = (r.payload for r in rig.received("CP-1"))
            assert fallback["connector_id"] == 0
            assert fallback["profile"]["charging_profile_purpose"] == "TxDefaultProfile"
            assert fallback["profile"]["stack_level"] == 0
            assert "valid_to" not in fallback["profile"]
            assert (
                fallback["profile"]["charging_schedule"]["charging_schedule_period"][0]["limit"]
                == 8.0
            )
            assert maximum["profile"]["charging_profile_purpose"] == "ChargePointMaxProfile"
            assert (
                maximum["profile"]["charging_schedule"]["charging_schedule_period"][0]["limit"]
                == 32.0
            )
            fallback201 = rig.received("CP-2")[0].payload["profile"]
            schedule201 = fallback201["charging_schedule"][0]
            assert schedule201["charging_rate_unit"] == "W"
            assert schedule201["charging_schedule_period"][0]["limit"] == 8.0 * 690
            # the unit read on connect is kept for the connection: no second read
            await d.dispatch([command("chg-2/1", 16.0, 8.0, "gc")])
            assert len(rig.received("CP-2", "GetVariables")) == 1
            dynamic = rig.received("CP-2")[-1].payload["profile"]["charging_schedule"][0]
            assert dynamic["charging_schedule_period"][0]["limit"] == 16.0 * 690

    run(scenario())


def test_a_rejected_fallback_is_sent_again_until_accepted() -> None:
    async def scenario() -> None:
        behaviours = {"CP-1": Behaviour(status="Rejected")}
        reports: list[ConnectReport] = []
        async with depot(fleet(charger(1)), behaviours) as rig:
            d = OcppDispatcher(
                rig.current_links, RealClock(), retry_initial_s=0.1, on_connect=reports.append
            )
            first = await d.on_connected(rig.links["CP-1"])
            assert not first.controllable
            assert (first.fallback, first.fallback_reason) == (REJECTED, "Rejected")
            rig.behaviours["CP-1"].status = "Accepted"
            await _until(lambda: reports[-1].controllable)
            fallbacks = [
                r for r in rig.received("CP-1") if r.payload["profile"]["stack_level"] == 0
            ]
            assert len(fallbacks) >= 4  # fallback and max, rejected, then both again
            await asyncio.sleep(0.3)
            assert len(reports) == len([r for r in reports if not r.controllable]) + 1  # done
            await d.close()

    run(scenario())


def test_a_reconnected_charger_is_asked_its_rate_unit_again() -> None:
    async def scenario() -> None:
        behaviours = {"CP-1": Behaviour(rate_units="Power")}
        async with depot(fleet(charger(1, rate_unit=None)), behaviours) as rig:
            d = dispatcher(rig)
            await d.dispatch([command("chg-1/1", 16.0, 8.0, "gc")])  # asks, lazily
            await rig.disconnect("CP-1")
            rig.behaviours["CP-1"].rate_units = "Current"
            await rig.connect("CP-1")
            report = await d.on_connected(rig.links["CP-1"])
            assert report.rate_unit is RateUnit.AMPS
            await d.dispatch([command("chg-1/1", 12.0, 16.0, "gc")])
            unit = rig.received("CP-1")[-1].payload["profile"]["charging_schedule"]
            assert unit["charging_rate_unit"] == "A"

    run(scenario())


def test_unchanged_limits_are_renewed_before_they_lapse() -> None:
    async def scenario() -> None:
        clock = SimClock(datetime(2025, 3, 4, 22, 0, tzinfo=UTC))
        clock.pause()
        async with depot(fleet(charger(1, evses=2))) as rig:
            d = OcppDispatcher(rig.current_links, clock, validity_s=40.0)
            await d.dispatch(
                [command("chg-1/1", 16.0, 20.0, "gc"), command("chg-1/2", 10.0, 20.0, "gc")]
            )
            in_force = {"chg-1/1": 16.0, "chg-1/2": 10.0}
            clock.advance(19)
            assert await d.renew(in_force) == []  # more than half the validity left
            clock.advance(2)
            renewed = await d.renew({**in_force, "chg-1/2": 12.0})  # 12 A: not what it holds
            assert [(o.command.evse_id, o.command.limit_a, o.result) for o in renewed] == [
                ("chg-1/1", 16.0, ACCEPTED)
            ]
            first, _, again = (r.payload["profile"] for r in rig.received("CP-1"))
            assert again["charging_profile_id"] == first["charging_profile_id"]  # replaces it
            start = datetime.fromisoformat(again["charging_schedule"]["start_schedule"])
            lapse = timedelta(
                seconds=again["charging_schedule"]["charging_schedule_period"][1]["start_period"]
            )
            assert start + lapse == clock.now().replace(microsecond=0) + timedelta(seconds=40)
            # chg-1/1 was renewed just now; chg-1/2 is due once it is asked at what it holds
            again_due = await d.renew(in_force)
            assert [o.command.evse_id for o in again_due] == ["chg-1/2"]

    run(scenario())


def test_a_limit_with_a_retry_under_way_is_left_to_the_retry() -> None:
    async def scenario() -> None:
        clock = SimClock(datetime(2025, 3, 4, 22, 0, tzinfo=UTC))
        clock.pause()
        async with depot(fleet(charger(1))) as rig:
            d = OcppDispatcher(rig.current_links, clock, validity_s=40.0, retry_initial_s=3600)
            await d.dispatch([command("chg-1/1", 16.0, 20.0, "gc")])
            rig.behaviours["CP-1"].status = "Rejected"
            [cut] = await d.dispatch([command("chg-1/1", 10.0, 16.0, "gc")])
            assert cut.result is REJECTED
            clock.advance(30)
            # 16 A is what the charger holds and the controller has in force, but the
            # retry of 10 A owns this EVSE now: renewing 16 A would undo it
            assert await d.renew({"chg-1/1": 16.0}) == []
            await d.close()

    run(scenario())


def test_a_rejected_limit_is_retried_with_backoff_until_accepted() -> None:
    async def scenario() -> None:
        behaviours = {"CP-1": Behaviour(status="Rejected")}
        retried: list[DispatchOutcome[ProfileCommand]] = []
        async with depot(fleet(charger(1)), behaviours) as rig:
            d = OcppDispatcher(
                rig.current_links, RealClock(), retry_initial_s=0.15, on_retry=retried.append
            )
            [outcome] = await d.dispatch([command("chg-1/1", 20.0, 12.0, "gc")])
            assert outcome.result is REJECTED
            assert d.retrying() == {"chg-1/1"}
            await _until(lambda: len(retried) >= 2)
            rig.behaviours["CP-1"].status = "Accepted"
            await _until(lambda: retried[-1].result is ACCEPTED)
            assert d.retrying() == frozenset()
            # the probe never asks for more than what was last accepted: 12 A, not 20 A
            assert {r.command.limit_a for r in retried} == {12.0}
            times = [r.at for r in rig.received("CP-1")]
            gaps = [b - a for a, b in itertools.pairwise(times)]
            assert len(gaps) >= 3
            assert 0.15 <= gaps[0] < gaps[1] < gaps[2]  # 0.15 s, 0.3 s, 0.6 s
            await d.close()

    run(scenario())


def test_a_new_command_supersedes_a_pending_retry() -> None:
    async def scenario() -> None:
        behaviours = {"CP-1": Behaviour(status="Rejected")}
        retried: list[Any] = []
        async with depot(fleet(charger(1)), behaviours) as rig:
            d = OcppDispatcher(
                rig.current_links, RealClock(), retry_initial_s=0.2, on_retry=retried.append
            )
            await d.dispatch([command("chg-1/1", 6.0, 12.0, "gc")])
            rig.behaviours["CP-1"].status = "Accepted"
            [outcome] = await d.dispatch([command("chg-1/1", 4.0, 12.0, "gc")])
            assert outcome.result is ACCEPTED
            await asyncio.sleep(0.5)
            assert retried == []
            assert len(rig.received("CP-1")) == 2

    run(scenario())


def test_a_retry_stops_when_the_charger_goes_offline() -> None:
    async def scenario() -> None:
        behaviours = {"CP-1": Behaviour(status="Rejected")}
        retried: list[DispatchOutcome[ProfileCommand]] = []
        async with depot(fleet(charger(1)), behaviours) as rig:
            d = OcppDispatcher(
                rig.current_links, RealClock(), retry_initial_s=0.1, on_retry=retried.append
            )
            await d.dispatch([command("chg-1/1", 6.0, 12.0, "gc")])
            await rig.disconnect("CP-1")
            await _until(lambda: bool(retried))
            assert retried[0].result is OFFLINE
            assert d.retrying() == frozenset()

    run(scenario())


# -- through the real OCPP endpoint ----------------------------------------------


def test_through_the_ocpp_endpoint_chargers_get_their_fallback_then_their_limits() -> None:
    """The endpoint's own connections (``ChargerConnection``) as the links, its
    ``on_connected`` hook calling the dispatcher: both versions boot, get the
    fallback and the max profile, start a transaction and accept a TxProfile for it."""

    async def scenario() -> None:
        charge_points = [
            rig_charge_point("CP-16", "chg-16", OcppVersion.V16),
            rig_charge_point("CP-201", "chg-201", OcppVersion.V201),
        ]
        async with endpoint(*charge_points) as rig, contextlib.AsyncExitStack() as stack:
            reports: list[ConnectReport] = []
            d = OcppDispatcher(rig.server.links, RealClock(), on_connect=reports.append)
            rig.server.on_connected(d.on_connected)
            chargers = {}
            for cp in charge_points:
                websocket = await stack.enter_async_context(
                    raw(rig.url, cp.ocpp_id, cp.version.value)
                )
                client = charger_class(cp.version)(cp.ocpp_id, websocket)
                client.behaviour = Behaviour(
                    rate_units="Current" if cp.version is OcppVersion.V16 else "A,W"
                )
                client.received = []
                receiving = asyncio.create_task(_receive(client))
                stack.callback(receiving.cancel)
                await boot(client, cp.version)
                chargers[cp.ocpp_id] = client
            await _until(lambda: len(reports) == 2)
            assert all(r.controllable and r.rate_unit is RateUnit.AMPS for r in reports)
            for cp in charge_points:
                client = chargers[cp.ocpp_id]
                fallback, maximum = (r.payload for r in client.received[1:])
                assert fallback["connector_id"] == 0
                assert fallback["profile"]["charging_profile_purpose"] == "TxDefaultProfile"
                assert maximum["connector_id"] == 0
                await start_transaction(client, cp.version, 1)
            links = rig.server.links()
            await _until(lambda: all(link.transaction_of(1) for link in links.values()))
            outcomes = await d.dispatch(
                [command("chg-16/1", 20.0, 16.0, "gc"), command("chg-201/1", 12.0, 16.0, "gc")]
            )
            assert results(outcomes) == [ACCEPTED, ACCEPTED]
            for cp in charge_points:
                last = chargers[cp.ocpp_id].received[-1].payload["profile"]
                assert last["charging_profile_purpose"] == "TxProfile"
                assert str(last["transaction_id"]) == links[cp.charger_id].transaction_of(1)
            await d.close()

    run(scenario())


async def _receive(client: Any) -> None:
    with contextlib.suppress(ConnectionClosed, asyncio.CancelledError):
        await client.start()


# -- the controller's adapter -----------------------------------------------------


def test_the_controllers_adapter_dispatches_limit_commands_and_reports_retries() -> None:
    async def scenario() -> None:
        at = datetime(2025, 3, 4, 22, 0, tzinfo=UTC)
        behaviours = {"CP-2": Behaviour(status="Rejected")}
        late: list[Outcome] = []
        async with depot(fleet(charger(1), charger(2)), behaviours) as rig:
            adapter = OcppDispatch(rig.current_links, RealClock(), on_outcome=late.append)
            adapter.ocpp.retry_initial_s = 0.1
            commands = [
                LimitCommand("chg-1/1", "chg-1", 16.0, 20.0, at, path=("chg-1", "gc")),
                LimitCommand("chg-2/1", "chg-2", 16.0, 20.0, at, path=("chg-2", "gc")),
            ]
            outcomes = await adapter.dispatch(commands)
            assert [(o.command, o.result) for o in outcomes] == [
                (commands[0], ACCEPTED),
                (commands[1], REJECTED),
            ]
            rig.behaviours["CP-2"].status = "Accepted"
            await _until(lambda: bool(late))
            [recovered] = late
            assert recovered.result is ACCEPTED
            assert (recovered.command.evse_id, recovered.command.limit_a) == ("chg-2/1", 16.0)
            assert recovered.command.path == ("chg-2", "gc")
            await adapter.close()

    run(scenario())


def test_the_message_log_is_bounded_and_ordered() -> None:
    async def scenario() -> None:
        async with depot(fleet(charger(1))) as rig:
            d = dispatcher(rig, log_size=5)
            for limit in (10.0, 9.0, 8.0, 7.0):
                await d.dispatch([command("chg-1/1", limit, limit + 1, "gc")])
            entries = list(d.log)
            assert len(entries) == 5
            assert [e.seq for e in entries] == list(range(4, 9))
            assert all(e.purpose is ProfilePurpose.DYNAMIC for e in entries)
            assert all(a.at <= b.at for a, b in itertools.pairwise(entries))

    run(scenario())


async def _until(condition: Callable[[], bool], timeout_s: float = 10.0) -> None:
    deadline = time.monotonic() + timeout_s
    while not condition():
        assert time.monotonic() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


# -- the ordering rule, as a property ---------------------------------------------
#
# Hundreds of random trees and command sets, so the links are in memory (answering
# after a scripted delay, with a scripted outcome); the websocket tests above prove
# the same rule against real chargers.

ANSWERS = ["Accepted", "Rejected", "timeout", "call_error", "closed"]
PROPERTY_TIMEOUT_S = 0.02


class ScriptedLink:
    """A ``ChargerLink`` whose answers are scripted per connector, and which notes
    whether two calls were ever outstanding at once."""

    def __init__(self, charge_point: ChargePoint, script: dict[int, tuple[float, str]]) -> None:
        self._charge_point = charge_point
        self.script = script
        self.in_flight = 0
        self.most_in_flight = 0

    @property
    def charge_point(self) -> ChargePoint:
        return self._charge_point

    @property
    def online(self) -> bool:
        return True

    def transaction_of(self, evse_number: int) -> str | None:
        return str(evse_number)

    async def call(self, request: Any, *, timeout_s: float) -> Any:
        self.in_flight += 1
        self.most_in_flight = max(self.most_in_flight, self.in_flight)
        try:
            delay_s, kind = self.script[request.connector_id]
            if kind == "timeout":
                await asyncio.sleep(timeout_s)
                raise LinkTimeout("scripted")
            await asyncio.sleep(delay_s)
            if kind == "closed":
                raise LinkClosed("scripted")
            if kind == "call_error":
                raise CallErrorReceived("InternalError", "scripted")
            return result16.SetChargingProfile(status=kind)
        finally:
            self.in_flight -= 1


@st.composite
def depots(draw: st.DrawFn) -> tuple[list[ProfileCommand], dict[str, ScriptedLink]]:
    """A random forest of nodes (1–3 grid connections), chargers with 1–3 EVSEs under
    random nodes, a command for a random subset of EVSEs, and a scripted answer each."""
    parents: list[int | None] = [None]
    for n in range(1, draw(st.integers(1, 7))):
        parents.append(
            draw(st.one_of(st.none(), st.integers(0, n - 1)))
            if n < 3
            else draw(st.integers(0, n - 1))
        )

    def path(node: int | None) -> tuple[str, ...]:
        nodes: list[str] = []
        while node is not None:
            nodes.append(f"n{node}")
            node = parents[node]
        return tuple(nodes)

    limits = st.sampled_from([0.0, 6.0, 10.0, 16.0, 32.0])
    commands: list[ProfileCommand] = []
    links: dict[str, ScriptedLink] = {}
    for c in range(draw(st.integers(1, 6))):
        evses = draw(st.integers(1, 3))
        charge_point = charger(c, evses=evses)
        above = path(draw(st.integers(0, len(parents) - 1)))
        script = {}
        for n in range(1, evses + 1):
            script[n] = (draw(st.sampled_from([0.0, 0.002, 0.01])), draw(st.sampled_from(ANSWERS)))
            if draw(st.booleans()):
                previous = draw(st.one_of(st.none(), limits))
                commands.append(
                    ProfileCommand(
                        f"chg-{c}/{n}", f"chg-{c}", draw(limits), previous, (f"chg-{c}", *above)
                    )
                )
        links[charge_point.ocpp_id] = ScriptedLink(charge_point, script)
    return draw(st.permutations(commands)), links


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(depots())
def test_no_increase_goes_out_before_a_decrease_it_shares_a_node_with_is_answered(
    depot_: tuple[list[ProfileCommand], dict[str, ScriptedLink]],
) -> None:
    commands, links = depot_

    async def scenario() -> tuple[list[DispatchOutcome[ProfileCommand]], list[LoggedMessage]]:
        d = OcppDispatcher(lambda: links, RealClock(), timeout_s=PROPERTY_TIMEOUT_S)
        try:
            return await d.dispatch(commands), list(d.log)
        finally:
            await d.close()

    outcomes, log = asyncio.run(scenario())
    assert [o.command for o in outcomes] == commands
    request = {e.evse_id: e.seq for e in log if e.exchange is Exchange.REQUEST}
    answered = {e.evse_id: e.seq for e in log if e.exchange.is_answer}
    assert set(answered) == {c.evse_id for c in commands}  # every command ends somehow
    for decrease in (c for c in commands if c.is_decrease):
        for increase in (c for c in commands if not c.is_decrease):
            if increase.evse_id in request and share_a_node(
                nodes_of(decrease.charger_id, decrease.path),
                nodes_of(increase.charger_id, increase.path),
            ):
                assert answered[decrease.evse_id] < request[increase.evse_id]
    for link in links.values():
        assert link.most_in_flight <= 1
        mine = [e for e in log if e.charger_id == link.charge_point.charger_id]
        sent = [e for e in mine if e.exchange is Exchange.REQUEST]
        kinds = [next(c for c in commands if c.evse_id == e.evse_id).is_decrease for e in sent]
        assert kinds == sorted(kinds, reverse=True)  # its decreases before its increases
    expected = {
        "Accepted": ACCEPTED, "Rejected": REJECTED, "timeout": TIMEOUT,
        "call_error": REJECTED, "closed": OFFLINE,
    }  # fmt: skip
    for outcome in outcomes:
        link = links[f"CP-{outcome.command.charger_id.removeprefix('chg-')}"]
        kind = link.script[int(outcome.command.evse_id.split("/")[1])][1]
        stuck = outcome.reason is not None and outcome.reason.startswith("not sent")
        assert outcome.result is expected[kind] or stuck


def test_a_command_with_an_unknown_path_shares_every_node() -> None:
    """Failing safe: an increase whose path is unknown waits for every decrease, and a
    decrease whose path is unknown holds back every increase."""
    assert nodes_of("chg-1", ()) is None
    assert nodes_of("chg-1", ("chg-1", "gc")) == {"chg-1", "gc"}
    assert share_a_node(None, frozenset({"gc-b"}))
    assert share_a_node(frozenset({"gc-a"}), None)
    assert not share_a_node(frozenset({"chg-1", "gc-a"}), frozenset({"chg-2", "gc-b"}))
