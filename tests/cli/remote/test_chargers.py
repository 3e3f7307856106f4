"""``depotctl chargers`` against the real app on loopback (the AU depot, its clock
standing at START): charger states in its store as the control loop puts them, the
alert of an uncontrollable one raised by the real alert book."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from depotctl.cli.app import app
from depotctl.controller.app import create_app
from depotctl.controller.auth import load_or_create_tokens
from depotctl.domain.chargers import ChargerState, CommandOutcome
from tests.controller.test_app import START, serving
from tests.controller.test_chargers import raise_alerts
from tests.controller.test_inputs import fresh_controller

REASON = "its last command was rejected: dc-02/1: rejected (profile refused)"


@dataclass
class Served:
    """The flags that reach the controller with the read-only token."""

    flags: tuple[str, ...]

    def chargers(self, *args: str) -> tuple[int, str]:
        result = CliRunner().invoke(app, ["chargers", *args, *self.flags])
        return result.exit_code, result.stdout

    def json(self, *args: str) -> Any:
        code, out = self.chargers(*args, "--format", "json")
        assert code == 0, out
        return json.loads(out)


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    """dc-01 accepted 80 A; dc-02 rejected its last command (its alert raised);
    every other charger never heard from (counted controllable: no chargers here)."""
    monkeypatch.setenv("DEPOTCTL_CONFIG", str(tmp_path / "config.yaml"))
    monkeypatch.delenv("DEPOTCTL_CONTEXT", raising=False)
    controller, _ = fresh_controller(tmp_path)
    controller.units().chargers.put(
        [
            ChargerState("dc-01", last_outcome=CommandOutcome.ACCEPTED, last_accepted_limit_a=80),
            ChargerState(
                "dc-02",
                last_outcome=CommandOutcome.REJECTED,
                last_accepted_limit_a=120.0,
                last_command_at=START,
                reason="dc-02/1: rejected (profile refused)",
            ),
        ]
    )
    raise_alerts(controller)
    with serving(create_app(controller, load_or_create_tokens(tmp_path))) as url:
        token = tmp_path / "tokens" / "readonly.token"
        yield Served(("--server", url, "--token-file", str(token)))
    controller.close()


def test_the_table_shows_each_charger_and_why_one_is_uncontrollable(served: Served) -> None:
    code, out = served.chargers()
    assert code == 0, out
    lines = out.splitlines()
    assert lines[0].split() == [
        "charger",
        "online",
        "controllable",
        "fallback",
        "last",
        "accepted",
        "since",
        "why",
    ]
    rows = {line.split()[0]: line for line in lines[1:-1]}
    assert len(rows) == 30
    assert rows["dc-01"].split() == ["dc-01", "yes", "yes", "accepted", "80.0", "A"]
    assert rows["dc-02"].split()[:6] == ["dc-02", "yes", "NO", "accepted", "120.0", "A"]
    # START in the site's time (Sydney, +11:00 in March), with its offset
    assert rows["dc-02"].endswith(f"2026-03-03 01:00:00+11:00  {REASON}")
    assert rows["dc-03"].split() == ["dc-03", "yes", "yes", "accepted", "—"]
    assert lines[-1] == "30 chargers, 1 uncontrollable"


def test_uncontrollable_lists_only_those_the_controller_cannot_command(served: Served) -> None:
    code, out = served.chargers("--uncontrollable")
    assert code == 0, out
    [header, row, summary] = out.splitlines()
    assert header.startswith("charger") and row.startswith("dc-02 ")
    assert summary == "30 chargers, 1 uncontrollable"


def test_json_is_the_apis_answer_filtered_with_uncontrollable(served: Served) -> None:
    everything = served.json()
    assert set(everything) == {"time", "timezone", "uncontrollable", "chargers"}
    assert len(everything["chargers"]) == 30 and everything["uncontrollable"] == 1
    [only] = served.json("--uncontrollable")["chargers"]
    assert only == next(c for c in everything["chargers"] if c["id"] == "dc-02")
    assert (only["reason"], only["since"], only["last_outcome"]) == (
        REASON,
        START.isoformat(),
        "rejected",
    )


def test_an_unreachable_controller_is_exit_3(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("x\n")
    result = CliRunner().invoke(
        app, ["chargers", "--server", "http://127.0.0.1:9", "--token-file", str(token)]
    )
    assert result.exit_code == 3
