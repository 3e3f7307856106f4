"""A simulated charger's OCPP 1.6J side, on ``ocpp.v16.ChargePoint`` (client role).

Sends BootNotification, Heartbeat, StatusNotification, Authorize,
Start/StopTransaction and MeterValues (values as strings); answers
SetChargingProfile, ClearChargingProfile, GetCompositeSchedule, GetConfiguration,
ChangeConfiguration and TriggerMessage.
"""

from __future__ import annotations

import json
import uuid
from typing import Any

from ocpp.v16 import ChargePoint as _ChargePoint  # type: ignore[import-untyped, unused-ignore]
from ocpp.v16 import call, call_result  # type: ignore[import-untyped, unused-ignore]
from websockets.asyncio.client import ClientConnection

from depotctl.domain.charge_points import RateUnit
from depotctl.sim.chargers.charger import (
    MeterSample,
    Session,
    SimulatedCharger,
    iso,
    raise_if_cancelled,
)
from depotctl.sim.chargers.link import SimLink, interval_s, trigger_status
from depotctl.sim.chargers.profiles import from_v16
from depotctl.sim.chargers.routing import afterwards, handles
from depotctl.sim.chargers.station import ChargingState, Plug

STATUS = {
    ChargingState.IDLE: "Available",
    ChargingState.EV_CONNECTED: "Preparing",
    ChargingState.CHARGING: "Charging",
    ChargingState.SUSPENDED_EV: "SuspendedEV",
    ChargingState.SUSPENDED_EVSE: "SuspendedEVSE",
}

MEASURANDS = "Energy.Active.Import.Register,Power.Active.Import,Current.Import,SoC"


class V16Link(SimLink, _ChargePoint):  # type: ignore[misc, unused-ignore]
    """One 1.6 connection of ``charger``."""

    def __init__(self, charger: SimulatedCharger, connection: ClientConnection) -> None:
        super().__init__(charger, connection)
        self._starting: dict[str, Plug] = {}

    async def route_message(self, raw_msg: str) -> None:
        """Take a StartTransaction's transaction id from its answer as it arrives,
        before any later frame: the controller may send a TxProfile right after."""
        if self._starting and raw_msg.lstrip().startswith("[3"):
            try:
                frame = json.loads(raw_msg)
                plug = self._starting.pop(str(frame[1]), None)
                if plug is not None:
                    plug.transaction_id = str(frame[2]["transactionId"])
            except (ValueError, LookupError, TypeError):
                pass  # the library answers what it cannot parse
        await super().route_message(raw_msg)

    # To the controller

    async def boot(self) -> tuple[str, int]:
        settings = self.charger.settings
        return await self._boot(
            call.BootNotification(
                charge_point_model=settings.model,
                charge_point_vendor=settings.vendor,
                charge_point_serial_number=self.charger.ocpp_id[:25],
            )
        )

    async def heartbeat(self) -> None:
        await self._ask(call.Heartbeat())

    async def announce(self) -> None:
        await self._status(0, "Available")
        for number in self.charger.station.evses:
            await self._status(number, STATUS[self.charger.station.state(number)])

    async def status(self, evse: int) -> None:
        state = "Available" if evse == 0 else STATUS[self.charger.station.state(evse)]
        await self._status(evse, state)

    async def start_session(self, session: Session) -> None:
        plug, number = session.plug, session.evse
        current = self.charger.sessions.get(number) is session
        if current:
            await self._status(number, "Preparing")
        if plug.authorised_at is None:
            answer = await self._ask(call.Authorize(id_tag=plug.vehicle.tag))
            if answer.id_tag_info.get("status") != "Accepted":
                session.refused = True
                return
            self.charger.authorise(number)
        started_at = plug.authorised_at or plug.begins
        unique_id = str(uuid.uuid4())
        self._starting[unique_id] = plug
        raise_if_cancelled()
        try:
            answer = await self.call(
                call.StartTransaction(
                    connector_id=number,
                    id_tag=plug.vehicle.tag,
                    meter_start=int(plug.meter_start_wh),
                    timestamp=iso(started_at),
                ),
                suppress=False,
                unique_id=unique_id,
            )
        finally:
            self._starting.pop(unique_id, None)
        plug.transaction_id = str(answer.transaction_id)
        session.started = True
        if self.charger.sessions.get(number) is session:
            state = self.charger.station.state(number)
            session.reported = state
            await self._status(number, STATUS[state])

    async def state_changed(self, session: Session, state: ChargingState) -> None:
        if self.charger.sessions.get(session.evse) is session:
            await self._status(session.evse, STATUS[state])

    async def stop_session(self, session: Session) -> None:
        plug, number = session.plug, session.evse
        if plug.transaction_id is not None and session.ended_at is not None:
            await self._ask(
                call.StopTransaction(
                    meter_stop=int(session.meter_stop_wh or plug.meter_start_wh),
                    timestamp=iso(session.ended_at),
                    transaction_id=int(plug.transaction_id),
                    reason=session.stop_reason,
                    id_tag=plug.vehicle.tag,
                )
            )
        if number not in self.charger.sessions:
            left = session.stop_reason == "EVDisconnected"
            await self._status(number, "Available" if left else "Finishing")

    async def meter_values(self, evse: int, session: Session | None, sample: MeterSample) -> None:
        bad = self.charger.misbehaviour.bad_meter_values
        values = [
            _value(sample.register_wh, "Energy.Active.Import.Register", "Wh", bad),
            _value(sample.power_w, "Power.Active.Import", "W", bad),
            *(_value(sample.amps, "Current.Import", "A", bad, phase) for phase in sample.phases),
        ]
        if sample.soc_percent is not None:
            values.append(_value(sample.soc_percent, "SoC", "Percent", bad, location="EV"))
        transaction = session.plug.transaction_id if session is not None else None
        await self._ask(
            call.MeterValues(
                connector_id=evse,
                meter_value=[{"timestamp": iso(sample.at), "sampled_value": values}],
                transaction_id=int(transaction) if transaction is not None else None,
            ),
            lenient=bad,
        )

    async def _status(self, connector: int, status: str) -> None:
        await self._ask(
            call.StatusNotification(
                connector_id=connector,
                error_code="NoError",
                status=status,
                timestamp=iso(self.charger.time.now()),
            )
        )

    # From the controller

    @handles("SetChargingProfile")
    def on_set_charging_profile(
        self, connector_id: int, cs_charging_profiles: dict[str, Any], **_: Any
    ) -> Any:
        verdict = self.charger.set_profile(
            connector_id, lambda at: from_v16(connector_id, cs_charging_profiles, at)
        )
        return call_result.SetChargingProfile(status="Accepted" if verdict.accepted else "Rejected")

    @handles("ClearChargingProfile")
    def on_clear_charging_profile(
        self,
        id: int | None = None,
        connector_id: int | None = None,
        charging_profile_purpose: str | None = None,
        stack_level: int | None = None,
        **_: Any,
    ) -> Any:
        status = self._clear(id, connector_id, charging_profile_purpose, stack_level)
        return call_result.ClearChargingProfile(status=status)

    @handles("GetCompositeSchedule")
    def on_get_composite_schedule(
        self, connector_id: int, duration: int, charging_rate_unit: str | None = None, **_: Any
    ) -> Any:
        found = self._composite(connector_id, duration, charging_rate_unit)
        if found is None:
            return call_result.GetCompositeSchedule(status="Rejected")
        start, unit, periods = found
        return call_result.GetCompositeSchedule(
            status="Accepted",
            connector_id=connector_id,
            schedule_start=start,
            charging_schedule={
                "duration": duration,
                "start_schedule": start,
                "charging_rate_unit": unit.value,
                "charging_schedule_period": periods,
            },
        )

    @handles("GetConfiguration")
    def on_get_configuration(self, key: list[str] | None = None, **_: Any) -> Any:
        known = self._configuration()
        wanted = key or list(known)
        return call_result.GetConfiguration(
            configuration_key=[
                {"key": name, "readonly": known[name][1], "value": known[name][0]}
                for name in wanted
                if name in known
            ],
            unknown_key=[name for name in wanted if name not in known] or None,
        )

    @handles("ChangeConfiguration")
    def on_change_configuration(self, key: str, value: str, **_: Any) -> Any:
        known = self._configuration()
        if key not in known:
            return call_result.ChangeConfiguration(status="NotSupported")
        seconds = interval_s(value)
        if known[key][1] or seconds is None:
            return call_result.ChangeConfiguration(status="Rejected")
        if key == "HeartbeatInterval":
            self.charger.heartbeat_s = seconds
        elif key == "MeterValueSampleInterval":
            self.charger.meter_interval_s = seconds
        return call_result.ChangeConfiguration(status="Accepted")

    @handles("TriggerMessage")
    def on_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> Any:
        known = connector_id in (None, 0) or connector_id in self.charger.station.evses
        return call_result.TriggerMessage(status=trigger_status(requested_message, known))

    @afterwards("TriggerMessage")
    def after_trigger_message(
        self, requested_message: str, connector_id: int | None = None, **_: Any
    ) -> None:
        if connector_id in (None, 0) or connector_id in self.charger.station.evses:
            self.charger.trigger(requested_message, connector_id)

    def _configuration(self) -> dict[str, tuple[str, bool]]:
        """key -> (value, read-only)."""
        charger = self.charger
        units = ",".join(
            name
            for unit, name in ((RateUnit.AMPS, "Current"), (RateUnit.WATTS, "Power"))
            if unit in charger.units
        )
        stack = charger.stack.capabilities
        return {
            "ChargingScheduleAllowedChargingRateUnit": (units, True),
            "ChargeProfileMaxStackLevel": (str(stack.max_stack_level), True),
            "ChargingScheduleMaxPeriods": (str(stack.max_periods), True),
            "MaxChargingProfilesInstalled": ("32", True),
            "HeartbeatInterval": (_seconds(charger.heartbeat_s), False),
            "MeterValueSampleInterval": (_seconds(charger.meter_interval_s), False),
            "MeterValuesSampledData": (MEASURANDS, True),
            "NumberOfConnectors": (str(len(charger.station.evses)), True),
            "SupportedFeatureProfiles": ("Core,SmartCharging,RemoteTrigger", True),
        }


def _value(
    number: float,
    measurand: str,
    unit: str,
    bad: bool,
    phase: str | None = None,
    location: str = "Outlet",
) -> dict[str, Any]:
    """One sampled value; ``bad`` sends the number as a JSON number (out of schema)."""
    value: Any = round(number, 1) if bad else f"{number:.1f}"
    sampled = {
        "value": value,
        "context": "Sample.Periodic",
        "measurand": measurand,
        "location": location,
        "unit": unit,
    }
    if phase is not None:
        sampled["phase"] = phase
    return sampled


def _seconds(value: float) -> str:
    return str(int(value)) if value == int(value) else str(value)
