"""How a diff is shown: terraform-style text, or JSON for tools.

Text groups the changes by section under a header naming the site and both files,
``+`` added, ``-`` removed, ``~`` changed or moved, and ends with
``Diff: 2 to add, 3 to change, 1 to destroy.`` (or ``No changes. …``). Colour is
ANSI, and only when the caller asks for it (a TTY without ``NO_COLOR``).

JSON (``--format json``), version 1; new keys may be added, none will be renamed::

    {
      "version": 1,
      "old": "base/sites/depot.yaml",          # the files as given
      "new": "head/sites/depot.yaml",
      "site": {"old": "depot-north", "new": "depot-north"},
      "changes": [
        {
          "action": "change",                  # add | remove | change | move
          "kind": "limit",                     # node | limit | evse | connector | meter |
                                               # envelope_source | policy | tariff | carbon |
                                               # metadata | electrical
          "section": "Limits",                 # the text heading it is shown under
          "id": "db-1",                        # node, EVSE (chg-01/1), meter, source,
                                               # season (summer/peak for a window); or null
          "path": "spec.nodes[db-1].limits.current",   # list items by their id or name
          "field": "limits.current",           # or null for a whole thing added or removed
          "old": "250 A",                      # as written in the old file, or null
          "new": "200 A",                      # as written in the new file, or null
          "change_pct": -20.0,                 # for quantities of one kind, else null
          "message": "circuit db-1 current limit 250 A → 200 A (−20 %), 6 chargers below it",
          "affected_chargers": 6               # chargers below the node in the new site, or null
        }
      ],
      "summary": {"add": 0, "change": 1, "remove": 0}   # a move counts as a change
    }

Secrets never appear: credentials are shown by reference (``password_env CP01_PW``),
an inline password or token only as ``inline password``.
"""

from __future__ import annotations

import json
from typing import Any

from depotctl.config.diff.change import ARROW, Action, Change, Section, SiteDiff

JSON_VERSION = 1

_STYLES = {"bold": "\x1b[1m", "red": "\x1b[31m", "green": "\x1b[32m", "yellow": "\x1b[33m"}
_RESET = "\x1b[0m"
_ACTION_STYLE = {
    Action.ADD: "green",
    Action.REMOVE: "red",
    Action.CHANGE: "yellow",
    Action.MOVE: "yellow",
}


def _paint(text: str, color: bool, *styles: str) -> str:
    if not color:
        return text
    return "".join(_STYLES[s] for s in styles) + text + _RESET


def render_text(diff: SiteDiff, old_file: str, new_file: str, *, color: bool = False) -> str:
    name = diff.new_name
    if diff.old_name != diff.new_name:
        name = f"{diff.old_name} {ARROW} {diff.new_name}"
    lines = [
        _paint(f"Site {name}", color, "bold"),
        f"  old: {old_file}",
        f"  new: {new_file}",
    ]
    for section in Section:
        changes = diff.in_section(section)
        if changes:
            lines += ["", _paint(section.value, color, "bold")]
            lines += [_change_line(change, color) for change in changes]
    lines += ["", _paint(summary_line(diff), color, "bold")]
    return "\n".join(lines) + "\n"


def _change_line(change: Change, color: bool) -> str:
    symbol = _paint(change.action.symbol, color, _ACTION_STYLE[change.action], "bold")
    return f"  {symbol} {change.message}"


def summary_line(diff: SiteDiff) -> str:
    if diff.is_empty:
        return "No changes. The sites are semantically equal."
    return f"Diff: {diff.to_add} to add, {diff.to_change} to change, {diff.to_remove} to destroy."


def to_json(diff: SiteDiff, old_file: str, new_file: str) -> dict[str, Any]:
    """The JSON document described in this module's docstring."""
    return {
        "version": JSON_VERSION,
        "old": old_file,
        "new": new_file,
        "site": {"old": diff.old_name, "new": diff.new_name},
        "changes": [_change_json(change) for change in diff.changes],
        "summary": {"add": diff.to_add, "change": diff.to_change, "remove": diff.to_remove},
    }


def _change_json(change: Change) -> dict[str, Any]:
    return {
        "action": change.action.value,
        "kind": change.kind.value,
        "section": change.section.value,
        "id": change.id,
        "path": change.path,
        "field": change.field,
        "old": change.old,
        "new": change.new,
        "change_pct": change.change_pct,
        "message": change.message,
        "affected_chargers": change.affected_chargers,
    }


def render_json(diff: SiteDiff, old_file: str, new_file: str) -> str:
    return json.dumps(to_json(diff, old_file, new_file), indent=2, ensure_ascii=False) + "\n"
