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


def command_group(name: str, help_text: str, *, runs_without_command: bool = False) -> typer.Typer:
    """A group of commands, ``depotctl NAME …``: given no command it shows its help, or
    runs its callback (``runs_without_command``: a group that lists by default)."""
    group = typer.Typer(
        name=name,
        help=help_text,
        no_args_is_help=not runs_without_command,
        invoke_without_command=runs_without_command,
        context_settings={"help_option_names": ["--help"]},
    )
    app.add_typer(group, name=name)
    return group
