"""``depotctl status`` names the open alerts: the real app on loopback (the AU depot,
its clock standing at START), alerts raised by the real alert book in its store."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner

from depotctl.cli.app import app
from depotctl.controller.alerts import AlertBook
from depotctl.controller.app import create_app
from depotctl.controller.auth import load_or_create_tokens
from depotctl.controller.service import Controller
from depotctl.domain.alerts import AlertCondition, AlertKind, Subject, SubjectKind
from tests.controller.test_app import START, serving
from tests.controller.test_inputs import fresh_controller


@dataclass
class Served:
    url: str
    state_dir: Path
    controller: Controller

    def status(self, *args: str) -> tuple[int, str]:
        token = self.state_dir / "tokens" / "readonly.token"
        result = CliRunner().invoke(
            app, ["status", *args, "--server", self.url, "--token-file", str(token)]
        )
        return result.exit_code, result.stdout

    def raise_alerts(self, *conditions: AlertCondition, minutes: float = 0) -> None:
        book = AlertBook(self.controller.units)
        with self.controller.units() as uow:
            entries = book.update(conditions, at=START + timedelta(minutes=minutes))
            uow.journal.record(entries)


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Served]:
    monkeypatch.setenv("DEPOTCTL_CONFIG", str(tmp_path / "config.yaml"))
    monkeypatch.delenv("DEPOTCTL_CONTEXT", raising=False)
    controller, _ = fresh_controller(tmp_path)
    with serving(create_app(controller, load_or_create_tokens(tmp_path))) as url:
        yield Served(url, tmp_path, controller)
    controller.close()


def test_status_says_there_are_no_alerts(served: Served) -> None:
    code, out = served.status()
    assert code == 0, out
    assert "alerts    none" in out.splitlines()


def test_status_names_each_open_alert_since_when_in_site_time_and_why(served: Served) -> None:
    charger = AlertCondition(
        AlertKind.CHARGER_UNCONTROLLABLE,
        Subject(SubjectKind.CHARGER, "dc-07"),
        "no answer within 5 s",
    )
    node = AlertCondition(
        AlertKind.NODE_OVERCOMMITTED,
        Subject(SubjectKind.NODE, "gc-main"),
        "import power: assumed draws 612.4 kW over the 570.0 kW limit from envelope E-17",
    )
    served.raise_alerts(charger, minutes=-58)
    served.raise_alerts(charger, node, minutes=-55)
    code, out = served.status()
    assert code == 0, out
    [line] = [line for line in out.splitlines() if line.startswith("alerts")]
    # START is 01:00 in Sydney; the critical one first
    assert line == (
        "alerts    2 — node gc-main over-committed since 2026-03-03 00:05:00+11:00 (import power: assumed draws "
        "612.4 kW over the 570.0 kW limit from envelope E-17); charger dc-07 uncontrollable "
        "since 2026-03-03 00:02:00+11:00 (no answer within 5 s)"
    )
    code, out = served.status("--format", "json")
    assert code == 0, out
    listed = json.loads(out)["alerts"]
    assert [(a["kind"], a["subject"]["id"], a["open"]) for a in listed] == [
        ("charger_uncontrollable", "dc-07", True),
        ("node_overcommitted", "gc-main", True),
    ]


def test_status_leaves_out_cleared_alerts(served: Served) -> None:
    stale = AlertCondition(AlertKind.METER_STALE, Subject(SubjectKind.METER, "m-ws"), "old")
    served.raise_alerts(stale, minutes=-10)
    served.raise_alerts(minutes=-9)
    served.raise_alerts(minutes=-8)  # away for a minute: cleared
    code, out = served.status()
    assert code == 0, out
    assert "alerts    none" in out.splitlines()
    code, out = served.status("--format", "json")
    assert json.loads(out)["alerts"] == []
