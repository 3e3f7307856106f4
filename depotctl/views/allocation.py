"""An allocation as data: the versioned JSON of ``allocate`` and ``explain`` (documented
in ``docs/snapshot.md``, served by the API too), and the views the text renderer shares
with it — nodes in tree order, each node's limits with the binding one first, sources in
words (the limit kinds' words are the engine's, :mod:`depotctl.engine.limit_words`).

Units: currents in A (per line), powers in kW. Numbers are rounded to 3 decimals.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

import numpy as np

from depotctl.domain.overrides import EvseOverride
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.topology import NodeKind, TopologyNode
from depotctl.engine.allocation import (
    Allocation,
    Binding,
    EvseAllocation,
    LimitKind,
    LimitSource,
    NodeConstraint,
    utc_text,
)
from depotctl.engine.explain import Candidate, Decision
from depotctl.engine.limit_words import KIND_ORDER, amount, unit_of
from depotctl.engine.priority import Priority
from depotctl.engine.structure import POWER

VERSION = 1

#: A limit counts as reached when less than this share of it is left.
AT_LIMIT_SHARE = 0.01


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an allocation's input came from: the site file (as given) and its
    revision, and the snapshot file."""

    site_file: str | None = None
    revision: str | None = None
    snapshot_file: str | None = None


@dataclass(frozen=True, slots=True)
class NodeView:
    """A node in tree order, its depth, and its limits (import power, then L1-L3)."""

    node: TopologyNode
    depth: int
    limits: tuple[NodeConstraint, ...]

    @property
    def binding(self) -> NodeConstraint | None:
        """The limit with the least headroom relative to its value (on a tie, the
        first in display order)."""
        return min(self.limits, key=_tightness) if self.limits else None


def nodes_in_tree_order(snapshot: Snapshot, allocation: Allocation) -> list[NodeView]:
    """Every node that can carry a limit, parents before children, siblings in the
    site's order."""
    topology = snapshot.topology
    by_node: dict[str, list[NodeConstraint]] = {}
    for (node_id, _), constraint in allocation.constraints.items():
        by_node.setdefault(node_id, []).append(constraint)
    children: dict[str | None, list[TopologyNode]] = {}
    for node in topology.nodes.values():
        parent = node.parent if node.parent in topology.nodes else None
        children.setdefault(parent, []).append(node)
    views: list[NodeView] = []
    stack: list[tuple[TopologyNode, int]] = [(n, 0) for n in reversed(children.get(None, []))]
    while stack:
        node, depth = stack.pop()
        limits = sorted(by_node.get(node.id, []), key=lambda c: KIND_ORDER[c.kind])
        views.append(NodeView(node, depth, tuple(limits)))
        stack.extend((child, depth + 1) for child in reversed(children.get(node.id, [])))
    return views


def _tightness(constraint: NodeConstraint) -> tuple[float, int]:
    limit = constraint.effective_limit
    share = constraint.headroom / limit if limit > 0 else (0.0 if constraint.headroom >= 0 else -1)
    return share, KIND_ORDER[constraint.kind]


def at_limit(constraint: NodeConstraint) -> bool:
    """Reached: less than 1 % of the limit is left (rounding leaves a little)."""
    return constraint.headroom <= AT_LIMIT_SHARE * constraint.effective_limit + 1e-9


def over_limit(constraint: NodeConstraint) -> bool:
    """Exceeded — only ever by what cannot be controlled (site load, uncontrollable
    chargers), since the allocator never allocates past a limit."""
    return constraint.headroom < -1e-6 * max(1.0, constraint.effective_limit)


def source_text(source: LimitSource, node: TopologyNode | None = None) -> str:
    """``static``, ``rating`` (a charger's own), ``envelope E-17 (fresh)``,
    ``envelope E-17 (source offline)``, ``site fallback (ausgrid-oscp offline)``."""
    if source.kind == "static":
        return "rating" if node is not None and node.kind is NodeKind.CHARGER else "static"
    if source.kind == "envelope":
        ahead = "" if source.starts is None else f", from {utc_text(source.starts)}"
        return f"envelope {source.ref} ({'fresh' if source.fresh else 'source offline'}{ahead})"
    return f"site fallback ({source.ref} offline)"


def local_time(snapshot: Snapshot) -> datetime:
    """The snapshot's time in the site's time zone."""
    try:
        return snapshot.at.astimezone(ZoneInfo(snapshot.topology.timezone))
    except (KeyError, ValueError):
        return snapshot.at


def candidates_from_evse_up(
    snapshot: Snapshot, allocation: Allocation, evse_id: str
) -> list[Candidate]:
    """The EVSE's candidate limits: its own caps first, then each node from its charger
    up to the grid connection."""
    evse = snapshot.topology.evses[evse_id]
    order = {node_id: i for i, node_id in enumerate(evse.path)}
    chain = allocation.candidates(evse_id)
    return sorted(chain, key=lambda c: -1 if c.ref == evse_id else order.get(c.ref or "", 0))


# JSON


def _number(value: float | None) -> float | None:
    if value is None or not math.isfinite(value):
        return None
    return round(value, 3) + 0.0  # no "-0.0"


def _source_json(source: LimitSource, node: TopologyNode) -> dict[str, Any]:
    return {
        "kind": source.kind,
        "ref": source.ref,
        "fresh": source.fresh,
        "text": source_text(source, node),
    }


def _limit_json(
    constraint: NodeConstraint,
    node: TopologyNode,
    figures: tuple[float | None, ...] | None = None,
) -> dict[str, Any]:
    kind = constraint.kind
    if figures is None:
        figures = tuple(
            _number(amount(kind, value))
            for value in (
                constraint.effective_limit,
                constraint.reserved,
                constraint.allocated,
                constraint.headroom,
            )
        )
    effective, reserved, allocated, headroom = figures
    return {
        "kind": kind.value,
        "unit": unit_of(kind),
        "effective_limit": effective,
        "source": _source_json(constraint.source, node),
        "reserved": reserved,
        "allocated": allocated,
        "headroom": headroom,
        "at_limit": at_limit(constraint),
    }


def _node_json(
    view: NodeView,
    figures: dict[tuple[str, LimitKind], tuple[float | None, ...]] | None = None,
) -> dict[str, Any]:
    node = view.node
    limits = [
        _limit_json(c, node, figures.get((c.node_id, c.kind)) if figures else None)
        for c in view.limits
    ]
    top: dict[str, Any] = dict.fromkeys(
        ("kind", "unit", "effective_limit", "source", "reserved", "allocated", "headroom")
    )
    top["at_limit"] = False
    binding = view.binding
    if binding is not None:  # one of its limits: written once
        top = limits[view.limits.index(binding)]
    return {
        "id": node.id,
        "type": node.kind.value,
        "parent": node.parent,
        **top,
        "limits": limits,
    }


def candidate_json(candidate: Candidate) -> dict[str, Any]:
    return {
        "what": candidate.what,
        "ref": candidate.ref,
        "limit": candidate.limit,
        "source": candidate.source,
        "slack_a": _number(candidate.slack_a),
        "binding": candidate.binding,
    }


def binding_json(binding: Binding) -> dict[str, Any]:
    """A binding constraint as every JSON output shows it: ``kind``, ``ref``, ``detail``."""
    return {"kind": binding.kind.value, "ref": binding.ref, "detail": binding.detail}


def evse_json(
    snapshot: Snapshot,
    allocation: Allocation,
    evse: EvseAllocation,
    *,
    candidates: bool,
    vehicles: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """One EVSE's allocation; ``vehicle`` only when its session's vehicle is known
    (``vehicles``: session id → vehicle id, else read from the snapshot's sessions)."""
    spec = snapshot.topology.evses[evse.evse_id]
    out: dict[str, Any] = {
        "id": evse.evse_id,
        "charger": spec.charger_id,
        "parent": spec.path[1] if len(spec.path) > 1 else None,
        "limit_a": _number(evse.limit_a),
        "limit_kw": _number(evse.limit_w / 1000.0),
        "state": evse.state.value,
        "binding": binding_json(evse.binding),
        "session_id": evse.session_id,
        "tier": evse.tier,
    }
    if evse.session_id is not None:
        vehicle = (vehicles if vehicles is not None else vehicles_of(snapshot)).get(evse.session_id)
        if vehicle is not None:
            out["vehicle"] = vehicle
    override = snapshot.overrides.get(evse.evse_id)
    if override is not None:
        out["override"] = override_json(snapshot, override)
    if candidates:
        out["candidates"] = [
            candidate_json(c) for c in candidates_from_evse_up(snapshot, allocation, evse.evse_id)
        ]
    return out


def vehicles_of(snapshot: Snapshot) -> dict[str, str]:
    """The vehicle of each session the snapshot knows one of, by session id."""
    return {s.id: s.vehicle_id for s in snapshot.sessions if s.vehicle_id is not None}


def override_json(snapshot: Snapshot, override: EvseOverride) -> dict[str, Any]:
    """An operator's override as the JSON shows it on its EVSE: ``paused``, ``cap_a``
    (null when only paused), ``set_at`` (site time), ``author`` and ``reason``."""
    try:
        set_at = override.set_at.astimezone(ZoneInfo(snapshot.topology.timezone))
    except (KeyError, ValueError):
        set_at = override.set_at
    return {
        "paused": override.paused,
        "cap_a": _number(override.cap_a),
        "set_at": set_at.isoformat(),
        "author": override.author,
        "reason": override.reason,
    }


def _header(snapshot: Snapshot, origin: Origin) -> dict[str, Any]:
    return {
        "version": VERSION,
        "at": local_time(snapshot).isoformat(),
        "site": {
            "name": snapshot.topology.site,
            "file": origin.site_file,
            "revision": origin.revision,
        },
        "snapshot": origin.snapshot_file,
    }


def allocation_json(
    snapshot: Snapshot, allocation: Allocation, origin: Origin, *, candidates: bool = False
) -> dict[str, Any]:
    """``allocate --format json``: every EVSE (by id) and every node (in tree order)."""
    vehicles = vehicles_of(snapshot)
    return {
        **_header(snapshot, origin),
        "evses": [
            evse_json(
                snapshot,
                allocation,
                allocation.evses[evse_id],
                candidates=candidates,
                vehicles=vehicles,
            )
            for evse_id in sorted(allocation.evses)
        ],
        "nodes": _nodes_json(snapshot, allocation),
    }


def _nodes_json(snapshot: Snapshot, allocation: Allocation) -> list[dict[str, Any]]:
    """Every node in tree order; with the allocation's own decision at hand, its figures
    are rounded all at once (the same JSON: a few thousand limits at 300 chargers)."""
    views = nodes_in_tree_order(snapshot, allocation)
    decision = allocation._decision
    if decision is None:
        return [_node_json(view) for view in views]
    figures = _figures(decision)
    return [_node_json(view, figures) for view in views]


def _figures(decision: Decision) -> dict[tuple[str, LimitKind], tuple[float | None, ...]]:
    """(node, kind) → effective limit, reserved, allocated and headroom, in the limit's
    display unit, rounded to a thousandth (None where not finite)."""
    capacity = decision.capacity
    cons = np.fromiter(decision.finite_constraints.values(), dtype=np.intp)
    if not cons.size:
        return {}
    effective = capacity.effective[cons]
    reserved = capacity.reserved[cons]
    allocated = decision.used[cons]
    table = np.stack([effective, reserved, allocated, effective - reserved - allocated])
    power = decision.structure.con_line[cons] % 4 == POWER
    table = np.where(power, table / 1000.0, table)
    rounded = np.round(table, 3) + 0.0  # no "-0.0"
    finite = np.isfinite(rounded)
    rows = [
        tuple(v if ok else None for v, ok in zip(column, oks, strict=True))
        for column, oks in zip(rounded.T.tolist(), finite.T.tolist(), strict=True)
    ]
    return dict(zip(decision.finite_constraints, rows, strict=True))


def explain_json(
    snapshot: Snapshot, allocation: Allocation, evse_id: str, origin: Origin
) -> dict[str, Any]:
    """``explain --format json``: one EVSE, always with its candidates, and with the
    nodes of its path and its priority (what ``explain``'s text shows, live or not)."""
    evse = evse_json(snapshot, allocation, allocation.evses[evse_id], candidates=True)
    evse["path"] = path_json(snapshot, evse_id)
    evse["priority"] = priority_json(allocation.priority(evse_id))
    return {**_header(snapshot, origin), "evse": evse}


def path_json(snapshot: Snapshot, evse_id: str) -> list[dict[str, Any]]:
    """The nodes from the EVSE's charger up to its grid connection: ``id``, ``type``,
    ``phases``."""
    nodes = snapshot.topology.nodes
    return [
        {"id": node.id, "type": node.kind.value, "phases": node.phases}
        for node in (nodes[node_id] for node_id in snapshot.topology.evses[evse_id].path)
    ]


def priority_json(priority: Priority | None) -> dict[str, Any] | None:
    """What decided between tiers: ``class``, ``urgent``, ``laxity_s`` (null when it
    cannot charge at all), ``urgency_threshold_s`` and ``text``; null without a
    session asking for power."""
    if priority is None:
        return None
    return {
        "class": priority.priority_class,
        "urgent": priority.urgent,
        "laxity_s": _number(priority.laxity_s),
        "urgency_threshold_s": _number(priority.threshold_s),
        "text": str(priority),
    }


def evse_ids_under(snapshot: Snapshot) -> dict[str, list[str]]:
    """EVSE ids by the node their charger hangs from, each list sorted."""
    under: dict[str, list[str]] = {}
    for evse in snapshot.topology.evses.values():
        parent = evse.path[1] if len(evse.path) > 1 else evse.charger_id
        under.setdefault(parent, []).append(evse.id)
    return {node: sorted(ids) for node, ids in under.items()}
