"""What chargers send, through the real endpoint: boot, heartbeat, status, sessions,
meter values and charging needs, for OCPP 1.6J and 2.0.1, reported in domain terms."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from depotctl.domain.phases import Phase
from depotctl.domain.sessions import Session
from depotctl.protocols.ocpp.meter import parse_time
from tests.protocols.ocpp.chargers import charger
from tests.protocols.ocpp.endpoint_rig import (
    FIRST_TRANSACTION,
    START,
    V16,
    V201,
    endpoint,
    until,
)

pytestmark = pytest.mark.anyio


async def test_a_16_charger_boots_charges_and_its_session_reaches_the_controller() -> None:
    async with endpoint(V16) as rig, charger(rig.url, "CP-16", "ocpp1.6") as cp:
        boot = await cp.call(
            call16.BootNotification(
                charge_point_model="Wallbox 22",
                charge_point_vendor="Acme",
                firmware_version="1.2.3",
            )
        )
        assert (boot.status, boot.interval) == ("Accepted", 60)
        assert parse_time(boot.current_time, START - timedelta(days=1)) == START
        assert rig.events.boots[0][1].vendor == "Acme"
        assert rig.events.boots[0][1].firmware_version == "1.2.3"

        rig.clock.advance(30)
        beat = await cp.call(call16.Heartbeat())
        assert parse_time(beat.current_time, START) == START + timedelta(seconds=30)

        await cp.call(
            call16.StatusNotification(connector_id=1, error_code="NoError", status="Preparing")
        )
        [status] = rig.events.statuses
        assert (status.evse_id, status.status, status.error_code) == ("chg-16/1", "Preparing", None)

        authorized = await cp.call(call16.Authorize(id_tag="BUS-12"))
        assert authorized.id_tag_info["status"] == "Accepted"

        started = await cp.call(
            call16.StartTransaction(
                connector_id=1,
                id_tag="BUS-12",
                meter_start=1_200_000,
                timestamp="2026-03-02T18:00:10Z",
            )
        )
        assert started.transaction_id == FIRST_TRANSACTION
        assert started.id_tag_info["status"] == "Accepted"
        [session] = rig.events.starts
        assert (session.id, session.evse_id) == (f"chg-16:{FIRST_TRANSACTION}", "chg-16/1")
        assert session.started == datetime(2026, 3, 2, 18, 0, 10, tzinfo=UTC)
        link = rig.server.links()["chg-16"]
        assert link.transaction_of(1) == str(FIRST_TRANSACTION)

        await cp.call(
            call16.MeterValues(
                connector_id=1,
                transaction_id=FIRST_TRANSACTION,
                meter_value=[
                    {
                        "timestamp": "2026-03-02T18:05:00Z",
                        "sampledValue": [
                            {"value": "11.04", "measurand": "Power.Active.Import", "unit": "kW"},
                            {"value": "16.1", "measurand": "Current.Import", "phase": "L1"},
                            {"value": "15.9", "measurand": "Current.Import", "phase": "L2"},
                            {"value": "16.0", "measurand": "Current.Import", "phase": "L3"},
                            {"value": "1201.5", "unit": "kWh"},  # the default measurand
                            {"value": "64", "measurand": "SoC", "unit": "Percent"},
                        ],
                    }
                ],
            )
        )
        [sample] = rig.events.samples
        assert sample.evse_id == "chg-16/1"
        assert sample.session_id == session.id
        assert sample.energy_wh == pytest.approx(1_201_500)
        assert sample.session_energy_wh == pytest.approx(1_500)
        assert sample.soc_percent == 64
        assert sample.reading is not None
        assert sample.reading.node == "chg-16"
        assert sample.reading.at == datetime(2026, 3, 2, 18, 5, tzinfo=UTC)
        assert sample.reading.power_w == pytest.approx(11_040)
        assert sample.reading.current_a == {Phase.L1: 16.1, Phase.L2: 15.9, Phase.L3: 16.0}

        rig.clock.at = datetime(2026, 3, 2, 19, 0, 5, tzinfo=UTC)
        stopped = await cp.call(
            call16.StopTransaction(
                meter_stop=1_212_000,
                timestamp="2026-03-02T19:00:00Z",
                transaction_id=FIRST_TRANSACTION,
                reason="EVDisconnected",
                id_tag="BUS-12",
            )
        )
        assert stopped.id_tag_info["status"] == "Accepted"
        assert rig.events.ends == [
            (session.id, 12_000.0, datetime(2026, 3, 2, 19, tzinfo=UTC), "EVDisconnected")
        ]
        assert link.transaction_of(1) is None


async def test_a_201_station_boots_charges_and_its_session_reaches_the_controller() -> None:
    async with endpoint(V201) as rig, charger(rig.url, "CP-201", "ocpp2.0.1") as cp:
        boot = await cp.call(
            call201.BootNotification(
                charging_station={"model": "DC 150", "vendor_name": "Acme"},
                reason="PowerUp",
            )
        )
        assert (boot.status, boot.interval) == ("Accepted", 60)
        assert rig.events.boots[0][1].reason == "PowerUp"
        beat = await cp.call(call201.Heartbeat())
        assert parse_time(beat.current_time, START - timedelta(days=1)) == START

        await cp.call(
            call201.StatusNotification(
                timestamp="2026-03-02T18:00:01Z",
                connector_status="Occupied",
                evse_id=2,
                connector_id=1,
            )
        )
        assert rig.events.statuses[0].evse_id == "chg-201/2"

        begin = {
            "timestamp": "2026-03-02T18:00:05Z",
            "sampledValue": [
                {"value": 30.0, "context": "Transaction.Begin", "unitOfMeasure": {"unit": "kWh"}}
            ],
        }
        await cp.call(
            call201.TransactionEvent(
                event_type="Started",
                timestamp="2026-03-02T18:00:05Z",
                trigger_reason="CablePluggedIn",
                seq_no=0,
                transaction_info={"transactionId": "3f1c-77"},
                evse={"id": 2, "connectorId": 1},
                meter_value=[begin],
            )
        )
        [session] = rig.events.starts
        assert (session.id, session.evse_id) == ("chg-201:3f1c-77", "chg-201/2")
        assert rig.server.links()["chg-201"].transaction_of(2) == "3f1c-77"
        assert rig.events.samples[0].session_energy_wh == 0

        updated = await cp.call(
            call201.TransactionEvent(
                event_type="Updated",
                timestamp="2026-03-02T18:10:00Z",
                trigger_reason="MeterValuePeriodic",
                seq_no=1,
                transaction_info={"transactionId": "3f1c-77", "chargingState": "Charging"},
                meter_value=[
                    {
                        "timestamp": "2026-03-02T18:10:00Z",
                        "sampledValue": [
                            {
                                "value": 22.5,
                                "measurand": "Power.Active.Import",
                                "unitOfMeasure": {"unit": "W", "multiplier": 3},
                            },
                            {"value": 32.6, "measurand": "Current.Import", "phase": "L1"},
                            {"value": 32.4, "measurand": "Current.Import", "phase": "L2"},
                            {"value": 32.5, "measurand": "Current.Import", "phase": "L3"},
                            {"value": 33750, "measurand": "Energy.Active.Import.Register"},
                        ],
                    }
                ],
            )
        )
        assert updated.id_token_info is None
        sample = rig.events.samples[-1]
        assert sample.reading is not None
        assert sample.reading.power_w == pytest.approx(22_500)
        assert sample.reading.current_a == {Phase.L1: 32.6, Phase.L2: 32.4, Phase.L3: 32.5}
        assert sample.session_energy_wh == pytest.approx(3_750)

        rig.clock.at = datetime(2026, 3, 2, 19, 0, 5, tzinfo=UTC)
        ended = await cp.call(
            call201.TransactionEvent(
                event_type="Ended",
                timestamp="2026-03-02T19:00:00Z",
                trigger_reason="EVCommunicationLost",
                seq_no=2,
                transaction_info={"transactionId": "3f1c-77", "stoppedReason": "EVDisconnected"},
                id_token={"idToken": "BUS-7", "type": "Central"},
                meter_value=[
                    {
                        "timestamp": "2026-03-02T19:00:00Z",
                        "sampledValue": [
                            {
                                "value": 52.0,
                                "context": "Transaction.End",
                                "unitOfMeasure": {"unit": "kWh"},
                            }
                        ],
                    }
                ],
            )
        )
        assert ended.id_token_info["status"] == "Accepted"
        assert rig.events.ends == [
            (session.id, 22_000.0, datetime(2026, 3, 2, 19, tzinfo=UTC), "EVDisconnected")
        ]
        assert rig.server.links()["chg-201"].transaction_of(2) is None


async def test_charging_needs_are_reported_for_the_evse_with_a_session() -> None:
    async with endpoint(V201) as rig, charger(rig.url, "CP-201", "ocpp2.0.1") as cp:
        await cp.call(
            call201.TransactionEvent(
                event_type="Started",
                timestamp="2026-03-02T18:00:05Z",
                trigger_reason="CablePluggedIn",
                seq_no=0,
                transaction_info={"transactionId": "T-1"},
                evse={"id": 1, "connectorId": 1},
            )
        )
        needs = {
            "requestedEnergyTransfer": "AC_three_phase",
            "departureTime": "2026-03-03T05:30:00+10:00",
            "acChargingParameters": {
                "energyAmount": 42000,
                "evMinCurrent": 6,
                "evMaxCurrent": 24,
                "evMaxVoltage": 400,
            },
        }
        answer = await cp.call(call201.NotifyEVChargingNeeds(charging_needs=needs, evse_id=1))
        assert answer.status == "Accepted"
        [(evse_id, asked)] = rig.events.needs
        assert evse_id == "chg-201/1"
        assert asked.energy_wh == 42_000
        assert asked.departure == datetime(2026, 3, 2, 19, 30, tzinfo=UTC)
        assert asked.max_current_a == 24

        # EVSE 2 has no session: nothing to attach the needs to
        other = await cp.call(call201.NotifyEVChargingNeeds(charging_needs=needs, evse_id=2))
        assert other.status == "Rejected"
        assert len(rig.events.needs) == 1


async def test_a_dc_stations_needs_give_its_maximum_in_line_amps() -> None:
    async with endpoint(V201) as rig, charger(rig.url, "CP-201", "ocpp2.0.1") as cp:
        await cp.call(
            call201.TransactionEvent(
                event_type="Started",
                timestamp="2026-03-02T18:00:05Z",
                trigger_reason="CablePluggedIn",
                seq_no=0,
                transaction_info={"transactionId": "T-2"},
                evse={"id": 1},
            )
        )
        needs = {
            "requestedEnergyTransfer": "DC",
            "dcChargingParameters": {
                "evMaxCurrent": 300,
                "evMaxVoltage": 800,
                "evMaxPower": 69000,
                "energyAmount": 150000,
            },
        }
        answer = await cp.call(call201.NotifyEVChargingNeeds(charging_needs=needs, evse_id=1))
        assert answer.status == "Accepted"
        [(_, asked)] = rig.events.needs
        # 69 kW at 690 W per line amp (three phases at 230 V), never the DC-side 300 A
        assert asked.max_current_a == pytest.approx(100)
        assert (asked.energy_wh, asked.departure) == (150_000, None)


async def test_a_transaction_first_seen_mid_way_starts_a_session() -> None:
    """A station whose Started event went to a controller that has since lost it: its
    Updated event starts the session here."""
    async with endpoint(V201) as rig, charger(rig.url, "CP-201", "ocpp2.0.1") as cp:
        await cp.call(
            call201.TransactionEvent(
                event_type="Updated",
                timestamp="2026-03-02T17:50:00Z",
                trigger_reason="MeterValuePeriodic",
                seq_no=7,
                transaction_info={"transactionId": "late one"},  # a space: hashed in the id
                evse={"id": 1, "connectorId": 1},
            )
        )
        [session] = rig.events.starts
        assert session.evse_id == "chg-201/1"
        assert session.id.startswith("chg-201:h.")
        assert session.started == datetime(2026, 3, 2, 17, 50, tzinfo=UTC)
        assert rig.server.links()["chg-201"].transaction_of(1) == "late one"


async def test_a_session_the_controller_holds_open_is_picked_up_after_a_restart() -> None:
    """The controller restarted mid-session: the charger's next messages continue the
    stored session (energy counted on from what was recorded)."""
    async with endpoint(V16) as rig:
        rig.events.held_open.append(
            Session("chg-16:77", "chg-16/1", START - timedelta(hours=1), energy_delivered_wh=5_000)
        )
        async with charger(rig.url, "CP-16", "ocpp1.6") as cp:
            await cp.call(call16.Heartbeat())
            assert rig.server.links()["chg-16"].transaction_of(1) == "77"
            await cp.call(
                call16.MeterValues(
                    connector_id=1,
                    transaction_id=77,
                    meter_value=[
                        {"timestamp": "2026-03-02T18:01:00Z", "sampledValue": [{"value": "80000"}]}
                    ],
                )
            )
            await cp.call(
                call16.MeterValues(
                    connector_id=1,
                    transaction_id=77,
                    meter_value=[
                        {"timestamp": "2026-03-02T18:02:00Z", "sampledValue": [{"value": "80250"}]}
                    ],
                )
            )
            assert [s.session_energy_wh for s in rig.events.samples] == [5_000, 5_250]
            await cp.call(
                call16.StopTransaction(
                    meter_stop=81_000, timestamp="2026-03-02T18:30:00Z", transaction_id=77
                )
            )
            assert rig.events.ends[0][:2] == ("chg-16:77", 6_000)
            assert not rig.events.starts
        await until(lambda: rig.events.disconnections)


async def test_a_transaction_on_a_connector_the_site_does_not_list_is_refused() -> None:
    async with endpoint(V16) as rig, charger(rig.url, "CP-16", "ocpp1.6") as cp:
        started = await cp.call(
            call16.StartTransaction(
                connector_id=3, id_tag="X", meter_start=0, timestamp="2026-03-02T18:00:00Z"
            )
        )
        assert started.id_tag_info["status"] == "Invalid"
        assert rig.events.starts == []
        assert rig.server.links()["chg-16"].transaction_of(3) is None
