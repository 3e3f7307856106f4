"""An allocation as text for people: ``allocate``'s tables grouped by node (``explain``'s
text, from its JSON, is :mod:`depotctl.cli.render_explain`). Plain aligned columns; on
a colour terminal, limits that are reached stand out."""

from __future__ import annotations

from dataclasses import dataclass

from depotctl.cli.columns import Paint, table
from depotctl.client.terminal_text import escaped
from depotctl.domain.instants import format_instant
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.topology import NodeKind
from depotctl.engine.allocation import (
    Allocation,
    Binding,
    EvseState,
    NodeConstraint,
)
from depotctl.engine.limit_words import KIND_ORDER, amount, unit_of
from depotctl.views import (
    NodeView,
    Origin,
    at_limit,
    evse_ids_under,
    local_time,
    nodes_in_tree_order,
    over_limit,
    source_text,
)


def _amount(value: float, unit: str) -> str:
    return f"{value:,.1f} {unit}"


def _limit_amount(constraint: NodeConstraint) -> str:
    kind = constraint.kind
    return _amount(amount(kind, constraint.effective_limit), unit_of(kind))


def binding_text(evse_id: str, binding: Binding) -> str:
    """A binding constraint in a few words: ``envelope E-17``, ``node limit av-pod``."""
    words = binding.kind.value.replace("_", " ")
    if binding.ref is None or binding.ref == evse_id:
        return words
    return f"{words} {binding.ref}"


# allocate


@dataclass(frozen=True, slots=True)
class _LimitRow:
    label: str
    constraint: NodeConstraint


def _limit_rows(view: NodeView) -> list[_LimitRow]:
    """The node's limits, power first, with identical phases shown once (L1-L3)."""
    ordered = sorted(view.limits, key=lambda c: KIND_ORDER[c.kind])
    rows: list[_LimitRow] = []
    group: list[NodeConstraint] = []

    def flush() -> None:
        if not group:
            return
        first, last = group[0].kind.value[-2:], group[-1].kind.value[-2:]
        label = "current " + (first if first == last else f"{first}-{last}")
        if view.node.phases == 1:
            label = "current"
        rows.append(_LimitRow(label, group[0]))
        group.clear()

    for constraint in ordered:
        if constraint.kind.value == "import_power":
            rows.append(_LimitRow("import power", constraint))
            continue
        if group and _signature(group[-1]) != _signature(constraint):
            flush()
        group.append(constraint)
    flush()
    return rows


def _signature(c: NodeConstraint) -> tuple[object, ...]:
    return (round(c.effective_limit, 1), round(c.reserved, 1), round(c.allocated, 1), c.source)


def _state(state: EvseState, paint: Paint) -> str:
    styles = {
        EvseState.CHARGING: ("green",),
        EvseState.PAUSED: ("yellow",),
        EvseState.UNCONTROLLABLE: ("red", "bold"),
        EvseState.IDLE: ("dim",),
    }
    return paint(state.value, *styles[state])


def _mark(constraint: NodeConstraint, paint: Paint) -> str:
    if over_limit(constraint):
        return paint("over limit", "red", "bold")
    if at_limit(constraint):
        return paint("at limit", "yellow", "bold")
    return ""


def _node_block(
    view: NodeView, snapshot: Snapshot, allocation: Allocation, evses: list[str], paint: Paint
) -> list[str]:
    indent = "  " * view.depth
    node = view.node
    kind = node.kind.value.replace("_", " ")
    reached = any(at_limit(c) for c in view.limits)
    head = paint(node.id, "bold", "yellow") if reached else paint(node.id, "bold")
    lines = [f"{indent}{head} ({kind})" + ("" if view.limits else ": no limits of its own")]
    if view.limits:
        rows = [["LIMIT", "EFFECTIVE", "SOURCE", "RESERVED", "ALLOCATED", "HEADROOM", ""]]
        for row in _limit_rows(view):
            c = row.constraint
            unit = unit_of(c.kind)
            rows.append(
                [
                    row.label,
                    _amount(amount(c.kind, c.effective_limit), unit),
                    escaped(source_text(c.source, node)),
                    _amount(amount(c.kind, c.reserved), unit),
                    _amount(amount(c.kind, c.allocated), unit),
                    _amount(amount(c.kind, c.headroom), unit),
                    _mark(c, paint),
                ]
            )
        rows[0] = [paint(cell, "dim") for cell in rows[0]]
        lines += table(rows, "lrlrrrl", indent + "  ")
    if evses:
        rows = [["EVSE", "STATE", "LIMIT", "POWER", "SESSION", "BINDING"]]
        for evse_id in evses:
            evse = allocation.evses[evse_id]
            rows.append(
                [
                    evse_id,
                    _state(evse.state, paint),
                    _amount(evse.limit_a, "A"),
                    _amount(evse.limit_w / 1000.0, "kW"),
                    escaped(evse.session_id or "-"),
                    escaped(binding_text(evse_id, evse.binding)),
                ]
            )
        rows[0] = [paint(cell, "dim") for cell in rows[0]]
        lines += table(rows, "llrrll", indent + "  ")
    return lines


def _heading(snapshot: Snapshot, origin: Origin, title: str) -> list[str]:
    at = local_time(snapshot)
    assert at.tzinfo is not None  # a snapshot's time is aware
    lines = [f"{title} at {format_instant(at, at.tzinfo)} for site {snapshot.topology.site}"]
    if origin.site_file:
        revision = f" ({origin.revision[:19]}…)" if origin.revision else ""
        lines.append(f"  site      {origin.site_file}{revision}")
    if origin.snapshot_file:
        lines.append(f"  snapshot  {origin.snapshot_file}")
    return lines


def allocation_text(
    snapshot: Snapshot, allocation: Allocation, origin: Origin, *, color: bool = False
) -> str:
    """``allocate``'s text: each node (chargers aside) with its limits and the EVSEs of
    the chargers under it, then a summary."""
    paint = Paint(color)
    out = _heading(snapshot, origin, "Allocation")
    under = evse_ids_under(snapshot)
    views = nodes_in_tree_order(snapshot, allocation)
    for view in views:
        if view.node.kind is NodeKind.CHARGER and view.node.id not in under:
            continue  # a charger's rating shows in its EVSEs' binding, not as a block
        out.append("")
        out += _node_block(view, snapshot, allocation, under.get(view.node.id, []), paint)
    out.append("")
    out += _summary(snapshot, allocation, views, paint)
    return "\n".join(out) + "\n"


def _summary(
    snapshot: Snapshot, allocation: Allocation, views: list[NodeView], paint: Paint
) -> list[str]:
    evses = [allocation.evses[e] for e in sorted(allocation.evses)]
    count = {state: sum(1 for e in evses if e.state is state) for state in EvseState}
    charging_kw = sum(e.limit_w for e in evses if e.state is EvseState.CHARGING) / 1000.0
    sessions = len(evses) - count[EvseState.IDLE]
    lines = [
        f"{sessions} session{'s' * (sessions != 1)}: {count[EvseState.CHARGING]} charging "
        f"({charging_kw:,.1f} kW), {count[EvseState.PAUSED]} paused, "
        f"{count[EvseState.UNCONTROLLABLE]} uncontrollable; {count[EvseState.IDLE]} EVSEs idle."
    ]
    reached = [
        f"{view.node.id} {row.label} at {_limit_amount(row.constraint)}, "
        f"{escaped(source_text(row.constraint.source, view.node))}"
        for view in views
        if view.node.kind is not NodeKind.CHARGER
        for row in _limit_rows(view)
        if at_limit(row.constraint)
    ]
    if reached:
        lines.append(paint("At their limit: ", "bold") + "; ".join(reached))
    lines.append(
        paint("Why one EVSE got its limit: depotctl explain EVSE --snapshot SNAPSHOT", "dim")
    )
    return lines
