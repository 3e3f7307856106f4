"""The demo's exact check of what was drawn: per node, the sum of the simultaneous
draws of the chargers below it (the simulator's draw records, piecewise constant:
checked at every instant any of them changed) plus the site's other load, against the
limits themselves in force at that instant — the node's static import limit and every
envelope the demo posted, the least of them. Not the controller's effective limit:
its safety margin is the controller's own buffer, not a limit. A violation is a
spell (from, to, its peak); one of zero length cannot exist."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from depotctl.demo.scenario import Cut
from depotctl.domain.topology import Topology
from depotctl.sim.chargers.draw_record import DECIWATTS_PER_W, MILLISECOND, decode

#: the first simulator report version whose chargers carry their draw record
DRAWS_SINCE_VERSION = 2
#: each charger's draw is reported to 0.1 W: a node's sum may be this much high per
#: charger below it
ROUNDING_W = 0.1
#: how an envelope's limit names itself: ``envelope <id>``
ENVELOPE = "envelope "


@dataclass(frozen=True, slots=True)
class Limit:
    """A limit in force: its watts and what it is."""

    watts: float
    what: str


@dataclass(frozen=True, slots=True)
class Spell:
    """A node's load over a limit from ``start`` to ``end`` (exclusive), at most
    ``peak_w`` (first reached at ``peak_at``)."""

    node: str
    start: datetime
    end: datetime
    peak_w: float
    peak_at: datetime
    limit: Limit

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


@dataclass(frozen=True, slots=True)
class Closest:
    """The instant a node's load came closest to its limit (its highest share of it)."""

    node: str
    at: datetime
    load_w: float
    limit: Limit


@dataclass(frozen=True, slots=True)
class Peak:
    """The instant a node drew most at once while an envelope was in force."""

    node: str
    at: datetime
    load_w: float
    limit: Limit


@dataclass(frozen=True, slots=True)
class Checked:
    """What the check saw: the draw changes it read, the spells it found, per node
    the instant it came closest to its limit, and per envelope (by id) the instant its
    node drew most at once while it was in force."""

    changes: int
    spells: list[Spell]
    closest: dict[str, Closest]
    during: dict[str, Peak]


class NoDraws(ValueError):
    """The simulator's report carries no (usable) draw records."""


def draw_records(
    report: Mapping[str, Any] | None, chargers: Sequence[str]
) -> tuple[datetime, datetime, dict[str, list[tuple[int, int]]]]:
    """The report's origin, end and each charger's record (milliseconds since the
    origin, tenths of a watt); :class:`NoDraws` when a charger has none."""
    if not report:
        raise NoDraws("no simulator report")
    if int(report.get("version") or 0) < DRAWS_SINCE_VERSION:
        raise NoDraws(f"simulator report version {report.get('version')}")
    try:
        origin = datetime.fromisoformat(report["from"])
        end = datetime.fromisoformat(report["to"])
        by_id = {c["id"]: c.get("draw") for c in report.get("chargers", [])}
        records = {c: decode(by_id[c]) for c in chargers if isinstance(by_id.get(c), str)}
    except (KeyError, TypeError, ValueError) as error:
        raise NoDraws(f"unreadable simulator report: {error}") from error
    missing = [c for c in chargers if c not in records]
    if missing:
        raise NoDraws(f"no draw record for {missing[0]}")
    return origin, end, records


def check(
    topology: Topology,
    report: Mapping[str, Any] | None,
    cuts: Sequence[tuple[Cut, datetime]],
    below: Mapping[str, Sequence[str]],
    other_kw: Mapping[str, float],
) -> Checked:
    """Every node with an import limit or an envelope, over the report's span.
    ``below``: node → the chargers under it; ``other_kw``: node → its other load."""
    chargers = sorted({c for names in below.values() for c in names})
    origin, end, records = draw_records(report, chargers)
    spells: list[Spell] = []
    closest: dict[str, Closest] = {}
    during: dict[str, Peak] = {}
    for node in topology.nodes.values():
        limits = _limits(node.id, node.limits.import_w, cuts, origin)
        if not limits:
            continue
        under = below.get(node.id, [])
        other_w = other_kw.get(node.id, 0.0) * 1000
        loads = list(_loads(_changes(records, under), limits, other_w, origin, end))
        spells += _spells(node.id, loads, ROUNDING_W * len(under), end)
        nearest = max(
            ((at, w, limit) for at, w, limit in loads if limit is not None and limit.watts > 0),
            key=lambda row: row[1] / row[2].watts,
            default=None,
        )
        if nearest is not None:
            closest[node.id] = Closest(node.id, *nearest)
        during.update(_envelope_peaks(node.id, loads, limits, origin))
    return Checked(sum(len(r) for r in records.values()), spells, closest, during)


def _envelope_peaks(
    node: str,
    loads: Sequence[tuple[datetime, float, Limit | None]],
    limits: list[tuple[Limit, int | None, int | None]],
    origin: datetime,
) -> Iterator[tuple[str, Peak]]:
    """Each envelope of the node (by id) → its highest load while in force. The sweep
    has a row at every envelope's start, so the load in force then is counted."""
    for limit, start, stop in limits:
        if start is None or stop is None or not limit.what.startswith(ENVELOPE):
            continue
        rows = [row for row in loads if start <= _ms(row[0], origin) < stop]
        if rows:
            at, load_w, _ = max(rows, key=lambda row: row[1])
            yield limit.what.removeprefix(ENVELOPE), Peak(node, at, load_w, limit)


# The sweep (instants in milliseconds since the report's origin)


def _ms(at: datetime, origin: datetime) -> int:
    return round((at - origin) / MILLISECOND)


def _limits(
    node: str, static_w: float | None, cuts: Sequence[tuple[Cut, datetime]], origin: datetime
) -> list[tuple[Limit, int | None, int | None]]:
    """The node's limits, each over [from, to) (None: unbounded): its static import
    limit, and each envelope posted for it from when it was both posted and begun."""
    out: list[tuple[Limit, int | None, int | None]] = []
    if static_w is not None:
        out.append((Limit(static_w, "static import limit"), None, None))
    for cut, posted in cuts:
        if cut.target == node:
            start = max(cut.start, posted)
            out.append(
                (
                    Limit(cut.limit_w, f"{ENVELOPE}{cut.id}"),
                    _ms(start, origin),
                    _ms(cut.end, origin),
                )
            )
    return out


def _in_force(limits: list[tuple[Limit, int | None, int | None]], at: int) -> Limit | None:
    """The least limit in force at ``at``."""
    found = [
        limit
        for limit, start, end in limits
        if (start is None or start <= at) and (end is None or at < end)
    ]
    return min(found, key=lambda limit: limit.watts, default=None)


def _changes(
    records: Mapping[str, list[tuple[int, int]]], chargers: Sequence[str]
) -> dict[int, int]:
    """Instant → how much the chargers' summed draw changed then (tenths of a watt)."""
    out: dict[int, int] = defaultdict(int)
    for charger in chargers:
        before = 0
        for at, deciwatts in records[charger]:
            out[at] += deciwatts - before
            before = deciwatts
    return out


def _loads(
    changes: Mapping[int, int],
    limits: list[tuple[Limit, int | None, int | None]],
    other_w: float,
    origin: datetime,
    end: datetime,
) -> Iterator[tuple[datetime, float, Limit | None]]:
    """Each instant before ``end`` the load or a limit changed: the load from then on
    (W) and the least limit in force."""
    edges = {at for _, start, stop in limits for at in (start, stop) if at is not None}
    load_dw = 0
    for ms in sorted({*changes, *edges}):
        at = origin + ms * MILLISECOND
        if at >= end:
            return
        load_dw += changes.get(ms, 0)
        yield at, load_dw / DECIWATTS_PER_W + other_w, _in_force(limits, ms)


def _spells(
    node: str,
    loads: Iterable[tuple[datetime, float, Limit | None]],
    slack_w: float,
    end: datetime,
) -> list[Spell]:
    """The spells over a limit: a spell ends where the load falls back under its limit
    or another limit comes into force."""
    out: list[Spell] = []
    spell: Spell | None = None
    for at, load_w, limit in loads:
        over = limit is not None and load_w > limit.watts + slack_w
        if spell is not None and (not over or spell.limit != limit):
            out.append(replace(spell, end=at))
            spell = None
        if limit is None or not over:
            continue
        if spell is None:
            spell = Spell(node, at, end, load_w, at, limit)
        elif load_w > spell.peak_w:
            spell = replace(spell, peak_w=load_w, peak_at=at)
    if spell is not None:
        out.append(spell)
    return out
