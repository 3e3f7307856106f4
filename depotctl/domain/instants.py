"""Instants as people type and read them: one parser for every ``--since``, ``--at``,
``--start``, ``--end`` and ``--departure``, and one printed form (``docs/times.md``).

Read (:func:`parse_instant`), always to an aware UTC ``datetime``:

- ``now``;
- an ISO 8601 time with its offset or ``Z`` (``2026-12-07T07:30:05Z``,
  ``2026-12-07 18:30+11:00``);
- a site-local date and time without an offset (``2026-12-07 18:30``,
  ``2026-12-07T18:30:05``, ``2026-12-07``: midnight), in the site's zone;
- a site-local clock time (``02:14``, ``02:14:30``), ``today 18:30``,
  ``yesterday 02:14``, ``tomorrow 06:00``; a bare clock time is the latest such time at
  or before now (the next at or after now where a command looks ahead);
- a duration (``8h``, ``90min``, ``2 d``) before now, or after now where a command
  looks ahead; ``-8h`` / ``8h ago`` is always before now and ``+2h`` always after.

A site-local time that the clocks skip (spring forward) or pass twice (fall back) is
refused, naming both readings with their offsets.

Printed (:func:`format_instant`): the site's time with its offset, to the second,
``2026-12-07 18:30:05+11:00``, which :func:`parse_instant` reads back.
"""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, tzinfo

from depotctl.domain.quantity import Duration, QuantityError

#: What :func:`parse_instant` accepts, for hints.
FORMS = (
    '"2026-12-07 18:30" (site time), "2026-12-07T07:30:05Z", "02:14", '
    '"yesterday 02:14", "8h" (ago), "+2h" (from now) or "now"'
)

_DAYS = {"yesterday": -1, "today": 0, "tomorrow": 1}
_DAY_CLOCK = re.compile(r"(?P<day>yesterday|today|tomorrow)\s+(?P<clock>\S+)", re.ASCII)
_CLOCK = re.compile(r"[0-9]{1,2}:[0-9]{2}(?::[0-9]{2}(?:\.[0-9]+)?)?", re.ASCII)
_AGO = re.compile(r"(?P<span>.+?)\s+ago", re.ASCII)
#: A number and a word: a duration, or a typo of one (``8 hours``).
_DURATION = re.compile(r"(?:[0-9]+\.?[0-9]*|\.[0-9]+) ?[a-z]+", re.ASCII)


class InstantError(ValueError):
    """A time that cannot be read: ``message`` says what and why, ``hint`` what to
    write instead."""

    def __init__(self, message: str, hint: str) -> None:
        super().__init__(f"{message}; {hint}")
        self.message = message
        self.hint = hint


def zone_name(zone: tzinfo) -> str:
    """``Australia/Sydney`` for a named zone; ``UTC+11:00`` for a fixed offset."""
    key = getattr(zone, "key", None)
    return key if isinstance(key, str) else str(zone)


def format_instant(at: datetime, zone: tzinfo) -> str:
    """``2026-12-07 18:30:05+11:00``: ``at`` in ``zone`` with its offset, to the second
    (microseconds dropped, not rounded)."""
    return at.astimezone(zone).replace(microsecond=0).isoformat(sep=" ")


def format_clock(at: datetime, zone: tzinfo, now: datetime | None = None) -> str:
    """``18:30:05`` in ``zone``, or ``2026-12-06 18:30:05`` when that is not ``now``'s
    day there: the short form, only for places that show the date and the offset
    nearby (the console's header shows both)."""
    local = at.astimezone(zone)
    if now is not None and now.astimezone(zone).date() != local.date():
        return local.strftime("%Y-%m-%d %H:%M:%S")
    return local.strftime("%H:%M:%S")


def format_day_clock(at: datetime, zone: tzinfo, first: datetime, form: str = "%H:%M:%S") -> str:
    """``18:30:05`` in ``zone``, ``05:05:00 +1d`` on a later day than ``first``: the
    short form for a text whose heading states ``first``'s date and offset; the whole
    instant with its offset (:func:`format_instant`) where the offset is not ``first``'s."""
    local, start = at.astimezone(zone), first.astimezone(zone)
    if local.utcoffset() != start.utcoffset():
        return format_instant(at, zone)
    days = (local.date() - start.date()).days
    return local.strftime(form) + (f" {days:+d}d" if days else "")


def parse_instant(text: str, *, now: datetime, zone: tzinfo, ahead: bool = False) -> datetime:
    """The instant ``text`` names (aware, UTC), read as the module says; ``ahead`` for a
    command that looks ahead (``--end``, ``--departure``): a bare duration or clock time
    is then after ``now``. Raises :class:`InstantError`."""
    if now.utcoffset() is None:
        raise ValueError("now must be an aware datetime")
    spoken = " ".join(text.split())
    if not spoken:
        raise InstantError("no time given", f"write one of {FORMS}")
    try:
        return _parsed(spoken, now.astimezone(UTC), zone, ahead)
    except OverflowError:
        raise InstantError(
            f"{text!r} is outside the times depotctl can take", "give a time between 1970 and 9999"
        ) from None


def _parsed(text: str, now: datetime, zone: tzinfo, ahead: bool) -> datetime:
    lowered = text.lower()
    if lowered == "now":
        return now
    span = _span(lowered, ahead)
    if span is not None:
        return now + span
    day_clock = _DAY_CLOCK.fullmatch(lowered)
    if day_clock is not None:
        day = now.astimezone(zone).date() + timedelta(days=_DAYS[day_clock["day"]])
        return _local(datetime.combine(day, _clock(day_clock["clock"], text)), zone)
    if _CLOCK.fullmatch(text):
        return _latest(_clock(text, text), now, zone, ahead)
    try:
        written = datetime.fromisoformat(text)
    except ValueError:
        raise InstantError(f"{text!r} is not a time depotctl reads", f"write {FORMS}") from None
    if written.utcoffset() is not None:
        return written.astimezone(UTC)
    return _local(written, zone)


def _span(text: str, ahead: bool) -> timedelta | None:
    """The signed span a duration names (``8h``, ``-8h``, ``8h ago``, ``+2h``); None
    when ``text`` is no duration."""
    whole, sign = text, (1 if ahead else -1)
    ago = _AGO.fullmatch(text)
    if ago is not None:
        text, sign = ago["span"], -1
    elif text[:1] in "+-":
        text, sign = text[1:].lstrip(), (1 if text[0] == "+" else -1)
    if _DURATION.fullmatch(text) is None:
        if ago is None and text == whole:
            return None
        raise InstantError(f"{whole!r}: {text!r} is not a duration", 'write "8h", "90min" or "2 d"')
    try:
        seconds = Duration.parse(text).seconds
    except QuantityError as error:
        raise InstantError(f"{whole!r}: {error.message}", error.hint) from None
    return timedelta(seconds=seconds) * sign


def _clock(text: str, whole: str) -> time:
    if re.match(r"[0-9]:", text):
        text = "0" + text
    try:
        clock = time.fromisoformat(text)
    except ValueError:
        raise InstantError(
            f"{whole!r}: {text!r} is not a time of day", 'write it as "HH:MM" or "HH:MM:SS"'
        ) from None
    if clock.utcoffset() is not None:
        raise InstantError(f"{whole!r}: a time of day takes no offset", "give a date with it")
    return clock


def _latest(clock: time, now: datetime, zone: tzinfo, ahead: bool) -> datetime:
    """The site-local ``clock`` on the latest day at or before ``now`` (``ahead``: the
    first at or after it)."""
    local_now = now.astimezone(zone).replace(tzinfo=None)
    day: date = local_now.date()
    on_day = datetime.combine(day, clock)
    if not ahead and on_day > local_now:
        day -= timedelta(days=1)
    elif ahead and on_day < local_now:
        day += timedelta(days=1)
    return _local(datetime.combine(day, clock), zone)


def _local(wall: datetime, zone: tzinfo) -> datetime:
    """The one instant the site-local ``wall`` time names in ``zone`` (UTC); refused
    with both readings where the clocks skip it or pass it twice."""
    readings = [wall.replace(tzinfo=zone, fold=fold) for fold in (0, 1)]
    real = {
        reading.astimezone(UTC)
        for reading in readings
        if reading.astimezone(UTC).astimezone(zone).replace(tzinfo=None) == wall
    }
    if len(real) == 1:
        return real.pop()
    shown = wall.isoformat(sep=" ", timespec="minutes" if wall.second == 0 else "seconds")
    clock = shown.split(" ")[1]
    first, second = (_offset(reading) for reading in readings)
    where = zone_name(zone)
    if real:  # passed twice: the earlier first
        return _refused(
            f"{shown} occurs twice in {where}: {clock}{first} or {clock}{second}",
            f'add the offset ("{shown}{first}" is the earlier)',
        )
    meant = [format_instant(r.astimezone(UTC), zone) for r in readings]
    return _refused(
        f"{shown} does not exist in {where} (the clocks skip it): {clock}{first} is "
        f"{meant[0]}, {clock}{second} is {meant[1]}",
        "add the offset you mean, or give a time outside the skipped hour",
    )


def _refused(message: str, hint: str) -> datetime:
    raise InstantError(message, hint)


def _offset(at: datetime) -> str:
    """``+11:00`` (``+05:30``; ``+00:00`` for UTC)."""
    offset = at.utcoffset() or timedelta(0)
    sign = "-" if offset < timedelta(0) else "+"
    minutes = abs(int(offset.total_seconds())) // 60
    return f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
