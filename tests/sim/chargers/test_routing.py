"""The gate every request from the controller passes: nothing is answered before the
connection's BootNotification was answered Accepted (as real chargers do), and
everything as soon as it was."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from depotctl.domain.charge_points import OcppVersion
from tests.sim.chargers.builders import PASSWORD, PASSWORD_ENV
from tests.sim.chargers.rig import CP, profile_request, rig

VERSIONS = pytest.mark.parametrize("version", list(OcppVersion), ids=["v16", "v201"])
#: wall seconds to wait for an answer that must not come (an answer that should come
#: gets the CSMS's default of 5 s)
SILENT_S = 0.3


@pytest.fixture(autouse=True)
def password(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(PASSWORD_ENV, PASSWORD)


def run(test: Callable[[], Awaitable[None]]) -> None:
    asyncio.run(asyncio.wait_for(test(), 30))


def configuration_request(version: OcppVersion) -> Any:
    """GetConfiguration (1.6) / GetVariables (2.0.1) of the heartbeat interval."""
    if version is OcppVersion.V16:
        return call16.GetConfiguration(key=["HeartbeatInterval"])
    return call201.GetVariables(
        get_variable_data=[
            {"component": {"name": "OCPPCommCtrlr"}, "variable": {"name": "HeartbeatInterval"}}
        ]
    )


@VERSIONS
def test_a_request_before_the_boot_is_accepted_is_logged_and_never_answered(
    version: OcppVersion,
) -> None:
    async def test() -> None:
        held = asyncio.Event()
        async with rig(version, hold_boots=held, wait_online=False) as r:
            await r.csms.wait_request(CP, "BootNotification")
            request = configuration_request(version)
            with pytest.raises(TimeoutError):
                await r.csms.call(CP, request, timeout=SILENT_S)
            assert r.charger.stats.requests_before_boot == 1
            assert r.charger.stats.requests_unanswered == 1
            assert [x.action for x in r.charger.received] == [request.__class__.__name__]
            held.set()  # the boot is answered Accepted: from now on it answers
            await r.csms.wait_for(lambda: r.charger.online)
            answer = await r.csms.call(CP, request)
            assert answer is not None
            assert r.charger.stats.requests_before_boot == 1

    run(test)


@VERSIONS
def test_while_its_boot_is_pending_it_answers_nothing(version: OcppVersion) -> None:
    async def test() -> None:
        async with rig(version, boot_status="Pending", heartbeat_s=30, wait_online=False) as r:
            await r.csms.wait_request(CP, "BootNotification")
            with pytest.raises(TimeoutError):
                await r.csms.call(
                    CP, profile_request(version, 0, id=1, limit=8.0), timeout=SILENT_S
                )
            assert r.charger.stack.profiles == []
            r.csms.boot_status = "Accepted"
            await r.advance(30)  # it boots again at the interval it was given
            await r.csms.wait_for(lambda: r.charger.online)
            assert len(r.csms.sent(CP, "BootNotification")) == 2
            assert (await r.csms.call(CP, profile_request(version, 0, id=1, limit=8.0))).status == (
                "Accepted"
            )
            assert r.charger.stats.requests_before_boot == 1

    run(test)


@VERSIONS
def test_a_request_right_after_the_boot_answer_is_answered(version: OcppVersion) -> None:
    """The gate opens as the answer arrives, before any later frame is read: the
    controller's fallback right after the boot is not lost."""

    async def test() -> None:
        calls = [profile_request(version, 0, id=1, limit=8.0), configuration_request(version)]
        async with rig(version, boot_calls=calls) as r:
            answers = await r.csms.wait_for(
                lambda: r.csms.boot_answers if len(r.csms.boot_answers) == 2 else None
            )
            assert not [a for a in answers if isinstance(a, BaseException)], answers
            assert answers[0].status == "Accepted"
            assert [p.id for p in r.charger.stack.profiles] == [1]
            assert r.charger.stats.requests_before_boot == 0

    run(test)


@VERSIONS
def test_every_connection_must_boot_before_it_answers(version: OcppVersion) -> None:
    async def test() -> None:
        async with rig(version) as r:
            request = configuration_request(version)
            assert await r.csms.call(CP, request) is not None
            r.csms.hold_boots = asyncio.Event()
            await r.charger.drop()
            await r.csms.wait_for(lambda: r.csms.connects.get(CP) == 2)
            await r.csms.wait_for(lambda: len(r.csms.sent(CP, "BootNotification")) == 2)
            with pytest.raises(TimeoutError):
                await r.csms.call(CP, request, timeout=SILENT_S)
            assert r.charger.stats.requests_before_boot == 1
            r.csms.hold_boots.set()
            await r.csms.wait_for(lambda: r.charger.online)
            assert await r.csms.call(CP, request) is not None

    run(test)
