"""``depotctl override`` against a real ``depotctl serve`` process (the minimal site,
a vehicle on each of its two EVSEs): pause, cap, resume and list, the confirmation,
the journal, and the exit codes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from depotctl.cli.app import app
from depotctl.cli.remote import terminal
from tests.cli.test_remote import Controller
from tests.cli.test_remote import controller as remote_controller  # noqa: F401  (a fixture)
from tests.cli.test_remote import run as remote_run  # noqa: F401  (a fixture)

EVSE = "chg-01/1"


def api(controller: Controller) -> httpx.Client:
    token = (controller.state_dir / "tokens" / "admin.token").read_text().strip()
    return httpx.Client(
        base_url=controller.api + "/api/v1",
        headers={"Authorization": f"Bearer {token}"},
        timeout=10,
    )


@pytest.fixture(scope="module")
def controller(remote_controller: Controller) -> Controller:  # noqa: F811
    """test_remote's controller (its own process for this module), a vehicle on each
    EVSE."""
    with api(remote_controller) as client:
        for n, evse in enumerate(("chg-01/1", "chg-02/1"), start=1):
            response = client.post("/sessions", json={"id": f"bus-{n}", "evse": evse})
            assert response.status_code == 201, response.text
    return remote_controller


@pytest.fixture
def run(remote_run: CliRunner, controller: Controller) -> Iterator[CliRunner]:  # noqa: F811
    """A runner; every override is cleared after the test."""
    yield remote_run
    with api(controller) as client:
        for override in client.get("/overrides").json()["overrides"]:
            client.delete(f"/evses/{override['evse'].replace('/', '%2F')}/override")


def override(run: CliRunner, controller: Controller, *args: str, token: str = "admin") -> Any:
    return run.invoke(app, ["override", *args, *controller.flags(token)])


def listed(run: CliRunner, controller: Controller) -> dict[str, Any]:
    result = override(run, controller, "list", "--format", "json")
    assert result.exit_code == 0, result.output
    return {o["evse"]: o for o in json.loads(result.stdout)["overrides"]}


def test_pause_with_yes_pauses_journals_and_explains(
    run: CliRunner, controller: Controller
) -> None:
    result = override(run, controller, "pause", EVSE, "--reason", "cable damaged", "--yes")

    assert result.exit_code == 0, result.output
    author = terminal.author()
    assert result.stdout.startswith(f'EVSE {EVSE} paused by {author}: "cable damaged"; ')
    assert "its limit is now 0.0 A (paused: paused by operator" in result.stdout
    held = listed(run, controller)[EVSE]
    assert (held["paused"], held["reason"], held["author"]) == (True, "cable damaged", author)
    assert held["allocation"]["limit_a"] == 0.0
    journal = run.invoke(
        app, ["journal", "--evse", EVSE, "--kind", "override.set", "--format", "json",
              *controller.flags()],
    )  # fmt: skip
    assert journal.exit_code == 0, journal.output
    [entry] = json.loads(journal.stdout)["entries"]
    assert entry["data"]["reason"] == "cable damaged" and entry["data"]["author"] == author
    explained = run.invoke(app, ["explain", EVSE, "--format", "json", *controller.flags()])
    evse = json.loads(explained.stdout)["evse"]
    assert evse["binding"]["kind"] == "operator_override" and evse["override"]["paused"]


def test_pausing_again_changes_nothing_and_says_so(run: CliRunner, controller: Controller) -> None:
    assert override(run, controller, "pause", EVSE, "--yes").exit_code == 0
    again = override(run, controller, "pause", EVSE, "--yes")
    assert again.exit_code == 0, again.output
    assert f"EVSE {EVSE} is already paused" in again.stdout and "nothing changed" in again.stdout


def test_cap_as_json_then_list_as_text(run: CliRunner, controller: Controller) -> None:
    result = override(run, controller, "cap", EVSE, "16A", "--yes", "--format", "json")

    assert result.exit_code == 0, result.output
    body = json.loads(result.stdout)
    assert body["override"]["cap"] == "16 A" and body["changed"] is True
    assert body["allocation"]["limit_a"] == 16.0
    assert body["allocation"]["binding"]["kind"] == "operator_override"
    text = override(run, controller, "list")
    assert text.exit_code == 0, text.output
    assert text.stdout.splitlines()[0].split() == [
        "EVSE", "override", "limit", "now", "by", "since", "reason",
    ]  # fmt: skip
    assert f"{EVSE}  capped at 16.0 A  16.0 A (charging)" in text.stdout
    bare = run.invoke(app, ["override", *controller.flags()])  # list is the default
    assert bare.exit_code == 0 and bare.stdout == text.stdout


def test_resume_clears_it_and_a_second_resume_has_nothing_to_do(
    run: CliRunner, controller: Controller
) -> None:
    assert override(run, controller, "pause", EVSE, "--yes").exit_code == 0

    resumed = override(run, controller, "resume", EVSE, "--yes")

    assert resumed.exit_code == 0, resumed.output
    assert resumed.stdout.startswith(f"EVSE {EVSE} resumed; its limit is now ")
    assert "(charging:" in resumed.stdout
    assert listed(run, controller) == {}
    again = override(run, controller, "resume", EVSE)  # nothing to ask about
    assert again.exit_code == 0, again.output
    assert again.stdout == f"EVSE {EVSE} has no override: nothing to resume\n"


def test_on_an_idle_evse_pause_and_resume_say_what_a_vehicle_plugging_in_gets(
    run: CliRunner, controller: Controller
) -> None:
    idle = "chg-02/1"
    with api(controller) as client:
        ended = client.post("/sessions/bus-2/end", json={})
        assert ended.status_code == 200, ended.text
    try:
        paused = override(run, controller, "pause", idle, "--yes")
        assert paused.exit_code == 0, paused.output
        assert paused.stdout.startswith(
            f"EVSE {idle} paused by {terminal.author()}; it is idle: a vehicle plugging "
            "in may start at up to 0.0 A: paused by operator ("
        )
        assert paused.stdout.endswith("; the override holds for its session too\n")

        resumed = override(run, controller, "resume", idle, "--yes")

        assert resumed.exit_code == 0, resumed.output
        assert resumed.stdout == (
            f"EVSE {idle} resumed; it is idle: a vehicle plugging in may start at up to "
            "16.0 A (its fallback); the allocator decides its limit from the next control "
            "cycle\n"
        )
        assert "0.0 A" not in resumed.stdout and "next session" not in resumed.stdout
    finally:
        with api(controller) as client:
            again = client.post("/sessions", json={"id": "bus-2-again", "evse": idle})
            assert again.status_code == 201, again.text


def test_without_yes_and_without_a_terminal_nothing_is_asked_or_changed(
    run: CliRunner, controller: Controller
) -> None:
    for args in (("pause", EVSE), ("cap", EVSE, "10 A")):
        result = override(run, controller, *args)
        assert result.exit_code == 2, result.output
        assert result.stderr.count("\n") == 1 and "pass --yes" in result.stderr
    assert listed(run, controller) == {}
    assert override(run, controller, "pause", EVSE, "--yes").exit_code == 0
    refused = override(run, controller, "resume", EVSE)
    assert refused.exit_code == 2 and "pass --yes" in refused.stderr
    assert EVSE in listed(run, controller)


def test_on_a_terminal_the_question_names_the_evse_and_its_state(
    run: CliRunner, controller: Controller, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(terminal, "interactive", lambda: True)

    declined = run.invoke(app, ["override", "pause", EVSE, *controller.flags()], input="n\n")

    assert declined.exit_code == 0 and "cancelled" in declined.stderr
    assert f"Pause EVSE {EVSE} (charging at " in declined.stdout
    assert listed(run, controller) == {}
    accepted = run.invoke(app, ["override", "cap", EVSE, "12 A", *controller.flags()], input="y\n")
    assert accepted.exit_code == 0, accepted.output
    assert f"Cap at 12 A EVSE {EVSE} (charging at " in accepted.stdout
    assert listed(run, controller)[EVSE]["cap"] == "12 A"
    resume = run.invoke(app, ["override", "resume", EVSE, *controller.flags()], input="y\n")
    assert resume.exit_code == 0, resume.output
    assert f"Resume EVSE {EVSE} (capped at 12.0 A by " in resume.stdout


@pytest.mark.parametrize(
    ("args", "words"),
    [
        (("cap", EVSE, "16", "--yes"), "has no unit"),
        (("cap", EVSE, "16 kW", "--yes"), "a power"),
        (("cap", EVSE, "1e306 kA", "--yes"), "out of range"),  # the API's own grammar
        (("cap", EVSE, "100001 A", "--yes"), "out of range"),
        (("cap", EVSE, "１６ A", "--yes"), "not one of 0-9"),
        (("cap", EVSE, " 16 A", "--yes"), "spaces around it"),
        (("pause", "chg-1/1", "--yes"), 'did you mean "chg-01/1"'),
        (("resume", "chg-01/9", "--yes"), 'did you mean "chg-01/1"'),
    ],
)
def test_usage_errors_are_exit_2_in_one_line(
    run: CliRunner, controller: Controller, args: tuple[str, ...], words: str
) -> None:
    result = override(run, controller, *args)
    assert result.exit_code == 2, result.output
    assert words in result.stderr and result.stderr.startswith("depotctl override ")
    assert listed(run, controller) == {}


def test_the_read_only_token_may_list_but_not_pause(run: CliRunner, controller: Controller) -> None:
    result = override(run, controller, "pause", EVSE, "--yes", token="readonly")
    assert result.exit_code == 3
    assert "403 forbidden" in result.stderr and "admin token" in result.stderr
    assert override(run, controller, "list", token="readonly").exit_code == 0
    assert listed(run, controller) == {}
