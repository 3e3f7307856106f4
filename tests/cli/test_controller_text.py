"""Text from the controller never reaches the terminal raw: an operator's name and
reason holding ANSI escapes, a CR, a BEL, a forged line and a bidi override — stored by
a controller from before they were refused — are printed escaped by every command that
shows them, and given back whole by ``--format json``."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from typer.testing import CliRunner

from depotctl.cli.app import app
from depotctl.controller.store import NewJournalEntry, Store, UnitOfWork
from depotctl.domain.overrides import EvseOverride
from tests.conftest import EXAMPLES

EVSE = "chg-01/1"
AUTHOR = "mallory\x1b]0;owned\x07\x1b[2J"
REASON = "cable\r\nEVSE chg-01/1 resumed by alice\u202etxt.exe\x9b31m"
#: Any character a terminal acts on, but the line breaks the CLI prints itself.
RAW = re.compile("[\x00-\x09\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")


def _serve(state_dir: Path, *flags: str) -> tuple[subprocess.Popen[bytes], str]:
    (state_dir / "endpoints.json").unlink(missing_ok=True)
    process = subprocess.Popen(
        [sys.executable, "-m", "depotctl", "serve", "--state-dir", str(state_dir),
         "--listen", "127.0.0.1:0", "--ocpp-listen", "127.0.0.1:0", "--shadow", *flags],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "NO_COLOR": "1"},
    )  # fmt: skip
    endpoints = state_dir / "endpoints.json"
    deadline = time.monotonic() + 60  # a hang, not a busy machine's slow start
    while not endpoints.exists():
        assert process.poll() is None, f"serve exited {process.returncode}"
        assert time.monotonic() < deadline, "serve wrote no endpoints.json"
        time.sleep(0.05)
    return process, json.loads(endpoints.read_text())["api"]


def _stop(process: subprocess.Popen[bytes]) -> None:
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=10)


@pytest.fixture(scope="module")
def controller(tmp_path_factory: pytest.TempPathFactory) -> Iterator[list[str]]:
    """A controller whose store holds a hostile override, journal entry and revision;
    the flags that reach it."""
    state_dir = tmp_path_factory.mktemp("controller")
    first, _ = _serve(state_dir, "--site", str(EXAMPLES / "minimal.yaml"))
    _stop(first)
    store = Store.open(state_dir / "depotctl.sqlite")
    try:
        at = datetime.now(UTC)
        UnitOfWork(store).revisions.rollback_to(
            1, author=AUTHOR, at=at, message=REASON
        )  # revision 2: the same site
        UnitOfWork(store).overrides.put(EvseOverride(EVSE, True, None, at, AUTHOR, REASON))
        UnitOfWork(store).journal.record(
            [NewJournalEntry(at, "override.set", f"{EVSE} paused by {AUTHOR}: {REASON}", EVSE)]
        )
    finally:
        store.close()
    process, api = _serve(state_dir)
    try:
        token = state_dir / "tokens" / "admin.token"
        with httpx.Client(base_url=api + "/api/v1", timeout=10) as client:
            created = client.post(
                "/sessions",
                json={"id": "bus-1", "evse": EVSE},
                headers={"Authorization": f"Bearer {token.read_text().strip()}"},
            )
            assert created.status_code == 201, created.text
        yield ["--server", api, "--token-file", str(token)]
    finally:
        _stop(process)


@pytest.mark.parametrize(
    "command",
    [
        ["override", "list"],
        ["journal", "--evse", EVSE],
        ["explain", EVSE],
        ["status"],
        ["revisions"],
    ],
    ids=["override-list", "journal", "explain", "status", "revisions"],
)
def test_every_command_prints_the_operators_text_escaped(
    controller: list[str], command: list[str]
) -> None:
    result = CliRunner().invoke(app, [*command, *controller])
    assert result.exit_code == 0, result.output
    shown = result.stdout + result.stderr
    assert RAW.search(shown) is None, repr(shown)
    assert "mallory\\x1b]0;owned\\x07" in shown


def test_json_gives_the_text_back_whole_with_nothing_raw(controller: list[str]) -> None:
    result = CliRunner().invoke(app, ["override", "list", "--format", "json", *controller])
    assert result.exit_code == 0, result.output
    assert RAW.search(result.stdout) is None
    [override] = json.loads(result.stdout)["overrides"]
    assert (override["author"], override["reason"]) == (AUTHOR, REASON)
