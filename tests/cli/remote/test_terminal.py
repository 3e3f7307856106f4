"""What a command against a controller prints and asks: columns, escaped cells, JSON,
and a confirmation that needs --yes without a terminal."""

from __future__ import annotations

import json

import pytest
import typer

from depotctl.cli.remote.terminal import confirm, print_json, table


def test_a_table_pads_every_column_but_the_last_and_escapes_its_cells(
    capsys: pytest.CaptureFixture[str],
) -> None:
    table(("#", "author", "message"), [("1", "alice@depot", "first"), ("12", "b\x1b[31m", "")])
    assert capsys.readouterr().out.splitlines() == [
        "#   author       message",
        "1   alice@depot  first",
        "12  b\\x1b[31m",
    ]


def test_json_is_printed_with_unsafe_characters_escaped_as_json_escapes(
    capsys: pytest.CaptureFixture[str],
) -> None:
    print_json({"reason": "cut\u202eoff"})
    out = capsys.readouterr().out
    assert "\u202e" not in out
    assert json.loads(out) == {"reason": "cut\u202eoff"}


def test_confirm_goes_on_with_yes_and_refuses_without_a_terminal(
    capsys: pytest.CaptureFixture[str],
) -> None:
    confirm("apply", True, "Apply?")
    with pytest.raises(typer.Exit) as refused:
        confirm("apply", False, "Apply?")
    assert refused.value.exit_code == 2
    assert "pass --yes" in capsys.readouterr().err
