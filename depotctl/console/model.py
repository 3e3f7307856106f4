"""The console's one model of the controller: what its API said last, as the API's
own models (:mod:`depotctl.api`), put together for the widgets — which read it, and
compare it (values are frozen), to redraw only what changed. Nothing here talks to
the network."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone, tzinfo
from enum import StrEnum

from depotctl.api import (
    Alert,
    Alerts,
    Chargers,
    Clock,
    Envelope,
    Envelopes,
    EnvelopeSource,
    EvseAllocation,
    JournalEntry,
    NodeAllocation,
    PlannerState,
    Session,
    Sessions,
    SiteRevision,
    SnapshotDocument,
    State,
)
from depotctl.client.alerts import alerts_of
from depotctl.client.figures import zone_named

#: Node types in the electrical tree, top down.
NODE_TYPES = ("grid_connection", "transformer", "circuit", "charger_group", "charger")


class Link(StrEnum):
    """The console's connection to its controller."""

    CONNECTING = "connecting"
    CONNECTED = "connected"
    RECONNECTING = "reconnecting"
    #: the controller answers but refuses the token (401, 403): a configuration error
    REFUSED = "refused"


@dataclass(frozen=True, slots=True)
class Connection:
    """Where the console stands with the controller: ``error`` is the last failure,
    ``attempt`` how many polls in a row failed, ``retry_in`` seconds to the next;
    ``token_source`` where the console's token is read from, in words (for the fix of a
    refused token)."""

    url: str
    link: Link = Link.CONNECTING
    error: str | None = None
    attempt: int = 0
    retry_in: float = 0.0
    token_source: str | None = None


@dataclass(frozen=True, slots=True)
class EvseNow:
    """An EVSE now: its allocation, its open session, and — when its charger has this
    one EVSE and reports — the charger's measured draw."""

    allocation: EvseAllocation
    session: Session | None = None
    draw_kw: float | None = None

    @property
    def id(self) -> str:
        return self.allocation.id

    @property
    def paused(self) -> bool:
        """Paused by an operator."""
        override = self.allocation.override
        return override is not None and override.paused

    @property
    def cap_a(self) -> float | None:
        """An operator's cap, amps per line."""
        override = self.allocation.override
        return override.cap_a if override is not None else None


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
    nodes: tuple[NodeAllocation, ...] = ()
    evses: Mapping[str, EvseNow] = field(default_factory=dict)
    envelopes: tuple[Envelope, ...] = ()
    sources: Mapping[str, EnvelopeSource] = field(default_factory=dict)
    journal: tuple[JournalEntry, ...] = ()
    may_write: bool = False
    #: the open alerts, the critical first (``GET /api/v1/alerts``)
    alerts: tuple[Alert, ...] = ()
    #: how many chargers the controller cannot command (``GET /api/v1/chargers``;
    #: None from a controller without it)
    uncontrollable_chargers: int | None = None
    #: the planner's state (``planner`` of ``/state``; None from a controller without it)
    planner: PlannerState | None = None
    #: the control cycle shown when the console looks at the past (``t``); None live
    past: datetime | None = None
    #: the controller's time at the last poll while it looks at the past (``time`` is
    #: the past's then); None live
    live: datetime | None = None

    @property
    def loaded(self) -> bool:
        return self.generation > 0


def draws_of(snapshot: SnapshotDocument) -> dict[str, float]:
    """The latest measured power per node (kW) from a snapshot's ``telemetry``."""
    return {
        reading.node: power
        for reading in snapshot.readings()
        if reading.node and (power := reading.power_kw) is not None
    }


def local_zone(state: State) -> tzinfo:
    """The site's offset now, from the ``at`` the allocation gives in site time."""
    offset = state.at.utcoffset()
    if offset is None:
        return UTC
    return timezone(offset) if offset != timedelta(0) else UTC


def sessions_by_evse(sessions: Sessions) -> dict[str, Session]:
    """The open sessions, by EVSE."""
    return {session.evse: session for session in sessions.sessions if session.open}


def evses_of(
    state: State, sessions: Mapping[str, Session], draws: Mapping[str, float]
) -> dict[str, EvseNow]:
    """Every EVSE with its session and, when its charger has one EVSE and reports, the
    charger's measured draw."""
    per_charger: dict[str, int] = {}
    for evse in state.evses:
        per_charger[evse.charger] = per_charger.get(evse.charger, 0) + 1
    return {
        evse.id: EvseNow(
            evse,
            sessions.get(evse.id),
            draws.get(evse.charger) if per_charger[evse.charger] == 1 else None,
        )
        for evse in state.evses
    }


def build(
    previous: Model,
    *,
    connection: Connection,
    state: State,
    sessions: Sessions,
    clock: Clock,
    envelopes: Envelopes,
    site: SiteRevision | None,
    journal: Sequence[JournalEntry],
    may_write: bool,
    draws: Mapping[str, float] | None = None,
    alerts: Alerts | None = None,
    chargers: Chargers | None = None,
) -> Model:
    """The model after one successful poll."""
    site_name = site.name if site is not None else state.site.name
    return Model(
        connection=connection,
        generation=previous.generation + 1,
        time=clock.time,
        speed=clock.speed,
        clock_kind=clock.kind,
        site_name=site_name or previous.site_name,
        revision=state.revision.number,
        revision_hash=state.revision.hash,
        local=zone_named(clock.timezone) if clock.timezone else local_zone(state),
        nodes=tuple(state.nodes),
        evses=evses_of(state, sessions_by_evse(sessions), draws or {}),
        envelopes=tuple(envelopes.envelopes),
        sources={source.id: source for source in envelopes.sources},
        journal=tuple(journal),
        may_write=may_write,
        alerts=tuple(a for a in alerts_of(alerts) if a.is_open) if alerts is not None else (),
        uncontrollable_chargers=chargers.uncontrollable if chargers is not None else None,
        planner=state.planner,
    )


def tail(entries: Iterable[JournalEntry], keep: int) -> tuple[JournalEntry, ...]:
    """The newest ``keep`` entries in time order (oldest first, by time then id, as the
    journal and ``depotctl journal`` list them), each id once."""
    seen: dict[int, JournalEntry] = {}
    for entry in entries:
        seen[entry.id] = entry
    ordered = sorted(seen.values(), key=lambda e: (e.at, e.id))
    return tuple(ordered[-keep:])
