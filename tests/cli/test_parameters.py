"""Command-line values several commands take alike."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from typer.testing import CliRunner

from depotctl.cli.parameters import bare_option, date_option


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


def _dated() -> typer.Typer:
    app = typer.Typer()

    @app.command()
    def run(first: Annotated[date | None, date_option("--from", "First day.")] = None) -> None:
        typer.echo(repr(first))

    return app


def test_a_date_option_gives_the_command_a_date_or_none() -> None:
    runner = CliRunner()
    assert runner.invoke(_dated(), ["--from", "2019-05-13"]).output == (
        "datetime.date(2019, 5, 13)\n"
    )
    assert runner.invoke(_dated(), []).output == "None\n"


def test_a_date_option_refuses_what_is_not_a_date_naming_the_flag() -> None:
    result = CliRunner().invoke(_dated(), ["--from", "13/05/2019"], env={"COLUMNS": "200"})
    assert result.exit_code == 2
    assert 'Invalid value for --from: "13/05/2019" is not a date like 2019-05-13' in result.output
