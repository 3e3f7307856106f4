"""The console's one model of the controller: what its API said last, parsed into
small immutable values that every widget reads (and compares, to redraw only what
changed). Built from the API's JSON only; nothing here talks to the network."""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from enum import StrEnum
from typing import Any

from depotctl.client.alerts import AlertView, alerts_of

Json = Mapping[str, Any]

#: Node types in the electrical tree, top down.
NODE_TYPES = ("grid_connection", "transformer", "circuit", "charger_group", "charger")


class Link(StrEnum):
    """The console's connection to its controller."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"


@dataclass(frozen=True, slots=True)
class Connection:
    """Where the console stands with the controller: ``error`` is the last failure,
    ``attempt`` how many polls in a row failed, ``retry_in`` seconds to the next."""

    url: str
    link: Link = Link.CONNECTING
    error: str | None = None
    attempt: int = 0
    retry_in: float = 0.0


@dataclass(frozen=True, slots=True)
class Limit:
    """One of a node's limits now: load (reserved + allocated) against the effective
    limit, in the limit's unit (kW or A), with its source in words."""

    kind: str
    unit: str
    effective_limit: float
    load: float
    headroom: float
    source: str
    at_limit: bool

    @property
    def phase(self) -> str | None:
        """``L1``… for a current limit on one phase; None for a power limit."""
        return self.kind.removeprefix("current_") if self.kind.startswith("current_") else None

    @property
    def share(self) -> float:
        """Load as a share of the limit (1.0 and more: full)."""
        if self.effective_limit <= 0:
            return 1.0 if self.load > 0 or self.at_limit else 0.0
        return self.load / self.effective_limit


@dataclass(frozen=True, slots=True)
class Node:
    """A node of the electrical tree with its binding limit and all its limits."""

    id: str
    type: str
    parent: str | None
    binding: Limit | None
    limits: tuple[Limit, ...]
    at_limit: bool

    @property
    def phase_limits(self) -> tuple[Limit, ...]:
        """The per-phase current limits when the binding limit is a current one."""
        if self.binding is None or self.binding.phase is None:
            return ()
        return tuple(limit for limit in self.limits if limit.phase is not None)


@dataclass(frozen=True, slots=True)
class Outlook:
    """An open session's outlook at its departure (``GET /sessions``)."""

    required_wh: float | None
    expected_wh: float | None
    shortfall_wh: float | None
    on_track: bool | None
    departure: datetime | None
    constraint: str | None
    overdue: bool = False


@dataclass(frozen=True, slots=True)
class Session:
    id: str
    evse: str
    delivered_wh: float | None
    required_wh: float | None
    departure: datetime | None
    priority_class: int | None
    outlook: Outlook | None


@dataclass(frozen=True, slots=True)
class Evse:
    """An EVSE's allocation now, with its session when one is open."""

    id: str
    charger: str
    parent: str | None
    limit_a: float | None
    limit_kw: float | None
    state: str
    binding_kind: str
    binding_ref: str | None
    binding: str
    session_id: str | None
    paused: bool = False
    cap_a: float | None = None
    session: Session | None = None
    draw_kw: float | None = None


@dataclass(frozen=True, slots=True)
class Envelope:
    id: str
    source: str
    target: str
    direction: str
    limit: str
    start: datetime | None
    end: datetime | None
    mode: str
    state: str
    reason: str
    source_online: bool | None
    withdrawn_at: datetime | None


@dataclass(frozen=True, slots=True)
class Source:
    id: str
    online: bool
    last_heard: datetime | None


@dataclass(frozen=True, slots=True)
class JournalEntry:
    id: int
    at: datetime | None
    kind: str
    evse: str | None
    envelope: str | None
    session: str | None
    message: str


@dataclass(frozen=True, slots=True)
class Model:
    """Everything the console shows, as of one poll (``generation`` counts polls that
    brought data)."""

    connection: Connection
    generation: int = 0
    time: datetime | None = None
    speed: float | None = None
    clock_kind: str | None = None
    site_name: str | None = None
    revision: int | None = None
    revision_hash: str | None = None
    local: tzinfo = UTC
    nodes: tuple[Node, ...] = ()
    evses: Mapping[str, Evse] = field(default_factory=dict)
    envelopes: tuple[Envelope, ...] = ()
    sources: Mapping[str, Source] = field(default_factory=dict)
    journal: tuple[JournalEntry, ...] = ()
    may_write: bool = False
    #: the open alerts, the critical first (``GET /api/v1/alerts``)
    alerts: tuple[AlertView, ...] = ()

    @property
    def loaded(self) -> bool:
        return self.generation > 0

    def in_local(self, instant: datetime | None) -> datetime | None:
        """``instant`` in the site's time (the offset the controller reports now)."""
        return instant.astimezone(self.local) if instant is not None else None


# Parsing the API's JSON


def instant(value: Any) -> datetime | None:
    if not isinstance(value, str):
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _number(value: Any) -> float | None:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return float(value)
    return None


_POWER = re.compile(r"^\s*(-?[0-9.]+)\s*(W|kW|MW)\s*$")
_POWER_SCALE = {"W": 1e-3, "kW": 1.0, "MW": 1e3}


def power_kw(value: Any) -> float | None:
    """Kilowatts from the API's power quantity (``"42 kW"``)."""
    match = _POWER.match(value) if isinstance(value, str) else None
    if match is None:
        return None
    try:
        return float(match.group(1)) * _POWER_SCALE[match.group(2)]
    except ValueError:
        return None


def draws_of(snapshot: Json) -> dict[str, float]:
    """The latest measured power per node (kW) from a snapshot's ``telemetry``."""
    out: dict[str, float] = {}
    for reading in snapshot.get("telemetry") or []:
        power = power_kw(reading.get("power"))
        if power is not None and reading.get("node"):
            out[str(reading["node"])] = power
    return out


_ENERGY = re.compile(r"^\s*(-?[0-9.]+)\s*(Wh|kWh|MWh)\s*$")
_ENERGY_SCALE = {"Wh": 1.0, "kWh": 1e3, "MWh": 1e6}


def energy_wh(value: Any) -> float | None:
    """Watt-hours from the API's energy quantity (``"5 kWh"``)."""
    if not isinstance(value, str):
        return _number(value)
    match = _ENERGY.match(value)
    if match is None:
        return None
    try:
        return float(match.group(1)) * _ENERGY_SCALE[match.group(2)]
    except ValueError:
        return None


def limit_of(data: Json) -> Limit | None:
    effective = _number(data.get("effective_limit"))
    if effective is None:
        return None
    source = data.get("source") or {}
    reserved = _number(data.get("reserved")) or 0.0
    allocated = _number(data.get("allocated")) or 0.0
    headroom = _number(data.get("headroom"))
    return Limit(
        kind=str(data.get("kind") or ""),
        unit=str(data.get("unit") or ""),
        effective_limit=effective,
        load=reserved + allocated,
        headroom=headroom if headroom is not None else effective - reserved - allocated,
        source=source_words(source),
        at_limit=bool(data.get("at_limit")),
    )


def source_words(source: Json) -> str:
    """A limit's source in words: static, rating, envelope E-17, fallback for …."""
    text = str(source.get("text") or source.get("kind") or "")
    return text.removesuffix(" (fresh)")


def node_of(data: Json) -> Node:
    limits = tuple(
        limit for limit in (limit_of(item) for item in data.get("limits") or []) if limit
    )
    return Node(
        id=str(data["id"]),
        type=str(data.get("type") or ""),
        parent=data.get("parent"),
        binding=limit_of(data),
        limits=limits,
        at_limit=bool(data.get("at_limit")),
    )


def outlook_of(data: Json | None) -> Outlook | None:
    if not data:
        return None
    constraint = data.get("constraint") or {}
    return Outlook(
        required_wh=_number(data.get("required_energy_wh")),
        expected_wh=_number(data.get("expected_energy_wh")),
        shortfall_wh=_number(data.get("shortfall_wh")),
        on_track=data.get("on_track") if isinstance(data.get("on_track"), bool) else None,
        departure=instant(data.get("departure")),
        constraint=str(constraint.get("detail")) if constraint.get("detail") else None,
        overdue=bool(data.get("overdue")),
    )


def session_of(data: Json) -> Session:
    requirement = data.get("requirement") or {}
    outlook = outlook_of(data.get("outlook"))
    required = energy_wh(requirement.get("energy"))
    departure = instant(requirement.get("departure"))
    if outlook is not None:
        required = outlook.required_wh if outlook.required_wh is not None else required
        departure = outlook.departure or departure
    priority = data.get("priority_class")
    return Session(
        id=str(data["id"]),
        evse=str(data.get("evse") or ""),
        delivered_wh=energy_wh(data.get("energy_delivered")),
        required_wh=required,
        departure=departure,
        priority_class=priority if isinstance(priority, int) else None,
        outlook=outlook,
    )


def evse_of(data: Json, session: Session | None, draw_kw: float | None = None) -> Evse:
    binding = data.get("binding") or {}
    override = data.get("override") or {}
    return Evse(
        id=str(data["id"]),
        charger=str(data.get("charger") or ""),
        parent=data.get("parent"),
        limit_a=_number(data.get("limit_a")),
        limit_kw=_number(data.get("limit_kw")),
        state=str(data.get("state") or ""),
        binding_kind=str(binding.get("kind") or ""),
        binding_ref=binding.get("ref"),
        binding=str(binding.get("detail") or binding.get("kind") or ""),
        session_id=data.get("session_id"),
        paused=bool(override.get("paused")),
        cap_a=_number(override.get("cap_a")),
        session=session,
        draw_kw=draw_kw,
    )


def envelope_of(data: Json) -> Envelope:
    online = data.get("source_online")
    return Envelope(
        id=str(data["id"]),
        source=str(data.get("source") or ""),
        target=str(data.get("target") or ""),
        direction=str(data.get("direction") or "import"),
        limit=str(data.get("limit") or ""),
        start=instant(data.get("start")),
        end=instant(data.get("end")),
        mode=str(data.get("mode") or "normal"),
        state=str(data.get("state") or ""),
        reason=str(data.get("reason") or ""),
        source_online=online if isinstance(online, bool) else None,
        withdrawn_at=instant(data.get("withdrawn_at")),
    )


def journal_entry_of(data: Json) -> JournalEntry:
    return JournalEntry(
        id=int(data["id"]),
        at=instant(data.get("at")),
        kind=str(data.get("kind") or ""),
        evse=data.get("evse"),
        envelope=data.get("envelope"),
        session=data.get("session"),
        message=str(data.get("message") or ""),
    )


def local_zone(state: Json) -> tzinfo:
    """The site's offset now, from the ``at`` the allocation JSON gives in site time."""
    at = instant(state.get("at"))
    offset = at.utcoffset() if at is not None else None
    if offset is None:
        return UTC
    return timezone(offset) if offset != timedelta(0) else UTC


def sessions_by_evse(sessions: Json) -> dict[str, Session]:
    out: dict[str, Session] = {}
    for item in sessions.get("sessions") or []:
        if item.get("open", True):
            session = session_of(item)
            out[session.evse] = session
    return out


def evses_of(
    state: Json, sessions: Mapping[str, Session], draws: Mapping[str, float]
) -> dict[str, Evse]:
    """Every EVSE with its session and, when its charger has one EVSE and reports, the
    charger's measured draw."""
    items = state.get("evses") or []
    per_charger: dict[str, int] = {}
    for item in items:
        per_charger[str(item.get("charger"))] = per_charger.get(str(item.get("charger")), 0) + 1
    out = {}
    for item in items:
        charger = str(item.get("charger"))
        draw = draws.get(charger) if per_charger[charger] == 1 else None
        out[str(item["id"])] = evse_of(item, sessions.get(str(item["id"])), draw)
    return out


def build(
    previous: Model,
    *,
    connection: Connection,
    state: Json,
    sessions: Json,
    clock: Json,
    envelopes: Json,
    site: Json | None,
    journal: Sequence[JournalEntry],
    may_write: bool,
    draws: Mapping[str, float] | None = None,
    alerts: Json | None = None,
) -> Model:
    """The model after one successful poll."""
    revision = state.get("revision") or {}
    site_name = (site or {}).get("name") or (state.get("site") or {}).get("name")
    return Model(
        connection=connection,
        generation=previous.generation + 1,
        time=instant(clock.get("time")) or instant(state.get("time")),
        speed=_number(clock.get("speed")),
        clock_kind=clock.get("kind"),
        site_name=str(site_name) if site_name else previous.site_name,
        revision=revision.get("number"),
        revision_hash=revision.get("hash"),
        local=local_zone(state),
        nodes=tuple(node_of(item) for item in state.get("nodes") or []),
        evses=evses_of(state, sessions_by_evse(sessions), draws or {}),
        envelopes=tuple(envelope_of(item) for item in envelopes.get("envelopes") or []),
        sources={
            str(item["id"]): Source(
                id=str(item["id"]),
                online=bool(item.get("online")),
                last_heard=instant(item.get("last_heard")),
            )
            for item in envelopes.get("sources") or []
        },
        journal=tuple(journal),
        may_write=may_write,
        alerts=tuple(a for a in alerts_of(alerts or {}) if a.is_open),
    )


def tail(entries: Iterable[JournalEntry], keep: int) -> tuple[JournalEntry, ...]:
    """The newest ``keep`` entries, oldest first, each id once."""
    seen: dict[int, JournalEntry] = {}
    for entry in entries:
        seen[entry.id] = entry
    ordered = sorted(seen.values(), key=lambda e: e.id)
    return tuple(ordered[-keep:])
