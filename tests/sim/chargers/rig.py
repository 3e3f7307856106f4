"""One simulated charger against the test CSMS, on a still clock the test moves."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import pytest
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from depotctl.domain.charge_points import ChargePoint, OcppVersion
from depotctl.sim.chargers.charger import Settings, SimulatedCharger
from depotctl.sim.chargers.misbehaviour import NONE, Misbehaviour
from depotctl.sim.chargers.simtime import SimTime
from tests.sim.chargers.builders import PASSWORD, START, charge_point
from tests.sim.chargers.csms import Csms

CP = "CP-1"
#: a test run once per OCPP version
VERSIONS = pytest.mark.parametrize("version", list(OcppVersion), ids=["v16", "v201"])


def run(test: Callable[[], Awaitable[None]]) -> None:
    """Run an async test, with a bound that tells a hang from a busy machine."""
    asyncio.run(asyncio.wait_for(test(), 30))


@dataclass
class Rig:
    csms: Csms
    charger: SimulatedCharger
    time: SimTime
    version: OcppVersion

    @property
    def v16(self) -> bool:
        return self.version is OcppVersion.V16

    async def advance(self, seconds: float, settle: float = 0.05) -> None:
        """Move the clock on, and give the charger a moment to act on it."""
        self.time.advance(seconds)
        await asyncio.sleep(settle)

    async def transaction_id(self) -> str:
        """The transaction of the charger's first vehicle, as the CSMS saw it start,
        once the charger knows it too (a 1.6 id arrives with the answer)."""
        if self.v16:
            started = await self.csms.wait_request(CP, "StartTransaction")
            transaction = str(started.payload["transaction_id"])
        else:
            started = await self.csms.wait_request(
                CP, "TransactionEvent", lambda p: p["event_type"] == "Started"
            )
            transaction = str(started.payload["transaction_info"]["transaction_id"])
        await self.knows(transaction)
        return transaction

    async def knows(self, transaction: str) -> None:
        """Wait until ``transaction`` runs on one of the charger's EVSEs."""
        await self.csms.wait_for(
            lambda: transaction in self.charger.station.transactions().values()
        )

    async def set_profile(self, evse: int, **fields: Any) -> str:
        answer = await self.csms.call(CP, profile_request(self.version, evse, **fields))
        return str(answer.status)

    def draw_w(self, evse: int = 1) -> float:
        self.charger.station.advance(self.time.now())
        return self.charger.station.evses[evse].draw_w


def profile_request(
    version: OcppVersion,
    evse: int,
    *,
    id: int,
    limit: float,
    purpose: str = "TxDefaultProfile",
    stack_level: int = 0,
    unit: str = "A",
    transaction_id: str | None = None,
    valid_to: datetime | None = None,
    start: datetime = START - timedelta(minutes=1),
) -> Any:
    """A SetChargingProfile request as the controller sends one: absolute, starting in
    the past, one period."""
    schedule: dict[str, Any] = {
        "charging_rate_unit": unit,
        "start_schedule": start.isoformat(),
        "charging_schedule_period": [{"start_period": 0, "limit": limit}],
    }
    fields: dict[str, Any] = {
        "stack_level": stack_level,
        "charging_profile_purpose": purpose,
        "charging_profile_kind": "Absolute",
    }
    if valid_to is not None:
        fields["valid_to"] = valid_to.isoformat()
    if version is OcppVersion.V16:
        if purpose == "ChargingStationMaxProfile":
            fields["charging_profile_purpose"] = "ChargePointMaxProfile"
        if transaction_id is not None:
            fields["transaction_id"] = int(transaction_id)
        return call16.SetChargingProfile(
            connector_id=evse,
            cs_charging_profiles={
                "charging_profile_id": id,
                **fields,
                "charging_schedule": schedule,
            },
        )
    if transaction_id is not None:
        fields["transaction_id"] = transaction_id
    return call201.SetChargingProfile(
        evse_id=evse,
        charging_profile={"id": id, **fields, "charging_schedule": [{"id": 1, **schedule}]},
    )


@asynccontextmanager
async def rig(
    version: OcppVersion,
    *,
    misbehaviour: Misbehaviour = NONE,
    point: ChargePoint | None = None,
    meter_interval_s: float = 10.0,
    heartbeat_s: int = 300,
    csms_timeout_s: float = 5.0,
    password: str = PASSWORD,
    wait_online: bool = True,
    boot_status: str = "Accepted",
    hold_boots: asyncio.Event | None = None,
    hold_meter_values: asyncio.Event | None = None,
    boot_calls: Sequence[Any] = (),
) -> AsyncIterator[Rig]:
    """A charger of ``version`` connected to a fresh CSMS (see :class:`Csms` for the
    boot options); stopped cleanly at the end."""
    time = SimTime(START, 0)
    async with Csms(
        {CP: password},
        heartbeat_s=heartbeat_s,
        response_timeout_s=csms_timeout_s,
        boot_status=boot_status,
        hold_boots=hold_boots,
        hold_meter_values=hold_meter_values,
        boot_calls=list(boot_calls),
    ) as csms:
        charger = SimulatedCharger(
            point or charge_point(version),
            time,
            Settings(url=csms.url, meter_interval_s=meter_interval_s, response_timeout_s=5.0),
            misbehaviour,
        )
        task = asyncio.create_task(charger.run())
        try:
            if wait_online:
                await csms.wait_for(lambda: charger.online)
            yield Rig(csms, charger, time, version)
        finally:
            charger.end_sessions()
            await charger.flush(2.0)
            charger.close()
            await asyncio.wait_for(task, 10)
