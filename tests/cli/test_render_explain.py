"""``depotctl explain``'s text, the same offline and live: from the explain JSON, and
against a real controller (the app on uvicorn on loopback, a real SQLite store, a
paused simulated clock) whose state is exported as a snapshot and explained offline
— the reviewer's night, where a stale workshop meter sat under the full envelope."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from depotctl.cli import app as cli
from depotctl.cli.render_explain import explain_text
from depotctl.config import load_snapshot
from depotctl.controller.app import create_app
from depotctl.controller.auth import load_or_create_tokens
from depotctl.controller.clock import SimClock
from depotctl.controller.service import Controller
from depotctl.controller.store import Store
from depotctl.domain.chargers import ChargerState, CommandOutcome
from depotctl.domain.envelopes import Direction, Envelope, LimitUnit
from depotctl.domain.sessions import EnergyRequirement, Session
from depotctl.domain.telemetry import Reading
from depotctl.engine import allocate
from depotctl.views import Origin, explain_json
from tests.controller.test_app import AU_DEPOT, Running, serving

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 20:00 in Sydney
#: (EVSE, priority class, hours to departure, kWh still needed): two classes, and in
#: class 0 one bus so short of time that it is urgent
BUSES = (
    ("dc-01/1", 0, 8.0, 120.0),
    ("dc-02/1", 0, 1.5, 250.0),
    ("dc-03/1", 1, 8.0, 120.0),
    ("dc-13/1", 1, 9.0, 150.0),
    ("dc-14/1", 0, 6.0, 150.0),
    ("dc-07/1", 0, 8.0, 120.0),
)
EXPLAINED = ("dc-01/1", "dc-02/1", "dc-03/1", "dc-13/1", "dc-07/1", "dc-20/1")


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The AU bus depot at 20:00: the DNSP's 600 kW envelope in force, the workshop
    meter silent for 8 minutes (its 60 kW fallback reserved), dc-07 offline."""
    state_dir = tmp_path_factory.mktemp("state")
    clock = SimClock(START, monotonic=lambda: 0.0)
    controller = Controller(
        Store.open(state_dir / "depotctl.sqlite"), clock, base_dir=AU_DEPOT.parent
    )
    controller.seed(AU_DEPOT, AU_DEPOT.read_text(encoding="utf-8"), author="test")
    store = controller.units()
    for n, (evse_id, priority_class, hours, kwh) in enumerate(BUSES, start=1):
        store.sessions.put(
            Session(
                id=f"S-{n}",
                evse_id=evse_id,
                started=START - timedelta(minutes=40),
                energy_delivered_wh=10_000.0,
                requirement=EnergyRequirement((kwh + 10) * 1000, START + timedelta(hours=hours)),
                priority_class=priority_class,
            )
        )
    store.sources.heard_from("ausgrid-oscp", START - timedelta(seconds=10))
    store.envelopes.put(
        Envelope(
            id="E-17",
            source="ausgrid-oscp",
            target="gc-main",
            direction=Direction.IMPORT,
            limit=600_000.0,
            unit=LimitUnit.W,
            start=START - timedelta(hours=1),
            end=START + timedelta(hours=3),
            received_at=START - timedelta(hours=2),
        )
    )
    store.telemetry.put([Reading("workshop", START - timedelta(minutes=8), power_w=12_000.0)])
    store.chargers.put([ChargerState("dc-07", online=False, last_outcome=CommandOutcome.OFFLINE)])
    with serving(create_app(controller, load_or_create_tokens(state_dir))) as url:
        yield Running(url, load_or_create_tokens(state_dir), clock, controller)
    controller.close()


@pytest.fixture(scope="module")
def exported(night: Running, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The controller's state as a snapshot file, written by ``snapshot export``."""
    out = tmp_path_factory.mktemp("export") / "night.yaml"
    result = CliRunner().invoke(cli, ["snapshot", "export", *_flags(night), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return out


def _flags(night: Running) -> list[str]:
    token_file = Path(night.controller.store.path).parent / "tokens" / "readonly.token"
    return ["--server", night.url, "--token-file", str(token_file)]


def _body(text: str) -> list[str]:
    """The lines from ``EVSE …`` on: what does not depend on where the state came from."""
    lines = text.splitlines()
    return lines[next(i for i, line in enumerate(lines) if line.startswith("EVSE ")) :]


@pytest.mark.parametrize("evse_id", EXPLAINED)
def test_live_and_offline_explain_print_the_same_lines(
    night: Running, exported: Path, evse_id: str
) -> None:
    live = CliRunner().invoke(cli, ["explain", evse_id, *_flags(night)])
    offline = CliRunner().invoke(cli, ["explain", evse_id, "--snapshot", str(exported)])

    assert live.exit_code == 0, live.output
    assert offline.exit_code == 0, offline.output
    # the controller also says where the binding limit comes from (its revision's line)
    sources = [line for line in _body(live.stdout) if line.startswith("  source   ")]
    binding = next(line for line in _body(live.stdout) if line.startswith("  binding  "))
    unsourced = ("no session", "uncontrollable", "command pending", "energy satisfied")
    assert len(sources) == (0 if any(kind in binding for kind in unsourced) else 1), binding
    assert [line for line in _body(live.stdout) if line not in sources] == _body(offline.stdout)
    assert live.stdout.splitlines()[1].endswith(", live")
    assert offline.stdout.splitlines()[2] == f"  snapshot  {exported}"


def test_the_reviewers_night_names_the_envelope_and_the_tiers_that_decided(
    night: Running,
) -> None:
    """Under the full envelope (570 kW effective, 60 kW of it the stale workshop's
    fallback and 150 kW the offline dc-07), class 0 charges and class 1 pauses: the
    kind names E-17, not the stale meter, which the detail names; the priority line
    says which tier each bus was served in."""
    lines = {
        evse_id: _body(CliRunner().invoke(cli, ["explain", evse_id, *_flags(night)]).stdout)
        for evse_id in EXPLAINED
    }

    def line(evse_id: str, label: str) -> str:
        return next(li for li in lines[evse_id] if li.startswith(f"  {label} "))

    def detail(evse_id: str) -> str:
        return lines[evse_id][lines[evse_id].index(line(evse_id, "binding")) + 1].strip()

    assert line("dc-01/1", "binding").split(None, 1)[1] == "envelope E-17"
    assert detail("dc-01/1").startswith(
        "gc-main import power is full: 570.0 kW effective (envelope E-17), 210.0 kW of it "
        "reserved for other load (site load 60.0 kW with stale telemetry, counted at its "
        "fallback: the last reading of workshop is 8 min old; uncontrollable chargers are "
        "assumed to draw 150.0 kW)"
    )
    for evse_id in ("dc-03/1", "dc-13/1"):
        assert line(evse_id, "state").startswith("  state    paused")
        assert line(evse_id, "binding").split(None, 1)[1] == "min current admission gc-main"
        assert detail(evse_id).startswith(
            "no room for the minimum 6.0 A at gc-main import power, 570.0 kW effective "
            "(envelope E-17)"
        )
        assert "the last reading of workshop is 8 min old" in detail(evse_id)
        assert line(evse_id, "priority").startswith("  priority class 1, not urgent: laxity ")
    assert line("dc-01/1", "priority").startswith("  priority class 0, not urgent: laxity ")
    assert line("dc-02/1", "priority") == (
        "  priority class 0, urgent: laxity −10 min (urgent under 45 min); even at full rate "
        "it cannot have all it needs by its departure"
    )
    # an idle EVSE and an uncontrollable one have no session asking for power
    assert not any(li.startswith("  priority") for li in lines["dc-20/1"] + lines["dc-07/1"])


def test_the_live_json_adds_the_path_and_priority_to_the_existing_fields(
    night: Running, exported: Path
) -> None:
    with night.client("readonly") as client:
        live = client.get("/api/v1/explain/dc-02%2F1").json()["evse"]
    contract = {"id", "charger", "parent", "limit_a", "limit_kw", "state", "binding"}
    assert contract | {"session_id", "tier", "candidates"} <= set(live)
    assert [node["id"] for node in live["path"]] == ["dc-02", "row-1", "db-dc-north", "gc-main"]
    assert live["path"][0] == {"id": "dc-02", "type": "charger", "phases": 3}
    priority = live["priority"]
    assert (priority["class"], priority["urgent"], live["tier"]) == (0, True, 0)
    assert priority["laxity_s"] == -600.0 and priority["urgency_threshold_s"] == 2700.0
    assert priority["text"].startswith("class 0, urgent: laxity −")
    # offline, from the export, the same object
    loaded = load_snapshot(exported)
    assert loaded.snapshot is not None
    offline = explain_json(loaded.snapshot, allocate(loaded.snapshot), "dc-02/1", Origin())["evse"]
    assert offline == live


# The renderer alone


def _explained(**evse: Any) -> dict[str, Any]:
    return {
        "at": "2024-05-14T18:30:00+10:00",
        "site": {"name": "depot", "file": None, "revision": "abc"},
        "snapshot": None,
        "evse": {
            "id": "ch/1",
            "charger": "ch",
            "parent": "db",
            "limit_a": 16.0,
            "limit_kw": 11.04,
            "state": "charging",
            "binding": {"kind": "node_limit", "ref": "db", "detail": "db current on L1 is full"},
            "session_id": "S-1",
            "tier": 3,
            "candidates": [
                {
                    "what": "charger limit",
                    "ref": "ch/1",
                    "limit": "32.0 A",
                    "source": "EVSE",
                    "slack_a": 16.0,
                    "binding": False,
                },
                {
                    "what": "ch current on L1",
                    "ref": "ch",
                    "limit": "32.0 A",
                    "source": "static",
                    "slack_a": 16.0,
                    "binding": False,
                },
                {
                    "what": "db current on L1",
                    "ref": "db",
                    "limit": "16.0 A",
                    "source": "static",
                    "slack_a": 0.0,
                    "binding": True,
                },
                {
                    "what": "gc import power",
                    "ref": "gc",
                    "limit": "100.0 kW",
                    "source": "static",
                    "slack_a": None,
                    "binding": False,
                },
            ],
            **evse,
        },
    }


def test_a_charger_rating_single_phase_node_and_unlimited_slack_read_as_words() -> None:
    path = [
        {"id": "ch", "type": "charger", "phases": 1},
        {"id": "db", "type": "circuit", "phases": 1},
        {"id": "gc", "type": "grid_connection", "phases": 3},
    ]
    lines = explain_text(_explained(path=path, priority=None)).splitlines()
    assert lines[:2] == ["Explanation at 2024-05-14 18:30:00+10:00 for site depot", ""]
    assert lines[2] == "EVSE ch/1 on charger ch, under db › gc"
    assert not any(li.startswith("  priority") for li in lines)  # null: no session asking
    rows = {
        li.split()[0]: li.split()
        for li in lines[
            lines.index("Candidate limits, from the EVSE up to the grid connection") + 3 :
        ]
        if li.strip()
    }
    assert rows["ch"][:4] == ["ch", "current", "32.0", "A"] and rows["ch"][4] == "rating"
    assert rows["▶"][:3] == ["▶", "db", "current"] and rows["▶"][-1] == "binding"
    assert rows["gc"][-1] == "unlimited"


def test_an_older_controller_without_path_or_priority_still_reads() -> None:
    """A controller from before the fields were added: its parent, and its tier in
    words (class 1, not urgent)."""
    lines = explain_text(_explained()).splitlines()
    assert lines[2] == "EVSE ch/1 on charger ch, under db"
    assert "  priority class 1, not urgent" in lines
