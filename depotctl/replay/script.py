"""What a replay changes in the site: the capacity of the top of the tree (the grid
connections, the transformers under them and their secondary buses), and a scripted
series of operating envelopes on it."""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from depotctl.domain.envelopes import Direction, Envelope, LimitUnit
from depotctl.domain.topology import NodeKind, NodeLimits, SourceSpec, Topology, TopologyNode

#: The envelope source of scripted envelopes; always online during a replay.
REPLAY_SOURCE = "replay"

_SPEC = re.compile(
    r"^\s*(?P<start>\d{1,2}:\d{2})\s*-\s*(?P<end>\d{1,2}:\d{2})\s+(?P<percent>\d+(?:\.\d+)?)\s*%\s*$"
)


def top_nodes(topology: Topology) -> list[TopologyNode]:
    """The top of the tree, what ``--capacity-scale`` scales: every grid connection (a
    node without parent), every transformer directly under one, and each such
    transformer's secondary bus — every circuit directly under it — so that a
    transformer is scaled on both sides, as acnportal's ``transformer_cap`` does."""
    roots = [node for node in topology.nodes.values() if node.parent is None]
    root_ids = {node.id for node in roots}
    transformers = [
        node
        for node in topology.nodes.values()
        if node.kind is NodeKind.TRANSFORMER and node.parent in root_ids
    ]
    transformer_ids = {node.id for node in transformers}
    buses = [
        node
        for node in topology.nodes.values()
        if node.kind is NodeKind.CIRCUIT and node.parent in transformer_ids
    ]
    return roots + transformers + buses


def scale_top(topology: Topology, scale: float) -> tuple[Topology, tuple[str, ...]]:
    """``topology`` with the limits (import, export, current) of the top of the tree
    multiplied by ``scale``, and the ids of the nodes scaled; nothing else changes."""
    if scale <= 0:
        raise ValueError(f"capacity scale must be above 0, got {scale:g}")
    nodes = dict(topology.nodes)
    scaled = []
    for node in top_nodes(topology):
        limits = node.limits
        nodes[node.id] = replace(
            node,
            limits=NodeLimits(
                import_w=None if limits.import_w is None else limits.import_w * scale,
                export_w=None if limits.export_w is None else limits.export_w * scale,
                current_a=None if limits.current_a is None else limits.current_a * scale,
            ),
        )
        scaled.append(node.id)
    return replace(topology, nodes=nodes), tuple(scaled)


@dataclass(frozen=True, slots=True)
class ScriptedEnvelope:
    """A daily window (site local time; ``end`` before ``start`` runs past midnight)
    in which the grid connection's import is cut to ``fraction`` of its limit."""

    start: time
    end: time
    fraction: float
    text: str

    @staticmethod
    def parse(text: str) -> ScriptedEnvelope:
        """``17:00-21:00 50%``: from 17:00 to 21:00 local, 50 % of the import limit."""
        match = _SPEC.match(text)
        if match is None:
            raise ValueError(
                f'envelope "{text}" is not a window and a share; write it like "17:00-21:00 50%"'
            )
        start = _clock(match["start"], text)
        end = _clock(match["end"], text)
        percent = float(match["percent"])
        if start == end:
            raise ValueError(f'envelope "{text}" has an empty window')
        if percent > 100.0:
            raise ValueError(f'envelope "{text}": {percent:g} % is above 100 %')
        return ScriptedEnvelope(start, end, percent / 100.0, text.strip())

    def windows(self, day: date, zone: ZoneInfo) -> tuple[datetime, datetime]:
        """This envelope's window starting on local ``day``, in UTC."""
        start = datetime.combine(day, self.start, zone)
        end_day = day if self.end > self.start else day + timedelta(days=1)
        end = datetime.combine(end_day, self.end, zone)
        return start.astimezone(UTC), end.astimezone(UTC)


def _clock(text: str, spec: str) -> time:
    hours, minutes = (int(part) for part in text.split(":"))
    if hours == 24 and minutes == 0:
        return time(0, 0)
    if hours > 23 or minutes > 59:
        raise ValueError(f'envelope "{spec}": {text} is not a time of day')
    return time(hours, minutes)


def scripted_envelopes(
    scripts: tuple[ScriptedEnvelope, ...], topology: Topology, first: date, last: date
) -> tuple[Envelope, ...]:
    """The envelopes of ``scripts`` on every local day from ``first`` to ``last``, on
    every grid connection with an import limit (percent of that, as scaled)."""
    zone = ZoneInfo(topology.timezone)
    targets = [
        node for node in topology.nodes.values() if node.parent is None and node.limits.import_w
    ]
    if scripts and not targets:
        raise ValueError("no grid connection has an import limit to take a share of")
    envelopes = []
    day = first
    while day <= last:
        for number, script in enumerate(scripts, start=1):
            start, end = script.windows(day, zone)
            for node in targets:
                assert node.limits.import_w is not None
                envelopes.append(
                    Envelope(
                        id=f"replay-{day.isoformat()}-{number}-{node.id}",
                        source=REPLAY_SOURCE,
                        target=node.id,
                        direction=Direction.IMPORT,
                        limit=node.limits.import_w * script.fraction,
                        unit=LimitUnit.W,
                        start=start,
                        end=end,
                        received_at=start - timedelta(days=1),
                    )
                )
        day += timedelta(days=1)
    return tuple(envelopes)


def with_replay_source(topology: Topology) -> Topology:
    """``topology`` with the grid connections taking envelopes from the replay's own
    source (no fallback of its own: it never goes offline)."""
    nodes = dict(topology.nodes)
    targets = []
    for node in topology.nodes.values():
        if node.parent is None:
            nodes[node.id] = replace(node, envelope_source=REPLAY_SOURCE)
            targets.append(node.id)
    sources = dict(topology.sources)
    sources[REPLAY_SOURCE] = SourceSpec(REPLAY_SOURCE, None, NodeLimits(), tuple(targets))
    return replace(topology, nodes=nodes, sources=sources)
