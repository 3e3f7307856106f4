"""Scenarios: which vehicles come, when, where, needing what — and which chargers
misbehave. The format is in docs/sim-chargers.md.

Three kinds of file: a YAML scenario (``kind: Scenario``), a CSV with one vehicle a
line, or an ACN-Data sessions CSV (recognised by its ``station_id`` and
``session_id`` columns), whose days are shifted to today in the controller's clock
and whose stations map to EVSEs by ``external_id``. Times are resolved against the
simulator's start (``start``, the controller's time) in the site's time zone.
"""

from __future__ import annotations

import csv
import gzip
import io
import re
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from depotctl.domain.charge_points import ChargePoint
from depotctl.domain.quantity import Duration, Energy, Power, QuantityError, Ratio
from depotctl.domain.topology import Topology
from depotctl.sim.chargers.misbehaviour import Misbehaviour, MisbehaviourError
from depotctl.sim.chargers.vehicles import Vehicle

API_VERSION = "depotctl/v1"
KIND = "Scenario"
VEHICLE_FIELDS = (
    "id",
    "evse",
    "charger",
    "arrival",
    "departure",
    "energy",
    "max_power",
    "battery",
    "soc",
    "id_tag",
)
_CLOCK = re.compile(r"^(\d{1,2}):(\d{2})(?::(\d{2}))?$")


@dataclass(frozen=True, slots=True)
class Problem:
    line: int
    column: int
    message: str


class ScenarioError(Exception):
    """A scenario that cannot be used: where and what, one problem a line."""

    def __init__(self, path: Path, problems: list[Problem]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(self.text())

    def text(self) -> str:
        return "\n".join(
            f"{self.path}:{p.line}:{p.column}: {p.message}"
            if p.line
            else f"{self.path}: {p.message}"
            for p in self.problems
        )


@dataclass(frozen=True)
class Scenario:
    """Vehicles in arrival order, misbehaviour by charger (node or OCPP id), and
    what was left out of a recorded file and why."""

    vehicles: tuple[Vehicle, ...] = ()
    misbehaviour: Mapping[str, Misbehaviour] = field(default_factory=dict)
    left_out: Mapping[str, int] = field(default_factory=dict)
    description: str = ""


@dataclass(frozen=True)
class Place:
    """What the scenario's vehicles may name: EVSE ids (and ``external_id``s, mapped
    to EVSE ids), charger node ids, OCPP ids (mapped to node ids)."""

    evses: Mapping[str, str]
    chargers: Mapping[str, str]

    @classmethod
    def of(cls, topology: Topology, charge_points: Iterable[ChargePoint]) -> Place:
        evses = {evse.id: evse.id for evse in topology.evses.values()}
        evses.update(
            {evse.external_id: evse.id for evse in topology.evses.values() if evse.external_id}
        )
        chargers: dict[str, str] = {}
        for cp in charge_points:
            chargers[cp.charger_id] = cp.charger_id
            chargers[cp.ocpp_id] = cp.charger_id
        return cls(evses, chargers)


def read_scenario(
    path: Path,
    *,
    start: datetime,
    zone: ZoneInfo,
    topology: Topology,
    place: Place,
    first: date | None = None,
    last: date | None = None,
) -> Scenario:
    """The scenario in ``path``. Raises :class:`ScenarioError` (invalid) or
    ``OSError`` (unreadable)."""
    name = path.name.lower()
    if name.endswith((".yaml", ".yml")):
        return _yaml(path, path.read_text(encoding="utf-8"), start, zone, place)
    if name.endswith((".csv", ".csv.gz")):
        text = _csv_text(path)
        header = next(csv.reader(io.StringIO(text)), [])
        if "station_id" in header and "session_id" in header:
            return _acn(path, start, zone, topology, first, last)
        return _csv(path, text, start, zone, place)
    raise ScenarioError(path, [Problem(0, 0, "expected a .yaml, .yml, .csv or .csv.gz file")])


# YAML


def _yaml(path: Path, text: str, start: datetime, zone: ZoneInfo, place: Place) -> Scenario:
    from depotctl.config import YamlSyntaxError, parse_documents

    try:
        documents = list(parse_documents(text))
    except YamlSyntaxError as error:
        raise ScenarioError(
            path, [Problem(error.span.line, error.span.column, error.message)]
        ) from None
    if len(documents) != 1 or not isinstance(documents[0].data, dict):
        raise ScenarioError(path, [Problem(1, 1, "expected one YAML mapping (kind: Scenario)")])
    document = documents[0]
    data: dict[str, Any] = document.data
    problems: list[Problem] = []

    def report(where: tuple[str | int, ...], message: str, at_key: bool = False) -> None:
        span = document.source.span(where, at_key=at_key)
        problems.append(Problem(span.line, span.column, message))

    for key, expected in (("apiVersion", API_VERSION), ("kind", KIND)):
        if key in data and data[key] != expected:
            report((key,), f"{key} must be {expected!r}")
    for key in data:
        if key not in ("apiVersion", "kind", "metadata", "vehicles", "misbehave"):
            report((key,), f"unknown key {key!r} (expected vehicles, misbehave, metadata)", True)
    vehicles_data = data.get("vehicles") or []
    vehicles: list[Vehicle] = []
    if not isinstance(vehicles_data, list):
        report(("vehicles",), "vehicles must be a list")
        vehicles_data = []
    for index, item in enumerate(vehicles_data):
        if not isinstance(item, dict):
            report(("vehicles", index), "a vehicle must be a mapping")
            continue

        def at(key: str, message: str, _index: int = index) -> None:
            report(("vehicles", _index, key), message)

        vehicle = _vehicle(item, f"v{index + 1}", start, zone, place, at)
        if vehicle is not None:
            vehicles.append(vehicle)
    misbehaviour = _misbehave(data.get("misbehave"), place, report)
    if problems:
        raise ScenarioError(path, problems)
    metadata = data.get("metadata")
    description = str(metadata.get("description", "")) if isinstance(metadata, dict) else ""
    return Scenario(_ordered(vehicles), misbehaviour, {}, description)


def _misbehave(
    data: object,
    place: Place,
    report: Callable[..., None],
) -> dict[str, Misbehaviour]:
    found: dict[str, Misbehaviour] = {}
    if data is None:
        return found
    if not isinstance(data, dict):
        report(("misbehave",), "misbehave maps a charger to its modes: {CP-07: [reject-profiles]}")
        return found
    for charger, modes in data.items():
        key = str(charger)
        if key != "*" and key not in place.chargers:
            report(("misbehave", charger), f"no charger {key!r} in the site", True)
            continue
        listed = modes if isinstance(modes, list) else [modes]
        for index, mode in enumerate(listed):
            try:
                parsed = Misbehaviour.parse(str(mode))
            except MisbehaviourError as error:
                where = (
                    ("misbehave", charger, index)
                    if isinstance(modes, list)
                    else ("misbehave", charger)
                )
                report(where, str(error))
                continue
            target = key if key == "*" else place.chargers[key]
            found[target] = found[target].merged(parsed) if target in found else parsed
    return found


# CSV


def _csv_text(path: Path) -> str:
    raw = (
        gzip.decompress(path.read_bytes())
        if path.name.lower().endswith(".gz")
        else path.read_bytes()
    )
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise ScenarioError(path, [Problem(0, 0, "not UTF-8 text")]) from None


def _csv(path: Path, text: str, start: datetime, zone: ZoneInfo, place: Place) -> Scenario:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames or []
    problems: list[Problem] = []
    unknown = [column for column in header if column not in VEHICLE_FIELDS]
    if "arrival" not in header:
        problems.append(
            Problem(1, 1, f"no arrival column; the columns are {','.join(VEHICLE_FIELDS)}")
        )
    for column in unknown:
        problems.append(Problem(1, header.index(column) + 1, f"unknown column {column!r}"))
    if problems:
        raise ScenarioError(path, problems)
    vehicles = []
    for row in reader:
        line = reader.line_num
        item = {key: value for key, value in row.items() if key and value not in (None, "")}

        def at(key: str, message: str, _line: int = line) -> None:
            column = header.index(key) + 1 if key in header else 1
            problems.append(Problem(_line, column, message))

        vehicle = _vehicle(item, f"v{line - 1}", start, zone, place, at)
        if vehicle is not None:
            vehicles.append(vehicle)
    if problems:
        raise ScenarioError(path, problems)
    return Scenario(_ordered(vehicles))


# ACN-Data


def _acn(
    path: Path,
    start: datetime,
    zone: ZoneInfo,
    topology: Topology,
    first: date | None,
    last: date | None,
) -> Scenario:
    from depotctl.recordings import AcnFormatError, DemandBasis, read_sessions, select_sessions

    try:
        recorded = read_sessions(path)
    except AcnFormatError as error:
        raise ScenarioError(
            path, [Problem(error.line, 1 if error.line else 0, error.message)]
        ) from None
    selection = select_sessions(recorded, topology, first, last, DemandBasis.DELIVERED)
    if not selection.sessions:
        return Scenario(left_out=_left_out(selection.outside_dates, selection.unmapped, 0, 0))
    day = first or min(s.arrival.astimezone(zone).date() for s in selection.sessions)
    shift = start.astimezone(zone).date() - day
    vehicles = []
    gone = 0
    for session in selection.sessions:
        arrival = _shifted(session.arrival, shift, zone)
        departure = _shifted(session.departure, shift, zone)
        if departure <= start:
            gone += 1
            continue
        vehicles.append(
            Vehicle(
                id=session.id,
                arrival=max(arrival, start),
                departure=departure,
                energy_wh=session.demand_wh,
                evse=session.evse_id,
            )
        )
    left_out = _left_out(
        selection.outside_dates, selection.unmapped, len(selection.overlapping), gone
    )
    description = f"ACN-Data sessions of {day.isoformat()} onwards, shifted to {start.astimezone(zone).date()}"
    return Scenario(_ordered(vehicles), {}, left_out, description)


def _shifted(instant: datetime, days: timedelta, zone: ZoneInfo) -> datetime:
    """The same local clock time ``days`` later."""
    local = instant.astimezone(zone)
    return datetime.combine(local.date() + days, local.time(), zone)


def _left_out(outside: int, unmapped: int, overlapping: int, gone: int) -> dict[str, int]:
    counts = {
        "outside the dates": outside,
        "at a station no EVSE names": unmapped,
        "overlapping on their EVSE": overlapping,
        "gone before the start": gone,
    }
    return {reason: count for reason, count in counts.items() if count}


# One vehicle, from a YAML mapping or a CSV row


def _vehicle(
    item: Mapping[str, Any],
    default_id: str,
    start: datetime,
    zone: ZoneInfo,
    place: Place,
    report: Callable[[str, str], None],
) -> Vehicle | None:
    errors = 0

    def fail(key: str, message: str) -> None:
        nonlocal errors
        errors += 1
        report(key, message)

    for key in item:
        if key not in VEHICLE_FIELDS:
            fail(key, f"unknown field {key!r} (expected {', '.join(VEHICLE_FIELDS)})")
    if "arrival" not in item:
        fail("id", "a vehicle needs its arrival")
        return None
    arrival = _instant(item["arrival"], start, zone, fail, "arrival")
    departure = None
    if item.get("departure") is not None and arrival is not None:
        departure = _instant(item["departure"], arrival, zone, fail, "departure")
        if departure is not None and departure <= arrival:
            fail("departure", "departure is not after arrival")
    energy = _quantity(item, "energy", Energy, fail)
    power = _quantity(item, "max_power", Power, fail)
    battery = _quantity(item, "battery", Energy, fail)
    soc = _quantity(item, "soc", Ratio, fail)
    if soc is not None:
        soc *= 100.0
        if not 0 <= soc <= 100:
            fail("soc", "soc must be between 0 % and 100 %")
    if energy is None and battery is not None and soc is not None:
        energy = battery * (100.0 - soc) / 100.0
    evse = _place(item, "evse", place.evses, fail)
    charger = _place(item, "charger", place.chargers, fail)
    if errors or arrival is None:
        return None
    return Vehicle(
        id=str(item.get("id", default_id)),
        arrival=arrival,
        departure=departure,
        energy_wh=energy,
        max_power_w=power,
        evse=evse,
        charger=charger,
        battery_wh=battery,
        soc_percent=soc,
        id_tag=str(item["id_tag"]) if item.get("id_tag") is not None else None,
        arrives_after_s=_duration_s(item["arrival"]),
        stays_s=_duration_s(item.get("departure")),
    )


def _duration_s(value: object) -> float | None:
    """The seconds of a time given as a duration (``+5 min``), None for any other."""
    if value is None or isinstance(value, datetime):
        return None
    try:
        return Duration.parse(str(value).strip()).seconds
    except QuantityError:
        return None


def _instant(
    value: object,
    reference: datetime,
    zone: ZoneInfo,
    fail: Callable[[str, str], None],
    key: str,
) -> datetime | None:
    """A duration after ``reference``, a local clock time (the next one at or after
    ``reference``), or an ISO 8601 time with its offset."""
    text = value.isoformat() if isinstance(value, datetime) else str(value).strip()
    clock = _CLOCK.match(text)
    if clock:
        hour, minute, second = int(clock[1]), int(clock[2]), int(clock[3] or 0)
        if hour > 23 or minute > 59 or second > 59:
            fail(key, f"{text!r} is not a time of day")
            return None
        local = reference.astimezone(zone)
        candidate = datetime.combine(local.date(), time(hour, minute, second), zone)
        if candidate < local:
            candidate = datetime.combine(
                local.date() + timedelta(days=1), time(hour, minute, second), zone
            )
        return candidate
    try:
        return reference + timedelta(seconds=Duration.parse(text).seconds)
    except QuantityError:
        pass
    try:
        instant = datetime.fromisoformat(text)
    except ValueError:
        fail(
            key,
            f'{key} {text!r}: expected a duration after the start ("+30 min"), a local '
            'time ("18:30") or an ISO time with its offset',
        )
        return None
    if instant.utcoffset() is None:
        fail(key, f"{key} {text!r} has no UTC offset")
        return None
    return instant


def _quantity(
    item: Mapping[str, Any], key: str, kind: type[Any], fail: Callable[[str, str], None]
) -> float | None:
    value = item.get(key)
    if value is None:
        return None
    try:
        parsed = kind.parse(value)
    except QuantityError as error:
        fail(key, f"{key}: {error.message} ({error.hint})")
        return None
    base = float(parsed.base)
    if base < 0:
        fail(key, f"{key} must not be negative")
        return None
    return base


def _place(
    item: Mapping[str, Any], key: str, known: Mapping[str, str], fail: Callable[[str, str], None]
) -> str | None:
    value = item.get(key)
    if value is None:
        return None
    text = str(value)
    if text not in known:
        fail(key, f"no {key} {text!r} in the site")
        return None
    return known[text]


def _ordered(vehicles: list[Vehicle]) -> tuple[Vehicle, ...]:
    return tuple(sorted(vehicles, key=lambda v: (v.arrival, v.id)))
