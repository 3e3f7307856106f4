"""The transaction lifecycle through the real endpoint: a transaction ends when the
charger says so, and also when the charger shows it is over — a connector status
under which none runs, a transaction it does not know; a boot leaves transactions
unconfirmed until the charger names them again or rules them out. The charger's late
word on a transaction closed so still counts its energy."""

from __future__ import annotations

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from depotctl.domain.charge_points import OcppVersion
from tests.protocols.ocpp.chargers import charger
from tests.protocols.ocpp.endpoint_rig import (
    FIRST_TRANSACTION,
    V16,
    V201,
    charge_point,
    endpoint,
    until,
)

pytestmark = pytest.mark.anyio

BOOT16 = call16.BootNotification(charge_point_model="M", charge_point_vendor="V")
BOOT201 = call201.BootNotification(
    charging_station={"model": "M", "vendor_name": "V"}, reason="PowerUp"
)


def status16(connector: int, status: str) -> call16.StatusNotification:
    return call16.StatusNotification(connector_id=connector, error_code="NoError", status=status)


def start16(connector: int, meter_start: int = 0) -> call16.StartTransaction:
    return call16.StartTransaction(
        connector_id=connector,
        id_tag="BUS",
        meter_start=meter_start,
        timestamp="2026-03-02T18:00:00Z",
    )


@pytest.mark.parametrize("status", ["Available", "Preparing", "Finishing", "Reserved"])
async def test_a_status_under_which_no_transaction_runs_ends_the_one_listed(status: str) -> None:
    async with endpoint(V16) as rig, charger(rig.url, "CP-16", "ocpp1.6") as cp:
        await cp.call(BOOT16)
        await cp.call(start16(1))
        link = rig.server.links()["chg-16"]
        assert link.transaction_of(1) == str(FIRST_TRANSACTION)
        await cp.call(status16(1, status))
        assert link.transaction_of(1) is None
        [(session_id, _, _, reason)] = rig.events.ends
        assert session_id == f"chg-16:{FIRST_TRANSACTION}"
        assert reason == f"EVSE 1 reports {status}: the transaction is over"


@pytest.mark.parametrize("status", ["Charging", "SuspendedEV", "SuspendedEVSE", "Faulted"])
async def test_a_status_of_a_running_transaction_ends_nothing(status: str) -> None:
    async with endpoint(V16) as rig, charger(rig.url, "CP-16", "ocpp1.6") as cp:
        await cp.call(BOOT16)
        await cp.call(start16(1))
        await cp.call(status16(1, status))
        assert rig.server.links()["chg-16"].transaction_of(1) == str(FIRST_TRANSACTION)
        assert rig.events.ends == []


async def test_a_16_transaction_is_announced_once_its_start_is_answered() -> None:
    """Its id is the charger's to name only after the StartTransaction answer is sent."""
    async with endpoint(V16) as rig, charger(rig.url, "CP-16", "ocpp1.6") as cp:
        await cp.call(BOOT16)
        await cp.call(start16(1))
        link = rig.server.links()["chg-16"]
        assert link.transaction_of(1) == str(FIRST_TRANSACTION)
        await until(lambda: not link.announcing(1))
        assert link.book.on_evse(1) is not None and link.book.on_evse(1).announced


async def test_a_boot_leaves_a_transaction_unconfirmed_until_the_charger_says_more() -> None:
    """Rebooted (it says Preparing: the vehicle is there, the transaction is gone) the
    transaction ends; booted on reconnecting (it names the transaction again) it goes
    on."""
    twin = charge_point("CP-16", "chg-16", OcppVersion.V16, evses=2)
    async with endpoint(twin) as rig:
        async with charger(rig.url, "CP-16", "ocpp1.6") as cp:
            await cp.call(BOOT16)
            await cp.call(start16(1))
            await cp.call(start16(2))
        async with charger(rig.url, "CP-16", "ocpp1.6") as cp:
            await cp.call(BOOT16)
            await until(lambda: "chg-16" in rig.server.links())
            link = rig.server.links()["chg-16"]
            assert sorted(t.evse_number for t in link.unconfirmed()) == [1, 2]
            await cp.call(status16(1, "Preparing"))  # rebooted: gone
            await cp.call(
                call16.MeterValues(
                    connector_id=2,
                    transaction_id=FIRST_TRANSACTION + 1,
                    meter_value=[
                        {
                            "timestamp": "2026-03-02T18:00:05Z",
                            "sampledValue": [{"value": "1.5", "unit": "kWh"}],
                        }
                    ],
                )
            )
            assert link.transaction_of(1) is None
            assert link.transaction_of(2) == str(FIRST_TRANSACTION + 1)
            assert link.unconfirmed() == []
            assert [end[0] for end in rig.events.ends] == [f"chg-16:{FIRST_TRANSACTION}"]


async def test_the_chargers_late_stop_still_counts_the_energy_of_a_transaction_closed_early() -> (
    None
):
    """Finishing arrived before StopTransaction: the transaction was closed on the
    status, and the meterStop that follows raises the session's energy."""
    async with endpoint(V16) as rig, charger(rig.url, "CP-16", "ocpp1.6") as cp:
        await cp.call(BOOT16)
        started = await cp.call(start16(1, meter_start=10_000))
        await cp.call(status16(1, "Finishing"))
        await cp.call(
            call16.StopTransaction(
                meter_stop=14_500,
                timestamp="2026-03-02T18:30:00Z",
                transaction_id=started.transaction_id,
            )
        )
        session_id = f"chg-16:{started.transaction_id}"
        assert [(end[0], end[1]) for end in rig.events.ends] == [
            (session_id, 0.0),
            (session_id, 4_500.0),
        ]


async def test_a_201_station_available_after_a_boot_ends_its_transaction() -> None:
    async with endpoint(V201) as rig:
        async with charger(rig.url, "CP-201", "ocpp2.0.1") as cp:
            await cp.call(BOOT201)
            await cp.call(
                call201.TransactionEvent(
                    event_type="Started",
                    timestamp="2026-03-02T18:00:00Z",
                    trigger_reason="CablePluggedIn",
                    seq_no=0,
                    transaction_info={"transaction_id": "tx-1"},
                    evse={"id": 1, "connector_id": 1},
                )
            )
        async with charger(rig.url, "CP-201", "ocpp2.0.1") as cp:
            await cp.call(BOOT201)
            await until(lambda: "chg-201" in rig.server.links())
            link = rig.server.links()["chg-201"]
            assert [t.transaction_id for t in link.unconfirmed()] == ["tx-1"]
            await cp.call(
                call201.StatusNotification(
                    timestamp="2026-03-02T18:01:00Z",
                    connector_status="Available",
                    evse_id=1,
                    connector_id=1,
                )
            )
            assert link.transaction_of(1) is None
            [(session_id, _, _, reason)] = rig.events.ends
            assert session_id == "chg-201:tx-1" and "Available" in (reason or "")
