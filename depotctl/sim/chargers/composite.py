"""What a charger may draw under the profiles it holds: the composite schedule.

As a real charger computes it (OCPP 1.6 §3.13, 2.0.1 K08): within each purpose, the
valid profile with the highest stack level that has a period in force governs; a
``TxProfile`` for the running transaction replaces the ``TxDefaultProfile``; the
EVSE is held to the minimum of its governing limit and its rating; the charger's
``ChargingStationMaxProfile`` (1.6 ``ChargePointMaxProfile``) caps the sum of its
EVSEs, shared max-min fairly among those that want power. With no profile at all
an EVSE may draw its rating. Pure functions of the profiles and an instant.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from depotctl.domain.charge_points import RateUnit
from depotctl.sim.chargers.profiles import Kind, Profile, Purpose

INFINITE = math.inf


@dataclass(frozen=True, slots=True)
class Electrical:
    """How a charger turns amps into watts: ``watts_per_amp`` per amp per line with
    all its ``number_phases`` in use."""

    watts_per_amp: float
    number_phases: int

    def watts(self, limit: float, unit: RateUnit, number_phases: int | None = None) -> float:
        """A schedule's ``limit`` in watts (amps are per phase, on ``number_phases``)."""
        if unit is RateUnit.WATTS:
            return limit
        phases = self.number_phases if number_phases is None else number_phases
        share = min(max(phases, 1), self.number_phases) / self.number_phases
        return limit * self.watts_per_amp * share

    def in_unit(self, watts: float, unit: RateUnit) -> float:
        """``watts`` in ``unit`` (amps per phase on all phases)."""
        if unit is RateUnit.WATTS:
            return watts
        return watts / self.watts_per_amp if self.watts_per_amp > 0 else 0.0


@dataclass(frozen=True, slots=True)
class Running:
    """The transaction on an EVSE: its id (None until the controller gave one, 1.6)
    and when it started (where a ``Relative`` schedule begins)."""

    transaction_id: str | None
    started_at: datetime


def schedule_origin(profile: Profile, at: datetime, started_at: datetime | None) -> datetime:
    """Where ``profile``'s schedule starts, for the instant ``at``."""
    schedule = profile.schedule
    if profile.kind is Kind.RELATIVE:
        return started_at if started_at is not None else at
    start = schedule.start if schedule.start is not None else profile.received_at
    if profile.kind is Kind.RECURRING and profile.recurrency is not None:
        period = profile.recurrency.seconds
        cycles = math.floor((at - start).total_seconds() / period)
        return start + timedelta(seconds=cycles * period)
    return start


def profile_limit_w(
    profile: Profile, at: datetime, started_at: datetime | None, electrical: Electrical
) -> float | None:
    """The limit ``profile`` sets at ``at`` in watts; None when it sets none then
    (outside its validity, before its schedule starts, after its duration)."""
    if not profile.valid_at(at):
        return None
    elapsed = (at - schedule_origin(profile, at, started_at)).total_seconds()
    schedule = profile.schedule
    if elapsed < 0 or (schedule.duration_s is not None and elapsed >= schedule.duration_s):
        return None
    current = None
    for period in schedule.periods:
        if period.start_s > elapsed:
            break
        current = period
    if current is None:
        return None
    return electrical.watts(current.limit, schedule.unit, current.number_phases)


def governing(
    profiles: Iterable[Profile],
    evse: int,
    at: datetime,
    running: Running | None,
    electrical: Electrical,
) -> dict[Purpose, tuple[Profile, float]]:
    """Per purpose, the profile in force on ``evse`` at ``at`` with its limit (W):
    the highest stack level among those that set a limit; on a tie the EVSE's own
    profile beats the charger-wide one, then the later one. ``TxProfile`` counts
    only for the running transaction; ``ChargingStationMaxProfile`` only on EVSE 0."""
    best: dict[Purpose, tuple[tuple[int, int, datetime, int], Profile, float]] = {}
    started_at = running.started_at if running else None
    for profile in profiles:
        if not _applies(profile, evse, running):
            continue
        limit = profile_limit_w(profile, at, started_at, electrical)
        if limit is None:
            continue
        rank = (
            profile.stack_level,
            1 if profile.evse == evse else 0,
            profile.received_at,
            profile.id,
        )
        held = best.get(profile.purpose)
        if held is None or rank > held[0]:
            best[profile.purpose] = (rank, profile, limit)
    return {purpose: (profile, limit) for purpose, (_, profile, limit) in best.items()}


def _applies(profile: Profile, evse: int, running: Running | None) -> bool:
    if profile.purpose is Purpose.STATION_MAX or profile.purpose is Purpose.EXTERNAL:
        return evse == 0 and profile.evse == 0
    if profile.purpose is Purpose.TX:
        return (
            evse != 0
            and profile.evse == evse
            and running is not None
            and running.transaction_id is not None
            and profile.transaction_id == running.transaction_id
        )
    return profile.evse in (0, evse) and evse != 0


def evse_limit_w(
    profiles: Iterable[Profile],
    evse: int,
    at: datetime,
    running: Running | None,
    electrical: Electrical,
) -> float | None:
    """The EVSE's own limit (W): its ``TxProfile`` if one is in force, else its
    ``TxDefaultProfile``; None when neither sets one."""
    held = governing(profiles, evse, at, running, electrical)
    for purpose in (Purpose.TX, Purpose.TX_DEFAULT):
        if purpose in held:
            return held[purpose][1]
    return None


def station_limit_w(
    profiles: Iterable[Profile], at: datetime, electrical: Electrical
) -> float | None:
    """The cap on the sum of the charger's EVSEs (W), None without one."""
    held = governing(profiles, 0, at, None, electrical)
    limits = [limit for purpose, (_, limit) in held.items()]
    return min(limits) if limits else None


def share(wants: Mapping[int, float], cap: float | None) -> dict[int, float]:
    """Max-min fair shares of ``cap`` among ``wants`` (each gets at most what it
    wants; what one cannot use goes to the others). No cap: everyone's want."""
    if cap is None or sum(wants.values()) <= cap:
        return dict(wants)
    given: dict[int, float] = {}
    left = max(cap, 0.0)
    pending = sorted(wants.items(), key=lambda item: item[1])
    while pending:
        fair = left / len(pending)
        number, want = pending[0]
        if want <= fair:
            given[number] = want
            left -= want
            pending.pop(0)
            continue
        for number, _ in pending:
            given[number] = fair
        break
    return {number: given[number] for number in wants}


@dataclass(frozen=True, slots=True)
class EvseInput:
    """One EVSE at an instant: its rating (W), what its vehicle wants now (W; 0 with
    no vehicle, a full one, or one not yet authorised), its transaction."""

    rating_w: float
    demand_w: float
    running: Running | None = None


def draws(
    profiles: Sequence[Profile],
    evses: Mapping[int, EvseInput],
    at: datetime,
    electrical: Electrical,
) -> dict[int, float]:
    """What each EVSE draws at ``at`` (W): the least of its rating, its own limit and
    its vehicle's demand, within the charger's cap shared among them."""
    wants = {}
    for number, evse in evses.items():
        own = evse_limit_w(profiles, number, at, evse.running, electrical)
        offered = evse.rating_w if own is None else min(evse.rating_w, own)
        wants[number] = max(0.0, min(offered, evse.demand_w))
    return share(wants, station_limit_w(profiles, at, electrical))


def boundaries(
    profiles: Iterable[Profile],
    start: datetime,
    end: datetime,
    transaction_starts: Iterable[datetime] = (),
) -> list[datetime]:
    """The instants strictly inside (``start``, ``end``) where some profile's limit
    may change: validity edges, period starts, schedule ends."""
    starts = tuple(transaction_starts)
    found: set[datetime] = set()
    for profile in profiles:
        for edge in (profile.valid_from, profile.valid_to):
            if edge is not None:
                found.add(edge)
        for origin in _origins(profile, start, end, starts):
            for period in profile.schedule.periods:
                found.add(origin + timedelta(seconds=period.start_s))
            if profile.schedule.duration_s is not None:
                found.add(origin + timedelta(seconds=profile.schedule.duration_s))
    return sorted(instant for instant in found if start < instant < end)


def _origins(
    profile: Profile, start: datetime, end: datetime, transaction_starts: tuple[datetime, ...]
) -> list[datetime]:
    if profile.kind is Kind.RELATIVE:
        return list(transaction_starts)
    first = schedule_origin(profile, start, None)
    if profile.kind is not Kind.RECURRING or profile.recurrency is None:
        return [first]
    step = timedelta(seconds=profile.recurrency.seconds)
    origins = []
    origin = first
    while origin < end:
        origins.append(origin)
        origin += step
    return origins


def composite_schedule(
    profiles: Sequence[Profile],
    evses: Mapping[int, EvseInput],
    evse: int,
    start: datetime,
    duration_s: float,
    electrical: Electrical,
    unit: RateUnit,
) -> list[tuple[float, float]]:
    """``GetCompositeSchedule``: (seconds after ``start``, limit in ``unit``) for
    ``evse`` over ``duration_s`` — its rating, own limit and the charger's cap,
    whatever its vehicle wants. EVSE 0 is the whole charger (its cap, else the sum
    of the ratings)."""
    end = start + timedelta(seconds=duration_s)
    running = evses[evse].running if evse in evses else None
    starts = [e.running.started_at for e in evses.values() if e.running is not None]
    periods: list[tuple[float, float]] = []
    for instant in [start, *boundaries(profiles, start, end, starts)]:
        cap = station_limit_w(profiles, instant, electrical)
        if evse == 0:
            total = sum(e.rating_w for e in evses.values())
            watts = total if cap is None else min(cap, total)
        else:
            own = evse_limit_w(profiles, evse, instant, running, electrical)
            watts = evses[evse].rating_w if evse in evses else 0.0
            for limit in (own, cap):
                if limit is not None:
                    watts = min(watts, limit)
        value = _round_down(electrical.in_unit(watts, unit))
        if not periods or periods[-1][1] != value:
            periods.append(((instant - start).total_seconds(), value))
    return periods


def _round_down(value: float) -> float:
    """To 0.1 below, as a schedule limit is written."""
    return math.floor(value * 10 + 1e-9) / 10
