"""``depotctl requirements list`` against a real controller (uvicorn in a thread, a
real SQLite store, the AU bus depot on a paused clock): each session's readiness
forecast — the energy expected at departure, its shortfall and the constraint that
causes it — in the words ``depotctl status`` prints."""

from __future__ import annotations

import json
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from typer.testing import CliRunner

from depotctl.api import Sessions
from depotctl.cli.app import app
from depotctl.client.figures import for_people
from tests.controller import test_inputs
from tests.controller.test_inputs import Depot, iso, post, session

# test_inputs' fixtures: one served app for the module, a fresh controller per test
server = test_inputs.server
depot = test_inputs.depot


@pytest.fixture
def run(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    """A runner whose configuration file is in ``tmp_path`` (never the home directory)."""
    monkeypatch.setenv("DEPOTCTL_CONFIG", str(tmp_path / "config.yaml"))
    monkeypatch.delenv("DEPOTCTL_CONTEXT", raising=False)
    return CliRunner()


def flags(depot: Depot, tmp_path: Path) -> list[str]:
    token_file = tmp_path / "readonly.token"
    token_file.write_text(depot.tokens.readonly + "\n")
    token_file.chmod(0o600)
    return ["--server", depot.url, "--token-file", str(token_file)]


def start_buses(depot: Depot) -> None:
    """Four buses on board db-dc-north that need 300 kWh within 1.5 h (the board is
    full), and one on the other board with the night ahead."""
    for n, evse in enumerate(("dc-01/1", "dc-02/1", "dc-03/1", "dc-04/1"), start=1):
        body = session(
            id=f"bus-{n}",
            evse=evse,
            requirement={"energy": "300 kWh", "departure": iso(90)},
            vehicle_max_current=None,
        )
        assert post(depot, "/sessions", body).status_code == 201
    relaxed = session(
        id="bus-9",
        evse="dc-13/1",
        requirement={"energy": "100 kWh", "departure": iso(600)},
        vehicle_max_current=None,
    )
    assert post(depot, "/sessions", relaxed).status_code == 201


def test_requirements_list_shows_expected_energy_shortfall_and_its_cause(
    run: CliRunner, depot: Depot, tmp_path: Path
) -> None:
    start_buses(depot)
    result = run.invoke(app, ["requirements", "list", *flags(depot, tmp_path)])
    assert result.exit_code == 0, result.output
    lines = result.stdout.splitlines()
    header = lines[0].split()
    assert header[-3:] == ["expected", "short", "readiness"]
    rows = {line.split()[0]: line for line in lines[1:] if line.startswith("bus-")}
    with depot.client("readonly") as client:
        listed = Sessions.model_validate(client.get("/api/v1/sessions").json())
    forecasts = {s.id: s.readiness.forecast() for s in listed.sessions if s.readiness}
    short, relaxed = forecasts["bus-1"], forecasts["bus-9"]
    assert short.is_short and short.cause is not None and short.cause.node == "db-dc-north"
    assert f"{short.expected_wh / 1000:,.1f} kWh" in rows["bus-1"]
    assert f"{short.short_wh / 1000:,.1f} kWh" in rows["bus-1"]
    # status's sentence for it (its times whole, in Sydney's time with the offset)
    zone = ZoneInfo("Australia/Sydney")
    said = for_people(short.outcome(None), zone, listed.time)
    assert said.startswith("will be ") and "db-dc-north is full" in said
    assert rows["bus-1"].endswith(said)
    assert short.words(zone).split(": ")[1] in said  # the same cause as status says
    assert "100.0 kWh" in rows["bus-9"]
    assert not relaxed.is_short
    assert rows["bus-9"].endswith(for_people(relaxed.outcome(None), zone, listed.time))
    assert "will have its 100.0 kWh by " in rows["bus-9"]
    assert "expected: the energy at departure forecast at" in lines[-1]


def test_requirements_list_names_the_site_default_for_a_session_without_one(
    run: CliRunner, depot: Depot, tmp_path: Path
) -> None:
    body = session(vehicle_max_current=None)
    del body["requirement"]
    assert post(depot, "/sessions", body).status_code == 201
    result = run.invoke(app, ["requirements", "list", *flags(depot, tmp_path)])
    assert result.exit_code == 0, result.output
    [row] = [line for line in result.stdout.splitlines() if line.startswith("bus-0417")]
    assert "250.0 kWh" in row  # the AU depot's default requirement
    assert "2026-03-03 04:30:00+11:00" in row  # by 04:30 in Sydney, with its offset
    assert "site default" in row


def test_requirements_list_as_json_passes_the_outlook_and_readiness_through(
    run: CliRunner, depot: Depot, tmp_path: Path
) -> None:
    start_buses(depot)
    result = run.invoke(app, ["requirements", "list", "--format", "json", *flags(depot, tmp_path)])
    assert result.exit_code == 0, result.output
    listed = json.loads(result.stdout)
    with depot.client("readonly") as client:
        assert listed == client.get("/api/v1/sessions").json()
    outlook = {s["id"]: s for s in listed["sessions"]}["bus-1"]["outlook"]
    assert set(outlook) >= {
        "expected_energy_wh",
        "shortfall_wh",
        "on_track",
        "complete_at",
        "overdue",
        "constraint",
    }
    assert outlook["constraint"]["ref"] == "db-dc-north"
    readiness = {s["id"]: s for s in listed["sessions"]}["bus-1"]["readiness"]
    assert readiness["short_wh"] > 0 and readiness["cause"]["node"] == "db-dc-north"


def test_requirements_and_explain_take_the_vehicle_and_name_it(
    run: CliRunner, depot: Depot, tmp_path: Path
) -> None:
    body = session(id="s-7", evse="dc-01/1", vehicle="bus-42", vehicle_max_current=None)
    assert post(depot, "/sessions", body).status_code == 201
    result = run.invoke(app, ["requirements", "list", *flags(depot, tmp_path)])
    assert result.exit_code == 0, result.output
    [row] = [line for line in result.stdout.splitlines() if line.startswith("s-7")]
    assert row.startswith("s-7 (bus-42)")
    admin = tmp_path / "admin.token"
    admin.write_text(depot.tokens.admin + "\n")
    admin.chmod(0o600)
    submit = ["requirements", "submit", "bus-42", "--energy", "60 kWh", "--departure", "8h"]
    submitted = run.invoke(app, [*submit, "--server", depot.url, "--token-file", str(admin)])
    assert submitted.exit_code == 0, submitted.output
    assert submitted.stdout.startswith("session s-7 on EVSE dc-01/1: needs 60.0 kWh by ")
    explained = run.invoke(app, ["explain", "bus-42", *flags(depot, tmp_path)])
    assert explained.exit_code == 0, explained.output
    assert "EVSE dc-01/1" in explained.stdout
    assert "session s-7 (vehicle bus-42)" in explained.stdout
