"""A schema-valid snapshot against its site: ids that exist, one session per EVSE,
sensible windows and times. Findings carry data paths; positions come later."""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property

from depotctl.config.checks.context import closest
from depotctl.config.rules import SCHEMA_INVALID_VALUE, Finding, Path, Rule
from depotctl.config.schema import Charger, Site
from depotctl.config.schema_errors import dotted
from depotctl.config.snapshot.rules import (
    AFTER_SNAPSHOT,
    DUPLICATE_ID,
    ENVELOPE_TARGET,
    ENVELOPE_WINDOW,
    TWO_SESSIONS,
    UNKNOWN_CHARGER,
    UNKNOWN_EVSE,
    UNKNOWN_NODE,
    UNKNOWN_SOURCE,
)
from depotctl.config.snapshot.schema import SnapshotDocument
from depotctl.config.source import SourceMap
from depotctl.domain import Current
from depotctl.domain.envelopes import LOCAL_SOURCE
from depotctl.domain.topology import Topology


@dataclass
class SnapshotContext:
    """A schema-valid snapshot, the site it goes with (model and compiled), and where
    the snapshot's values stand (to say where a duplicate was first given)."""

    document: SnapshotDocument
    site: Site
    topology: Topology
    source: SourceMap

    @cached_property
    def node_types(self) -> dict[str, str]:
        return {node.id: str(node.type) for node in self.site.spec.nodes}

    @cached_property
    def meters(self) -> set[str]:
        return {meter.id for meter in self.site.spec.meters}

    @cached_property
    def chargers(self) -> set[str]:
        return {node.id for node in self.site.spec.nodes if isinstance(node, Charger)}

    def line(self, path: Path) -> int:
        return self.source.span(path).line


def snapshot_findings(ctx: SnapshotContext) -> list[Finding]:
    """Every semantic problem of the snapshot, in document order of the checks."""
    findings: list[Finding] = []
    checks = (
        _sources,
        _envelopes,
        _telemetry,
        _sessions,
        _chargers,
        _previous,
        _overrides,
        _admission,
    )
    for check in (*checks, _future):
        findings.extend(check(ctx))
    return findings


def _unknown(
    rule: Rule,
    path: Path,
    message: str,
    name: str,
    known: Iterable[str],
    *,
    at_key: bool = False,
) -> Finding:
    """An unknown id, with the known one it most likely means."""
    guess = likely_id(name, known)
    hint = f'did you mean "{guess}"? {rule.hint}' if guess else None
    return rule.at(path, message, hint, at_key=at_key)


def _unknown_evse(
    ctx: SnapshotContext, path: Path, what: str, evse_id: str, *, at_key: bool = False
) -> Finding:
    """``what`` (``override on``) names EVSE ``evse_id``, which the site does not have."""
    message = f'{what} EVSE "{evse_id}", which site {ctx.topology.site} does not have'
    return _unknown(UNKNOWN_EVSE, path, message, evse_id, ctx.topology.evses, at_key=at_key)


_DIGITS = re.compile(r"\d+")


def likely_id(name: str, known: Iterable[str]) -> str | None:
    """The known id ``name`` most likely means: the same but for leading zeros
    (``dc-7/1`` → ``dc-07/1``), else the closest spelling."""
    candidates = list(known)

    def bare(text: str) -> str:
        return _DIGITS.sub(lambda m: str(int(m.group())), text.lower())

    same = [k for k in candidates if bare(k) == bare(name)]
    return same[0] if len(same) == 1 else closest(name, candidates)


def _duplicates(
    ctx: SnapshotContext, what: str, section: str, keys: list[str], field: str
) -> Iterator[Finding]:
    first: dict[str, int] = {}
    for i, key in enumerate(keys):
        if key in first:
            path = (section, i, field)
            earlier = ctx.line((section, first[key], field))
            yield DUPLICATE_ID.at(path, f'{what} "{key}" is listed twice (first at line {earlier})')
        else:
            first[key] = i


def _sources(ctx: SnapshotContext) -> Iterator[Finding]:
    entries = ctx.document.envelope_sources
    yield from _duplicates(
        ctx, "envelope source", "envelope_sources", [e.id for e in entries], "id"
    )
    for i, entry in enumerate(entries):
        if entry.id not in ctx.topology.sources and entry.id != LOCAL_SOURCE:
            yield _unknown(
                UNKNOWN_SOURCE,
                ("envelope_sources", i, "id"),
                f'envelope source "{entry.id}" is not declared by site {ctx.topology.site}',
                entry.id,
                ctx.topology.sources,
            )


def _envelopes(ctx: SnapshotContext) -> Iterator[Finding]:
    entries = ctx.document.envelopes
    yield from _duplicates(ctx, "envelope", "envelopes", [e.id for e in entries], "id")
    for i, envelope in enumerate(entries):
        here = ("envelopes", i)
        if envelope.source not in ctx.topology.sources and envelope.source != LOCAL_SOURCE:
            yield _unknown(
                UNKNOWN_SOURCE,
                (*here, "source"),
                f'envelope {envelope.id} comes from source "{envelope.source}", which site '
                f"{ctx.topology.site} does not declare",
                envelope.source,
                ctx.topology.sources,
            )
        node_type = ctx.node_types.get(envelope.target)
        if node_type is None:
            yield _unknown(
                UNKNOWN_NODE,
                (*here, "target"),
                f'envelope {envelope.id} targets node "{envelope.target}", which site '
                f"{ctx.topology.site} does not have",
                envelope.target,
                ctx.topology.nodes,
            )
        elif envelope.target not in ctx.topology.nodes:
            yield ENVELOPE_TARGET.at(
                (*here, "target"),
                f"envelope {envelope.id} targets {node_type.replace('_', ' ')} "
                f'"{envelope.target}", which cannot carry a limit',
            )
        if envelope.end is not None and envelope.end <= envelope.start:
            yield ENVELOPE_WINDOW.at(
                (*here, "end"),
                f"envelope {envelope.id} ends at {_when(envelope.end)}, not after its start "
                f"at {_when(envelope.start)}",
            )
        if envelope.phases is not None and not isinstance(envelope.limit, Current):
            yield SCHEMA_INVALID_VALUE.at(
                (*here, "phases"),
                f"envelope {envelope.id} limits power ({envelope.limit}), which is over all "
                "of a node's phases; phases apply only to a current limit",
                "remove phases, or write the limit as a current per phase (A)",
            )


def _telemetry(ctx: SnapshotContext) -> Iterator[Finding]:
    entries = ctx.document.telemetry
    yield from _duplicates(
        ctx, "telemetry for node", "telemetry", [r.node for r in entries], "node"
    )
    for i, reading in enumerate(entries):
        if reading.node not in ctx.node_types and reading.node not in ctx.meters:
            yield _unknown(
                UNKNOWN_NODE,
                ("telemetry", i, "node"),
                f'telemetry for "{reading.node}", which is neither a node nor a meter of site '
                f"{ctx.topology.site}",
                reading.node,
                [*ctx.node_types, *ctx.meters],
            )
        if reading.power is None and reading.current is None:
            yield SCHEMA_INVALID_VALUE.at(
                ("telemetry", i),
                f'telemetry for "{reading.node}" has neither power nor current',
                'give power: "34 kW", current: {L1: 50 A, L2: 48 A, L3: 52 A}, or both',
            )


def _sessions(ctx: SnapshotContext) -> Iterator[Finding]:
    entries = ctx.document.sessions
    yield from _duplicates(ctx, "session", "sessions", [s.id for s in entries], "id")
    on_evse: dict[str, int] = {}
    for i, session in enumerate(entries):
        path = ("sessions", i, "evse")
        if session.evse not in ctx.topology.evses:
            yield _unknown_evse(ctx, path, f"session {session.id} is on", session.evse)
        elif session.evse in on_evse:
            other = entries[on_evse[session.evse]]
            yield TWO_SESSIONS.at(
                path,
                f"sessions {other.id} and {session.id} are both on EVSE {session.evse} "
                f"(first at line {ctx.line(('sessions', on_evse[session.evse], 'evse'))})",
            )
        else:
            on_evse[session.evse] = i


def _chargers(ctx: SnapshotContext) -> Iterator[Finding]:
    entries = ctx.document.chargers
    yield from _duplicates(ctx, "charger", "chargers", [c.id for c in entries], "id")
    for i, state in enumerate(entries):
        if state.id not in ctx.chargers:
            yield _unknown(
                UNKNOWN_CHARGER,
                ("chargers", i, "id"),
                f'charger "{state.id}" is not a charger of site {ctx.topology.site}',
                state.id,
                sorted(ctx.chargers),
            )


def _previous(ctx: SnapshotContext) -> Iterator[Finding]:
    for evse_id in ctx.document.previous_limits:
        if evse_id not in ctx.topology.evses:
            yield _unknown_evse(
                ctx, ("previous_limits", evse_id), "previous limit for", evse_id, at_key=True
            )


def _overrides(ctx: SnapshotContext) -> Iterator[Finding]:
    entries = ctx.document.overrides
    yield from _duplicates(ctx, "override on EVSE", "overrides", [o.evse for o in entries], "evse")
    for i, override in enumerate(entries):
        if override.evse not in ctx.topology.evses:
            yield _unknown_evse(ctx, ("overrides", i, "evse"), "override on", override.evse)
        if not override.paused and override.cap is None:
            yield SCHEMA_INVALID_VALUE.at(
                ("overrides", i),
                f"override on EVSE {override.evse} neither pauses nor caps it",
                'set paused: true, or cap: "16 A"; an EVSE without an override is not listed',
            )


def _admission(ctx: SnapshotContext) -> Iterator[Finding]:
    for evse_id, entry in ctx.document.admission.items():
        if evse_id not in ctx.topology.evses:
            yield _unknown_evse(ctx, ("admission", evse_id), "admission of", evse_id, at_key=True)
        if (entry.on_since is None) == (entry.off_since is None):
            yield SCHEMA_INVALID_VALUE.at(
                ("admission", evse_id),
                f"admission of EVSE {evse_id} needs on_since or off_since, and only one",
                'write {on_since: "…"} while its limit in force is above 0 A, '
                '{off_since: "…"} while it is 0 A',
            )


def _future(ctx: SnapshotContext) -> Iterator[Finding]:
    at = ctx.document.at
    stamped: list[tuple[Path, datetime, str]] = []
    for i, health in enumerate(ctx.document.envelope_sources):
        if health.last_heard is not None:
            stamped.append((("envelope_sources", i, "last_heard"), health.last_heard, "heard"))
    for i, envelope in enumerate(ctx.document.envelopes):
        stamped.append((("envelopes", i, "received_at"), envelope.received_at, "received"))
    for i, reading in enumerate(ctx.document.telemetry):
        stamped.append((("telemetry", i, "at"), reading.at, "measured"))
    for i, session in enumerate(ctx.document.sessions):
        stamped.append((("sessions", i, "started"), session.started, "started"))
    for i, override in enumerate(ctx.document.overrides):
        if override.set_at is not None:
            stamped.append((("overrides", i, "set_at"), override.set_at, "set"))
    for evse_id, entry in ctx.document.admission.items():
        for key in ("on_since", "off_since"):
            switch = getattr(entry, key)
            if switch is not None:
                stamped.append((("admission", evse_id, key), switch, "switched"))
    for path, when, verb in stamped:
        if when > at:
            yield AFTER_SNAPSHOT.at(
                path,
                f"{dotted(path)} is {_when(when)}, after the snapshot's time {_when(at)}: "
                f"{verb} in the future",
            )


def _when(instant: datetime) -> str:
    return instant.isoformat()
