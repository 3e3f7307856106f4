"""An allocation as text for people: ``allocate``'s tables grouped by node, and
``explain``'s chain of one EVSE. Plain aligned columns; on a colour terminal, limits
that are reached stand out."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from depotctl.domain.snapshot import Snapshot
from depotctl.domain.topology import NodeKind
from depotctl.engine.allocation import (
    Allocation,
    Binding,
    BindingKind,
    EvseAllocation,
    EvseState,
    NodeConstraint,
)
from depotctl.engine.explain import Candidate
from depotctl.engine.render import (
    KIND_ORDER,
    NodeView,
    Origin,
    amount,
    at_limit,
    candidates_from_evse_up,
    evse_ids_under,
    local_time,
    nodes_in_tree_order,
    over_limit,
    source_text,
    unit_of,
)

_STYLES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


class Paint:
    """ANSI styles, or plain text when colour is off."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, *styles: str) -> str:
        if not self.color or not styles or not text:
            return text
        codes = ";".join(_STYLES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _width(text: str) -> int:
    return len(_ANSI.sub("", text))


def table(rows: Sequence[Sequence[str]], align: str, indent: str = "") -> list[str]:
    """Rows as aligned columns (``align``: ``l`` or ``r`` per column), trailing blanks
    trimmed; cells may carry ANSI styles."""
    widths = [max(_width(row[i]) for row in rows) for i in range(len(align))]
    lines = []
    for row in rows:
        cells = []
        for cell, width, side in zip(row, widths, align, strict=True):
            pad = " " * (width - _width(cell))
            cells.append(pad + cell if side == "r" else cell + pad)
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines


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
                    source_text(c.source, node),
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
                    evse.session_id or "-",
                    binding_text(evse_id, evse.binding),
                ]
            )
        rows[0] = [paint(cell, "dim") for cell in rows[0]]
        lines += table(rows, "llrrll", indent + "  ")
    return lines


def _heading(snapshot: Snapshot, origin: Origin, title: str) -> list[str]:
    lines = [f"{title} at {local_time(snapshot).isoformat()} for site {snapshot.topology.site}"]
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
        f"{source_text(row.constraint.source, view.node)}"
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


# explain


def _path_text(snapshot: Snapshot, evse_id: str) -> str:
    spec = snapshot.topology.evses[evse_id]
    return " › ".join(spec.path[1:]) or "-"


def _tier_text(evse: EvseAllocation) -> str:
    if evse.tier is None:
        return ""
    urgency = "urgent" if evse.tier % 2 == 0 else "not urgent"
    return f" (priority class {evse.tier // 2}, {urgency})"


@dataclass(frozen=True, slots=True)
class _CandidateRow:
    label: str
    candidate: Candidate


_PHASE = re.compile(r"^(?P<node>.+) current on (?P<phase>L[123])$")


def _candidate_rows(snapshot: Snapshot, chain: list[Candidate]) -> list[_CandidateRow]:
    """The chain with a node's identical phases shown once (``current L1-L3``)."""
    rows: list[_CandidateRow] = []
    run: list[Candidate] = []

    def same(a: Candidate, b: Candidate) -> bool:
        return (a.ref, a.limit, a.source, a.binding, round(a.slack_a, 1)) == (
            b.ref,
            b.limit,
            b.source,
            b.binding,
            round(b.slack_a, 1),
        )

    def flush() -> None:
        if not run:
            return
        first = _PHASE.match(run[0].what)
        last = _PHASE.match(run[-1].what)
        assert first is not None and last is not None
        phases = first["phase"] if len(run) == 1 else f"{first['phase']}-{last['phase']}"
        node = snapshot.topology.nodes.get(first["node"])
        label = f"{first['node']} current" + ("" if node and node.phases == 1 else f" {phases}")
        rows.append(_CandidateRow(label, run[0]))
        run.clear()

    for candidate in chain:
        if _PHASE.match(candidate.what):
            if run and not same(run[-1], candidate):
                flush()
            run.append(candidate)
            continue
        flush()
        rows.append(_CandidateRow(candidate.what, candidate))
    flush()
    return rows


def _candidate_source(snapshot: Snapshot, candidate: Candidate) -> str:
    node = snapshot.topology.nodes.get(candidate.ref or "")
    if candidate.source == "static" and node is not None and node.kind is NodeKind.CHARGER:
        return "rating"
    return candidate.source


def _slack(value: float) -> str:
    if value == float("inf"):
        return "unlimited"
    sign = "+" if value >= 0.05 else ("−" if value <= -0.05 else "")
    return f"{sign}{abs(value):,.1f} A"


def explain_text(
    snapshot: Snapshot,
    allocation: Allocation,
    evse_id: str,
    origin: Origin,
    *,
    color: bool = False,
) -> str:
    """One EVSE's whole chain: its limit and state, the binding constraint in words,
    and every candidate limit from the EVSE up to the grid connection."""
    paint = Paint(color)
    evse = allocation.evses[evse_id]
    spec = snapshot.topology.evses[evse_id]
    out = _heading(snapshot, origin, "Explanation")
    out.append("")
    out.append(
        f"{paint('EVSE ' + evse_id, 'bold')} on charger {spec.charger_id}, "
        f"under {_path_text(snapshot, evse_id)}"
    )
    session = f", session {evse.session_id}{_tier_text(evse)}" if evse.session_id else ""
    out.append(f"  state    {_state(evse.state, paint)}{session}")
    out.append(
        f"  limit    {_amount(evse.limit_a, 'A')} per line = {_amount(evse.limit_w / 1000, 'kW')}"
    )
    binding = evse.binding
    out.append(f"  binding  {paint(binding_text(evse_id, binding), 'bold')}")
    out.append(f"           {binding.detail}")
    chain = candidates_from_evse_up(snapshot, allocation, evse_id)
    out.append("")
    out.append("Candidate limits, from the EVSE up to the grid connection")
    out.append(paint("(slack: how much more this EVSE alone could take before the limit)", "dim"))
    rows = [["", "LIMIT", "VALUE", "SOURCE", "SLACK", ""]]
    for row in _candidate_rows(snapshot, chain):
        c = row.candidate
        marker = paint("▶", "bold", "yellow") if c.binding else ""
        label = paint(row.label, "bold") if c.binding else row.label
        rows.append(
            [
                marker,
                label,
                c.limit,
                _candidate_source(snapshot, c),
                _slack(c.slack_a),
                paint("binding", "bold", "yellow") if c.binding else "",
            ]
        )
    rows[0] = [paint(cell, "dim") for cell in rows[0]]
    out += table(rows, "llrlrl", "  ")
    if not any(c.binding for c in chain):
        out.append(_no_marked_binding(binding))
    return "\n".join(out) + "\n"


def _no_marked_binding(binding: Binding) -> str:
    """Why no candidate is marked: the EVSE is not limited by its path."""
    reasons = {
        BindingKind.NO_SESSION: "No candidate binds: no vehicle is plugged in.",
        BindingKind.UNCONTROLLABLE: (
            "No candidate binds: the charger does not follow commands, so its draw is assumed, "
            "not allocated."
        ),
        BindingKind.ENERGY_SATISFIED: "No candidate binds: the session needs no more energy.",
    }
    return reasons.get(binding.kind, f"No candidate binds: {binding.detail}.")
