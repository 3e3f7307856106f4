"""The ``depotctl`` command: one typer app, each command in its own module."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="depotctl",
    help="Energy manager for electric-vehicle depots: validate, diff and apply site YAML.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["--help"]},
)


@app.callback()
def _root() -> None:
    """depotctl keeps a depot's electrical description correct in git and decides how much
    power each charger may draw, saying why."""
