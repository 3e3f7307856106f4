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
         "--listen", "127.0.0.1:0", "--ocpp-listen", "127.0.0.1:0", "--oscp-listen", "127.0.0.1:0", "--shadow", *flags],
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


#: Every command against a controller, as text: the writes first (each prints what it
#: did, with its times), then every listing.
EVERY_COMMAND = [
    ["envelopes", "submit", "--id", "E-1", "--target", "gc-main", "--limit", "80.123456 kW",
     "--start", "now", "--end", "2h"],
    ["requirements", "submit", "bus-1", "--energy", "42.3351 kWh", "--departure", "06:00"],
    ["override", "cap", "chg-02/1", "12.5 A", "--yes"],
    ["override", "cap", "chg-02/1", "12.5 A", "--yes"],  # already: says since when
    ["status"],
    ["revisions"],
    ["journal"],
    ["journal", "--since", "8h"],
    ["journal", "--since", "yesterday 00:00"],
    ["explain", EVSE],
    ["override", "list"],
    ["chargers"],
    ["envelopes", "list"],
    ["requirements", "list"],
    ["plan", "-f", str(EXAMPLES / "minimal.yaml")],
    ["envelopes", "withdraw", "E-1"],
]  # fmt: skip
#: A time of day (not an offset's hours), and what may follow it: the site's offset.
CLOCK = re.compile(
    r"(?<![+\-\d:])\d{1,2}:\d{2}(?::\d{2})?(?P<rest>\.\d+)?(?P<offset>[+-]\d{2}:\d{2})?"
)
#: A figure with more than one decimal before a unit people read.
RAW_FIGURE = re.compile(r"\d\.\d{2,} ?(?:kWh|kW|A|%)\b")


def test_every_command_prints_site_times_with_their_offset_and_rounded_figures(
    controller: list[str],
) -> None:
    """No microseconds, no ISO ``T``, no time of day without its offset, every offset
    the site's (Sydney: +10:00 or +11:00), no figure with more than one decimal."""
    outputs = {}
    for command in EVERY_COMMAND:
        result = CliRunner().invoke(app, [*command, *controller])
        assert result.exit_code == 0, (command, result.output)
        outputs[" ".join(command)] = result.stdout
    assert "needs 42.3 kWh by " in outputs["requirements submit bus-1 --energy 42.3351 kWh "
                                           "--departure 06:00"]  # fmt: skip
    assert "capped at 12.5 A" in outputs["override list"]
    for command, text in outputs.items():
        clocks = list(CLOCK.finditer(text))
        assert clocks or command == "chargers", (command, text)  # no charger is down
        for clock in clocks:
            assert clock["rest"] is None, (command, clock[0], text)
            assert clock["offset"] in ("+10:00", "+11:00"), (command, clock[0], text)
        assert re.search(r"\d{4}-\d{2}-\d{2}T\d", text) is None, (command, text)
        assert RAW_FIGURE.search(text) is None, (command, text)


def test_json_keeps_times_in_utc_to_the_microsecond(controller: list[str]) -> None:
    result = CliRunner().invoke(app, ["journal", "--format", "json", *controller])
    assert result.exit_code == 0, result.output
    times = [datetime.fromisoformat(e["at"]) for e in json.loads(result.stdout)["entries"]]
    assert times and all(t.utcoffset() is not None and not t.utcoffset() for t in times)
    assert any(t.microsecond for t in times)  # exact, as the controller keeps them


def test_every_revision_is_signed_user_at_host(controller: list[str]) -> None:
    """The first revision (from ``serve --site``) and ``apply``'s are signed alike."""
    from depotctl.api.authors import local_author

    result = CliRunner().invoke(app, ["revisions", "--format", "json", *controller])
    assert result.exit_code == 0, result.output
    authors = {r["number"]: r["author"] for r in json.loads(result.stdout)["revisions"]}
    assert authors[1] == local_author() and "@" in authors[1]


@pytest.mark.parametrize(
    ("flags", "says"),
    [
        (["journal", "--since", "2026-04-05 02:30"],
         "--since: 2026-04-05 02:30 occurs twice in Australia/Sydney: 02:30+11:00 or "
         "02:30+10:00"),
        (["journal", "--since", "banana"], "--since: 'banana' is not a time depotctl reads"),
        (["requirements", "submit", "bus-1", "--energy", "60 kWh", "--departure", "8 hours"],
         '--departure: \'8 hours\': unknown unit "hours"'),
    ],
    ids=["fold", "not-a-time", "not-a-unit"],
)  # fmt: skip
def test_a_time_no_command_can_read_is_a_usage_error_saying_what_to_write(
    controller: list[str], flags: list[str], says: str
) -> None:
    result = CliRunner().invoke(app, [*flags, *controller])
    assert result.exit_code == 2, result.output
    assert says in result.stderr
