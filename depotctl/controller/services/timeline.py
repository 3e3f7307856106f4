"""An EVSE's or a node's timeline: its measured load against the limit in force over a
window, in at most :data:`MOST_STEPS` steps, and the envelopes that applied on its way
to the grid (``GET /api/v1/timeline/{subject}``).

The load is read from telemetry minutes, and from quarter hours where the minutes
have been folded (docs/retention.md); each step holds the highest load of the readings
that overlap it and the tightest limit in force during it, so downsampling never
hides a peak or a cut. An EVSE's limit is the allocation's decision in force (the
journal's ``allocation.changed``), in amps per line; its load its charger's meter. A
node's limit is its static import power (or, without one, its current per phase),
tightened by the envelopes on it while they were active (the journal's
``envelope.state``); its load its own meter, else the sum of the meters below it.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal, NamedTuple

from depotctl.controller.ports import Depot
from depotctl.controller.service import AppliedSite
from depotctl.controller.services.errors import Invalid
from depotctl.controller.services.lookups import site_in_force, unknown
from depotctl.controller.store import JournalKind
from depotctl.controller.store.compaction import QUARTER
from depotctl.controller.store.telemetry import TelemetryTotal
from depotctl.domain.envelopes import Direction, Envelope
from depotctl.domain.topology import NodeKind, Topology

#: The most steps a timeline has: each at least a minute.
MOST_STEPS = 1500
#: The window when none is given: the last night.
DEFAULT_SPAN = timedelta(hours=12)
#: The longest window asked for (the journal's default retention and a little more).
LONGEST_SPAN = timedelta(days=400)
MINUTE = timedelta(minutes=1)
_ACTIVE = frozenset({"active", "active_fallback"})
#: The most limit changes or envelope transitions read for one timeline.
_MOST_ENTRIES = 100_000


class Sample(NamedTuple):
    """A value over ``[start, end)``: a reading's minute or quarter, or a limit."""

    start: datetime
    end: datetime
    value: float


@dataclass(frozen=True, slots=True)
class EnvelopeSpan:
    """An envelope while it applied (``end`` None: it still does)."""

    envelope: str
    source: str
    target: str
    begin: datetime
    end: datetime | None
    limit: float
    unit: str
    mode: str


@dataclass(frozen=True, slots=True)
class Point:
    """One step: its start, peak load, tightest limit and its readings' resolution."""

    at: datetime
    load: float | None
    limit: float | None
    resolution_s: int | None


@dataclass(frozen=True, slots=True)
class Timeline:
    """An EVSE's or a node's load against its limit, in the API's terms
    (:class:`depotctl.api.timeline.Timeline`)."""

    subject: str
    kind: Literal["evse", "node"]
    unit: Literal["A", "W"]
    since: datetime
    until: datetime
    step_s: int
    meters: tuple[str, ...]
    points: tuple[Point, ...]
    envelopes: tuple[EnvelopeSpan, ...]


def timeline(
    depot: Depot, subject: str, since: datetime | None, until: datetime | None
) -> Timeline:
    """The timeline of ``subject`` (an EVSE id, else a node id of the site in force)
    over ``[since, until)`` (default: the 12 h up to now). :class:`NotFound` naming the
    likely id for one the site lacks; :class:`Invalid` for an empty or too long window."""
    site = site_in_force(depot)
    end = (until if until is not None else depot.clock.now()).astimezone(UTC)
    start = since.astimezone(UTC) if since is not None else end - DEFAULT_SPAN
    if start >= end:
        raise Invalid(
            f"since {start.isoformat()} is not before until {end.isoformat()}: give a "
            "window that runs forward",
            since=start.isoformat(),
        )
    if end - start > LONGEST_SPAN:
        raise Invalid(
            f"the window {start.isoformat()} → {end.isoformat()} is longer than "
            f"{LONGEST_SPAN.days} days: ask for a shorter one",
            since=start.isoformat(),
        )
    step = step_for(end - start)
    topology = site.topology
    if subject in topology.evses:
        return _evse_timeline(depot, site, subject, start, end, step)
    if subject in topology.nodes:
        return _node_timeline(depot, site, subject, start, end, step)
    raise unknown(
        "subject",
        subject,
        f'site {topology.site} has no EVSE or node "{subject}"; give an EVSE id '
        '("<charger id>/<evse id>") or a node id (depotctl allocate lists both)',
        [*topology.evses, *topology.nodes],
    )


def step_for(span: timedelta) -> timedelta:
    """The step that covers ``span`` in at most :data:`MOST_STEPS` steps: whole
    minutes, a minute at least."""
    minutes = math.ceil(span / MINUTE / MOST_STEPS)
    return MINUTE * max(1, minutes)


def steps_of(
    since: datetime,
    until: datetime,
    step: timedelta,
    loads: Iterable[Sample],
    limits: Iterable[Sample],
) -> list[Point]:
    """``[since, until)`` in steps of ``step``: each the highest load and the lowest
    limit of the samples that overlap it (a sample's resolution is its length)."""
    count = math.ceil((until - since) / step)
    load: list[float | None] = [None] * count
    resolution: list[int | None] = [None] * count
    limit: list[float | None] = [None] * count
    for sample in loads:
        seconds = int((sample.end - sample.start).total_seconds())
        for index in _overlapped(since, step, count, sample):
            if load[index] is None or sample.value > (load[index] or 0.0):
                load[index] = sample.value
            resolution[index] = max(resolution[index] or 0, seconds)
    for sample in limits:
        for index in _overlapped(since, step, count, sample):
            held = limit[index]
            limit[index] = sample.value if held is None else min(held, sample.value)
    return [Point(since + step * i, load[i], limit[i], resolution[i]) for i in range(count)]


def _overlapped(since: datetime, step: timedelta, count: int, sample: Sample) -> range:
    first = max(0, math.floor((sample.start - since) / step))
    last = min(count, math.ceil((sample.end - since) / step))
    return range(first, last)


def _evse_timeline(
    depot: Depot,
    site: AppliedSite,
    evse_id: str,
    since: datetime,
    until: datetime,
    step: timedelta,
) -> Timeline:
    evse = site.topology.evses[evse_id]
    watts_per_amp = evse.watts_per_amp
    loads = _load_samples(depot, [evse.charger_id], since, until, "A", watts_per_amp)
    journal = depot.units().journal
    kind = JournalKind.ALLOCATION_CHANGED
    before = journal.entries(kind=kind, evse=evse_id, until=since, latest=True, limit=1)
    changes = journal.entries(
        kind=kind, evse=evse_id, since=since, until=until, limit=_MOST_ENTRIES
    )
    held = [(e.at, float(e.data["limit_a"])) for e in [*before, *changes] if "limit_a" in e.data]
    limits = [
        Sample(max(at, since), held[i + 1][0] if i + 1 < len(held) else until, amps)
        for i, (at, amps) in enumerate(held)
    ]
    envelopes = _envelope_spans(depot, evse.path, since, until)
    return Timeline(
        evse_id,
        "evse",
        "A",
        since,
        until,
        int(step.total_seconds()),
        (evse.charger_id,),
        tuple(steps_of(since, until, step, loads, limits)),
        tuple(envelopes),
    )


def _node_timeline(
    depot: Depot,
    site: AppliedSite,
    node_id: str,
    since: datetime,
    until: datetime,
    step: timedelta,
) -> Timeline:
    topology = site.topology
    node = topology.nodes[node_id]
    static = node.limits
    unit: Literal["A", "W"] = "A" if static.import_w is None and static.current_a else "W"
    meters = _meters_of(topology, node_id)
    if node.meter is None and _reports(depot, node_id, since, until):
        meters = [node_id]  # readings of the node itself (POST /telemetry)
    volts = node.voltage_ln * node.phases
    loads = _load_samples(depot, meters, since, until, unit, volts)
    path = topology.path_up(node_id)
    envelopes = _envelope_spans(depot, path, since, until)
    bound = static.current_a if unit == "A" else static.import_w
    limits = [Sample(since, until, bound)] if bound is not None else []
    limits += [
        Sample(max(e.begin, since), e.end or until, e.limit)
        for e in envelopes
        if e.target == node_id and e.unit == unit
    ]
    return Timeline(
        node_id,
        "node",
        unit,
        since,
        until,
        int(step.total_seconds()),
        tuple(meters),
        tuple(steps_of(since, until, step, loads, limits)),
        tuple(envelopes),
    )


def _reports(depot: Depot, node_id: str, since: datetime, until: datetime) -> bool:
    """Whether the node has readings of its own in the window."""
    uow = depot.units()
    if uow.telemetry.history(node_id, since=since, until=until, limit=1):
        return True
    return bool(uow.telemetry.quarters(node_id, since=since - QUARTER, until=until))


def _meters_of(topology: Topology, node_id: str) -> list[str]:
    """Whose readings make a node's load: its own meter, a charger's own readings,
    else every charger, site load, battery and generator below it (unless the node
    reports itself: :func:`_reports`)."""
    node = topology.nodes[node_id]
    if node.meter is not None:
        return [node.meter]
    if node.kind is NodeKind.CHARGER:
        return [node_id]
    below = {n for n in topology.nodes if node_id in topology.path_up(n)}
    chargers = [n for n in sorted(below) if topology.nodes[n].kind is NodeKind.CHARGER]
    others = [
        asset.meter or asset.id
        for assets in (topology.site_loads, topology.storage, topology.generation)
        for asset in assets.values()
        if asset.parent in below
    ]
    return [*chargers, *sorted(others)]


def _load_samples(
    depot: Depot,
    meters: Sequence[str],
    since: datetime,
    until: datetime,
    unit: str,
    watts_per_amp: float,
) -> list[Sample]:
    """The meters' summed load per minute (and per quarter hour where the minutes are
    folded), added up by the store: power in W, or the highest line current in A
    (from power over ``watts_per_amp`` where no meter read a current)."""
    telemetry = depot.units().telemetry
    whole = (since - QUARTER).replace(second=0, microsecond=0)
    samples = []
    for totals, length in (
        (telemetry.minute_totals(meters, since=since, until=until), MINUTE),
        (telemetry.quarter_totals(meters, since=whole, until=until), QUARTER),
    ):
        for total in totals:
            value = _load_value(total, unit, watts_per_amp)
            if value is not None:
                samples.append(Sample(total.start, total.start + length, value))
    return samples


def _load_value(total: TelemetryTotal, unit: str, watts_per_amp: float) -> float | None:
    if unit == "W":
        return total.power_w
    if total.current_a:
        return max(total.current_a.values())
    power = total.power_w
    return power / watts_per_amp if power is not None and watts_per_amp > 0 else None


def _envelope_spans(
    depot: Depot, targets: Sequence[str], since: datetime, until: datetime
) -> list[EnvelopeSpan]:
    """The import envelopes on ``targets`` that were active within ``[since, until)``,
    as their journaled transitions say, by begin."""
    uow = depot.units()
    wanted = set(targets)
    spans: list[EnvelopeSpan] = []
    for envelope in uow.envelopes.all(open_at=since):
        if envelope.target not in wanted or envelope.direction is not Direction.IMPORT:
            continue
        if envelope.start >= until:
            continue
        entries = uow.journal.entries(
            kind=JournalKind.ENVELOPE_STATE,
            envelope=envelope.id,
            until=until,
            limit=_MOST_ENTRIES,
        )
        begin: datetime | None = None
        for entry in entries:
            active = entry.data.get("to") in _ACTIVE
            if active and begin is None:
                begin = entry.at
            elif not active and begin is not None:
                spans.append(_span(envelope, begin, entry.at))
                begin = None
        if begin is not None:
            spans.append(_span(envelope, begin, None))
    kept = [s for s in spans if s.end is None or s.end > since]
    return sorted(kept, key=lambda s: (s.begin, s.envelope))


def _span(envelope: Envelope, begin: datetime, end: datetime | None) -> EnvelopeSpan:
    return EnvelopeSpan(
        envelope.id,
        envelope.source,
        envelope.target,
        begin,
        end,
        envelope.limit,
        envelope.unit.value,
        envelope.mode.value,
    )
