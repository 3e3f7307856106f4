"""``depotctl diff``: the semantic difference between two site files, for review.

:func:`diff_sites` compares two schema-valid :class:`~depotctl.config.schema.Site`
models and returns a :class:`SiteDiff` of typed :class:`Change` values; quantities
are compared by value (``400 kW`` equals ``0.4 MW``), nodes and other lists by id or
name (their order does not matter), and secrets only by how they are referenced.
:mod:`depotctl.config.diff.render` shows a diff as text or JSON (its docstring
documents the JSON), and :mod:`depotctl.config.diff.files` reads the two files.
"""

from depotctl.config.diff.change import Action, Change, Kind, Section, SiteDiff
from depotctl.config.diff.files import SiteFile, read_site
from depotctl.config.diff.render import render_json, render_text, summary_line, to_json
from depotctl.config.diff.site import diff_sites

__all__ = [
    "Action",
    "Change",
    "Kind",
    "Section",
    "SiteDiff",
    "SiteFile",
    "diff_sites",
    "read_site",
    "render_json",
    "render_text",
    "summary_line",
    "to_json",
]
