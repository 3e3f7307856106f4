"""Charging profiles as a charger holds them, read from OCPP 1.6 or 2.0.1 payloads.

One version-neutral value (:class:`Profile`): the EVSE it was set on (0: the whole
charger), purpose, stack level, kind, validity, the transaction a ``TxProfile`` is
for, and its schedule. Payloads arrive as the ``ocpp`` library hands them to a
handler: snake_case keys, times as ISO 8601 strings.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, TypeVar

from depotctl.domain.charge_points import RateUnit

Member = TypeVar("Member", bound=StrEnum)


class Purpose(StrEnum):
    """What a profile is for; 1.6 ``ChargePointMaxProfile`` is ``STATION_MAX``."""

    STATION_MAX = "ChargingStationMaxProfile"
    TX_DEFAULT = "TxDefaultProfile"
    TX = "TxProfile"
    EXTERNAL = "ChargingStationExternalConstraints"

    @classmethod
    def parse(cls, text: object) -> Purpose:
        if text == "ChargePointMaxProfile":
            return cls.STATION_MAX
        return _member(cls, text, "chargingProfilePurpose")


class Kind(StrEnum):
    ABSOLUTE = "Absolute"
    RECURRING = "Recurring"
    RELATIVE = "Relative"


class Recurrency(StrEnum):
    DAILY = "Daily"
    WEEKLY = "Weekly"

    @property
    def seconds(self) -> float:
        return 86400.0 if self is Recurrency.DAILY else 7 * 86400.0


class InvalidProfile(ValueError):
    """A payload that is not a usable charging profile."""


@dataclass(frozen=True, slots=True)
class Period:
    """From ``start_s`` seconds into its schedule: ``limit`` in the schedule's unit
    (amps per phase, or watts), on ``number_phases`` phases (None: the charger's)."""

    start_s: float
    limit: float
    number_phases: int | None = None


@dataclass(frozen=True, slots=True)
class Schedule:
    unit: RateUnit
    periods: tuple[Period, ...]
    start: datetime | None = None
    duration_s: float | None = None


@dataclass(frozen=True, slots=True)
class Profile:
    """One installed profile. ``evse`` 0 is the whole charger (1.6: connector 0);
    ``received_at`` is when it arrived (in the controller's clock)."""

    id: int
    evse: int
    stack_level: int
    purpose: Purpose
    kind: Kind
    schedule: Schedule
    received_at: datetime
    recurrency: Recurrency | None = None  #: None: not recurring
    valid_from: datetime | None = None
    valid_to: datetime | None = None
    transaction_id: str | None = None

    def valid_at(self, at: datetime) -> bool:
        """Inside its validity (``validTo`` itself is outside)."""
        if self.valid_from is not None and at < self.valid_from:
            return False
        return self.valid_to is None or at < self.valid_to

    def overlaps(self, other: Profile) -> bool:
        """Whether the two validity windows share an instant."""
        starts_before_other_ends = (
            other.valid_to is None or self.valid_from is None or self.valid_from < other.valid_to
        )
        ends_after_other_starts = (
            self.valid_to is None or other.valid_from is None or other.valid_from < self.valid_to
        )
        return starts_before_other_ends and ends_after_other_starts


def from_v16(connector_id: int, payload: Mapping[str, Any], received_at: datetime) -> Profile:
    """A 1.6 ``csChargingProfiles`` on ``connector_id``."""
    schedule = _mapping(payload.get("charging_schedule"), "chargingSchedule")
    transaction = payload.get("transaction_id")
    return _profile(
        payload,
        evse=connector_id,
        profile_id=payload.get("charging_profile_id"),
        schedule=_schedule(schedule),
        transaction_id=None if transaction is None else str(transaction),
        received_at=received_at,
    )


def from_v201(evse_id: int, payload: Mapping[str, Any], received_at: datetime) -> Profile:
    """A 2.0.1 ``chargingProfile`` on ``evse_id`` (its first schedule: the others are
    only for ISO 15118 negotiation)."""
    schedules = payload.get("charging_schedule")
    if not isinstance(schedules, list) or not schedules:
        raise InvalidProfile("chargingSchedule must hold at least one schedule")
    transaction = payload.get("transaction_id")
    return _profile(
        payload,
        evse=evse_id,
        profile_id=payload.get("id"),
        schedule=_schedule(_mapping(schedules[0], "chargingSchedule[0]")),
        transaction_id=None if transaction is None else str(transaction),
        received_at=received_at,
    )


def _profile(
    payload: Mapping[str, Any],
    *,
    evse: int,
    profile_id: object,
    schedule: Schedule,
    transaction_id: str | None,
    received_at: datetime,
) -> Profile:
    kind = _member(Kind, payload.get("charging_profile_kind"), "chargingProfileKind")
    recurrency_text = payload.get("recurrency_kind")
    recurrency = (
        None if recurrency_text is None else _member(Recurrency, recurrency_text, "recurrencyKind")
    )
    return Profile(
        id=_integer(profile_id, "id"),
        evse=evse,
        stack_level=_integer(payload.get("stack_level"), "stackLevel"),
        purpose=Purpose.parse(payload.get("charging_profile_purpose")),
        kind=kind,
        schedule=schedule,
        received_at=received_at,
        recurrency=recurrency,
        valid_from=_time(payload.get("valid_from"), "validFrom"),
        valid_to=_time(payload.get("valid_to"), "validTo"),
        transaction_id=transaction_id,
    )


def _schedule(payload: Mapping[str, Any]) -> Schedule:
    unit = _member(RateUnit, payload.get("charging_rate_unit"), "chargingRateUnit")
    periods_payload = payload.get("charging_schedule_period")
    if not isinstance(periods_payload, list):
        raise InvalidProfile("chargingSchedulePeriod must be a list")
    periods = []
    for index, item in enumerate(periods_payload):
        period = _mapping(item, f"chargingSchedulePeriod[{index}]")
        phases = period.get("number_phases")
        periods.append(
            Period(
                start_s=_number(period.get("start_period"), "startPeriod"),
                limit=_number(period.get("limit"), "limit"),
                number_phases=None if phases is None else _integer(phases, "numberPhases"),
            )
        )
    duration = payload.get("duration")
    return Schedule(
        unit=unit,
        periods=tuple(periods),
        start=_time(payload.get("start_schedule"), "startSchedule"),
        duration_s=None if duration is None else _number(duration, "duration"),
    )


def _member(kind: type[Member], value: object, name: str) -> Member:
    """The member of ``kind`` that ``value`` (the field ``name``) spells."""
    try:
        return kind(str(value))
    except ValueError:
        raise InvalidProfile(f"unknown {name} {value!r}") from None


def _mapping(value: object, name: str) -> Mapping[str, Any]:
    if not isinstance(value, Mapping):
        raise InvalidProfile(f"{name} must be an object")
    return value


def _integer(value: object, name: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidProfile(f"{name} must be an integer, got {value!r}")
    return value


def _number(value: object, name: str) -> float:
    # the library hands 1.6 schedule numbers over as Decimal
    if isinstance(value, bool) or not isinstance(value, int | float | Decimal):
        raise InvalidProfile(f"{name} must be a number, got {value!r}")
    return float(value)


def _time(value: object, name: str) -> datetime | None:
    if value is None:
        return None
    try:
        instant = datetime.fromisoformat(str(value))
    except ValueError:
        raise InvalidProfile(f"{name} {value!r} is not an ISO 8601 time") from None
    if instant.utcoffset() is None:
        raise InvalidProfile(f"{name} {value!r} has no UTC offset")
    return instant
