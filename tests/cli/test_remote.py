"""The controller commands against a real ``depotctl serve`` process (one per module):
contexts, status, revisions, plan, apply, a stale plan, the journal, a read-only
token, an unreachable controller."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from typer.testing import CliRunner

from depotctl.cli.app import app
from tests.conftest import EXAMPLES

MINIMAL = EXAMPLES / "minimal.yaml"


@dataclass
class Controller:
    state_dir: Path
    api: str

    def flags(self, token: str = "admin") -> list[str]:
        token_file = self.state_dir / "tokens" / f"{token}.token"
        return ["--server", self.api, "--token-file", str(token_file)]


@pytest.fixture(scope="module")
def controller(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Controller]:
    state_dir = tmp_path_factory.mktemp("controller")
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "depotctl",
            "serve",
            "--state-dir",
            str(state_dir),
            "--site",
            str(MINIMAL),
            "--listen",
            "127.0.0.1:0",
            "--ocpp-listen",
            "127.0.0.1:0",
            "--oscp-listen",
            "127.0.0.1:0",
            "--shadow",  # no chargers connect here: decide and journal, send nothing
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "NO_COLOR": "1"},
    )
    try:
        endpoints = state_dir / "endpoints.json"
        deadline = time.monotonic() + 60  # a hang, not a busy machine's slow start
        while not endpoints.exists():
            assert process.poll() is None, f"serve exited {process.returncode}"
            assert time.monotonic() < deadline, "serve wrote no endpoints.json"
            time.sleep(0.05)
        yield Controller(state_dir, json.loads(endpoints.read_text())["api"])
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=10)


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose configuration file is in ``tmp_path`` (never the home directory)."""
    monkeypatch.setenv("DEPOTCTL_CONFIG", str(tmp_path / "config.yaml"))
    monkeypatch.delenv("DEPOTCTL_CONTEXT", raising=False)
    return CliRunner()


def _changed_site(tmp_path: Path, limit: str) -> Path:
    path = tmp_path / f"site-{limit.replace(' ', '')}.yaml"
    text = MINIMAL.read_text()
    assert "limits: {current: 100 A}" in text
    path.write_text(text.replace("limits: {current: 100 A}", f"limits: {{current: {limit}}}"))
    return path


def _current(runner: CliRunner, controller: Controller) -> int:
    result = runner.invoke(app, ["revisions", "--format", "json", *controller.flags()])
    assert result.exit_code == 0, result.output
    current: int = json.loads(result.stdout)["current"]
    return current


def test_context_from_the_state_dir_then_status_through_it(
    run: CliRunner, controller: Controller, tmp_path: Path
) -> None:
    added = run.invoke(
        app, ["context", "add", "depot", "--from-state-dir", str(controller.state_dir)]
    )
    assert added.exit_code == 0, added.output
    config = tmp_path / "config.yaml"
    assert config.stat().st_mode & 0o777 == 0o600
    token = (controller.state_dir / "tokens" / "admin.token").read_text().strip()
    assert token not in config.read_text()  # the token's path, never the token
    listed = run.invoke(app, ["context", "list"])
    assert listed.stdout.startswith("* depot  " + controller.api)
    status = run.invoke(app, ["status"])
    assert status.exit_code == 0, status.output
    assert "site      minimal-depot" in status.stdout
    assert "EVSEs     2:" in status.stdout


def test_context_use_of_an_unknown_context_is_a_usage_error(run: CliRunner) -> None:
    result = run.invoke(app, ["context", "use", "nowhere"])
    assert result.exit_code == 2
    assert 'no context "nowhere"' in result.stderr


def test_status_as_json_parses(run: CliRunner, controller: Controller) -> None:
    result = run.invoke(app, ["status", "--format", "json", *controller.flags()])
    assert result.exit_code == 0, result.output
    status = json.loads(result.stdout)
    assert status["site"] == "minimal-depot"
    assert status["evse_count"] == 2
    assert status["revision"]["number"] >= 1


def test_revisions_lists_the_seeded_revision(run: CliRunner, controller: Controller) -> None:
    result = run.invoke(app, ["revisions", *controller.flags()])
    assert result.exit_code == 0, result.output
    assert "seeded from " in result.stdout
    assert result.stdout.splitlines()[0].split() == ["#", "hash", "time", "author", "message"]


def test_plan_shows_the_change_and_the_detailed_exit_code(
    run: CliRunner, controller: Controller, tmp_path: Path
) -> None:
    changed = _changed_site(tmp_path, "80 A")
    result = run.invoke(
        app, ["plan", "-f", str(changed), "--detailed-exitcode", *controller.flags()]
    )
    assert result.exit_code == 1, result.output
    assert "~ circuit db-1 current limit 100 A → 80 A" in result.stdout
    assert "Impact now" in result.stdout
    assert result.stdout.rstrip().splitlines()[-1].startswith("Plan: 0 to add, 1 to change")
    same = _site_in_force(run, controller, tmp_path)
    unchanged = run.invoke(
        app, ["plan", "-f", str(same), "--detailed-exitcode", *controller.flags()]
    )
    assert unchanged.exit_code == 0, unchanged.output
    assert "No changes" in unchanged.stdout


def _site_in_force(run: CliRunner, controller: Controller, tmp_path: Path) -> Path:
    """The text of the revision in force, as a file."""
    import httpx

    token = (controller.state_dir / "tokens" / "readonly.token").read_text().strip()
    text = httpx.get(
        controller.api + "/api/v1/site", headers={"Authorization": f"Bearer {token}"}
    ).json()["text"]
    path = tmp_path / "in-force.yaml"
    path.write_text(text)
    return path


def test_apply_then_revisions_shows_the_new_revision_and_the_journal_has_it(
    run: CliRunner, controller: Controller, tmp_path: Path
) -> None:
    before = _current(run, controller)
    changed = _changed_site(tmp_path, "90 A")
    applied = run.invoke(
        app, ["apply", "-f", str(changed), "--yes", "-m", "db-1 to 90 A", *controller.flags()]
    )
    assert applied.exit_code == 0, applied.output
    assert f"Applied: revision {before + 1}" in applied.stdout
    listed = run.invoke(app, ["revisions", *controller.flags()])
    first = listed.stdout.splitlines()[1]
    assert first.startswith(f"*{before + 1} ")
    assert first.endswith("db-1 to 90 A")
    journal = run.invoke(
        app, ["journal", "--since", "1 h", "--kind", "revision.applied", *controller.flags()]
    )
    assert journal.exit_code == 0, journal.output
    assert f"revision {before + 1} applied: db-1 to 90 A" in journal.stdout


def test_apply_without_yes_and_without_a_terminal_refuses(
    run: CliRunner, controller: Controller, tmp_path: Path
) -> None:
    before = _current(run, controller)
    result = run.invoke(
        app, ["apply", "-f", str(_changed_site(tmp_path, "70 A")), *controller.flags()]
    )
    assert result.exit_code == 2
    assert "--yes" in result.stderr
    assert _current(run, controller) == before


def test_a_stale_saved_plan_is_a_conflict(
    run: CliRunner, controller: Controller, tmp_path: Path
) -> None:
    saved = tmp_path / "plan.json"
    planned = run.invoke(
        app,
        [
            "plan",
            "-f",
            str(_changed_site(tmp_path, "60 A")),
            "--out",
            str(saved),
            *controller.flags(),
        ],
    )
    assert planned.exit_code == 0, planned.output
    base = json.loads(saved.read_text())["base_revision"]
    assert base == _current(run, controller)
    moved = run.invoke(
        app, ["apply", "-f", str(_changed_site(tmp_path, "50 A")), "--yes", *controller.flags()]
    )
    assert moved.exit_code == 0, moved.output
    stale = run.invoke(app, ["apply", str(saved), "--yes", *controller.flags()])
    assert stale.exit_code == 4, stale.output
    assert "plan" in stale.stderr and "409" in stale.stderr
    assert _current(run, controller) == base + 1


def test_the_read_only_token_cannot_apply(
    run: CliRunner, controller: Controller, tmp_path: Path
) -> None:
    before = _current(run, controller)
    result = run.invoke(
        app,
        [
            "apply",
            "-f",
            str(_changed_site(tmp_path, "75 A")),
            "--yes",
            *controller.flags("readonly"),
        ],
    )
    assert result.exit_code == 3
    assert "403 forbidden" in result.stderr
    assert "admin token" in result.stderr
    assert _current(run, controller) == before


def test_an_invalid_site_plans_to_its_diagnostics_and_exit_1(
    run: CliRunner, controller: Controller, tmp_path: Path
) -> None:
    invalid = _changed_site(tmp_path, "20 A")  # below the chargers' fallbacks
    result = run.invoke(app, ["plan", "-f", str(invalid), *controller.flags()])
    assert result.exit_code == 1, result.output
    assert "[electrical/fallback-exceeds-limit]" in result.stderr
    assert f"{invalid}:17:" in result.stderr


def test_explain_without_a_snapshot_asks_the_controller(
    run: CliRunner, controller: Controller
) -> None:
    result = run.invoke(app, ["explain", "chg-01/1", "--format", "json", *controller.flags()])
    assert result.exit_code == 0, result.output
    assert json.loads(result.stdout)["evse"]["id"] == "chg-01/1"
    unknown = run.invoke(app, ["explain", "chg-01/9", *controller.flags()])
    assert unknown.exit_code == 2
    assert 'did you mean "chg-01/1"' in unknown.stderr


def test_an_unreachable_controller_is_exit_3_naming_the_url(
    run: CliRunner, controller: Controller
) -> None:
    token = str(controller.state_dir / "tokens" / "admin.token")
    url = "http://127.0.0.1:1"
    result = run.invoke(app, ["status", "--server", url, "--token-file", token])
    assert result.exit_code == 3
    assert f"cannot reach the controller at {url}" in result.stderr
    assert "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_envelopes_submit_list_and_withdraw(run: CliRunner, controller: Controller) -> None:
    submitted = run.invoke(
        app,
        ["envelopes", "submit", "--id", "E-cli", "--target", "gc-main", "--limit", "50 kW",
         "--end", "2 h", *controller.flags()],
    )  # fmt: skip
    assert submitted.exit_code == 0, submitted.output
    listed = run.invoke(app, ["envelopes", "list", "--format", "json", *controller.flags()])
    envelope = next(e for e in json.loads(listed.stdout)["envelopes"] if e["id"] == "E-cli")
    assert (envelope["target"], envelope["limit"]) == ("gc-main", "50 kW")
    withdrawn = run.invoke(app, ["envelopes", "withdraw", "E-cli", *controller.flags()])
    assert withdrawn.exit_code == 0, withdrawn.output
    journal = run.invoke(
        app, ["journal", "--envelope", "E-cli", "--format", "json", *controller.flags()]
    )
    kinds = [entry["kind"] for entry in json.loads(journal.stdout)["entries"]]
    assert kinds[0] == "envelope.received"
    assert "envelope.withdrawn" in kinds


# Token files and secrets (issue 11)


def _shared_copy(controller: Controller, tmp_path: Path, mode: int) -> tuple[Path, str]:
    token = (controller.state_dir / "tokens" / "admin.token").read_text().strip()
    copy = tmp_path / "shared-admin.token"
    copy.write_text(token + "\n")
    copy.chmod(mode)
    return copy, token


@pytest.mark.parametrize("mode", [0o644, 0o640])
def test_a_token_file_open_to_others_is_refused_before_anything_is_sent(
    run: CliRunner, controller: Controller, tmp_path: Path, mode: int
) -> None:
    copy, token = _shared_copy(controller, tmp_path, mode)
    result = run.invoke(app, ["status", "--server", controller.api, "--token-file", str(copy)])
    assert result.exit_code == 3
    assert result.stderr.strip().splitlines() == [
        f"depotctl status: the token file {copy} is open to "
        f"{'group and others' if mode & 0o004 else 'its group'} (mode {mode:04o}); a token "
        f"grants the controller's API, so keep it private: chmod 600 {copy}"
    ]
    assert token not in result.output
    copy.chmod(0o600)
    assert (
        run.invoke(app, ["status", "--server", controller.api, "--token-file", str(copy)]).exit_code
        == 0
    )


def test_a_context_is_not_added_with_a_token_file_open_to_others(
    run: CliRunner, controller: Controller, tmp_path: Path
) -> None:
    copy, _ = _shared_copy(controller, tmp_path, 0o644)
    result = run.invoke(
        app, ["context", "add", "shared", "--server", controller.api, "--token-file", str(copy)]
    )
    assert result.exit_code == 3
    assert "chmod 600" in result.stderr
    assert not (tmp_path / "config.yaml").exists()


def test_a_site_with_a_secret_in_a_label_is_refused_by_the_controller_without_showing_it(
    run: CliRunner, controller: Controller, tmp_path: Path
) -> None:
    secret = "Zq8-label-secret-4711"
    site = tmp_path / "labelled.yaml"
    text = MINIMAL.read_text()
    site.write_text(
        text.replace(
            "  timezone: Australia/Sydney\n",
            f"  timezone: Australia/Sydney\n  labels: {{grafana_api_key: {secret}}}\n",
        )
    )
    for command in (["plan", "-f", str(site)], ["plan", "-f", str(site), "--format", "json"]):
        result = run.invoke(app, [*command, *controller.flags()])
        assert result.exit_code == 1, result.output
        assert "[secrets/inline-secret]" in result.stderr
        assert secret not in result.output
