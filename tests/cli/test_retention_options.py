"""``serve``'s retention flags: durations in the one quantity syntax, each kept at most
as long as the decisions, refused with the flag named; and through ``serve`` itself,
a usage error before anything is created."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from depotctl.cli import app
from depotctl.cli.retention_options import retention_of


def test_the_flags_make_the_retention() -> None:
    retention = retention_of("730d", "7d", "14 d")
    assert retention.decisions == timedelta(days=730)
    assert retention.raw_telemetry == timedelta(days=7)
    assert retention.inputs == timedelta(days=14)


def test_the_defaults_are_the_issue_s() -> None:
    retention = retention_of("400d", "30d", "35d")
    assert (retention.decisions.days, retention.raw_telemetry.days, retention.inputs.days) == (
        400,
        30,
        35,
    )


@pytest.mark.parametrize(
    ("args", "flag", "words"),
    [
        (("400d", "500d", "35d"), "--keep-telemetry", "longer than --keep-decisions 400d"),
        (("400d", "30d", "0s"), "--keep-inputs", "longer than 0 s"),
        (("soon", "30d", "35d"), "--keep-decisions", ""),
    ],
)
def test_a_bad_flag_is_named(args: tuple[str, str, str], flag: str, words: str) -> None:
    with pytest.raises(typer.BadParameter) as raised:
        retention_of(*args)
    assert raised.value.param_hint == flag
    assert words in str(raised.value)


def test_serve_refuses_a_bad_retention_before_it_creates_anything(tmp_path: Path) -> None:
    state = tmp_path / "state"
    result = CliRunner().invoke(
        app, ["serve", "--state-dir", str(state), "--keep-telemetry", "401d"]
    )
    assert result.exit_code == 2
    assert "--keep-telemetry" in result.output
    assert not state.exists()
