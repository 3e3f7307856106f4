"""The charging profiles depotctl sends, as the ``ocpp`` library's request payloads.

Three purposes (``contracts.md``, "OCPP profiles"):

- **fallback**: ``TxDefaultProfile`` on connector / EVSE 0, stack level 0, absolute
  from a start in the past with no duration and no ``validTo``: what the charger
  does when the controller is gone.
- **dynamic**: the controller's limit for one EVSE. With a transaction (and a
  charger that takes them) a ``TxProfile`` with ``validTo`` and ``duration`` a few
  ticks ahead, so it lapses to the fallback. Without one, or for a charger that
  rejects ``TxProfile``, a ``TxDefaultProfile`` at stack level 1 on that connector /
  EVSE whose second period *is* the fallback: OCPP 1.6 lets a connector's
  ``TxDefaultProfile`` replace connector 0's for that connector, so letting it
  expire could leave the connector with no profile (no limit at all, §3.13.6).
- **max**: ``ChargePointMaxProfile`` / ``ChargingStationMaxProfile`` at the charger's
  rating only — never at the fallback, since chargers apply the minimum across
  purposes.

Limits are rounded down to 0.1 (the 1.6 schema's ``multipleOf``; 2.0.1 "accepts at
most one digit fraction"), never up. Profile ids are fixed per (purpose, EVSE) on a
charger, so a renewal replaces its predecessor instead of stacking on it.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Any, TypeAlias

from ocpp.v16 import call as call16
from ocpp.v16 import datatypes as types16
from ocpp.v16 import enums as enums16
from ocpp.v201 import call as call201
from ocpp.v201 import datatypes as types201
from ocpp.v201 import enums as enums201

from depotctl.domain.charge_points import ChargePoint, OcppVersion, RateUnit

#: the step every limit is rounded down to
LIMIT_STEP = 0.1
#: a dynamic profile's schedule starts this long before "now" (charger clock skew)
START_LEAD_S = 60
FALLBACK_STACK_LEVEL = 0
MAX_STACK_LEVEL = 0
DYNAMIC_STACK_LEVEL = 1

FALLBACK_PROFILE_ID = 1
MAX_PROFILE_ID = 2
_TX_PROFILE_BASE = 100
_TX_DEFAULT_BASE = 200

#: the 1.6 configuration key and the 2.0.1 component/variable naming the rate units
RATE_UNIT_KEY_16 = "ChargingScheduleAllowedChargingRateUnit"
RATE_UNIT_COMPONENT_201 = "SmartChargingCtrlr"
RATE_UNIT_VARIABLE_201 = "RateUnit"

#: an ``ocpp.v16.call.SetChargingProfile`` or an ``ocpp.v201.call.SetChargingProfile``
SetChargingProfile: TypeAlias = Any


class ProfilePurpose(StrEnum):
    FALLBACK = "fallback"
    MAX = "max"
    DYNAMIC = "dynamic"


def round_down(value: float, step: float = LIMIT_STEP) -> float:
    """``value`` down to a multiple of ``step`` (at least 0), never up; float noise
    under a billionth of a step is forgiven, so 16.099999999999998 is 16.1."""
    if not value > 0:
        return 0.0
    steps = math.floor(value / step + 1e-9)
    return round(steps * step, 6)


def rate_limit(charge_point: ChargePoint, amps: float, unit: RateUnit) -> float:
    """``amps`` per line as a profile limit in ``unit`` (W = A × the charger's watts
    per amp), rounded down."""
    value = amps if unit is RateUnit.AMPS else charge_point.watts(amps)
    return round_down(value)


def dynamic_profile_id(evse_number: int, *, tx_profile: bool) -> int:
    """The id of the dynamic profile of EVSE ``evse_number`` (a ``TxProfile``, or its
    ``TxDefaultProfile`` stand-in): the same for every renewal."""
    return (_TX_PROFILE_BASE if tx_profile else _TX_DEFAULT_BASE) + evse_number


def rate_units_offered(value: str | None) -> frozenset[RateUnit]:
    """The units a charger says it accepts: 1.6 ``Current,Power`` or 2.0.1 ``A,W``
    (anything unknown is ignored)."""
    names = {
        "current": RateUnit.AMPS,
        "a": RateUnit.AMPS,
        "power": RateUnit.WATTS,
        "w": RateUnit.WATTS,
    }
    words = (value or "").replace(";", ",").split(",")
    return frozenset(names[w.strip().lower()] for w in words if w.strip().lower() in names)


def choose_rate_unit(charge_point: ChargePoint, offered: Iterable[RateUnit]) -> RateUnit:
    """The unit to send ``charge_point``'s profiles in. A configured unit wins; then
    watts for a DC charger that offers them, amps for any charger that offers them,
    watts if that is all it offers. Unanswered (nothing offered): amps for 1.6 (the
    spec's smart-charging examples and what AC chargers all take), watts for a 2.0.1
    DC charger (the unit DC chargers implement), amps for a 2.0.1 AC charger."""
    if charge_point.rate_unit is not None:
        return charge_point.rate_unit
    units = frozenset(offered)
    if charge_point.dc and RateUnit.WATTS in units:
        return RateUnit.WATTS
    if RateUnit.AMPS in units:
        return RateUnit.AMPS
    if RateUnit.WATTS in units:
        return RateUnit.WATTS
    if charge_point.version is OcppVersion.V201 and charge_point.dc:
        return RateUnit.WATTS
    return RateUnit.AMPS


def rate_unit_request(version: OcppVersion) -> Any:
    """The request that reads the rate units a charger accepts."""
    if version is OcppVersion.V16:
        return call16.GetConfiguration(key=[RATE_UNIT_KEY_16])
    return call201.GetVariables(
        get_variable_data=[
            types201.GetVariableDataType(
                component=types201.ComponentType(name=RATE_UNIT_COMPONENT_201),
                variable=types201.VariableType(name=RATE_UNIT_VARIABLE_201),
            )
        ]
    )


def rate_units_answered(version: OcppVersion, response: Any) -> frozenset[RateUnit]:
    """The units in a ``GetConfiguration`` / ``GetVariables`` response (the library
    hands nested values over as snake_case dicts)."""
    if version is OcppVersion.V16:
        for entry in getattr(response, "configuration_key", None) or ():
            if _field(entry, "key") == RATE_UNIT_KEY_16:
                return rate_units_offered(_field(entry, "value"))
        return frozenset()
    for result in getattr(response, "get_variable_result", None) or ():
        if str(_field(result, "attribute_status")) == "Accepted":
            return rate_units_offered(_field(result, "attribute_value"))
    return frozenset()


def _field(entry: Any, name: str) -> Any:
    return entry.get(name) if isinstance(entry, dict) else getattr(entry, name, None)


def ocpp_time(at: datetime) -> str:
    """``2025-01-31T22:05:00Z``: UTC, whole seconds."""
    return at.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def fallback_request(charge_point: ChargePoint, unit: RateUnit, at: datetime) -> SetChargingProfile:
    """The persistent fallback: ``TxDefaultProfile``, connector / EVSE 0, stack level
    0, no end, at the charger's ``fallback_a``."""
    return _charger_wide(
        charge_point,
        _Profile(FALLBACK_PROFILE_ID, FALLBACK_STACK_LEVEL, _Purpose.TX_DEFAULT, _start(at)),
        charge_point.fallback_a,
        unit,
    )


def max_request(charge_point: ChargePoint, unit: RateUnit, at: datetime) -> SetChargingProfile:
    """The charger-wide cap at its own rating: every EVSE's rating (``rating_a`` is
    per EVSE), so that it never caps a limit the controller may send."""
    return _charger_wide(
        charge_point,
        _Profile(MAX_PROFILE_ID, MAX_STACK_LEVEL, _Purpose.MAX, _start(at)),
        charge_point.rating_a * max(len(charge_point.evses), 1),
        unit,
    )


@dataclass(frozen=True, slots=True)
class EvseLimit:
    """The controller's limit for one EVSE as a dynamic profile carries it: ``limit_a``
    per line on EVSE ``evse_number``, sent in ``unit`` at ``at`` and valid for
    ``validity_s``."""

    evse_number: int
    limit_a: float
    unit: RateUnit
    at: datetime
    validity_s: float


def dynamic_request(
    charge_point: ChargePoint, limit: EvseLimit, transaction_id: str | None
) -> SetChargingProfile:
    """``limit``: a ``TxProfile`` for ``transaction_id`` when there is one the charger
    can be sent (:func:`tx_request`), else the EVSE's stand-in
    (:func:`stand_in_request`)."""
    tx = _transaction(charge_point, transaction_id)
    if tx is not None:
        return tx_request(charge_point, limit, tx)
    return stand_in_request(charge_point, limit)


def tx_request(
    charge_point: ChargePoint, limit: EvseLimit, transaction_id: str | int
) -> SetChargingProfile:
    """A ``TxProfile`` for the running transaction, lapsing by ``validTo`` and
    ``duration`` ``limit.validity_s`` after ``limit.at`` (:func:`valid_until`)."""
    profile = _Profile(
        dynamic_profile_id(limit.evse_number, tx_profile=True),
        DYNAMIC_STACK_LEVEL,
        _Purpose.TX,
        _start(limit.at),
        _TxBounds(
            transaction_id, _window_s(limit.validity_s), valid_until(limit.at, limit.validity_s)
        ),
    )
    periods = [(0, rate_limit(charge_point, limit.limit_a, limit.unit))]
    return _request(charge_point, limit.evse_number, profile, limit.unit, periods)


def stand_in_request(charge_point: ChargePoint, limit: EvseLimit) -> SetChargingProfile:
    """The EVSE's stand-in: a ``TxDefaultProfile`` at stack level 1 on its connector /
    EVSE, ``limit.limit_a`` until :func:`valid_until` and the fallback after it. It is
    what a vehicle plugging in starts at, and what limits a running transaction on a
    charger that takes no ``TxProfile``."""
    profile = _Profile(
        dynamic_profile_id(limit.evse_number, tx_profile=False),
        DYNAMIC_STACK_LEVEL,
        _Purpose.TX_DEFAULT,
        _start(limit.at),
    )
    periods = [
        (0, rate_limit(charge_point, limit.limit_a, limit.unit)),
        (
            _window_s(limit.validity_s),
            rate_limit(charge_point, charge_point.fallback_a, limit.unit),
        ),
    ]
    return _request(charge_point, limit.evse_number, profile, limit.unit, periods)


def valid_until(at: datetime, validity_s: float) -> datetime:
    """When a dynamic profile sent at ``at`` lapses (whole seconds, as sent)."""
    return _start(at) + timedelta(seconds=_window_s(validity_s))


def transaction_reference(
    charge_point: ChargePoint, transaction_id: str | None
) -> str | int | None:
    """The transaction id as a ``TxProfile`` names it, or None when the charger takes
    none (no transaction, the ``tx_profile_unsupported`` quirk, or a 1.6 id that is not
    a number)."""
    return _transaction(charge_point, transaction_id)


def status_trigger_request(version: OcppVersion, evse_number: int) -> Any:
    """``TriggerMessage`` asking a charger for the StatusNotification of one connector /
    EVSE: whether a transaction still runs there."""
    if version is OcppVersion.V16:
        return call16.TriggerMessage(
            requested_message=enums16.MessageTrigger.status_notification,
            connector_id=evse_number,
        )
    return call201.TriggerMessage(
        requested_message=enums201.MessageTriggerEnumType.status_notification,
        evse=types201.EVSEType(id=evse_number, connector_id=1),
    )


def _transaction(charge_point: ChargePoint, transaction_id: str | None) -> str | int | None:
    if transaction_id is None or charge_point.tx_profile_unsupported:
        return None
    if charge_point.version is OcppVersion.V16:
        try:
            return int(transaction_id)
        except ValueError:
            return None
    return transaction_id


def _start(at: datetime) -> datetime:
    return at.astimezone(UTC).replace(microsecond=0) - timedelta(seconds=START_LEAD_S)


def _window_s(validity_s: float) -> int:
    """How long a dynamic profile holds from its start (which leads "now")."""
    return START_LEAD_S + max(int(validity_s), 1)


class _Purpose(StrEnum):
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"
    MAX = "max"


@dataclass(frozen=True, slots=True)
class _Profile:
    """A profile in both versions' terms (its target and periods apart); ``tx`` for
    a ``TxProfile``."""

    profile_id: int
    stack_level: int
    purpose: _Purpose
    start: datetime
    tx: _TxBounds | None = None


@dataclass(frozen=True, slots=True)
class _TxBounds:
    """What binds a ``TxProfile``: its transaction, and its lapse (``duration`` in
    seconds from the start, and ``validTo``)."""

    transaction_id: str | int
    duration: int
    valid_to: datetime


def _charger_wide(
    charge_point: ChargePoint, profile: _Profile, amps: float, unit: RateUnit
) -> SetChargingProfile:
    """``profile`` on connector / EVSE 0 at ``amps`` from its start on."""
    return _request(charge_point, 0, profile, unit, [(0, rate_limit(charge_point, amps, unit))])


def _request(
    charge_point: ChargePoint,
    target: int,
    profile: _Profile,
    unit: RateUnit,
    periods: list[tuple[int, float]],
) -> SetChargingProfile:
    """``profile`` on connector / EVSE ``target``, as the charger's version spells it
    (periods: offset in seconds from the start, limit in ``unit``)."""
    phases = None if charge_point.dc else charge_point.number_phases
    spelling = _SPELLINGS[charge_point.version]
    tx = profile.tx
    schedules = spelling.schedules(
        profile.profile_id,
        charging_rate_unit=spelling.rate_units(unit.value),
        charging_schedule_period=[
            spelling.period(offset, limit, phases) for offset, limit in periods
        ],
        duration=tx.duration if tx else None,
        start_schedule=ocpp_time(profile.start),
    )
    charging_profile = spelling.profile(
        profile.profile_id,
        stack_level=profile.stack_level,
        charging_profile_purpose=(
            spelling.max_purpose
            if profile.purpose is _Purpose.MAX
            else spelling.purposes(profile.purpose.value)
        ),
        charging_profile_kind=spelling.absolute,
        transaction_id=spelling.transaction_id(tx.transaction_id) if tx else None,
        valid_to=ocpp_time(tx.valid_to) if tx else None,
        charging_schedule=schedules,
    )
    # (connector id or EVSE id, the profile): the same order in both versions
    return spelling.request(target, charging_profile)


@dataclass(frozen=True, slots=True)
class _Spelling:
    """How one OCPP version spells ``SetChargingProfile``: the ``ocpp`` library's
    classes, whose first fields are the target (1.6 ``connector_id``, 2.0.1
    ``evse_id``) and the profile's id (``charging_profile_id``, ``id``)."""

    request: Callable[..., Any]
    profile: Callable[..., Any]
    purposes: Callable[[str], Any]
    #: 1.6 one schedule; 2.0.1 a list of them, each with an id (the profile's)
    schedules: Callable[..., Any]
    #: the charger-wide cap: 1.6 ChargePointMaxProfile, 2.0.1 ChargingStationMaxProfile
    max_purpose: Any
    absolute: Any
    rate_units: Callable[[str], Any]
    period: Callable[..., Any]
    #: the transaction id as the version types it (1.6: a number, else none is sent)
    transaction_id: Callable[[str | int], str | int | None]


_SPELLINGS = {
    OcppVersion.V16: _Spelling(
        request=call16.SetChargingProfile,
        profile=types16.ChargingProfile,
        purposes=enums16.ChargingProfilePurposeType,
        schedules=lambda _profile_id, **fields: types16.ChargingSchedule(**fields),
        max_purpose=enums16.ChargingProfilePurposeType.charge_point_max_profile,
        absolute=enums16.ChargingProfileKindType.absolute,
        rate_units=enums16.ChargingRateUnitType,
        period=types16.ChargingSchedulePeriod,
        transaction_id=lambda tx: tx if isinstance(tx, int) else None,
    ),
    OcppVersion.V201: _Spelling(
        request=call201.SetChargingProfile,
        profile=types201.ChargingProfileType,
        purposes=enums201.ChargingProfilePurposeEnumType,
        schedules=lambda profile_id, **fields: [
            types201.ChargingScheduleType(id=profile_id, **fields)
        ],
        max_purpose=enums201.ChargingProfilePurposeEnumType.charging_station_max_profile,
        absolute=enums201.ChargingProfileKindEnumType.absolute,
        rate_units=enums201.ChargingRateUnitEnumType,
        period=types201.ChargingSchedulePeriodType,
        transaction_id=str,
    ),
}
