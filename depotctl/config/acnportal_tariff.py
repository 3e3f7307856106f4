"""acnportal's tariff JSON, read as is, as a tariff ``spec``.

The format (acnportal 0.3.3, ``acnportal/signals/tariffs/tariff_schedules/*.json``)::

    {"name": "SCE TOU-EV-8", "effective": "2018-10-12", "link": "https://…",
     "schedule": [{"id": "Summer-Weekday", "effective_start": "06-01",
                   "effective_end": "9-30", "dow_mask": "WEEKDAYS",
                   "times": [0, 16, 21], "tariffs": [0.12597, 0.49619, 0.12597],
                   "demand_charge": 0}, …]}

How it becomes a tariff:

- schedules with the same ``effective_start``/``effective_end`` (both inclusive, ``M-D``
  or ``MM-DD``; an end before the start wraps the year end) form one season, named by
  the part of their ids before the first ``-`` when they share it (``Summer``);
- ``times`` are hours of the day (``8.5`` is 08:30) at which the next price of
  ``tariffs`` ($/kWh, the currency is USD) starts; the last holds until 24:00. Each
  price is an energy window named ``<id> HH:MM–HH:MM``;
- ``dow_mask`` is ``ALL``, ``WEEKDAYS`` or ``WEEKENDS``. When two schedules of a season
  cover the same day, the later one in the file prices it (as acnportal's lookup does:
  PG&E A-10's two winter schedules both say ``ALL``, and the second, flat one wins);
- ``demand_charge`` ($/kW per billing period) is a demand window over the whole day on
  the schedule's days; zero is no charge. Schedules of a season with the same charge
  share one window (one peak).

Problems raise :class:`AcnportalTariffError`, naming the schedule and the field.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import ValidationError

from depotctl.config.schema.tariff import TariffSpec
from depotctl.domain.tariff_calendar import DAY_NAMES, format_minute

MASKS: dict[str, frozenset[int]] = {
    "ALL": frozenset(range(7)),
    "WEEKDAYS": frozenset(range(5)),
    "WEEKENDS": frozenset({5, 6}),
}


class AcnportalTariffError(ValueError):
    """An acnportal tariff JSON that cannot be read as a tariff."""


def _field(entry: Mapping[str, Any], key: str, where: str) -> Any:
    if key not in entry:
        raise AcnportalTariffError(f"{where} has no {key}; each schedule needs one")
    return entry[key]


def _month_day(text: object, where: str) -> str:
    """``"9-30"`` → ``"09-30"``."""
    month, _, day = str(text).partition("-")
    if not (month.isdigit() and day.isdigit()):
        raise AcnportalTariffError(f'{where}: "{text}" is not a month-day like "06-01"')
    return f"{int(month):02d}-{int(day):02d}"


def _minute(hour: object, where: str) -> int:
    if isinstance(hour, bool) or not isinstance(hour, int | float):
        raise AcnportalTariffError(f"{where}: times holds {hour!r}; write hours as numbers")
    minute = round(hour * 60)
    if not 0 <= minute <= 24 * 60 or abs(minute - hour * 60) > 1e-6:
        raise AcnportalTariffError(f"{where}: time {hour} is not a whole minute from 0 to 24 h")
    return minute


def _days(days: frozenset[int]) -> list[str]:
    return [DAY_NAMES[d] for d in sorted(days)]


def _windows(entry: Mapping[str, Any], days: frozenset[int], where: str) -> list[dict[str, Any]]:
    times = _field(entry, "times", where)
    prices = _field(entry, "tariffs", where)
    if not isinstance(times, list) or not isinstance(prices, list) or len(times) != len(prices):
        raise AcnportalTariffError(
            f"{where}: times and tariffs must be lists of the same length "
            f"(one price from each time)"
        )
    minutes = [_minute(hour, where) for hour in times]
    if not minutes or minutes[0] != 0 or any(a >= b for a, b in itertools.pairwise(minutes)):
        raise AcnportalTariffError(f"{where}: times must start at 0 and increase: {times}")
    ends = [*minutes[1:], 24 * 60]
    return [
        {
            "name": f"{entry['id']} {format_minute(start)}–{format_minute(end)}",
            "days": _days(days),
            "from": format_minute(start),
            "to": format_minute(end),
            "price": f"{price!r} /kWh",
        }
        for start, end, price in zip(minutes, ends, prices, strict=True)
    ]


def _season_name(ids: Sequence[str], first: str, last: str) -> str:
    prefixes = {str(i).partition("-")[0] for i in ids}
    return prefixes.pop() if len(prefixes) == 1 else f"{first}–{last}"


def tariff_spec(document: Mapping[str, Any]) -> TariffSpec:
    """The tariff of an acnportal tariff document (its parsed JSON)."""
    schedule = document.get("schedule")
    if not isinstance(schedule, list) or not schedule:
        raise AcnportalTariffError("the file has no schedule list; it is not an acnportal tariff")
    seasons: dict[tuple[str, str], list[tuple[int, Mapping[str, Any]]]] = {}
    for n, entry in enumerate(schedule):
        where = f'schedule[{n}] ("{entry.get("id", "?")}")' if isinstance(entry, dict) else ""
        if not isinstance(entry, dict):
            raise AcnportalTariffError(f"schedule[{n}] is not an object")
        span = (
            _month_day(_field(entry, "effective_start", where), where),
            _month_day(_field(entry, "effective_end", where), where),
        )
        seasons.setdefault(span, []).append((n, entry))
    body = {"currency": "USD", "seasons": [_season(s, entries) for s, entries in seasons.items()]}
    try:
        return TariffSpec.model_validate(body)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"])
        raise AcnportalTariffError(f"{where}: {first['msg']}") from None


def _season(span: tuple[str, str], entries: list[tuple[int, Mapping[str, Any]]]) -> dict[str, Any]:
    """One season: each day of the week priced by the last schedule that covers it."""
    owner: dict[int, int] = {}
    for position, (n, entry) in enumerate(entries):
        where = f'schedule[{n}] ("{entry.get("id", "?")}")'
        mask = _field(entry, "dow_mask", where)
        if mask not in MASKS:
            raise AcnportalTariffError(
                f'{where}: dow_mask "{mask}" is not one of {", ".join(MASKS)}'
            )
        owner.update(dict.fromkeys(MASKS[mask], position))
    energy: list[dict[str, Any]] = []
    demand: dict[float, set[int]] = {}
    for position, (n, entry) in enumerate(entries):
        days = frozenset(d for d, p in owner.items() if p == position)
        if not days:
            continue
        where = f'schedule[{n}] ("{entry.get("id", "?")}")'
        energy.extend(_windows(entry, days, where))
        charge = _field(entry, "demand_charge", where)
        if isinstance(charge, bool) or not isinstance(charge, int | float):
            raise AcnportalTariffError(f"{where}: demand_charge {charge!r} is not a number")
        if charge:
            demand.setdefault(float(charge), set()).update(days)
    return {
        "name": _season_name([str(e.get("id", "")) for _, e in entries], *span),
        "from": span[0],
        "to": span[1],
        "energy": energy,
        "demand": [
            {
                "name": "max-demand" if len(demand) == 1 else f"max-demand {format_days(days)}",
                "days": _days(frozenset(days)),
                "price": f"{charge!r} /kW/month",
            }
            for charge, days in demand.items()
        ],
    }


def format_days(days: set[int]) -> str:
    return ",".join(DAY_NAMES[d] for d in sorted(days))


def read_acnportal_tariff(text: str) -> TariffSpec:
    """Parse an acnportal tariff JSON's text."""
    try:
        document = json.loads(text)
    except json.JSONDecodeError as error:
        raise AcnportalTariffError(
            f"not JSON: {error.msg} at line {error.lineno} column {error.colno}"
        ) from None
    if not isinstance(document, dict):
        raise AcnportalTariffError("the file holds no JSON object; it is not an acnportal tariff")
    return tariff_spec(document)
