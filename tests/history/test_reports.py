"""Reports across depots from a real PostgreSQL history: two controllers (the AU bus
depot, real stores written through the API as tests/controller/test_reports records a
Monday) shipped under two names; each depot's report from the history is its
controller's own report over real HTTP, field for field, and the fleet's totals are
their sums to the cent — from the minutes, and from the quarter hours once the
controllers' compaction has folded the minutes away."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import datetime, timedelta
from decimal import Decimal
from typing import Any

import psycopg
import pytest
from fastapi import FastAPI
from typer.testing import CliRunner

from depotctl.api.base import json_of
from depotctl.cli import app
from depotctl.controller.auth import Tokens
from depotctl.controller.compaction import Compaction
from depotctl.controller.retention import Retention
from depotctl.domain.refusal import Refusal
from depotctl.domain.telemetry import Reading
from depotctl.history.backlog import StoreBacklog
from depotctl.history.fleet import FleetHistory
from depotctl.history.reports import fleet_report
from depotctl.history.shipping import Shipper
from depotctl.history.target import HistoryTarget
from tests.controller import test_inputs
from tests.controller.test_inputs import START, Depot, fresh_controller, post
from tests.controller.test_reports import MONDAY, at, record_monday, report
from tests.history.postgres import PostgresServer

server = test_inputs.server

WINDOW = {"since": MONDAY.isoformat(), "until": at(30).isoformat()}
#: The window the controllers answer (until their clocks' now, START): the CLI's clock
#: is the machine's, so it is asked for exactly that.
CSV = ("--format", "csv", "--by", "session")
CLI_WINDOW = ["--since", MONDAY.isoformat(), "--until", at(25).isoformat()]
ASKED = [("cost", "day"), ("cost", "session"), ("carbon", "day"), ("readiness", "session")]


@pytest.fixture
def two_depots(
    server: tuple[FastAPI, str, Tokens], tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Depot]]:
    """Two controllers of the AU bus depot, each with its own store and clock: north
    records the Monday of test_reports, south an evening of two buses of its own."""
    app_, url, tokens = server
    depots = {}
    for name in ("north", "south"):
        controller, clock = fresh_controller(tmp_path_factory.mktemp(name))
        depots[name] = Depot(url, tokens, clock, controller)
    previous = app_.state.controller
    try:
        app_.state.controller = depots["north"].controller
        record_monday(depots["north"])
        app_.state.controller = depots["south"].controller
        _record_evening(depots["south"])
        yield depots
    finally:
        app_.state.controller = previous
        for depot in depots.values():
            depot.controller.close()


def _record_evening(depot: Depot) -> None:
    """Two buses on Monday evening (peak into off-peak), read every minute."""
    for name, charger, start, minutes, kw in (
        ("bus-7", "dc-04", at(19.5), 90, 45.0),
        ("bus-8", "dc-05", at(20.25), 75, 80.0),
    ):
        body = {"id": name, "evse": f"{charger}/1", "started": start.isoformat()}
        assert post(depot, "/sessions", body).status_code == 201
        depot.controller.units().telemetry.put(
            Reading(charger, start + timedelta(minutes=m, seconds=30), power_w=kw * 1000)
            for m in range(minutes)
        )
        end = {
            "ended_at": (start + timedelta(minutes=minutes)).isoformat(),
            "energy_delivered": f"{kw * minutes / 60:g} kWh",
        }
        assert post(depot, f"/sessions/{name}/end", end).status_code == 200


def _ship(depots: dict[str, Depot], url: str) -> None:
    for name, depot in depots.items():
        backlog = StoreBacklog.open(depot.controller.store.path)
        shipper = Shipper(backlog, HistoryTarget(url), name)
        try:
            shipper.ship_round()
        finally:
            shipper.close()
            backlog.close()


def _controllers(server: tuple[FastAPI, str, Tokens], depots: dict[str, Depot]) -> dict[Any, Any]:
    """Each depot's own reports, from its controller over real HTTP."""
    app_ = server[0]
    previous = app_.state.controller
    answers = {}
    try:
        for name, depot in depots.items():
            app_.state.controller = depot.controller
            for kind, by in ASKED:
                answers[name, kind, by] = report(depot, kind, by=by, **WINDOW)
    finally:
        app_.state.controller = previous
    return answers


def _from_history(url: str, now: datetime) -> dict[Any, Any]:
    answers = {}
    with psycopg.connect(url, autocommit=True) as connection:
        history = FleetHistory(connection)
        for kind, by in ASKED:
            fleet = fleet_report(
                history,
                kind,  # type: ignore[arg-type]
                depots=(),
                since=MONDAY,
                until=at(30),
                by=by,  # type: ignore[arg-type]
                now=now,
            )
            for name, answer in fleet.depots:
                answers[name, kind, by] = json_of(answer)
    return answers


def test_each_depots_report_from_the_history_is_its_controllers_own_and_the_fleet_their_sum(
    server: tuple[FastAPI, str, Tokens], two_depots: dict[str, Depot], history_url: str
) -> None:
    own = _controllers(server, two_depots)
    _ship(two_depots, history_url)

    assert _from_history(history_url, START) == own
    assert own["north", "cost", "day"]["total"]["energy_cost"] == 38.40  # tests/controller's
    assert own["south", "cost", "day"]["total"]["energy_kwh"] == pytest.approx(167.5)

    # the fleet's totals, through the command: each depot's sums added, to the cent
    result = CliRunner().invoke(
        app,
        ["report", "cost", "--history-url", history_url, "--format", "json", *CLI_WINDOW],
    )

    assert result.exit_code == 0, result.output
    fleet = json.loads(result.output)
    assert [d["depot"] for d in fleet["depots"]] == ["north", "south"]
    bills = [own[n, "cost", "day"] for n in ("north", "south")]

    def cents(values: list[float]) -> float:
        return float(sum(Decimal(repr(v)) for v in values))

    assert fleet["total"]["by_currency"] == {
        "AUD": {
            "energy_cost": cents([b["total"]["energy_cost"] for b in bills]),
            "billed": cents([line["total"] for b in bills for line in b["billing"]]),
        }
    }
    assert fleet["total"]["energy_kwh"] == pytest.approx(
        sum(b["total"]["energy_kwh"] for b in bills)
    )
    for depot in fleet["depots"]:  # the window and rows as the controller's (its clock aside)
        mine = {k: v for k, v in depot["report"].items() if k != "time"}
        theirs = {k: v for k, v in own[depot["depot"], "cost", "day"].items() if k != "time"}
        assert mine == theirs


def test_the_quarter_hours_shipped_report_a_period_past_the_raw_retention(
    server: tuple[FastAPI, str, Tokens], two_depots: dict[str, Depot], history_url: str
) -> None:
    """40 days on, the controllers fold Monday's minutes into quarter hours and drop
    them; the shippers ship the quarters; the history reports Monday as before, from a
    history database that never held Monday's minutes."""
    before = _controllers(server, two_depots)
    for depot in two_depots.values():
        depot.clock.advance(timedelta(days=40).total_seconds())
        counts = Compaction(depot.controller.units, Retention()).run(depot.clock.now())
        assert counts.minutes_folded > 0
    _ship(two_depots, history_url)

    with psycopg.connect(history_url) as connection:
        assert connection.execute(b"SELECT count(*) FROM telemetry_minutes").fetchone() == (0,)
        quarters = connection.execute(
            b"SELECT depot, count(*) FROM telemetry_quarters GROUP BY depot ORDER BY depot"
        ).fetchall()
    assert quarters == [("north", 4 + 4 + 2 + 2), ("south", 6 + 5)]
    assert _from_history(history_url, START) == before  # made as at START, as they were


def test_the_command_prints_by_depot_and_csv_and_refuses_in_words(
    two_depots: dict[str, Depot], postgres: PostgresServer, history_url: str
) -> None:
    _ship(two_depots, history_url)
    window = CLI_WINDOW
    result = CliRunner().invoke(
        app, ["report", "cost", "--history-url", history_url, "--by", "depot", *window]
    )
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "cost by depot"
    assert lines[-1].startswith("total: ") and "AUD" in lines[-1]
    assert [line.split()[0] for line in lines[2:-1]] == ["north", "south"]

    csv = CliRunner().invoke(
        app,
        [*("report", "carbon", "--history-url", history_url, "--depot", "south"), *window, *CSV],
    )
    assert csv.exit_code == 0, csv.output
    rows = csv.output.splitlines()
    assert rows[0].startswith("depot,row,evse,")
    assert [row.split(",")[:2] for row in rows[1:]] == [["south", "bus-7"], ["south", "bus-8"]]

    secret = CliRunner().invoke(
        app, ["report", "cost", "--history-url", "postgresql://u:hunter2@h/db", *window]
    )
    assert secret.exit_code == 2 and "hunter2" not in secret.output
    for asked, words in (
        (["report", "readiness", "--history-url", history_url, "--by", "depot"], "sums cost"),
        (["report", "cost", "--depot", "north"], "give --history-url"),
    ):
        wrong = CliRunner().invoke(app, [*asked, *window])
        assert (wrong.exit_code, words in wrong.output) == (2, True), wrong.output
    empty = postgres.url(postgres.create_database())
    nothing = CliRunner().invoke(app, ["report", "cost", "--history-url", empty, *window])
    assert nothing.exit_code == 3
    assert "holds no depot's history" in nothing.output and "history ship" in nothing.output
    with psycopg.connect(history_url) as connection, pytest.raises(Refusal) as refused:
        FleetHistory(connection).depots(["east"])
    assert refused.value.exit_code == 2
    assert "no site revision of depot east; it holds north, south" in refused.value.message
