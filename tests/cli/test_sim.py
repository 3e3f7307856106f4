"""``depotctl sim replay``: exit codes, output formats and the trace, as run for real."""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from depotctl.cli import app
from tests.recordings.conftest import CALTECH_SITE, FIXTURE_CSV
from tests.replay.conftest import acnportal_tariff_json, allocate_16a

DAY = ("--from", "2019-05-13", "--to", "2019-05-13")


def depotctl(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "depotctl", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
    )


def replay(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return depotctl("sim", "replay", "-f", CALTECH_SITE, "--sessions", FIXTURE_CSV, *args)


def test_a_clean_replay_exits_0_with_a_text_summary() -> None:
    result = replay(*DAY)
    assert result.returncode == 0, result.stderr
    assert result.stdout.splitlines()[-1].startswith("Replay: 2 sessions, ")
    assert "0 violations." in result.stdout


def test_json_output_and_trace(tmp_path: Path) -> None:
    trace = tmp_path / "trace.csv"
    result = replay(*DAY, "--format", "json", "--step", "15 min", "--trace", trace)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["format"] == "depotctl/sim-replay/v1"
    assert data["settings"]["step_s"] == 900.0
    rows = list(csv.DictReader(trace.open()))
    assert {row["kind"] for row in rows} == {"evse", "node"}
    assert len({row["time"] for row in rows}) == data["period"]["steps"]


@pytest.mark.parametrize(
    ("args", "complaint"),
    [
        (("--step", "5"), "--step"),
        (("--step", "5 kW"), "--step"),
        (("--envelope", "evening 50%"), "--envelope"),
        (("--capacity-scale", "-1"), "--capacity-scale"),
        (("--from", "13/05/2019"), "--from"),
        (("--demand", "wanted"), "--demand"),
    ],
)
def test_usage_errors_exit_2(args: tuple[str, ...], complaint: str) -> None:
    # refused before any replay: in this process (the replays above run for real)
    command = ["sim", "replay", "-f", str(CALTECH_SITE), "--sessions", str(FIXTURE_CSV), *args]
    result = CliRunner().invoke(app, command)
    assert result.exit_code == 2, result.output
    assert isinstance(result.exception, SystemExit), "not a usage error but an exception"
    assert complaint in result.stderr
    assert "Traceback" not in result.stderr


def test_carbon_from_a_file_per_day_and_session_in_json() -> None:
    moer = CALTECH_SITE.parents[1] / "data" / "carbon" / "caiso-sce-moer-2019-05-08.csv.gz"
    result = replay(*DAY, "--format", "json", "--carbon", moer)
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    carbon = data["carbon"]
    assert carbon["intensity"].startswith("series ") and carbon["uncovered"] == []
    assert [d["date"] for d in carbon["by_day"]] == ["2019-05-13"]
    per_session = [r["kg_co2e"] for r in data["session_results"]]
    assert all(kg > 0 for kg in per_session)
    assert sum(per_session) == pytest.approx(carbon["kg_co2e"], abs=1e-5)


def test_a_carbon_file_that_cannot_be_used_exits_3(tmp_path: Path) -> None:
    bad = tmp_path / "carbon.csv"
    bad.write_text("time,intensity\n2019-05-13T00:00:00,0.3 kg/kWh\n")
    result = replay(*DAY, "--carbon", bad)
    assert result.returncode == 3
    assert f"cannot use the carbon file: line 2 of {bad}: " in result.stderr
    assert "has no UTC offset" in result.stderr and "Traceback" not in result.stderr


def test_a_missing_sessions_file_exits_3(tmp_path: Path) -> None:
    result = depotctl("sim", "replay", "-f", CALTECH_SITE, "--sessions", tmp_path / "absent.csv")
    assert result.returncode == 3
    assert "cannot read" in result.stderr and "absent.csv" in result.stderr


def test_a_broken_csv_exits_3_naming_its_line(tmp_path: Path) -> None:
    broken = tmp_path / "broken.csv"
    lines = FIXTURE_CSV.read_text().splitlines()
    lines[3] = lines[3].replace("9.5", "nine and a half")
    broken.write_text("\n".join(lines) + "\n")
    result = depotctl("sim", "replay", "-f", CALTECH_SITE, "--sessions", broken)
    assert result.returncode == 3
    assert f"{broken}:4: delivered_energy (kWh)" in result.stderr
    assert "Traceback" not in result.stderr


def test_an_invalid_site_exits_3_with_its_diagnostics(tmp_path: Path) -> None:
    site = tmp_path / "site.yaml"
    site.write_text("apiVersion: depotctl/v1\nkind: Site\nmetadata: {name: x}\n")
    result = depotctl("sim", "replay", "-f", site, "--sessions", FIXTURE_CSV)
    assert result.returncode == 3
    assert f"{site}:" in result.stderr
    assert "cannot replay on" in result.stderr


def test_a_violation_exits_1(monkeypatch: pytest.MonkeyPatch) -> None:
    # the stand-in gives 16 A to everyone; 0.01 × 150 kVA (1.5 kVA) cannot carry it
    import depotctl.engine

    monkeypatch.setattr(depotctl.engine, "allocate", allocate_16a)
    result = CliRunner().invoke(
        app,
        [
            "sim",
            "replay",
            "-f",
            str(CALTECH_SITE),
            "--sessions",
            str(FIXTURE_CSV),
            *DAY,
            "--capacity-scale",
            "0.01",
        ],
    )
    assert result.exit_code == 1, result.output
    assert "Violations (" in result.output


def test_the_bill_under_the_sites_tariff_or_a_tariff_file(tmp_path: Path) -> None:
    own = json.loads(replay(*DAY, "--format", "json").stdout)["cost"]
    assert own["currency"] == "USD"
    assert own["demand_lines"][0]["price_per_kw"] == 15.51  # SCE TOU-EV-4's, the site's
    assert own["total"] == pytest.approx(own["energy"] + own["demand_charge"] + own["fixed"])
    flat = tmp_path / "flat.json"
    flat.write_text(acnportal_tariff_json([0], [0.2]))
    result = replay(*DAY, "--tariff", flat, "--format", "json")
    assert result.returncode == 0, result.stderr
    cost = json.loads(result.stdout)["cost"]
    assert cost["energy"] == pytest.approx(cost["energy_kwh"] * 0.2, abs=0.01)
    assert cost["demand_charge"] == 0.0
    broken = tmp_path / "broken.json"
    broken.write_text('{"name": "x"}')
    result = replay(*DAY, "--tariff", broken)
    assert result.returncode == 3
    assert f"cannot use {broken} as a tariff" in result.stderr
    assert "Traceback" not in result.stderr


def test_the_planner_plans_every_step_and_the_replay_keeps_every_limit() -> None:
    result = replay(*DAY, "--planner", "--format", "json")
    assert result.returncode == 0, result.stderr
    data = json.loads(result.stdout)
    assert data["settings"]["planner"] is True
    assert data["planner"]["solves"] == data["period"]["steps"]
    assert data["planner"]["failed"] == 0
    assert data["violations"]["count"] == 0
    assert data["demand_met"]["sessions"] == 2
    text = replay(*DAY, "--planner").stdout
    assert "plans followed, one every step" in text
    assert "Cost (USD" in text
