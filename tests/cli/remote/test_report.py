"""``depotctl report cost|carbon|readiness`` against the real app on loopback: the AU
depot's recorded Monday (tests/controller/test_reports.py, figures by hand there) as a
table in site time, CSV and JSON; refusals as exit codes."""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Iterator
from pathlib import Path

import pytest
from typer.testing import CliRunner

from depotctl.cli.app import app
from depotctl.controller.app import create_app
from depotctl.controller.auth import load_or_create_tokens
from depotctl.controller.clock import SimClock
from depotctl.controller.service import Controller
from depotctl.controller.store import Store
from tests.conftest import ROOT
from tests.controller.test_app import START, serving
from tests.controller.test_inputs import Depot, fresh_controller
from tests.controller.test_reports import VEHICLES, record_monday

SINCE = "2026-03-02"  # Monday, local midnight


def run(flags: tuple[str, ...], *args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(app, ["report", *args, *flags])
    return result.exit_code, result.stdout, result.stderr


@pytest.fixture
def flags(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, ...]]:
    """The recorded Monday, served; the flags that reach it with the read-only token."""
    yield from _served(tmp_path, monkeypatch, None)


@pytest.fixture
def with_vehicles(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[str, ...]]:
    """As ``flags``, each session of a vehicle (test_reports.VEHICLES)."""
    yield from _served(tmp_path, monkeypatch, VEHICLES)


def _served(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vehicles: dict[str, str] | None
) -> Iterator[tuple[str, ...]]:
    monkeypatch.setenv("DEPOTCTL_CONFIG", str(tmp_path / "config.yaml"))
    monkeypatch.delenv("DEPOTCTL_CONTEXT", raising=False)
    controller, clock = fresh_controller(tmp_path)
    tokens = load_or_create_tokens(tmp_path)
    with serving(create_app(controller, tokens)) as url:
        record_monday(Depot(url, tokens, clock, controller), vehicles)
        yield ("--server", url, "--token-file", str(tmp_path / "tokens" / "readonly.token"))
    controller.close()


def test_the_cost_table_shows_days_then_the_billing_window_in_site_time(
    flags: tuple[str, ...],
) -> None:
    code, out, err = run(flags, "cost", "--since", SINCE)
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0] == (
        "cost in AUD, 2026-03-02 00:00:00+11:00 to 2026-03-03 01:00:00+11:00, by day"
    )
    assert lines[1].split() == [
        "row",
        "energy_kwh",
        "ev_energy_kwh",
        "energy_cost",
        "carbon_kg_co2e",
    ]
    assert lines[2].split() == ["2026-03-02", "160.0", "150.0", "38.40", "100.80"]
    assert lines[4] == "total: 160.0 kWh, 38.40 AUD for the site's energy"
    assert "billing window 2026-03-02 00:00:00+11:00 to 2026-03-03 01:00:00+11:00 (partial" in out
    assert "peak 120.0 kW from 2026-03-02 15:00:00+11:00 × 18.6 /kW  2232.00" in out
    assert lines[-1] == "  total   2277.40 AUD"


def test_csv_has_one_line_per_session_for_a_spreadsheet(flags: tuple[str, ...]) -> None:
    code, out, err = run(flags, "cost", "--since", SINCE, "--by", "session", "--format", "csv")
    assert code == 0, err
    rows = list(csv.DictReader(io.StringIO(out)))
    assert [(r["row"], r["evse"], r["energy_kwh"], r["energy_cost"]) for r in rows] == [
        ("bus-b", "dc-02/1", "40.0", "8.40"),
        ("bus-c", "dc-03/1", "50.0", "19.00"),
        ("bus-a", "dc-01/1", "60.0", "7.20"),
    ]


def test_a_vehicles_cost_is_its_sessions_without_the_sites_bill(
    with_vehicles: tuple[str, ...],
) -> None:
    code, out, err = run(with_vehicles, "cost", "--since", SINCE, "--vehicle", "bus-42")
    assert code == 0, err
    lines = out.splitlines()
    assert lines[0].endswith(", by session")
    assert [line.split()[:2] for line in lines[2:4]] == [
        ["bus-c", "(bus-42)"],
        ["bus-a", "(bus-42)"],
    ]
    assert "bus-b" not in out
    assert "total: 110.0 kWh, 26.20 AUD for the sessions' energy" in out  # 50 + 60; 19.00 + 7.20
    assert "billing window " not in out
    assert lines[-1] == "billing windows are the site's bills: not shown for one vehicle"


def test_a_vehicles_csv_rows_are_those_of_the_whole_by_session_csv(
    with_vehicles: tuple[str, ...],
) -> None:
    def rows(*args: str) -> list[dict[str, str]]:
        code, out, err = run(with_vehicles, "carbon", "--since", SINCE, "--format", "csv", *args)
        assert code == 0, err
        return list(csv.DictReader(io.StringIO(out)))

    every = rows("--by", "session")
    assert rows("--vehicle", "bus-7") == [r for r in every if r["row"] == "bus-b"]


@pytest.mark.parametrize(
    ("args", "said"),
    [
        (("cost", "--by", "day"), "--by day with --vehicle: a day's energy is the site's"),
        (
            ("carbon", "--history-url", "postgresql://ops@pg.example/fleet"),
            "--vehicle reads one controller's sessions: drop --history-url",
        ),
        (("readiness",), "404 no_history: no session of vehicle bus-99 departs between"),
        (("cost",), "404 no_history: no session of vehicle bus-99 between"),
    ],
)
def test_vehicle_usage_errors_are_exit_2_in_words(
    with_vehicles: tuple[str, ...], args: tuple[str, ...], said: str
) -> None:
    vehicle = "bus-99" if "404" in said else "bus-42"
    code, _, err = run(with_vehicles, *args, "--since", SINCE, "--vehicle", vehicle)
    assert code == 2
    assert said in " ".join(err.split())


def test_json_is_the_apis_answer(flags: tuple[str, ...]) -> None:
    code, out, err = run(flags, "carbon", "--since", SINCE, "--format", "json")
    assert code == 0, err
    body = json.loads(out)
    assert body["total"]["carbon_kg_co2e"] == pytest.approx(100.8)
    assert body["since"] == "2026-03-01T13:00:00+00:00"


def test_readiness_names_the_short_session(flags: tuple[str, ...]) -> None:
    code, out, err = run(flags, "readiness", "--since", SINCE, "--until", "2026-03-03 06:00")
    assert code == 0, err
    assert (
        "bus-b    dc-02/1  2026-03-02 14:00:00+11:00  60.0        40.0           short by 20.0 kWh"
        in out
    )
    assert out.splitlines()[-1] == "2 departed, 1 short; 1 still to depart"


def test_a_window_that_ends_before_it_starts_is_a_usage_error(flags: tuple[str, ...]) -> None:
    code, _, err = run(flags, "cost", "--since", SINCE, "--until", "2026-03-01")
    assert code == 2
    assert "--until 2026-03-01 00:00:00+11:00 is not after --since 2026-03-02" in err


def test_a_window_without_history_is_refused_with_what_to_do(flags: tuple[str, ...]) -> None:
    code, _, err = run(flags, "cost", "--since", "2026-02-01", "--until", "2026-02-02")
    assert code == 2
    assert "404 no_history: no session and no reading of the grid meters (m-main)" in err
    assert "widen the window" in err


def test_a_site_without_a_tariff_is_refused(tmp_path: Path) -> None:
    site = ROOT / "examples" / "minimal.yaml"
    controller = Controller(
        Store.open(tmp_path / "depotctl.sqlite"), SimClock(START), base_dir=site.parent
    )
    controller.seed(site, site.read_text(encoding="utf-8"), author="test")
    try:
        with serving(create_app(controller, load_or_create_tokens(tmp_path))) as url:
            token = str(tmp_path / "tokens" / "readonly.token")
            code, _, err = run(("--server", url, "--token-file", token), "cost", "--since", "2h")
    finally:
        controller.close()
    assert code == 2
    assert "no_tariff: site minimal-depot has no tariff and no price series" in err


def test_an_unreachable_controller_is_exit_3(tmp_path: Path) -> None:
    token = tmp_path / "token"
    token.write_text("x\n")
    code, _, _ = run(
        ("--server", "http://127.0.0.1:9", "--token-file", str(token)), "cost", "--since", "2h"
    )
    assert code == 3
