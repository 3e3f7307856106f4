"""Renderers for validate's reports: text, json, github, junit, sarif.

Only ``render_text`` is imported eagerly; the machine formats load on first use, so
``depotctl validate`` pays only for the format it prints.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from depotctl.config.render.text import render_text
from depotctl.lazy import lazy_attributes

if TYPE_CHECKING:
    from depotctl.config.render.github import render_github
    from depotctl.config.render.json import render_json
    from depotctl.config.render.junit import render_junit
    from depotctl.config.render.sarif import render_sarif

__getattr__ = lazy_attributes(
    __name__,
    {
        "json": ("render_json",),
        "github": ("render_github",),
        "junit": ("render_junit",),
        "sarif": ("render_sarif",),
    },
)


__all__ = ["render_github", "render_json", "render_junit", "render_sarif", "render_text"]
