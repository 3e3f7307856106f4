"""Energy drawn in the past, minute by minute, from what the controller recorded: each
session's, and the site's.

The source of truth (docs/reports.md says the same for users):

- **A session's energy** is what its charger's meter register says it delivered in all
  (the session's ``energy_delivered_wh``: the last MeterValues register of the
  session, or its stop value). It is spread over the minutes in which its charger
  measured a positive power while the session was open, in proportion to that power
  (a charger with several sessions open shares a minute's power equally among them);
  a session whose charger measured no power is spread evenly over its span. So a
  session's figures add up to its register whatever the meter interval.
- **The site's energy** in a minute is the import its grid connections' meters
  measured (each read at its ``meter:``, else at its own id; a negative mean is export
  and counts as none), when every one of them gave a power reading in that minute;
  otherwise the sum of the sessions' energy in that minute (the EV load only: other
  site load is then missing, and the minutes so counted are reported).

Minutes are whole UTC minutes, keyed by their start; energy is in Wh. Pure.
"""

from __future__ import annotations

import bisect
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from depotctl.domain.sessions import Session

MINUTE = timedelta(minutes=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

#: Energy per minute: the minute's start (UTC) → Wh.
MinuteEnergy = dict[datetime, float]


def minute_of(at: datetime) -> datetime:
    """The start of the UTC minute holding ``at``."""
    return _EPOCH + (at.astimezone(UTC) - _EPOCH) // MINUTE * MINUTE


def minutes_in(start: datetime, end: datetime) -> list[datetime]:
    """Every minute whose start is in ``[start, end)``, the first at or after ``start``."""
    first = minute_of(start)
    if first < start:
        first += MINUTE
    count = max(0, -(-(end - first) // MINUTE))
    return [first + n * MINUTE for n in range(count)]


@dataclass(frozen=True, slots=True)
class RecordedSession:
    """A session as stored: ``ended`` None while it is open."""

    session: Session
    ended: datetime | None = None

    @property
    def charger_id(self) -> str:
        return self.session.evse_id.split("/", 1)[0]

    def end(self, now: datetime) -> datetime:
        """When it ended, or ``now`` while it is open (never before its start)."""
        return max(self.ended if self.ended is not None else now, self.session.started)


def session_energy(
    sessions: Sequence[RecordedSession],
    charger_power: Mapping[str, Mapping[datetime, float]],
    now: datetime,
) -> dict[str, MinuteEnergy]:
    """Each session's energy by minute (see the module docstring); ``charger_power``
    is each charger's mean power (W) by minute."""
    sharing: dict[tuple[str, datetime], int] = {}
    spans: dict[str, list[datetime]] = {}
    for recorded in sessions:
        power = charger_power.get(recorded.charger_id, {})
        times = sorted(power)
        first = bisect.bisect_left(times, minute_of(recorded.session.started))
        last = bisect.bisect_left(times, recorded.end(now))
        spans[recorded.session.id] = [m for m in times[first:last] if power[m] > 0]
        for minute in spans[recorded.session.id]:
            key = (recorded.charger_id, minute)
            sharing[key] = sharing.get(key, 0) + 1
    profiles: dict[str, MinuteEnergy] = {}
    for recorded in sessions:
        power = charger_power.get(recorded.charger_id, {})
        raw = {
            m: power[m] / 60.0 / sharing[recorded.charger_id, m] for m in spans[recorded.session.id]
        }
        profiles[recorded.session.id] = _scaled(recorded, raw, now)
    return profiles


def _scaled(recorded: RecordedSession, raw: MinuteEnergy, now: datetime) -> MinuteEnergy:
    """``raw`` scaled to the session's register; spread evenly without a power."""
    total = recorded.session.energy_delivered_wh
    if total <= 0:
        return {}
    measured = sum(raw.values())
    if measured > 0:
        return {m: wh * total / measured for m, wh in raw.items()}
    start, end = recorded.session.started.astimezone(UTC), recorded.end(now)
    if end <= start:
        return {minute_of(start): total}
    seconds = (end - start).total_seconds()
    spread: MinuteEnergy = {}
    for minute in minutes_in(minute_of(start), end):
        inside = (min(minute + MINUTE, end) - max(minute, start)).total_seconds()
        if inside > 0:
            spread[minute] = total * inside / seconds
    return spread


def summed(profiles: Iterable[MinuteEnergy]) -> MinuteEnergy:
    """The minute-by-minute sum of several profiles."""
    total: MinuteEnergy = {}
    for profile in profiles:
        for minute, wh in profile.items():
            total[minute] = total.get(minute, 0.0) + wh
    return total


@dataclass(frozen=True, slots=True)
class SiteEnergy:
    """The site's energy by minute, and the minutes its grid meters measured."""

    energy: MinuteEnergy
    metered: frozenset[datetime]


def site_energy(
    meter_power: Sequence[Mapping[datetime, float]],
    ev_energy: MinuteEnergy,
    start: datetime,
    end: datetime,
) -> SiteEnergy:
    """The site's energy over ``[start, end)``: its grid meters' import (each meter's
    mean power by minute, in ``meter_power``) in the minutes all of them measured, the
    EV load (``ev_energy``) in the others."""
    energy: MinuteEnergy = {}
    metered: set[datetime] = set()
    for minute in minutes_in(start, end):
        means = [power.get(minute) for power in meter_power]
        if meter_power and all(mean is not None for mean in means):
            energy[minute] = sum(max(mean or 0.0, 0.0) for mean in means) / 60.0
            metered.add(minute)
        elif minute in ev_energy:
            energy[minute] = ev_energy[minute]
    return SiteEnergy(energy, frozenset(metered))


def within(profile: MinuteEnergy, start: datetime, end: datetime) -> MinuteEnergy:
    """The minutes of ``profile`` that start in ``[start, end)``."""
    return {m: wh for m, wh in profile.items() if start <= m < end}


def split_at(profile: MinuteEnergy, cuts: Sequence[datetime]) -> list[MinuteEnergy]:
    """``profile`` cut at ``cuts`` (increasing): part ``i`` holds the minutes that start
    in ``[cuts[i], cuts[i + 1])``; one pass, however many parts."""
    parts: list[MinuteEnergy] = [{} for _ in cuts[1:]]
    for minute, wh in profile.items():
        index = bisect.bisect_right(cuts, minute) - 1
        if 0 <= index < len(parts):
            parts[index][minute] = wh
    return parts


__all__ = [
    "MINUTE",
    "MinuteEnergy",
    "RecordedSession",
    "SiteEnergy",
    "minute_of",
    "minutes_in",
    "session_energy",
    "site_energy",
    "split_at",
    "summed",
    "within",
]
