"""A plan's warnings as terraform shows them: one ``Warning: …`` block each, with the
site line it is about and what to do (validate's warnings, then what the controller's
host lacks: a secret file, a variable)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from depotctl.client.terminal_text import escaped

if TYPE_CHECKING:
    from depotctl.api import Plan, PlanWarning


def warnings_text(plan: Plan) -> list[str]:
    """The lines of every warning of ``plan`` (as the controller sent it: every piece is
    escaped here), each block followed by an empty line; none without warnings."""
    source = plan.site_text.split("\n")
    lines: list[str] = []
    for warning in plan.warnings:
        lines += _block(warning, source)
    return lines


def _block(warning: PlanWarning, source: list[str]) -> list[str]:
    lines = [f"Warning: {escaped(warning.message)} [{escaped(warning.rule)}]", ""]
    if warning.line is not None:
        column = f", column {warning.column}" if warning.column is not None else ""
        lines.append(f"  on {escaped(warning.file)} line {warning.line}{column}:")
        if 1 <= warning.line <= len(source):
            quoted = escaped(source[warning.line - 1].rstrip("\r"))
            lines.append(f"  {warning.line:>4} | {quoted}")
        lines.append("")
    if warning.hint:
        lines += [f"  {escaped(warning.hint)}", ""]
    return lines


def strict_refusal(plan: Plan, *, as_text: bool) -> str | None:
    """Why ``--strict`` refuses ``plan`` (it has warnings), or None; ``as_text``: the
    warnings were printed above (else they are in the JSON's ``warnings``)."""
    count = len(plan.warnings)
    if not count:
        return None
    noun = "warning" if count == 1 else "warnings"
    where = "shown above" if as_text else "in its warnings"
    return (
        f"--strict: the plan has {count} {noun} ({where}); fix the site or the "
        "controller's host, or run without --strict"
    )
