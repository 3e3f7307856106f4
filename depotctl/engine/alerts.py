"""The conditions to alert on, read off one snapshot and its allocation (pure).

- ``charger_uncontrollable``: a charger of the site that cannot be commanded
  (``ChargerState.is_controllable`` false: offline, its last command rejected or
  unanswered, or its fallback profile never accepted); the engine assumes its draw.
- ``meter_stale``: the telemetry point a site load is read from (its own id, else
  its meter) has no reading the engine can use — none, too old, stamped ahead, or one
  that measures neither the load's power nor its current on every line — so the
  load counts at the stale-data fallback.
- ``source_offline``: an envelope source the site declares is offline; its fallback
  (its own fallback envelope, else the site's) is in force on its targets.
- ``node_overcommitted``: a node whose reserved draws alone (non-EV load, the
  assumed draws of uncontrollable chargers, EVSEs whose commands are unanswered)
  exceed one of its effective limits — no allocation can keep it within.

One condition per kind and subject, in a stable order (kind, then subject).

:func:`envelope_breaches` finds the envelopes of a source (not ``local``) that the
depot cannot keep to, for the protocol that reports them (OSCP's compliance errors).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import numpy as np

from depotctl.domain.alerts import AlertCondition, AlertKind, Subject, SubjectKind
from depotctl.domain.chargers import ChargerState, CommandOutcome
from depotctl.domain.envelopes import (
    LOCAL_SOURCE,
    AppliedLimit,
    Envelope,
    LimitUnit,
    applicable_limits,
)
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.telemetry import Reading
from depotctl.domain.topology import NodeKind, SiteLoadSpec, StorageSpec, TopologyNode
from depotctl.engine.allocation import Allocation, LimitKind, LimitSource, NodeConstraint
from depotctl.engine.asset_draw import storage_draw
from depotctl.engine.capacity import _site_load_draw
from depotctl.engine.limit_words import KIND_ORDER, amount, kind_text, unit_of

#: Reserved may exceed a limit by this share of it (at least by this much in the
#: limit's base unit) before it counts: float noise is not an over-commitment.
OVERCOMMIT_TOLERANCE = 1e-6

_KIND_ORDER = {kind: n for n, kind in enumerate(AlertKind)}


def alert_conditions(snapshot: Snapshot, allocation: Allocation) -> list[AlertCondition]:
    """Every condition that holds at ``snapshot.at``, by kind then subject."""
    found = [
        *uncontrollable_chargers(snapshot, allocation),
        *stale_meters(snapshot),
        *offline_sources(snapshot),
        *overcommitted_nodes(snapshot, allocation),
    ]
    return sorted(found, key=lambda c: (_KIND_ORDER[c.kind], c.subject))


# Chargers


def uncontrollable_chargers(snapshot: Snapshot, allocation: Allocation) -> list[AlertCondition]:
    """A condition per charger of the site that cannot be commanded, with the draw the
    allocation assumes for each of its EVSEs."""
    out = []
    for charger_id, state in snapshot.chargers.items():
        if state.is_controllable:
            continue
        evses = snapshot.topology.chargers_evses(charger_id)
        if not evses:  # a charger the site in force no longer has
            continue
        assumed = {e.id: allocation.evses[e.id].limit_a for e in evses}
        out.append(
            AlertCondition(
                AlertKind.CHARGER_UNCONTROLLABLE,
                Subject(SubjectKind.CHARGER, charger_id),
                _uncontrollable_reason(state),
                {
                    "charger": charger_id,
                    "online": state.online,
                    "last_outcome": state.last_outcome.value if state.last_outcome else None,
                    "last_command_at": _when(state.last_command_at),
                    "charger_reason": state.reason,
                    "assumed_a": assumed,
                },
            )
        )
    return out


def _uncontrollable_reason(state: ChargerState) -> str:
    said = state.reason
    if not state.online:
        cause = "offline"
    elif state.last_outcome is CommandOutcome.TIMEOUT:
        return said or "its last command was not answered"
    elif state.last_outcome is CommandOutcome.REJECTED:
        cause = "its last command was rejected"
    elif state.last_outcome is CommandOutcome.OFFLINE:
        cause = "offline when last commanded"
    else:  # online, last command fine: it never accepted its fallback profile
        cause = "its fallback profile was not accepted"
    if said and said.startswith(f"{cause}: "):
        return said  # it says so itself ("offline: connection closed (1006)")
    return f"{cause}: {said}" if said and said not in cause else cause


# Meters


def stale_meters(snapshot: Snapshot) -> list[AlertCondition]:
    """A condition per telemetry point whose site loads count at the stale-data
    fallback, exactly when the engine counts them so."""
    by_point: dict[Subject, list[SiteLoadSpec | StorageSpec]] = {}
    for load in snapshot.topology.site_loads.values():
        _, _, is_stale = _site_load_draw(snapshot, load)
        if is_stale:
            by_point.setdefault(_point(snapshot, load), []).append(load)
    for battery in snapshot.topology.storage.values():  # counted as charging at its maximum
        if storage_draw(snapshot, battery)[2]:
            by_point.setdefault(_point(snapshot, battery), []).append(battery)
    out = []
    for subject, loads in by_point.items():
        reading = snapshot.telemetry.get(subject.id)
        names = ", ".join(load.id for load in loads)
        noun = _noun(loads)
        out.append(
            AlertCondition(
                AlertKind.METER_STALE,
                subject,
                f"{_staleness(snapshot, reading)}; {noun} {names} "
                f"{'counts' if len(loads) == 1 else 'count'} at the stale-data fallback",
                {
                    "point": subject.id,
                    "loads": [load.id for load in loads],
                    "last_reading_at": _when(reading.at) if reading else None,
                    "stale_after_s": snapshot.policy.stale_after_s,
                    "policy": snapshot.policy.stale_site_load.value,
                },
            )
        )
    return out


def _noun(loads: list[SiteLoadSpec | StorageSpec]) -> str:
    """``site load``, ``batteries``: what a stale point's loads are."""
    one = len(loads) == 1
    if all(isinstance(load, StorageSpec) for load in loads):
        return "battery" if one else "batteries"
    return "site load" if one else "site loads"


def _point(snapshot: Snapshot, load: SiteLoadSpec | StorageSpec) -> Subject:
    """Where the engine reads the load from: its own id, else its meter."""
    if load.id in snapshot.telemetry or not load.meter:
        return Subject(SubjectKind.NODE, load.id)
    return Subject(SubjectKind.METER, load.meter)


def _staleness(snapshot: Snapshot, reading: Reading | None) -> str:
    if reading is None:
        return "no reading yet"
    limit = snapshot.policy.stale_after_s
    age = reading.age_s(snapshot.at)
    if age < -limit:
        return f"its reading is stamped {_when(reading.at)}, ahead of the controller"
    if age > limit:
        return f"last reading {_when(reading.at)} (stale after {limit:g} s)"
    return "its reading measures neither power nor the current on every line"


# Envelope sources


def offline_sources(snapshot: Snapshot) -> list[AlertCondition]:
    """A condition per declared envelope source that is offline, naming the fallback
    in force on its targets."""
    offline = [
        spec
        for spec in snapshot.topology.sources.values()
        if spec.id != LOCAL_SOURCE
        and not (
            (health := snapshot.sources.get(spec.id)) is not None and health.is_online(snapshot.at)
        )
    ]
    if not offline:
        return []
    in_force = applicable_limits(
        snapshot.envelopes, snapshot.sources, snapshot.topology.sources, snapshot.at
    )
    out = []
    for spec in offline:
        health = snapshot.sources.get(spec.id)
        heard = health.last_heard if health is not None else None
        fallbacks = [limit for limit in in_force if limit.origin.source == spec.id]
        silence = (
            "never heard from"
            if heard is None
            else f"last heard {_when(heard)}"
            + (f" (offline after {spec.offline_after_s:g} s)" if spec.offline_after_s else "")
        )
        out.append(
            AlertCondition(
                AlertKind.SOURCE_OFFLINE,
                Subject(SubjectKind.SOURCE, spec.id),
                silence + "; " + _fallbacks_text(fallbacks, spec.targets),
                {
                    "source": spec.id,
                    "last_heard": _when(heard),
                    "offline_after_s": spec.offline_after_s,
                    "targets": list(spec.targets),
                    "fallback": [_fallback_json(limit) for limit in fallbacks],
                },
            )
        )
    return out


def _fallbacks_text(limits: Iterable[AppliedLimit], targets: Iterable[str]) -> str:
    words = [
        f"{limit.target} {limit.direction.value} ≤ {_limit_text(limit)} "
        + (f"(envelope {limit.origin.envelope_id})" if limit.origin.envelope_id else "(site)")
        for limit in limits
    ]
    if not words:
        return "no fallback in force on " + (", ".join(targets) or "any node")
    return "fallback in force: " + "; ".join(words)


def _limit_text(limit: AppliedLimit) -> str:
    if limit.unit is LimitUnit.W:
        return f"{limit.limit / 1000:g} kW"
    return f"{limit.limit:g} A"


def _fallback_json(limit: AppliedLimit) -> dict[str, Any]:
    return {
        "target": limit.target,
        "direction": limit.direction.value,
        "limit": limit.limit,
        "unit": limit.unit.value,
        "envelope": limit.origin.envelope_id,
    }


# Nodes


def overcommitted_nodes(snapshot: Snapshot, allocation: Allocation) -> list[AlertCondition]:
    """A condition per node with a limit whose reserved draws alone exceed it; the
    reason names the worst such limit, ``data`` lists them all."""
    over: dict[str, list[NodeConstraint]] = {}
    for key in _overcommitted_keys(allocation):
        over.setdefault(key[0], []).append(allocation.constraints[key])
    out = []
    for node_id, limits in over.items():
        node = snapshot.topology.nodes.get(node_id)
        limits.sort(key=lambda c: KIND_ORDER[c.kind])
        worst = max(limits, key=_excess_share)
        reason = _overcommit_text(worst, node)
        if len(limits) > 1:
            reason += f"; {len(limits) - 1} more of its limits too"
        out.append(
            AlertCondition(
                AlertKind.NODE_OVERCOMMITTED,
                Subject(SubjectKind.NODE, node_id),
                reason,
                {
                    "node": node_id,
                    "limits": [_constraint_json(c, node) for c in limits],
                },
            )
        )
    return out


def _overcommitted_keys(allocation: Allocation) -> list[tuple[str, LimitKind]]:
    """The (node, limit kind) of every over-committed limit: read off the cycle's
    arrays, so that only those few become :class:`NodeConstraint` views (a site has
    thousands of limits, and this runs every cycle)."""
    decision = allocation._decision
    if decision is None:  # an allocation made without the allocator
        return [key for key, c in allocation.constraints.items() if is_overcommitted(c)]
    effective, reserved = decision.capacity.effective, decision.capacity.reserved
    finite = np.isfinite(effective)
    allowance = OVERCOMMIT_TOLERANCE * np.maximum(1.0, np.abs(np.where(finite, effective, 0.0)))
    over = np.flatnonzero(finite & (reserved - np.where(finite, effective, 0.0) > allowance))
    keys = decision.structure.keys
    return [keys[con] for con in over.tolist()]


def is_overcommitted(constraint: NodeConstraint) -> bool:
    """Reserved beyond the effective limit, past float noise."""
    limit = constraint.effective_limit
    return constraint.reserved - limit > OVERCOMMIT_TOLERANCE * max(1.0, abs(limit))


def _excess_share(constraint: NodeConstraint) -> float:
    excess = constraint.reserved - constraint.effective_limit
    return excess / constraint.effective_limit if constraint.effective_limit > 0 else float("inf")


def _overcommit_text(constraint: NodeConstraint, node: TopologyNode | None) -> str:
    unit = unit_of(constraint.kind)
    reserved = amount(constraint.kind, constraint.reserved)
    limit = amount(constraint.kind, constraint.effective_limit)
    return (
        f"{kind_text(constraint.kind)}: assumed draws {reserved:.1f} {unit} over the "
        f"{limit:.1f} {unit} limit from {_source_words(constraint.source, node)}"
    )


def _source_words(source: LimitSource, node: TopologyNode | None) -> str:
    if source.kind == "static":
        return "its rating" if node is not None and node.kind is NodeKind.CHARGER else "the site"
    if source.kind == "envelope":
        return f"envelope {source.ref}" + ("" if source.fresh else " (its source offline)")
    return f"the site's fallback for offline source {source.ref}"


def _constraint_json(constraint: NodeConstraint, node: TopologyNode | None) -> dict[str, Any]:
    return {
        "kind": constraint.kind.value,
        "unit": unit_of(constraint.kind),
        "effective_limit": round(amount(constraint.kind, constraint.effective_limit), 3),
        "reserved": round(amount(constraint.kind, constraint.reserved), 3),
        "source": {
            "kind": constraint.source.kind,
            "ref": constraint.source.ref,
            "fresh": constraint.source.fresh,
            "text": _source_words(constraint.source, node),
        },
    }


# Envelopes


@dataclass(frozen=True, slots=True)
class EnvelopeBreach:
    """An envelope the depot cannot keep to: on its node, the draws the controller
    cannot command (``reserved``: non-EV load, the assumed draws of uncontrollable
    chargers, EVSEs whose commands are unanswered) alone exceed the envelope's own
    ``limit`` on ``kind`` — not the limit less the safety margin, the controller's own
    caution. Amounts in the limit's unit (W, or A per phase)."""

    envelope: Envelope
    kind: LimitKind
    reserved: float
    limit: float


def envelope_breaches(snapshot: Snapshot, allocation: Allocation) -> list[EnvelopeBreach]:
    """The envelopes of declared sources in force on a node whose reserved draws alone
    exceed them, by node then limit kind. An envelope applied ahead of its start (the
    lead) is not judged yet: the decreases it needs are on their way, counted at the
    limits they replace until answered."""
    by_id = {
        e.id: e for e in snapshot.envelopes if e.source != LOCAL_SOURCE and e.start <= snapshot.at
    }
    breaches = []
    for node in sorted({e.target for e in by_id.values()}):
        for kind in LimitKind:
            constraint = allocation.constraints.get((node, kind))
            if constraint is None or constraint.source.kind != "envelope":
                continue
            envelope = by_id.get(constraint.source.ref or "")
            if envelope is None:
                continue
            power = kind is LimitKind.IMPORT_POWER
            same_unit = (envelope.unit is LimitUnit.W) == power
            limit = envelope.limit if same_unit else constraint.effective_limit
            if constraint.reserved - limit > OVERCOMMIT_TOLERANCE * max(1.0, abs(limit)):
                breaches.append(EnvelopeBreach(envelope, kind, constraint.reserved, limit))
    return breaches


def _when(instant: datetime | None) -> str | None:
    """``2026-03-02T18:02:05Z``: a time in a reason or in ``data``."""
    if instant is None:
        return None
    return instant.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
