"""Renderers for validate's reports: text, json, github, junit, sarif."""

from depotctl.config.render.text import render_text

__all__ = ["render_text"]
