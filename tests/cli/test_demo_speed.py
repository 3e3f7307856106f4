"""``depotctl demo --speed``: above what the demo keeps up with it is a usage error in
words, before anything starts (at ×20000 the start-up outran the whole night: 0
sessions, "-10.5 h of simulated time", the evening cut refused)."""

from __future__ import annotations

import tempfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from depotctl.cli import app as cli
from depotctl.demo.run import MAX_SPEED, TICK_WALL_S, Demo, Options


def _demo_dirs() -> set[Path]:
    return set(Path(tempfile.gettempdir()).glob("depotctl-demo-*"))


@pytest.mark.parametrize(
    ("speed", "words"),
    [
        (
            "20000",
            "20000 is above 7200: the control cycle (0.1 s of wall time) would span 33 "
            "simulated minutes",
        ),
        ("0.5", "0.5 is below 1"),
    ],
)
def test_a_speed_the_demo_cannot_keep_up_with_is_refused_before_anything_starts(
    speed: str, words: str
) -> None:
    before = _demo_dirs()
    result = CliRunner().invoke(cli, ["demo", "--headless", "--speed", speed])
    assert result.exit_code == 2
    assert words in " ".join(result.output.replace("│", " ").split())
    assert _demo_dirs() == before  # no state directory, no process


def test_the_fastest_speed_keeps_a_cycle_under_the_cuts_notice() -> None:
    assert TICK_WALL_S * MAX_SPEED < 15 * 60
    refused = pytest.raises(ValueError, match="the demo runs at ×1 to ×7200, not ×20000")
    with refused, Demo(Options(speed=20000.0)):
        pass
