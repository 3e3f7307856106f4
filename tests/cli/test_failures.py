"""How a command ends when it cannot go on: ``depotctl COMMAND: MESSAGE`` on stderr,
escaped, and the exit code; a refusal's details before its message."""

from __future__ import annotations

import pytest

from depotctl.cli.failures import fail, refused
from depotctl.domain.refusal import Refusal


def test_a_failure_is_one_escaped_line_and_the_exit_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    exit_ = fail("plan", "cannot read site.yaml\x1b[2J: no such file", 3)
    assert exit_.exit_code == 3
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == "depotctl plan: cannot read site.yaml\\x1b[2J: no such file\n"


def test_a_refusal_prints_its_details_then_its_sentence_with_its_code(
    capsys: pytest.CaptureFixture[str],
) -> None:
    refusal = Refusal("site.yaml is invalid (1 error above)", 1, "site.yaml:3:5: error: bad\n\n")
    assert refused("sim chargers", refusal).exit_code == 1
    assert capsys.readouterr().err == (
        "site.yaml:3:5: error: bad\ndepotctl sim chargers: site.yaml is invalid (1 error above)\n"
    )


def test_a_refusal_without_details_is_its_sentence_alone(
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert refused("demo", Refusal("no bundled site 'x'", 2)).exit_code == 2
    assert capsys.readouterr().err == "depotctl demo: no bundled site 'x'\n"
