"""``explain --at``, ``allocate --at`` and ``snapshot export --at`` against a real
controller's HTTP API (served in-process over a real socket) after a recorded night:
the past marked as the past, the decision the cycle made then, the journal's decisions
for instants older than the inputs kept, and the API's refusals."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx
import pytest
from typer.testing import CliRunner

from depotctl.cli.app import app
from depotctl.controller.app import create_app
from depotctl.controller.auth import load_or_create_tokens
from depotctl.controller.service import Controller, LiveState
from depotctl.domain.sessions import EnergyRequirement, Session
from tests.controller.test_app import serving
from tests.controller.test_time_travel import Night, a_recorded_night, controller_of


@dataclass
class Served:
    controller: Controller
    night: Night
    api: str
    token: str
    flags: list[str]

    def cycle(self, n: int) -> LiveState:
        return self.night.cycles[n]


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    state_dir = tmp_path_factory.mktemp("controller")
    controller = controller_of(state_dir)
    night = a_recorded_night(controller)
    tokens = load_or_create_tokens(state_dir)
    token_file = state_dir / "tokens" / "readonly.token"
    with serving(create_app(controller, tokens)) as url:
        flags = ["--server", url, "--token-file", str(token_file)]
        yield Served(controller, night, url, tokens.readonly, flags)
    controller.close()


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("DEPOTCTL_CONFIG", str(tmp_path / "config.yaml"))
    monkeypatch.setenv("NO_COLOR", "1")
    monkeypatch.delenv("DEPOTCTL_CONTEXT", raising=False)
    return CliRunner()


def get(served: Served, path: str, **params: str) -> httpx.Response:
    headers = {"Authorization": f"Bearer {served.token}"}
    return httpx.get(served.api + path, params=params, headers=headers, timeout=30)


def test_explain_at_gives_the_cycles_decision_marked_as_the_past(
    run: CliRunner, served: Served
) -> None:
    cycle = next(c for c in served.night.cycles if c.snapshot.plan_notes)
    evse = "chg-01/1"
    asked = cycle.snapshot.at + timedelta(milliseconds=400)
    result = run.invoke(
        app, ["explain", evse, "--at", asked.isoformat(), "--format", "json", *served.flags]
    )
    assert result.exit_code == 0, result.output
    explained = json.loads(result.stdout)
    assert explained["past"]["source"] == "recorded_inputs"
    assert datetime.fromisoformat(explained["past"]["cycle_at"]) == cycle.snapshot.at
    view = cycle.allocation.evses[evse]
    assert explained["evse"]["limit_a"] == view.limit_a
    assert explained["evse"]["binding"]["kind"] == view.binding.kind.value

    # site time, read by the one parser: 18:05:06 in Sydney is 07:05:06 UTC
    local = cycle.snapshot.at.astimezone(ZoneInfo(cycle.snapshot.topology.timezone))
    text = run.invoke(
        app, ["explain", evse, "--at", local.strftime("%Y-%m-%d %H:%M:%S.%f"), *served.flags]
    )
    assert text.exit_code == 0, text.output
    first = text.stdout.splitlines()[0]
    assert first.startswith(f"as at {local.strftime('%Y-%m-%d %H:%M:%S')}+11:00")
    assert first.endswith("recomputed from the recorded inputs")
    assert "deferred" in text.stdout  # the plan's words, as the cycle had them
    assert "), as it was then" in text.stdout and "), live" not in text.stdout


def test_allocate_at_lists_every_evse_as_the_cycle_decided(run: CliRunner, served: Served) -> None:
    cycle = served.cycle(len(served.night.cycles) // 3)
    result = run.invoke(app, ["allocate", "--at", cycle.snapshot.at.isoformat(), *served.flags])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    assert "recomputed from the recorded inputs" in lines[0]
    for evse_id, limit in cycle.allocation.limits_a.items():
        [line] = [line for line in lines if line.strip().startswith(evse_id + " ")]
        assert f"{limit:.1f} A" in line
    as_json = run.invoke(
        app, ["allocate", "--at", cycle.snapshot.at.isoformat(), "--format", "json", *served.flags]
    )
    assert as_json.exit_code == 0, as_json.output
    state = json.loads(as_json.stdout)
    assert {e["id"]: e["limit_a"] for e in state["evses"]} == dict(cycle.allocation.limits_a)
    # a snapshot file and --at are two different questions
    both = run.invoke(app, ["allocate", "--at", "1h", "--snapshot", "x.yaml", *served.flags])
    assert both.exit_code == 2 and "drop --snapshot" in both.stderr


def test_snapshot_export_at_embeds_the_state_of_then(
    run: CliRunner, served: Served, tmp_path: Path
) -> None:
    cycle = served.cycle(10)
    out = tmp_path / "then.json"
    result = run.invoke(
        app,
        [
            "snapshot", "export", "--at", cycle.snapshot.at.isoformat(), "--format", "json",
            "--out", str(out), *served.flags,
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    document = json.loads(out.read_text())
    assert datetime.fromisoformat(document["at"]) == cycle.snapshot.at
    assert {s["id"] for s in document["sessions"]} == {s.id for s in cycle.snapshot.sessions}


def test_the_api_refuses_what_is_no_instant_and_says_how_far_the_inputs_go_back(
    served: Served,
) -> None:
    naive = get(served, "/api/v1/state", at="2026-03-02 18:00")
    assert naive.status_code == 400 and "with its offset" in naive.json()["message"]
    before = served.cycle(0).snapshot.at - timedelta(hours=1)
    gone = get(served, "/api/v1/explain/chg-01%2F1", at=before.isoformat())
    assert gone.status_code == 404 and gone.json()["code"] == "inputs_not_kept"
    assert "/api/v1/decisions" in gone.json()["message"]
    unknown = get(served, "/api/v1/explain/chg-09%2F1", at=served.cycle(3).snapshot.at.isoformat())
    assert unknown.status_code == 404 and unknown.json()["code"] == "not_found"


def test_older_than_the_inputs_kept_the_journal_answers_and_says_so(
    run: CliRunner, tmp_path: Path
) -> None:
    controller = controller_of(tmp_path)
    night = a_recorded_night(controller, keyframe_every=4)
    late = night.cycles[-1].snapshot.at
    controller.units().cycle_inputs.prune(before=late)
    asked = night.cycles[len(night.cycles) // 2].snapshot.at
    decided = _journaled(controller, asked)
    assert decided
    binding = _journaled_binding(controller, asked)
    tokens = load_or_create_tokens(tmp_path)
    flags = ["--token-file", str(tmp_path / "tokens" / "readonly.token")]
    with serving(create_app(controller, tokens)) as url:
        result = run.invoke(app, ["explain", "chg-02/1", "--at", asked.isoformat(),
                                  "--server", url, *flags])  # fmt: skip
        listing = run.invoke(app, ["allocate", "--at", asked.isoformat(), "--server", url, *flags])
        export = run.invoke(
            app, ["snapshot", "export", "--at", asked.isoformat(), "--server", url, *flags]
        )
    controller.close()
    assert result.exit_code == 0, result.output
    first, *rest = result.stdout.splitlines()
    assert "from the journal's decisions (inputs older than the retention" in first
    line, *source = rest
    assert line.strip().startswith(f"chg-02/1  {decided['chg-02/1']:.1f} A  since ")
    # where the journaled binding comes from, at the revision then in force
    unsourced = ("no_session", "command_pending", "uncontrollable", "energy_satisfied")
    assert len(source) == (0 if binding in unsourced else 1), (binding, source)
    assert all(s.startswith("    source  ") and "site revision 1" in s for s in source), source
    assert binding != "envelope" or source == [
        "    source  envelope E-cut from source local (posted through the API; site revision 1 "
        "declares no such source)"
    ]
    assert listing.exit_code == 0, listing.output
    listed = listing.stdout.splitlines()
    assert len([line for line in listed if not line.startswith("    source  ")]) == 1 + len(decided)
    # a snapshot needs the inputs: refused, naming how far back they go
    assert export.exit_code == 2 and "404 inputs_not_kept" in export.stderr
    assert "the recorded inputs go back to" in export.stderr


def _journaled(controller: Controller, at: datetime) -> dict[str, float]:
    from depotctl.controller.store import JournalKind

    entries = controller.units().journal.entries(
        kind=JournalKind.ALLOCATION_CHANGED, until=at + timedelta(microseconds=1)
    )
    return {e.evse: e.data["limit_a"] for e in entries if e.evse is not None}


@dataclass
class Moved:
    """bus-42's night: on chg-01/1, then away, then on chg-02/1 (still there)."""

    served: Served
    first: datetime  # on chg-01/1
    between: datetime  # plugged in nowhere
    second: datetime  # on chg-02/1
    left: datetime  # when it left chg-01/1


@pytest.fixture(scope="module")
def moved(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Moved]:
    state_dir = tmp_path_factory.mktemp("moved")
    controller = controller_of(state_dir)
    night = Night(controller, keyframe_every=4)
    sessions = controller.units().sessions
    night.step(5)
    need = EnergyRequirement(30_000.0, night.now() + timedelta(hours=10))
    sessions.put(Session("S-1", "chg-01/1", night.now(), requirement=need, vehicle_id="bus-42"))
    night.step(60)
    first = night.now() + timedelta(seconds=30)
    night.step(60)
    left = night.now()
    sessions.end("S-1", at=left, energy_delivered_wh=2_000.0)
    night.step(60)
    between = night.now() + timedelta(seconds=30)
    night.step(60)
    sessions.put(Session("S-2", "chg-02/1", night.now(), requirement=need, vehicle_id="bus-42"))
    night.step(60)
    second = night.now() + timedelta(seconds=30)
    night.step(60)
    tokens = load_or_create_tokens(state_dir)
    token_file = state_dir / "tokens" / "readonly.token"
    with serving(create_app(controller, tokens)) as url:
        flags = ["--server", url, "--token-file", str(token_file)]
        yield Moved(
            Served(controller, night, url, tokens.readonly, flags), first, between, second, left
        )
    controller.close()


def _cycle_before(served: Served, at: datetime) -> LiveState:
    return [c for c in served.night.cycles if c.snapshot.at <= at][-1]


@pytest.mark.parametrize(
    ("when", "evse", "session"), [("first", "chg-01/1", "S-1"), ("second", "chg-02/1", "S-2")]
)
def test_a_vehicle_at_an_instant_is_the_evse_it_was_plugged_in_on_then(
    run: CliRunner, moved: Moved, when: str, evse: str, session: str
) -> None:
    served, at = moved.served, getattr(moved, when)
    local = at.astimezone(ZoneInfo("Australia/Sydney"))
    answer = run.invoke(
        app, ["explain", "bus-42", "--at", at.isoformat(), "--format", "json", *served.flags]
    )
    assert answer.exit_code == 0, answer.output
    explained = json.loads(answer.stdout)
    assert explained["evse"]["id"] == evse and explained["evse"]["session_id"] == session
    assert explained["evse"]["limit_a"] == _cycle_before(served, at).allocation.evses[evse].limit_a
    stay = explained["past"]["vehicle"]
    assert (stay["vehicle"], stay["session"], stay["evse"]) == ("bus-42", session, evse)
    assert (stay["end"] is None) == (session == "S-2")
    # as people ask it: the time of day alone, the latest such time before now
    text = run.invoke(app, ["explain", "BUS-42", "--at", local.strftime("%H:%M:%S"), *served.flags])
    assert text.exit_code == 0, text.output
    read, heading, where, *_ = text.stdout.splitlines()
    assert read.startswith(
        f'"{local:%H:%M:%S}" read as {local:%Y-%m-%d %H:%M:%S}+11:00, the latest at or before now'
    )
    assert heading.startswith(f"as at {local:%Y-%m-%d %H:%M:%S}+11:00 (the control cycle of ")
    assert where.startswith(
        f"bus-42 was on {evse} then: session {session}, plugged in 2026-03-02 18:"
    )
    assert where.endswith(
        "still plugged in"
        if session == "S-2"
        else f"left {moved.left.astimezone(local.tzinfo):%Y-%m-%d %H:%M:%S}+11:00"
    )
    assert f"EVSE {evse} on charger" in text.stdout and "(vehicle bus-42)" in text.stdout
    # and where its binding limit comes from: the line of the site that sets it
    source = explained["binding_source"]  # the planner's, which this site sets in code
    assert explained["evse"]["binding"]["kind"] == "planned_rate"
    assert (
        source["text"]
        == "the horizon planner's plan (planner:), not set in site revision 1: its default"
    )
    assert f"\n  source   {source['text']}\n" in text.stdout


def test_a_vehicle_between_sessions_is_refused_naming_where_it_was(
    run: CliRunner, moved: Moved
) -> None:
    served = moved.served
    zone = ZoneInfo("Australia/Sydney")
    result = run.invoke(
        app, ["explain", "bus-42", "--at", moved.between.isoformat(), *served.flags]
    )
    assert result.exit_code == 2 and result.stdout == ""
    said = " ".join(result.stderr.split())
    asked = moved.between.astimezone(zone)
    assert (
        f"404 not_plugged_in: vehicle bus-42 was not plugged in at {asked:%Y-%m-%d %H:%M:%S}+11:00; it was on chg-01/1 from 2026-03-02 18:"
        in said
    )
    assert (
        f"to {moved.left.astimezone(zone):%Y-%m-%d %H:%M:%S}+11:00, then on chg-02/1 from 2026-03-02 18:"
        in said
    )
    assert ", still plugged in. Ask about an instant within one of those stays" in said
    # now, bus-42 is on chg-02/1
    live = run.invoke(app, ["explain", "bus-42", "--format", "json", *served.flags])
    assert live.exit_code == 0 and json.loads(live.stdout)["evse"]["id"] == "chg-02/1"
    # the same clock time a minute ahead of now is yesterday's: no session within a day
    ahead = (served.night.now() + timedelta(minutes=1)).astimezone(zone)
    gone = run.invoke(app, ["explain", "bus-42", "--at", f"{ahead:%H:%M}", *served.flags])
    assert gone.exit_code == 2
    said = " ".join(gone.stderr.split())
    yesterday = (ahead - timedelta(days=1)).replace(second=0, microsecond=0)
    assert (
        f"not_plugged_in: vehicle bus-42 was not plugged in at {yesterday:%Y-%m-%d %H:%M:%S}+11:00"
        in said
    )
    nobody = run.invoke(app, ["explain", "bus-99", "--at", moved.first.isoformat(), *served.flags])
    assert nobody.exit_code == 2
    assert (
        'site minimal-depot has no EVSE "bus-99", and no vehicle "bus-99" charged within 24 hours'
        in " ".join(nobody.stderr.split())
    )
    assert 'did you mean "bus-42"?' in nobody.stderr


def _journaled_binding(controller: Controller, at: datetime) -> str:
    from depotctl.controller.store import JournalKind

    entries = controller.units().journal.entries(
        kind=JournalKind.ALLOCATION_CHANGED, evse="chg-02/1", until=at + timedelta(microseconds=1)
    )
    return str(entries[-1].data["binding"]["kind"])
