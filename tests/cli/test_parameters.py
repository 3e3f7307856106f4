"""Command-line values several commands take alike."""

from __future__ import annotations

from typing import Annotated

import typer
from typer.testing import CliRunner

from depotctl.cli.parameters import bare_option


def test_a_bare_option_shows_its_help_and_no_default() -> None:
    app = typer.Typer()

    @app.command()
    def run(
        shown: Annotated[str, typer.Option("--shown", help="Shown default.")] = "five-min",
        bare: Annotated[str, bare_option("--bare", "-b", help="Bare one.")] = "ten-min",
    ) -> None:
        typer.echo(f"{shown} {bare}")

    runner = CliRunner()
    shown = runner.invoke(app, ["--help"], env={"COLUMNS": "200", "NO_COLOR": "1"}).output
    assert "Bare one." in shown and "-b" in shown
    assert "five-min" in shown and "ten-min" not in shown
    assert runner.invoke(app, ["-b", "x"]).output == "five-min x\n"
