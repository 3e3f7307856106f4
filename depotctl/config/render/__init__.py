"""Renderers for validate's reports: text, json, github, junit, sarif.

Only ``render_text`` is imported eagerly; the machine formats load on first use, so
``depotctl validate`` pays only for the format it prints.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

from depotctl.config.render.text import render_text

if TYPE_CHECKING:
    from depotctl.config.render.github import render_github
    from depotctl.config.render.json import render_json
    from depotctl.config.render.junit import render_junit
    from depotctl.config.render.sarif import render_sarif

_LAZY = {
    "render_json": "json",
    "render_github": "github",
    "render_junit": "junit",
    "render_sarif": "sarif",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{module}"), name)


__all__ = ["render_github", "render_json", "render_junit", "render_sarif", "render_text"]
