"""A site file that must be valid → its compiled topology and policy, or why not."""

from __future__ import annotations

from pathlib import Path

from depotctl.config.compile import compile_site
from depotctl.config.diagnostics import Severity
from depotctl.config.load import load_file
from depotctl.config.render import render_text
from depotctl.config.rules import IO_NOT_FOUND, IO_UNREADABLE
from depotctl.config.schema import Site
from depotctl.config.validate import ValidationRun, validate_file
from depotctl.domain.policy import Policy
from depotctl.domain.topology import Topology


class SiteError(Exception):
    """A site file that cannot be used: unreadable (``io``) or invalid. ``text`` holds
    the diagnostics as ``validate`` prints them."""

    def __init__(self, text: str, *, io: bool) -> None:
        super().__init__(text)
        self.text = text
        self.io = io


def load_site(path: Path) -> tuple[Topology, Policy]:
    """The compiled topology and policy of a valid site file."""
    if not path.exists():
        raise SiteError(f"{path}: no such site file", io=True)
    report = validate_file(path)
    if any(d.severity is Severity.ERROR for d in report.diagnostics):
        io = any(d.rule in (IO_NOT_FOUND.id, IO_UNREADABLE.id) for d in report.diagnostics)
        raise SiteError(render_text(ValidationRun([report])), io=io)
    sites = [d.model for d in load_file(path).documents if isinstance(d.model, Site)]
    if len(sites) != 1:
        raise SiteError(f"{path}: expected one Site document, found {len(sites)}", io=False)
    return compile_site(sites[0], path.parent)
