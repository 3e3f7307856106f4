"""One EVSE's explanation as text, from the explain JSON (``views.explain_json``,
which ``GET /api/v1/explain/{evse}`` serves too): offline (``explain --snapshot``) and
live (``explain`` against a controller) print the same lines — the EVSE and its path,
its state and the priority that placed it among the tiers, its limit, the binding
constraint and its detail, and every candidate limit from the EVSE up — after a
heading that says where the state came from.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from depotctl.cli.columns import Paint, table
from depotctl.client.figures import rounded
from depotctl.client.terminal_text import escaped_answer
from depotctl.domain.instants import format_instant

#: Styles of an EVSE's state.
STATE_STYLES = {
    "charging": ("green",),
    "paused": ("yellow",),
    "uncontrollable": ("red", "bold"),
    "idle": ("dim",),
}

#: Why no candidate is marked, when the EVSE is not limited by its path.
NOTHING_BINDS = {
    "no_session": "No candidate binds: no vehicle is plugged in.",
    "uncontrollable": (
        "No candidate binds: the charger does not follow commands, so its draw is assumed, "
        "not allocated."
    ),
    "energy_satisfied": "No candidate binds: the session needs no more energy.",
}

Json = Mapping[str, Any]


def explain_text(explained: Json, *, color: bool = False) -> str:
    """The heading, then :func:`explanation_lines`; text from the controller or the
    snapshot (an operator's reason, a session id) escaped."""
    explained = escaped_answer(explained)
    paint = Paint(color)
    lines = heading(explained)
    lines.append("")
    lines += explanation_lines(explained.get("evse") or {}, paint)
    source = explained.get("binding_source")
    if isinstance(source, Mapping) and source.get("text"):  # a controller's answer
        at = lines.index(next(line for line in lines if line.startswith("  binding  ")))
        lines.insert(at + 2, f"  source   {source['text']}")
    return "\n".join(lines) + "\n"


def heading(explained: Json) -> list[str]:
    """``Explanation at … for site …`` and where the state came from: the site file
    and snapshot (offline) or the controller's revision (live)."""
    site = explained.get("site") or {}
    lines = [f"Explanation at {_at_text(explained.get('at'))} for site {site.get('name')}"]
    live = explained.get("revision")
    if isinstance(live, Mapping):
        then = "as it was then" if explained.get("past") else "live"  # time travel: --at
        lines.append(
            f"  revision  {live.get('number')} ({str(live.get('hash') or '')[:12]}), {then}"
        )
        return lines
    if site.get("file"):
        revision = site.get("revision")
        lines.append(f"  site      {site['file']}" + (f" ({revision[:19]}…)" if revision else ""))
    if explained.get("snapshot"):
        lines.append(f"  snapshot  {explained['snapshot']}")
    return lines


def explanation_lines(evse: Json, paint: Paint) -> list[str]:
    """The EVSE's lines, the same offline and live."""
    evse_id = str(evse.get("id"))
    out = [
        f"{paint('EVSE ' + evse_id, 'bold')} on charger {evse.get('charger')}, "
        f"under {_path_text(evse)}"
    ]
    state = str(evse.get("state"))
    session = f", session {evse['session_id']}" if evse.get("session_id") else ""
    if evse.get("vehicle"):
        session += f" (vehicle {evse['vehicle']})"
    out.append(f"  state    {paint(state, *STATE_STYLES.get(state, ()))}{session}")
    priority = _priority_text(evse)
    if priority:
        out.append(f"  priority {priority}")
    out.append(
        f"  limit    {_amount(evse.get('limit_a'), 'A')} per line = "
        f"{_amount(evse.get('limit_kw'), 'kW')}"
    )
    binding = evse.get("binding") or {}
    out.append(f"  binding  {paint(binding_words(evse_id, binding), 'bold')}")
    out.append(f"           {binding.get('detail', '')}")
    chain = list(evse.get("candidates") or [])
    out.append("")
    out.append("Candidate limits, from the EVSE up to the grid connection")
    out.append(paint("(slack: how much more this EVSE alone could take before the limit)", "dim"))
    rows = [["", "LIMIT", "VALUE", "SOURCE", "SLACK", ""]]
    nodes = {str(node.get("id")): node for node in evse.get("path") or []}
    for row in _candidate_rows(chain, nodes):
        c = row.candidate
        bound = bool(c.get("binding"))
        rows.append(
            [
                paint("▶", "bold", "yellow") if bound else "",
                paint(row.label, "bold") if bound else row.label,
                rounded(str(c.get("limit"))),
                _source(c, nodes),
                _slack(c.get("slack_a")),
                paint("binding", "bold", "yellow") if bound else "",
            ]
        )
    rows[0] = [paint(cell, "dim") for cell in rows[0]]
    out += table(rows, "llrlrl", "  ")
    if not any(c.get("binding") for c in chain):
        kind = str(binding.get("kind"))
        out.append(NOTHING_BINDS.get(kind, f"No candidate binds: {binding.get('detail')}."))
    return out


def binding_words(evse_id: str, binding: Json) -> str:
    """``envelope E-17``, ``node limit av-pod``, ``vehicle limit`` (no ref for the
    EVSE's own caps)."""
    words = str(binding.get("kind")).replace("_", " ")
    ref = binding.get("ref")
    return words if ref is None or ref == evse_id else f"{words} {ref}"


def _path_text(evse: Json) -> str:
    path = evse.get("path")
    if isinstance(path, Sequence) and path:
        return " › ".join(str(node.get("id")) for node in path[1:]) or "-"
    return str(evse.get("parent") or "-")  # a controller from before the path was sent


def _priority_text(evse: Json) -> str | None:
    priority = evse.get("priority")
    if isinstance(priority, Mapping) and priority.get("text"):
        return str(priority["text"])
    tier = evse.get("tier")
    if isinstance(tier, int) and "priority" not in evse:  # an older controller: its tier
        return f"class {tier // 2}, {'urgent' if tier % 2 == 0 else 'not urgent'}"
    return None


def _at_text(at: Any) -> str:
    """The explanation's time (ISO 8601 in the site's offset) as people read times:
    ``2024-05-14 18:30:00+10:00`` (docs/times.md); as it is when it is no such time."""
    try:
        instant = datetime.fromisoformat(str(at))
    except ValueError:
        return str(at)
    if instant.tzinfo is None:
        return str(at)
    return format_instant(instant, instant.tzinfo)


def _amount(value: Any, unit: str) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,.1f} {unit}"
    return "—"


def _slack(value: Any) -> str:
    if not isinstance(value, int | float) or isinstance(value, bool):
        return "unlimited"  # null in the JSON: no limit on this path
    sign = "+" if value >= 0.05 else ("−" if value <= -0.05 else "")
    return f"{sign}{abs(value):,.1f} A"


def _source(candidate: Json, nodes: Mapping[str, Json]) -> str:
    """Where the limit came from; a charger's own static limit is its ``rating``."""
    source = str(candidate.get("source"))
    node = nodes.get(str(candidate.get("ref")))
    if source == "static" and node is not None and node.get("type") == "charger":
        return "rating"
    return source


@dataclass(frozen=True, slots=True)
class _CandidateRow:
    label: str
    candidate: Json


_PHASE = re.compile(r"^(?P<node>.+) current on (?P<phase>L[123])$")


def _candidate_rows(chain: Sequence[Json], nodes: Mapping[str, Json]) -> list[_CandidateRow]:
    """The chain with a node's identical phases shown once (``current L1-L3``)."""
    rows: list[_CandidateRow] = []
    run: list[Json] = []

    def same(a: Json, b: Json) -> bool:
        keys = ("ref", "limit", "source", "binding")
        return all(a.get(k) == b.get(k) for k in keys) and _slack(a.get("slack_a")) == _slack(
            b.get("slack_a")
        )

    def flush() -> None:
        if not run:
            return
        first = _PHASE.match(str(run[0].get("what")))
        last = _PHASE.match(str(run[-1].get("what")))
        assert first is not None and last is not None
        phases = first["phase"] if len(run) == 1 else f"{first['phase']}-{last['phase']}"
        node = nodes.get(first["node"])
        single = node is not None and node.get("phases") == 1
        rows.append(
            _CandidateRow(f"{first['node']} current" + ("" if single else f" {phases}"), run[0])
        )
        run.clear()

    for candidate in chain:
        if _PHASE.match(str(candidate.get("what"))):
            if run and not same(run[-1], candidate):
                flush()
            run.append(candidate)
            continue
        flush()
        rows.append(_CandidateRow(str(candidate.get("what")), candidate))
    flush()
    return rows
