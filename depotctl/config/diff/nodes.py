"""The electrical tree: nodes added, removed, moved or retyped, and each node's fields.

A limit change says how many chargers sit below the node in the new site, since
those are the chargers it may hold back.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from depotctl.config.diff.change import (
    Action,
    Change,
    Kind,
    Section,
    Subject,
    chargers_phrase,
    compare,
    keyed,
    present,
    shown,
    value_at,
)
from depotctl.config.diff.chargers import charger_changes, charger_summary
from depotctl.config.schema import Charger, Node

#: Node types that never have children: a limit on them holds back no charger but their own.
LEAF_TYPES = frozenset({"charger", "site_load", "storage", "generation"})


@dataclass(frozen=True, slots=True)
class NodeField:
    """A field of a node as written in YAML (``limits.current``), how to name it, and
    whether it bounds power or current (``Kind.LIMIT``)."""

    key: str
    label: str
    kind: Kind = Kind.NODE


def _as_written(*keys: str) -> tuple[NodeField, ...]:
    """Fields named as they are written, an underscore a space (``envelope source``)."""
    return tuple(NodeField(key, key.replace("_", " ")) for key in keys)


_ELECTRICAL = (
    NodeField("limits.import", "import limit", Kind.LIMIT),
    NodeField("limits.export", "export limit", Kind.LIMIT),
    NodeField("limits.current", "current limit", Kind.LIMIT),
    *_as_written("phases", "voltage", "envelope_source", "meter"),
)
_RATED = (
    NodeField("rating.power", "rated power", Kind.LIMIT),
    NodeField("rating.current", "rated current", Kind.LIMIT),
)
_PHASING = _as_written("phases", "phase_rotation")
_QUIRKS = ("tx_profile_unsupported", "meter_values_out_of_schema", "rate_unit")
_FORECAST = (
    NodeField("forecast.profile", "forecast profile"),
    NodeField("forecast.profile.weekdays", "weekday forecast profile"),
    NodeField("forecast.profile.weekends", "weekend forecast profile"),
    NodeField("forecast.series", "forecast series"),
)

#: The fields compared for each node type, besides id, type and parent.
FIELDS: dict[str, tuple[NodeField, ...]] = {
    "grid_connection": _ELECTRICAL,
    "circuit": _ELECTRICAL,
    "charger_group": _ELECTRICAL,
    "transformer": (
        NodeField("rating", "rating", Kind.LIMIT),
        NodeField("primary", "primary voltage"),
        NodeField("secondary", "secondary voltage"),
        *_ELECTRICAL,
    ),
    "charger": (
        *_RATED,
        NodeField("fallback", "fallback", Kind.LIMIT),
        NodeField("min_current", "minimum current", Kind.LIMIT),
        *_PHASING,
        *_as_written("voltage", "supply"),
        NodeField("ocpp.id", "OCPP identity"),
        NodeField("ocpp.protocol", "OCPP protocol"),
        *(NodeField(f"quirks.{q}", f"quirk {q}") for q in _QUIRKS),
    ),
    "site_load": (
        NodeField("fallback", "fallback", Kind.LIMIT),
        *_as_written("meter"),
        *_PHASING,
        *_FORECAST,
    ),
    "storage": (
        NodeField("capacity", "capacity", Kind.LIMIT),
        *_RATED,
        NodeField("max_charge", "maximum charging power", Kind.LIMIT),
        NodeField("max_discharge", "maximum discharging power", Kind.LIMIT),
        NodeField("efficiency.charge", "charge efficiency"),
        NodeField("efficiency.discharge", "discharge efficiency"),
        NodeField("soc.min", "minimum state of charge"),
        NodeField("soc.max", "maximum state of charge"),
        NodeField("adapter.type", "adapter"),
        NodeField("adapter.initial_soc", "initial state of charge"),
        *_as_written("meter"),
        *_PHASING,
    ),
    "generation": (
        NodeField("kind", "generation kind"),
        NodeField("rating", "rating", Kind.LIMIT),
        *_as_written("meter"),
        *_PHASING,
        *_FORECAST,
    ),
}
_COMMON = _as_written("description", "labels")


class Tree:
    """The nodes of one site by id, and what hangs below each."""

    def __init__(self, nodes: Sequence[Node]) -> None:
        self.nodes = keyed(nodes, lambda node: node.id)
        self.children: dict[str, list[Node]] = {}
        for node in nodes:
            if node.parent is not None:
                self.children.setdefault(node.parent, []).append(node)

    def chargers_below(self, node_id: str) -> int:
        """Chargers anywhere below ``node_id`` (cycle-safe)."""
        count, seen, stack = 0, {node_id}, list(self.children.get(node_id, ()))
        while stack:
            node = stack.pop()
            if node.id in seen:
                continue
            seen.add(node.id)
            count += isinstance(node, Charger)
            stack.extend(self.children.get(node.id, ()))
        return count


def node_name(node: Node) -> str:
    """``circuit db-1``, ``grid connection gc-main``."""
    return f"{node.type.replace('_', ' ')} {node.id}"


def node_path(node_id: str) -> str:
    return f"spec.nodes[{node_id}]"


def tree_changes(old_nodes: Sequence[Node], new_nodes: Sequence[Node]) -> list[Change]:
    """Every change to the electrical tree, in the new file's order, removals last."""
    old, new = Tree(old_nodes), Tree(new_nodes)
    changes: list[Change] = []
    for node_id, node in new.nodes.items():
        before = old.nodes.get(node_id)
        if before is None:
            changes.append(_added(node, new))
        else:
            changes += _changed(before, node, new)
    changes += [_removed(node) for node_id, node in old.nodes.items() if node_id not in new.nodes]
    return changes


def _added(node: Node, tree: Tree) -> Change:
    where = f" under {node.parent}" if node.parent else ""
    details = _summary(node)
    below = None if node.type in LEAF_TYPES else tree.chargers_below(node.id)
    if below:
        details.append(f"{chargers_phrase(below)} below it")
    message = f"{node_name(node)} added{where}" + (f" ({', '.join(details)})" if details else "")
    return Change(
        Action.ADD,
        Kind.NODE,
        Section.TOPOLOGY,
        node_path(node.id),
        message,
        id=node.id,
        new=node.type,
        affected_chargers=below,
    )


def _removed(node: Node) -> Change:
    where = f" (was under {node.parent})" if node.parent else ""
    return Change(
        Action.REMOVE,
        Kind.NODE,
        Section.TOPOLOGY,
        node_path(node.id),
        f"{node_name(node)} removed{where}",
        id=node.id,
        old=node.type,
    )


def _summary(node: Node) -> list[str]:
    """What an added node brings: its limits and ratings, and a charger's EVSEs."""
    if isinstance(node, Charger):
        return charger_summary(node)
    return [
        f"{field.label} {shown(value)}"
        for field in FIELDS[node.type]
        if field.kind is Kind.LIMIT and (value := value_at(node, field.key)) is not None
    ]


def _changed(old: Node, new: Node, tree: Tree) -> list[Change]:
    changes = present([_retyped(old, new), _moved(old, new, tree)])
    changes += present(_field_changes(old, new, tree))
    if isinstance(old, Charger) and isinstance(new, Charger):
        changes += charger_changes(old, new)
    return changes


def _retyped(old: Node, new: Node) -> Change | None:
    subject = Subject(f"node {new.id}", Kind.NODE, Section.TOPOLOGY, node_path(new.id), new.id)
    return compare(subject, "type", "type", old.type.replace("_", " "), new.type.replace("_", " "))


def _moved(old: Node, new: Node, tree: Tree) -> Change | None:
    if old.parent == new.parent:
        return None
    below = None if new.type in LEAF_TYPES else tree.chargers_below(new.id)
    message = f"{node_name(new)} moved from {old.parent or '(top)'} to {new.parent or '(top)'}"
    if below:
        message += f", {chargers_phrase(below)} with it"
    return Change(
        Action.MOVE,
        Kind.NODE,
        Section.TOPOLOGY,
        f"{node_path(new.id)}.parent",
        message,
        id=new.id,
        field="parent",
        old=old.parent,
        new=new.parent,
        affected_chargers=below,
    )


def _field_changes(old: Node, new: Node, tree: Tree) -> Iterator[Change | None]:
    is_charger = isinstance(new, Charger)
    below = None if new.type in LEAF_TYPES else tree.chargers_below(new.id)
    fields = {f.key: f for f in (*FIELDS[old.type], *FIELDS[new.type], *_COMMON)}
    for field in fields.values():
        is_limit = field.kind is Kind.LIMIT
        if is_charger:
            section = Section.CHARGERS
        else:
            section = Section.LIMITS if is_limit else Section.TOPOLOGY
        subject = Subject(node_name(new), field.kind, section, node_path(new.id), new.id)
        yield compare(
            subject,
            field.key,
            field.label,
            value_at(old, field.key),
            value_at(new, field.key),
            affected_chargers=below if is_limit else None,
        )
