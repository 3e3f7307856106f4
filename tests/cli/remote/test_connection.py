"""What every command against a controller shares: the options it is given after its
own (``remote_options``), and a group that lists by default (``lists_by_default``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from typer.testing import CliRunner

from depotctl.cli.parameters import OutputFormat
from depotctl.cli.remote.connection import Remote, lists_by_default, remote_options

runner = CliRunner()


def _group() -> tuple[typer.Typer, list[tuple[str, Remote]]]:
    group = typer.Typer(invoke_without_command=True)
    given: list[tuple[str, Remote]] = []

    @group.command("show")
    @remote_options
    def show(
        name: Annotated[str, typer.Argument()],
        reason: Annotated[str, typer.Option("--reason")] = "",
        *,
        remote: Remote,
    ) -> None:
        given.append((name, remote))

    @lists_by_default(group)
    def listing(remote: Remote) -> None:
        given.append(("list", remote))

    return group, given


def test_a_command_is_given_its_own_arguments_and_the_remote_options_as_one_remote() -> None:
    group, given = _group()
    flags = ["--format", "json", "--server", "http://127.0.0.1:1", "--token-file", "t"]
    result = runner.invoke(group, ["show", "dc-01", *flags])
    assert result.exit_code == 0, result.output
    [(name, remote)] = given
    assert name == "dc-01"
    assert remote.output_format is OutputFormat.JSON
    connection = remote.connection
    assert (connection.context, connection.server) == (None, "http://127.0.0.1:1")
    assert connection.token_file == Path("t")


def test_the_remote_options_follow_the_commands_own_in_its_help() -> None:
    group, _ = _group()
    shown = runner.invoke(group, ["show", "--help"], env={"COLUMNS": "200"}).output
    places = [shown.index(flag) for flag in ("--format", "--context", "--server", "--token-file")]
    assert places == sorted(places)
    assert shown.index("--reason") < places[0]


def test_the_group_lists_when_given_no_command_and_with_list() -> None:
    group, given = _group()
    assert runner.invoke(group, ["--context", "lab"]).exit_code == 0
    assert runner.invoke(group, ["list", "--format", "json"]).exit_code == 0
    assert [(name, r.connection.context, r.output_format) for name, r in given] == [
        ("list", "lab", OutputFormat.TEXT),
        ("list", None, OutputFormat.JSON),
    ]
