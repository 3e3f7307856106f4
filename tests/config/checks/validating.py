"""Validate a site written in a test, and pick out what a rule said."""

from __future__ import annotations

from pathlib import Path

from depotctl.config.diagnostics import Diagnostic
from depotctl.config.validate import validate_file


def diagnostics(where: Path, text: str) -> list[Diagnostic]:
    """Write ``text`` as a site file — at ``where``, or as ``site.yaml`` in the directory
    ``where`` — and return everything validate says of it."""
    path = where if where.suffix in (".yaml", ".yml") else where / "site.yaml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return validate_file(path).diagnostics


def only(found: list[Diagnostic], rule: str) -> Diagnostic:
    """The one diagnostic, which must be ``rule``'s."""
    assert [d.rule for d in found] == [rule], [(d.rule, d.message) for d in found]
    return found[0]
