"""``depotctl journal`` over real HTTP to the served app, its real SQLite store holding
a night of the AU bus depot (2,900 entries): a page says how many more there are and
how to get them, ``--all`` prints every entry once in time order, ``--since`` and
``--until`` in site time, ``--node``; times in the site's time with their offset."""

from __future__ import annotations

import json
import os
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from depotctl.cli.app import app
from depotctl.controller.store import NewJournalEntry
from tests.controller import test_inputs
from tests.controller.test_inputs import Depot
from tests.controller.test_journal import NIGHT_START, NORTH_CHARGERS
from tests.controller.test_journal import night as night

# the served app for the module, a fresh controller (its own store) per test
server = test_inputs.server
depot = test_inputs.depot

SYDNEY = ZoneInfo("Australia/Sydney")
SINCE = NIGHT_START.astimezone(SYDNEY).strftime("%Y-%m-%d %H:%M:%S")


@pytest.fixture
def journal(depot: Depot, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """The command's flags to reach the depot (a token file of its own)."""
    monkeypatch.setenv("DEPOTCTL_CONFIG", str(tmp_path / "config.yaml"))
    token = tmp_path / "admin.token"
    token.write_text(depot.tokens.admin)
    os.chmod(token, 0o600)
    return ["journal", "--server", depot.url, "--token-file", str(token)]


def invoke(*args: str) -> tuple[list[str], str]:
    result = CliRunner().invoke(app, list(args))
    assert result.exit_code == 0, (result.stdout, result.stderr)
    return result.stdout.splitlines(), result.stderr


def messages(lines: list[str]) -> list[str]:
    """Each line's message (``AT  KIND  MESSAGE``)."""
    return [line.split(maxsplit=3)[3] for line in lines]


def local(entry: NewJournalEntry) -> str:
    return entry.at.astimezone(SYDNEY).strftime("%Y-%m-%d %H:%M:%S+11:00")


def test_a_page_says_how_many_more_and_how_to_get_them(
    journal: list[str], night: list[NewJournalEntry]
) -> None:
    lines, stderr = invoke(*journal, "--since", SINCE)
    assert messages(lines) == [entry.message for entry in night[:200]]
    assert lines[0].startswith(local(night[0]) + "  ")  # site time, with its offset
    since = local(night[200])
    assert stderr == f'… 2,700 more: --all, or --since "{since}"\n'
    # that --since loses none of the rest (it repeats the ones of its second shown)
    after, _ = invoke(*journal, "--since", since, "--limit", "10000")
    assert messages(after)[-2700:] == [entry.message for entry in night[200:]]
    assert len(after) - 2700 == sum(local(e) == since for e in night[:200])


def test_all_prints_the_whole_night_once_in_time_order(
    journal: list[str], night: list[NewJournalEntry]
) -> None:
    lines, stderr = invoke(*journal, "--since", SINCE, "--all")
    assert messages(lines) == [entry.message for entry in night]
    assert stderr == ""


def test_since_and_until_in_site_time_for_one_evse(
    journal: list[str], night: list[NewJournalEntry]
) -> None:
    since, until = "2026-03-03 03:00", "2026-03-03 07:30"
    lines, stderr = invoke(*journal, "--evse", "dc-03/1", "--since", since, "--until", until)
    expected = [e for e in night if e.evse == "dc-03/1" and since <= local(e)[:16] < until]
    assert messages(lines) == [entry.message for entry in expected] and expected
    assert stderr == ""


def test_a_node_in_json_pages_with_its_cursor(
    journal: list[str], night: list[NewJournalEntry]
) -> None:
    expected = [
        e.message
        for e in night
        if (e.evse or e.data.get("charger") or "").split("/")[0] in NORTH_CHARGERS
        or "db-dc-north" in (e.data.get("target"), e.data.get("subject", {}).get("id"))
    ]
    out, stderr = invoke(*journal, "--node", "db-dc-north", "--limit", "50", "--format", "json")
    page = json.loads("\n".join(out))
    assert [e["message"] for e in page["entries"]] == expected[:50]
    assert page["remaining"] == len(expected) - 50 and page["next"]
    assert page["entries"][0]["at"].endswith("+00:00")  # UTC in JSON
    assert stderr.startswith(f"… {len(expected) - 50:,} more: --all, or --since ")


def test_flags_that_cannot_go_together_or_be_read_are_usage_errors(journal: list[str]) -> None:
    refusals = {
        ("--all", "--limit", "5"): "--all and --limit: give one",
        ("--follow", "--until", "2h"): "--follow and --until: --follow prints until Ctrl-C",
        ("--until", "half past two"): "--until: 'half past two' is not a time",
    }
    for flags, says in refusals.items():
        result = CliRunner().invoke(app, [*journal, *flags])
        assert (result.exit_code, says in result.stderr) == (2, True), result.stderr


def test_follow_prints_the_night_then_what_comes_until_ctrl_c(
    depot: Depot,
    journal: list[str],
    night: list[NewJournalEntry],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The first wait journals one more entry; the second is Ctrl-C."""
    waits: list[float] = []

    def wait(seconds: float) -> None:
        waits.append(seconds)
        if len(waits) > 1:
            raise KeyboardInterrupt
        later = NewJournalEntry(night[-1].at, "session.ended", "entry after", evse="dc-01/1")
        depot.controller.units().journal.record([later])

    monkeypatch.setattr("depotctl.cli.remote.journal.time.sleep", wait)
    lines, stderr = invoke(*journal, "--since", SINCE, "--follow")
    assert messages(lines) == [*(entry.message for entry in night), "entry after"]
    assert waits == [1.0, 1.0] and stderr == ""
