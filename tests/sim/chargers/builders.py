"""Small builders for the simulator's tests: profiles, charge points, vehicles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from depotctl.domain.charge_points import (
    ChargePoint,
    ChargePointEvse,
    OcppVersion,
    PasswordRef,
    RateUnit,
)
from depotctl.sim.chargers.profiles import Kind, Period, Profile, Purpose, Recurrency, Schedule
from depotctl.sim.chargers.vehicles import Vehicle

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
#: a 3-phase 230 V charger: 690 W per amp per line
WATTS_PER_AMP = 690.0
PASSWORD_ENV = "DEPOTCTL_TEST_SIM_PASSWORD"
PASSWORD = "s3cret-sim"


def profile(
    limit: float,
    *,
    id: int = 1,
    evse: int = 1,
    stack_level: int = 0,
    purpose: Purpose = Purpose.TX_DEFAULT,
    kind: Kind = Kind.ABSOLUTE,
    unit: RateUnit = RateUnit.AMPS,
    start: datetime | None = START,
    periods: tuple[tuple[float, float], ...] | None = None,
    number_phases: int | None = None,
    duration_s: float | None = None,
    valid_from: datetime | None = None,
    valid_to: datetime | None = None,
    transaction_id: str | None = None,
    recurrency: Recurrency | None = None,
    received_at: datetime = START,
) -> Profile:
    chosen = periods or ((0.0, limit),)
    return Profile(
        id=id,
        evse=evse,
        stack_level=stack_level,
        purpose=purpose,
        kind=kind,
        schedule=Schedule(
            unit=unit,
            periods=tuple(Period(s, value, number_phases) for s, value in chosen),
            start=start if kind is not Kind.RELATIVE else None,
            duration_s=duration_s,
        ),
        received_at=received_at,
        recurrency=recurrency,
        valid_from=valid_from,
        valid_to=valid_to,
        transaction_id=transaction_id,
    )


def charge_point(
    version: OcppVersion = OcppVersion.V16,
    *,
    ocpp_id: str = "CP-1",
    evses: int = 1,
    rating_a: float = 32.0,
    fallback_a: float = 8.0,
    number_phases: int = 3,
    watts_per_amp: float = WATTS_PER_AMP,
    password: bool = True,
    tx_profile_unsupported: bool = False,
    rate_unit: RateUnit | None = None,
) -> ChargePoint:
    return ChargePoint(
        ocpp_id=ocpp_id,
        charger_id=ocpp_id.lower(),
        version=version,
        password=PasswordRef(env=PASSWORD_ENV) if password else None,
        evses=tuple(ChargePointEvse(f"{ocpp_id.lower()}/{n}", n) for n in range(1, evses + 1)),
        number_phases=number_phases,
        watts_per_amp=watts_per_amp,
        rating_a=rating_a,
        fallback_a=fallback_a,
        rate_unit=rate_unit,
        tx_profile_unsupported=tx_profile_unsupported,
    )


def vehicle(
    id: str = "bus-1",
    *,
    arrival: datetime = START,
    hours: float | None = None,
    energy_kwh: float | None = None,
    max_kw: float | None = None,
    battery_kwh: float | None = None,
    soc: float | None = None,
) -> Vehicle:
    return Vehicle(
        id=id,
        arrival=arrival,
        departure=arrival + timedelta(hours=hours) if hours is not None else None,
        energy_wh=energy_kwh * 1000 if energy_kwh is not None else None,
        max_power_w=max_kw * 1000 if max_kw is not None else None,
        battery_wh=battery_kwh * 1000 if battery_kwh is not None else None,
        soc_percent=soc,
    )
