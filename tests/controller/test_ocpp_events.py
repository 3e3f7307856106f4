"""Chargers over OCPP into the controller: the real endpoint on loopback, real
``ocpp`` library chargers, the controller's adapter on a real SQLite store — and
``depotctl serve`` serving the endpoint it writes into ``endpoints.json``."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201
from websockets.exceptions import InvalidStatus

from depotctl.controller.app import create_app
from depotctl.controller.auth import load_or_create_tokens
from depotctl.controller.clock import SimClock
from depotctl.controller.dispatch import RecordingDispatcher
from depotctl.controller.loop import ControlLoop
from depotctl.controller.ocpp_events import ControllerChargerEvents
from depotctl.controller.refusal_journal import JOURNAL_BURST
from depotctl.controller.service import Controller
from depotctl.controller.store import JournalKind, Store, UnitOfWork
from depotctl.credentials import read_password
from depotctl.domain.charge_points import RateUnit
from depotctl.domain.chargers import ChargerState, CommandOutcome
from depotctl.domain.phases import Phase
from depotctl.domain.sessions import RequirementSource, Session
from depotctl.engine import EvseState
from depotctl.protocols.ocpp.commands import ConnectReport
from depotctl.protocols.ocpp.server import REFUSALS_BURST_MIN, OcppServer
from depotctl.protocols.ocpp.v16 import V16Handler
from depotctl.protocols.ocpp.v201 import V201Handler
from tests.conftest import EXAMPLES
from tests.controller.test_app import serving
from tests.controller.test_serve import serve
from tests.protocols.ocpp.chargers import PASSWORD, charger, raw
from tests.protocols.ocpp.endpoint_rig import until
from tests.protocols.ocpp.fuzz_rig import (
    ErrorRecords,
    fuzz_frames,
    fuzz_payloads,
    handled_actions,
    in_thread,
    linked,
)

START = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)


def write_site(directory: Path) -> Path:
    """The minimal depot, its chargers' passwords in files beside it: CP-01 speaks
    1.6 (chg-01), CP-02 2.0.1 (chg-02)."""
    text = (
        (EXAMPLES / "minimal.yaml")
        .read_text()
        .replace("password_env: CP01_PASSWORD", "password_file: cp01.secret")
        .replace("password_file: /etc/depotctl/cp02.secret", "password_file: cp02.secret")
    )
    site = directory / "site.yaml"
    site.write_text(text)
    for name in ("cp01.secret", "cp02.secret"):
        (directory / name).write_text(PASSWORD + "\n")
    return site


@dataclass
class Depot:
    controller: Controller
    events: ControllerChargerEvents
    server: OcppServer
    url: str
    reasons: list[str]

    @property
    def clock(self) -> SimClock:
        clock = self.controller.clock
        assert isinstance(clock, SimClock)
        return clock

    def kinds(self) -> list[str]:
        return [entry.kind for entry in self.controller.units().journal.entries()]


@pytest.fixture
def controller(tmp_path: Path) -> Iterator[Controller]:
    site = write_site(tmp_path)
    clock = SimClock(START, speed=1.0)
    clock.pause()
    controller = Controller(Store.open(tmp_path / "depotctl.sqlite"), clock, base_dir=tmp_path)
    controller.seed(site, site.read_text(), author="test")
    yield controller
    controller.close()


@asynccontextmanager
async def depot(controller: Controller) -> AsyncIterator[Depot]:
    events = ControllerChargerEvents(controller, flush_s=0.02)
    server = OcppServer(events.roster, events, controller.clock.now)
    reasons: list[str] = []
    controller.on_change(reasons.append)
    await server.start("127.0.0.1", 0)
    try:
        yield Depot(controller, events, server, f"ws://127.0.0.1:{server.port}/ocpp", reasons)
    finally:
        await server.stop()
        events.flush()


pytestmark = pytest.mark.anyio


async def test_a_16_chargers_session_and_meter_values_reach_the_store(
    controller: Controller,
) -> None:
    store = controller.store
    async with depot(controller) as rig:
        async with charger(rig.url, "CP-01", "ocpp1.6") as cp:
            await cp.call(call16.BootNotification(charge_point_model="W", charge_point_vendor="V"))
            assert {"charger.online", "charger.booted"} <= set(rig.kinds())
            await cp.call(
                call16.StatusNotification(connector_id=1, error_code="NoError", status="Charging")
            )
            started = await cp.call(
                call16.StartTransaction(
                    connector_id=1,
                    id_tag="BUS-1",
                    meter_start=500,
                    timestamp="2026-03-02T17:59:00Z",
                )
            )
            session_id = f"chg-01:{started.transaction_id}"
            [record] = UnitOfWork(store).sessions.all(open_only=True)
            assert (record.session.id, record.session.evse_id) == (session_id, "chg-01/1")
            assert record.session.started == START - timedelta(minutes=1)

            reasons_before = len(rig.reasons)
            await cp.call(
                call16.MeterValues(
                    connector_id=1,
                    transaction_id=started.transaction_id,
                    meter_value=[
                        {
                            "timestamp": "2026-03-02T18:00:00Z",
                            "sampledValue": [
                                {"value": "7360", "measurand": "Power.Active.Import"},
                                {"value": "10.7", "measurand": "Current.Import", "phase": "L1"},
                                {"value": "10.6", "measurand": "Current.Import", "phase": "L2"},
                                {"value": "10.6", "measurand": "Current.Import", "phase": "L3"},
                                {"value": "2.5", "unit": "kWh"},
                            ],
                        }
                    ],
                )
            )
            await until(lambda: "chg-01" in UnitOfWork(store).telemetry.latest())
            reading = UnitOfWork(store).telemetry.latest()["chg-01"]
            assert (reading.at, reading.power_w) == (START, 7360)
            assert reading.current_a == {Phase.L1: 10.7, Phase.L2: 10.6, Phase.L3: 10.6}
            await until(
                lambda: (
                    UnitOfWork(store).sessions.get(session_id).session.energy_delivered_wh == 2000
                )
            )
            assert len(rig.reasons) == reasons_before  # meter values wait for the next tick

            await cp.call(
                call16.StopTransaction(
                    meter_stop=4500,
                    timestamp="2026-03-02T18:00:00Z",
                    transaction_id=started.transaction_id,
                )
            )
            ended = UnitOfWork(store).sessions.get(session_id)
            assert ended is not None and ended.ended_at == START
            assert ended.session.energy_delivered_wh == 4000
        await until(lambda: "chg-01" in UnitOfWork(store).chargers.states())
        assert not UnitOfWork(store).chargers.states()["chg-01"].online
        state = UnitOfWork(store).chargers.states()["chg-01"]
        assert state.reason is not None and state.reason.startswith("offline: ")
        evse = controller.live().allocation.evses["chg-01/1"]
        assert evse.state is EvseState.UNCONTROLLABLE
    assert rig.kinds()[1:] == [
        JournalKind.CHARGER_ONLINE,
        JournalKind.CHARGER_BOOTED,
        JournalKind.CHARGER_STATUS,
        JournalKind.SESSION_STARTED,
        JournalKind.SESSION_ENDED,
        JournalKind.CHARGER_OFFLINE,
    ]
    assert rig.reasons == [
        f"session {session_id} started on chg-01/1",
        f"session {session_id} ended on chg-01/1",
        "charger chg-01 offline",
    ]


async def test_charging_needs_become_the_sessions_requirement(controller: Controller) -> None:
    store = controller.store
    async with depot(controller) as rig, charger(rig.url, "CP-02", "ocpp2.0.1") as cp:
        for seq, (kind, kwh) in enumerate([("Started", 10.0), ("Updated", 15.0)]):
            await cp.call(
                call201.TransactionEvent(
                    event_type=kind,
                    timestamp="2026-03-02T18:00:00Z",
                    trigger_reason="CablePluggedIn",
                    seq_no=seq,
                    transaction_info={"transactionId": "tx-9"},
                    evse={"id": 1, "connectorId": 1},
                    meter_value=[
                        {
                            "timestamp": "2026-03-02T18:00:00Z",
                            "sampledValue": [{"value": kwh, "unitOfMeasure": {"unit": "kWh"}}],
                        }
                    ],
                )
            )
        await until(
            lambda: (
                UnitOfWork(store).sessions.get("chg-02:tx-9").session.energy_delivered_wh == 5000
            )
        )
        needs = {
            "requestedEnergyTransfer": "AC_three_phase",
            "departureTime": "2026-03-03T06:00:00Z",
            "acChargingParameters": {
                "energyAmount": 40000,
                "evMinCurrent": 6,
                "evMaxCurrent": 24,
                "evMaxVoltage": 400,
            },
        }
        answer = await cp.call(call201.NotifyEVChargingNeeds(charging_needs=needs, evse_id=1))
        assert answer.status == "Accepted"
        session = UnitOfWork(store).sessions.get("chg-02:tx-9").session
        requirement = session.requirement
        assert requirement is not None
        assert requirement.energy_wh == 45_000  # what it had, and what it still asks
        assert requirement.departure == datetime(2026, 3, 3, 6, tzinfo=UTC)
        assert requirement.source is RequirementSource.VEHICLE
        assert session.vehicle_max_current_a == 24
        [entry] = UnitOfWork(store).journal.entries(kind=JournalKind.SESSION_REQUIREMENT)
        assert entry.session == "chg-02:tx-9" and "40 kWh more" in entry.message
        assert rig.reasons[-1] == "session chg-02:tx-9 requirement from the vehicle"


async def test_refused_connections_are_journaled_in_bounded_form(
    controller: Controller, tmp_path: Path
) -> None:
    """A scan of 120 unknown identities from one address: a few entries, the rest
    counted in the next entry and in /metrics (over HTTP); the scan runs into the
    address's allowance (429); no password anywhere."""
    store = controller.store
    async with depot(controller) as rig:
        for _ in range(3):
            with pytest.raises(InvalidStatus):
                async with raw(rig.url, "CP-01", "ocpp1.6", password="guess"):
                    pass
        [entry] = UnitOfWork(store).journal.entries(
            kind=JournalKind.CHARGER_REFUSED
        )  # the repeats held back
        assert entry.data["charger"] == "chg-01" and entry.data["status"] == 401
        assert "wrong password" in entry.message
        statuses = []
        for n in range(120):
            with pytest.raises(InvalidStatus) as refused:
                async with raw(rig.url, f"SCAN-{n}", "ocpp1.6"):
                    pass
            statuses.append(refused.value.response.status_code)
        burst = REFUSALS_BURST_MIN - 3
        assert statuses == [401] * burst + [429] * (120 - burst)
        assert (
            len(UnitOfWork(store).journal.entries(kind=JournalKind.CHARGER_REFUSED))
            == JOURNAL_BURST
        )
        rig.clock.advance(61)
        with pytest.raises(InvalidStatus):
            async with raw(rig.url, "CP-77", "ocpp1.6"):
                pass
        *_, last = stored = UnitOfWork(store).journal.entries(kind=JournalKind.CHARGER_REFUSED)
        assert last.data["ocpp_id"] == "CP-77" and last.data["status"] == 401
        assert last.data["charger"] is None and "unknown charge point id" in last.message
        more = last.data["unjournaled"]
        assert more > 0 and f"{more} more refusals since the last entry" in last.message
        assert len(stored) + sum(e.data["unjournaled"] for e in stored) == 3 + 120 + 1
    with serving(create_app(controller, load_or_create_tokens(tmp_path / "state"))) as url:
        metrics = {
            line.rsplit(" ", 1)[0]: float(line.rsplit(" ", 1)[1])
            for line in httpx.get(url + "/metrics").text.splitlines()
            if line.startswith("depotctl_ocpp_refusals")
        }
    assert metrics['depotctl_ocpp_refusals_total{status="401"}'] == 3 + burst + 1
    assert metrics['depotctl_ocpp_refusals_total{status="429"}'] == 120 - burst
    assert metrics["depotctl_ocpp_refusals_unjournaled_total"] == 3 + 120 + 1 - len(stored)
    everything = json.dumps([(e.message, e.data) for e in UnitOfWork(store).journal.entries()])
    assert "guess" not in everything and PASSWORD not in everything


async def test_a_new_transaction_ends_a_stale_session_on_its_evse(controller: Controller) -> None:
    store = controller.store
    UnitOfWork(store).sessions.put(
        Session("chg-01:7", "chg-01/1", START - timedelta(hours=3), 9_000)
    )
    async with depot(controller) as rig, charger(rig.url, "CP-01", "ocpp1.6") as cp:
        started = await cp.call(
            call16.StartTransaction(
                connector_id=1, id_tag="B", meter_start=0, timestamp="2026-03-02T18:00:00Z"
            )
        )
        assert started.transaction_id == 8  # on from the stored sessions' ids
        stale = UnitOfWork(store).sessions.get("chg-01:7")
        assert stale is not None and stale.ended_at == START
        assert stale.session.energy_delivered_wh == 9_000
        assert [r.session.id for r in UnitOfWork(store).sessions.all(open_only=True)] == [
            "chg-01:8"
        ]


@pytest.mark.parametrize(
    ("fallback", "controllable"),
    [(CommandOutcome.ACCEPTED, True), (CommandOutcome.REJECTED, False)],
)
async def test_a_charger_is_online_and_controllable_once_it_took_its_fallback(
    controller: Controller, fallback: CommandOutcome, controllable: bool
) -> None:
    """Connecting is not enough: the charger is online for the controller once it has
    booted and been sent its fallback (the dispatcher's connect report), and
    controllable only if it accepted it; what failed before the reconnection is
    forgotten (every limit goes again)."""
    store = controller.store
    UnitOfWork(store).chargers.put(
        [
            ChargerState(
                "chg-01", online=False, last_outcome=CommandOutcome.REJECTED, reason="earlier"
            )
        ]
    )
    loop = ControlLoop(controller, RecordingDispatcher())
    async with depot(controller) as rig, charger(rig.url, "CP-01", "ocpp1.6") as cp:
        await cp.call(call16.BootNotification(charge_point_model="W", charge_point_vendor="V"))
        assert not UnitOfWork(store).chargers.states()["chg-01"].online  # not before the fallback
        loop.charger_connected(
            ConnectReport(
                "chg-01", "CP-01", RateUnit.AMPS, "configured", fallback, None, fallback, None
            )
        )
        state = UnitOfWork(store).chargers.states()["chg-01"]
        assert state.online
        assert state.is_controllable is controllable
        assert state.fallback_accepted is controllable
        # whatever it holds, it counts at its fallback (or more) until told again
        assert loop.in_force == {"chg-01/1": 16.0}


async def test_the_roster_follows_the_revision_in_force(controller: Controller) -> None:
    events = ControllerChargerEvents(controller)
    assert set(events.roster()) == {"CP-01", "CP-02"}
    cp02 = events.roster()["CP-02"]
    assert (cp02.charger_id, cp02.version) == ("chg-02", "ocpp2.0.1")
    assert cp02.password is not None and read_password(cp02.password) == PASSWORD


async def test_serve_writes_the_bound_ocpp_endpoint_and_a_charger_boots(tmp_path: Path) -> None:
    (tmp_path / "site").mkdir()
    site = write_site(tmp_path / "site")  # beside its secrets
    with serve(tmp_path / "state", "--site", str(site)) as running:
        url = running.endpoints["ocpp"]
        assert url.startswith("ws://127.0.0.1:") and url.endswith("/ocpp")
        assert not url.endswith(":0/ocpp")
        async with charger(url, "CP-01", "ocpp1.6") as cp:
            answer = await cp.call(
                call16.BootNotification(charge_point_model="W", charge_point_vendor="V")
            )
        assert answer.status == "Accepted"
        kinds = [e["kind"] for e in running.get("/api/v1/journal").json()["entries"]]
        assert "charger.online" in kinds and "charger.booted" in kinds
        code, _ = running.stop()
    assert code == 0


def test_a_meter_value_stamped_ahead_of_the_controller_counts_as_measured_now(
    controller: Controller,
) -> None:
    """A charger whose clock runs ahead must not hold back its own later readings."""
    from depotctl.domain.telemetry import Reading
    from depotctl.protocols.ocpp.events import MeterSample

    events = ControllerChargerEvents(controller)
    ahead = Reading("chg-01", START + timedelta(hours=2), power_w=7_000.0)
    events.meter(MeterSample("chg-01", "chg-01/1", ahead))
    events.flush()
    assert controller.units().telemetry.latest()["chg-01"].at == controller.clock.now()
    controller.clock.advance(10)
    events.meter(
        MeterSample(
            "chg-01", "chg-01/1", Reading("chg-01", controller.clock.now(), power_w=3_000.0)
        )
    )
    events.flush()
    latest = controller.units().telemetry.latest()["chg-01"]
    assert (latest.at, latest.power_w) == (controller.clock.now(), 3_000.0)


def test_chargers_sending_anything_leave_the_controller_up(
    controller: Controller, tmp_path: Path
) -> None:
    """The OCPP fuzzer (tests/protocols/ocpp/test_fuzz.py) against the controller's
    adapter on a real store: every handled action's payloads, whole and broken, and
    raw frames, from each charger of the site while the other one keeps being served;
    nothing logged at ERROR; afterwards the API still answers (over HTTP) with what
    the chargers left in the store, and the store is whole."""

    @asynccontextmanager
    async def served() -> AsyncIterator[Depot]:
        async with depot(controller) as rig:
            yield rig

    with ErrorRecords().watching() as errors, in_thread(served) as rig:
        advance = rig.clock.advance
        with (
            linked(rig.url, "CP-01", "ocpp1.6") as cp01,
            linked(rig.url, "CP-02", "ocpp2.0.1") as cp02,
        ):
            for fuzzed, neighbour, handler in ((cp01, cp02, V16Handler), (cp02, cp01, V201Handler)):
                actions = handled_actions(handler)
                for action in actions:
                    fuzz_payloads(fuzzed, neighbour, action, 4, advance=advance, errors=errors)
                fuzz_frames(fuzzed, neighbour, actions, 20, advance=advance, errors=errors)
    tokens = load_or_create_tokens(tmp_path / "state")
    with (
        serving(create_app(controller, tokens)) as url,
        httpx.Client(base_url=url, headers={"Authorization": f"Bearer {tokens.admin}"}) as api,
    ):
        for path in ("/state", "/sessions", "/journal", "/alerts", "/snapshot"):
            assert api.get(f"/api/v1{path}").status_code == 200, path
        assert api.get("/api/v1/explain/chg-01/1").status_code == 200
    with closing(sqlite3.connect(tmp_path / "depotctl.sqlite")) as db:
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"
    assert not errors.records, errors.text()
