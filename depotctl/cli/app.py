"""The ``depotctl`` command: one typer app, each command in its own module."""

from __future__ import annotations

from typing import Annotated

import typer

from depotctl.cli.help import ReadableTyper

HELP = """Energy manager for electric-vehicle depots: validate, diff and apply site YAML.

depotctl decides how much power each charger may draw so that every vehicle is ready in
time without breaking an electrical limit, and says why. Every command explains itself
with `--help`, examples included.

**Examples**

```
depotctl demo
depotctl validate sites/
depotctl serve --state-dir /tmp/depot --site examples/minimal.yaml
depotctl context add depot --from-state-dir /tmp/depot
depotctl status --context depot
```
"""

app = ReadableTyper(
    name="depotctl",
    help=HELP,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def version_line() -> str:
    """``depotctl 0.6.0 (site schema depotctl/v1)``: the installed package's version and
    the ``apiVersion`` its site files declare, as the JSON Schema gives it."""
    import json
    from importlib.metadata import version

    from depotctl.config import render_json_schema

    schema = json.loads(render_json_schema("Site"))
    return f"depotctl {version('depotctl')} (site schema {schema['properties']['apiVersion']['const']})"


def _print_version(shown: bool) -> None:
    if shown:
        typer.echo(version_line())
        raise typer.Exit(0)


@app.callback()
def _root(
    _version: Annotated[
        bool,
        typer.Option(
            "--version",
            help="Print depotctl's version and the site schema's, and exit.",
            callback=_print_version,
            is_eager=True,
        ),
    ] = False,
) -> None:
    """depotctl itself: its help (:data:`HELP`) and ``--version``."""


def command_group(name: str, help_text: str, *, runs_without_command: bool = False) -> typer.Typer:
    """A group of commands, ``depotctl NAME …``: given no command it shows its help, or
    runs its callback (``runs_without_command``: a group that lists by default)."""
    group = ReadableTyper(
        name=name,
        help=help_text,
        no_args_is_help=not runs_without_command,
        invoke_without_command=runs_without_command,
    )
    app.add_typer(group, name=name)
    return group
