"""A simulated charger's OCPP 2.0.1 side, on ``ocpp.v201.ChargePoint`` (client role).

Sends BootNotification, Heartbeat, StatusNotification, Authorize, TransactionEvent
(Started at plug-in, Updated on authorisation, state changes and every meter
interval, Ended at departure), NotifyEVChargingNeeds (departure time and energy
amount) and MeterValues outside transactions (values as numbers); answers
SetChargingProfile, ClearChargingProfile, GetCompositeSchedule, GetVariables,
SetVariables and TriggerMessage.
"""

from __future__ import annotations

import math
from typing import Any

from ocpp.v201 import ChargePoint as _ChargePoint  # type: ignore[import-untyped, unused-ignore]
from ocpp.v201 import call, call_result  # type: ignore[import-untyped, unused-ignore]

from depotctl.domain.charge_points import RateUnit
from depotctl.sim.chargers.charger import MeterSample, Session, iso
from depotctl.sim.chargers.link import SimLink, interval_s, trigger_status
from depotctl.sim.chargers.profiles import from_v201
from depotctl.sim.chargers.routing import afterwards, handles
from depotctl.sim.chargers.station import ChargingState


class V201Link(SimLink, _ChargePoint):  # type: ignore[misc, unused-ignore]
    """One 2.0.1 connection of ``charger``."""

    # To the controller

    async def boot(self) -> tuple[str, int]:
        settings = self.charger.settings
        return await self._boot(
            call.BootNotification(
                charging_station={
                    "model": settings.model,
                    "vendor_name": settings.vendor,
                    "serial_number": self.charger.ocpp_id[:25],
                },
                reason="PowerUp",
            )
        )

    async def heartbeat(self) -> None:
        await self._ask(call.Heartbeat())

    async def announce(self) -> None:
        for evse in self.charger.charge_point.evses:
            await self._status(evse.number, evse.connector_ids[0])

    async def status(self, evse: int) -> None:
        await self._status(evse, self._connector(evse))

    async def start_session(self, session: Session) -> None:
        plug, number = session.plug, session.evse
        if self.charger.sessions.get(number) is session:
            await self._status(number, self._connector(number))
        await self._event(
            session,
            "Started",
            "CablePluggedIn",
            ChargingState.EV_CONNECTED,
            at=plug.begins,
            evse={"id": number, "connector_id": self._connector(number)},
            meter_value=[_meter_value(plug.begins, plug.meter_start_wh, "Transaction.Begin")],
        )
        if plug.authorised_at is None:
            answer = await self._ask(
                call.Authorize(id_token={"id_token": plug.vehicle.tag, "type": "ISO14443"})
            )
            if answer.id_token_info.get("status") != "Accepted":
                session.refused = True
                return
            self.charger.authorise(number)
        current = self.charger.sessions.get(number) is session
        state = self.charger.station.state(number) if current else ChargingState.EV_CONNECTED
        await self._event(
            session,
            "Updated",
            "Authorized",
            state,
            at=plug.authorised_at or plug.begins,
            id_token={"id_token": plug.vehicle.tag, "type": "ISO14443"},
        )
        session.started = True
        session.reported = state
        needs = self._charging_needs(session)
        if needs is not None and session.ended_at is None:
            await self._ask(call.NotifyEVChargingNeeds(charging_needs=needs, evse_id=number))

    async def state_changed(self, session: Session, state: ChargingState) -> None:
        if session.ended_at is None:
            await self._event(session, "Updated", "ChargingStateChanged", state)

    async def stop_session(self, session: Session) -> None:
        plug, number = session.plug, session.evse
        ended_at = session.ended_at or self.charger.time.now()
        left = session.stop_reason == "EVDisconnected"
        await self._event(
            session,
            "Ended",
            "EVCommunicationLost" if left else "StopAuthorized",
            ChargingState.IDLE if left else ChargingState.EV_CONNECTED,
            at=ended_at,
            stopped_reason="EVDisconnected" if left else "Local",
            meter_value=[
                _meter_value(
                    ended_at, session.meter_stop_wh or plug.meter_start_wh, "Transaction.End"
                )
            ],
        )
        if number not in self.charger.sessions:
            await self._status(number, self._connector(number))

    async def meter_values(self, evse: int, session: Session | None, sample: MeterSample) -> None:
        bad = self.charger.misbehaviour.bad_meter_values
        value = {"timestamp": iso(sample.at), "sampled_value": _sampled(sample, bad)}
        if session is not None and session.started and session.ended_at is None:
            await self._event(
                session,
                "Updated",
                "MeterValuePeriodic",
                None,
                at=sample.at,
                meter_value=[value],
                lenient=bad,
            )
            return
        await self._ask(call.MeterValues(evse_id=evse, meter_value=[value]), lenient=bad)

    async def _event(
        self,
        session: Session,
        event_type: str,
        trigger: str,
        state: ChargingState | None,
        *,
        at: Any = None,
        stopped_reason: str | None = None,
        lenient: bool = False,
        **extra: Any,
    ) -> None:
        when = at or self.charger.time.now()
        since = self.charger.online_since
        info: dict[str, Any] = {"transaction_id": session.plug.transaction_id}
        if state is not None:
            info["charging_state"] = state.value
        if stopped_reason is not None:
            info["stopped_reason"] = stopped_reason
        await self._ask(
            call.TransactionEvent(
                event_type=event_type,
                timestamp=iso(when),
                trigger_reason=trigger,
                seq_no=session.next_seq(),
                transaction_info=info,
                offline=True if since is None or when < since else None,
                **extra,
            ),
            lenient=lenient,
        )

    async def _status(self, number: int, connector: int) -> None:
        occupied = self.charger.station.evses[number].plug is not None
        await self._ask(
            call.StatusNotification(
                timestamp=iso(self.charger.time.now()),
                connector_status="Occupied" if occupied else "Available",
                evse_id=number,
                connector_id=connector,
            )
        )

    def _connector(self, number: int) -> int:
        evse = self.charger.charge_point.evse(number)
        return evse.connector_ids[0] if evse else 1

    def _charging_needs(self, session: Session) -> dict[str, Any] | None:
        """What the vehicle says over ISO 15118: departure and energy, its limits."""
        vehicle = session.plug.vehicle
        if vehicle.departure is None and vehicle.energy_wh is None:
            return None
        cp = self.charger.charge_point
        volts = cp.watts_per_amp / max(cp.number_phases, 1)
        energy = int(vehicle.energy_wh) if vehicle.energy_wh is not None else 0
        max_w = vehicle.max_power_w if vehicle.max_power_w is not None else cp.watts(cp.rating_a)
        needs: dict[str, Any] = {}
        if self.charger.dc:
            needs["requested_energy_transfer"] = "DC"
            needs["dc_charging_parameters"] = {
                "ev_max_current": max(1, math.floor(max_w / max(volts, 1.0))),
                "ev_max_voltage": max(1, round(volts)),
                "energy_amount": energy,
                "ev_max_power": max(1, math.floor(max_w)),
            }
        else:
            phases = {1: "AC_single_phase", 2: "AC_two_phase"}.get(
                cp.number_phases, "AC_three_phase"
            )
            needs["requested_energy_transfer"] = phases
            needs["ac_charging_parameters"] = {
                "energy_amount": energy,
                "ev_min_current": 6,
                "ev_max_current": max(1, math.floor(cp.amps(max_w))),
                "ev_max_voltage": max(1, round(volts)),
            }
        if vehicle.departure is not None:
            needs["departure_time"] = iso(vehicle.departure)
        return needs

    # From the controller

    @handles("SetChargingProfile")
    def on_set_charging_profile(
        self, evse_id: int, charging_profile: dict[str, Any], **_: Any
    ) -> Any:
        verdict = self.charger.set_profile(
            evse_id, lambda at: from_v201(evse_id, charging_profile, at)
        )
        if verdict.accepted:
            return call_result.SetChargingProfile(status="Accepted")
        return call_result.SetChargingProfile(
            status="Rejected",
            status_info={
                "reason_code": (verdict.reason or "Rejected")[:20],
                "additional_info": (verdict.message or "")[:512] or None,
            },
        )

    @handles("ClearChargingProfile")
    def on_clear_charging_profile(
        self,
        charging_profile_id: int | None = None,
        charging_profile_criteria: dict[str, Any] | None = None,
        **_: Any,
    ) -> Any:
        criteria = charging_profile_criteria or {}
        status = self._clear(
            charging_profile_id,
            criteria.get("evse_id"),
            criteria.get("charging_profile_purpose"),
            criteria.get("stack_level"),
        )
        return call_result.ClearChargingProfile(status=status)

    @handles("GetCompositeSchedule")
    def on_get_composite_schedule(
        self, duration: int, evse_id: int, charging_rate_unit: str | None = None, **_: Any
    ) -> Any:
        found = self._composite(evse_id, duration, charging_rate_unit)
        if found is None:
            return call_result.GetCompositeSchedule(
                status="Rejected", status_info={"reason_code": "UnknownEVSE"}
            )
        start, unit, periods = found
        return call_result.GetCompositeSchedule(
            status="Accepted",
            schedule={
                "evse_id": evse_id,
                "duration": duration,
                "schedule_start": start,
                "charging_rate_unit": unit.value,
                "charging_schedule_period": periods,
            },
        )

    @handles("GetVariables")
    def on_get_variables(self, get_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        variables = self._variables()
        results = []
        for item in get_variable_data:
            attribute = item.get("attribute_type") or "Actual"
            result, key = _addressed(item)
            if attribute != "Actual":
                result["attribute_type"] = attribute
            if (unknown := _unknown(key, variables)) is not None:
                result["attribute_status"] = unknown
            elif attribute != "Actual":
                result["attribute_status"] = "NotSupportedAttributeType"
            else:
                result["attribute_status"] = "Accepted"
                result["attribute_value"] = variables[key][0]
            results.append(result)
        return call_result.GetVariables(get_variable_result=results)

    @handles("SetVariables")
    def on_set_variables(self, set_variable_data: list[dict[str, Any]], **_: Any) -> Any:
        variables = self._variables()
        results = []
        for item in set_variable_data:
            result, key = _addressed(item)
            if (unknown := _unknown(key, variables)) is not None:
                result["attribute_status"] = unknown
            elif variables[key][1]:
                result["attribute_status"] = "Rejected"
            else:
                result["attribute_status"] = self._set(key, str(item.get("attribute_value", "")))
            results.append(result)
        return call_result.SetVariables(set_variable_result=results)

    @handles("TriggerMessage")
    def on_trigger_message(
        self, requested_message: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> Any:
        number = (evse or {}).get("id")
        known = number is None or number in self.charger.station.evses
        return call_result.TriggerMessage(status=trigger_status(requested_message, known))

    @afterwards("TriggerMessage")
    def after_trigger_message(
        self, requested_message: str, evse: dict[str, Any] | None = None, **_: Any
    ) -> None:
        number = (evse or {}).get("id")
        if number is None or number in self.charger.station.evses:
            self.charger.trigger(requested_message, number)

    def _variables(self) -> dict[tuple[str, str], tuple[str, bool]]:
        """(component, variable) in lower case -> (value, read-only)."""
        charger = self.charger
        stack = charger.stack.capabilities
        units = ",".join(u.value for u in (RateUnit.AMPS, RateUnit.WATTS) if u in charger.units)
        return {
            ("smartchargingctrlr", "enabled"): ("true", True),
            ("smartchargingctrlr", "available"): ("true", True),
            ("smartchargingctrlr", "rateunit"): (units, True),
            ("smartchargingctrlr", "profilestacklevel"): (str(stack.max_stack_level), True),
            ("smartchargingctrlr", "periodsperschedule"): (str(stack.max_periods), True),
            ("smartchargingctrlr", "entries"): ("32", True),
            ("smartchargingctrlr", "limitchangesignificance"): ("0.1", True),
            ("ocppcommctrlr", "heartbeatinterval"): (str(int(charger.heartbeat_s)), False),
            ("sampleddatactrlr", "txupdatedinterval"): (str(int(charger.meter_interval_s)), False),
            ("sampleddatactrlr", "txupdatedmeasurands"): (
                "Energy.Active.Import.Register,Power.Active.Import,Current.Import,SoC",
                True,
            ),
        }

    def _set(self, key: tuple[str, str], value: str) -> str:
        seconds = interval_s(value)
        if seconds is None:
            return "Rejected"
        if key == ("ocppcommctrlr", "heartbeatinterval"):
            self.charger.heartbeat_s = seconds
        else:
            self.charger.meter_interval_s = seconds
        return "Accepted"


def _addressed(item: dict[str, Any]) -> tuple[dict[str, Any], tuple[str, str]]:
    """A Get/SetVariables item's result, naming its component and variable as sent,
    and their (component, variable) key in lower case."""
    component = item.get("component", {})
    variable = item.get("variable", {})
    key = (str(component.get("name", "")).lower(), str(variable.get("name", "")).lower())
    return {"component": component, "variable": variable}, key


def _unknown(key: tuple[str, str], variables: dict[tuple[str, str], Any]) -> str | None:
    """``UnknownComponent`` or ``UnknownVariable`` when the station has no such."""
    if not any(component == key[0] for component, _ in variables):
        return "UnknownComponent"
    return "UnknownVariable" if key not in variables else None


def _sampled(sample: MeterSample, bad: bool) -> list[dict[str, Any]]:
    """The sampled values, numbers (``bad``: strings, out of schema)."""

    def value(number: float, measurand: str, unit: str, **extra: Any) -> dict[str, Any]:
        rounded = round(number, 1)
        return {
            "value": f"{rounded}" if bad else rounded,
            "measurand": measurand,
            "context": "Sample.Periodic",
            "unit_of_measure": {"unit": unit},
            **extra,
        }

    values = [
        value(sample.register_wh, "Energy.Active.Import.Register", "Wh"),
        value(sample.power_w, "Power.Active.Import", "W"),
        *(value(sample.amps, "Current.Import", "A", phase=phase) for phase in sample.phases),
    ]
    if sample.soc_percent is not None:
        values.append(value(sample.soc_percent, "SoC", "Percent", location="EV"))
    return values


def _meter_value(at: Any, register_wh: float, context: str) -> dict[str, Any]:
    return {
        "timestamp": iso(at),
        "sampled_value": [
            {
                "value": round(register_wh, 1),
                "measurand": "Energy.Active.Import.Register",
                "context": context,
                "unit_of_measure": {"unit": "Wh"},
            }
        ],
    }
