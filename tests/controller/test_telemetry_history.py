"""The per-minute telemetry history: folded into the store with every reading, read
back over real HTTP, pruned past its retention by the control loop."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

from depotctl.controller.dispatch import RecordingDispatcher
from depotctl.controller.loop import ControlLoop
from depotctl.controller.store import Store, UnitOfWork
from depotctl.domain.phases import Phase
from depotctl.domain.telemetry import Reading
from tests.controller import test_inputs
from tests.controller.test_inputs import START, Depot, fresh_controller, iso, post, problem

server = test_inputs.server  # the fixtures: one server, a fresh controller per test
depot = test_inputs.depot

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def test_readings_fold_into_one_row_per_node_and_minute(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        UnitOfWork(store).telemetry.put(
            [
                Reading("m-main", T0 + timedelta(seconds=5), power_w=100_000.0),
                Reading("m-main", T0 + timedelta(seconds=35), power_w=140_000.0),
                Reading(
                    "m-main",
                    T0 + timedelta(seconds=50),
                    current_a={Phase.L1: 200.0, Phase.L2: 210.0},
                ),
                Reading("m-main", T0 + timedelta(seconds=65), power_w=90_000.0),
                Reading("workshop", T0 + timedelta(seconds=10), power_w=40_000.0),
            ]
        )
        UnitOfWork(store).telemetry.put(
            [Reading("m-main", T0 + timedelta(seconds=20), current_a={Phase.L1: 250.0})]
        )
        first, second = UnitOfWork(store).telemetry.history("m-main")
        assert first.minute == T0 and second.minute == T0 + timedelta(minutes=1)
        assert first.samples == 4
        assert first.power_w_mean == 120_000.0  # of the two readings that had power
        assert first.power_w_max == 140_000.0
        assert first.current_a_max == {Phase.L1: 250.0, Phase.L2: 210.0}
        assert (second.samples, second.power_w_mean, second.current_a_max) == (1, 90_000.0, None)
        # the latest reading per node is still what the engine sees
        assert UnitOfWork(store).telemetry.latest()["m-main"].at == T0 + timedelta(seconds=65)
        assert [
            m.minute
            for m in UnitOfWork(store).telemetry.history("m-main", since=T0 + timedelta(minutes=1))
        ] == [T0 + timedelta(minutes=1)]
        assert UnitOfWork(store).telemetry.history("m-main", until=T0 + timedelta(minutes=1)) == [
            first
        ]


def test_prune_drops_only_history_older_than_the_cut(tmp_path: Path) -> None:
    with Store.open(tmp_path / "s.sqlite") as store:
        UnitOfWork(store).telemetry.put(
            [Reading("m-main", T0 + timedelta(days=d), power_w=1.0) for d in range(5)]
        )
        assert UnitOfWork(store).telemetry.prune(before=T0 + timedelta(days=3)) == 3
        assert [m.minute for m in UnitOfWork(store).telemetry.history("m-main")] == [
            T0 + timedelta(days=3),
            T0 + timedelta(days=4),
        ]
        assert UnitOfWork(store).telemetry.latest()["m-main"].at == T0 + timedelta(days=4)


def test_the_control_loop_prunes_past_the_retention(tmp_path: Path) -> None:
    controller, _ = fresh_controller(tmp_path)
    try:
        controller.units().telemetry.put(
            [
                Reading("m-main", START - timedelta(days=40), power_w=1.0),
                Reading("m-main", START - timedelta(days=2), power_w=2.0),
            ]
        )
        loop = ControlLoop(controller, RecordingDispatcher())
        asyncio.run(loop.cycle("tick"))
        assert [m.power_w_mean for m in controller.units().telemetry.history("m-main")] == [2.0]
    finally:
        controller.close()


def test_history_over_http(depot: Depot) -> None:
    readings = [
        {"node": "workshop", "at": iso(0), "power": "42 kW"},
        {"node": "workshop", "at": iso(0.5), "power": "48 kW"},
        {"node": "workshop", "at": iso(1), "power": "50 kW"},
    ]
    assert post(depot, "/telemetry", {"readings": readings}).status_code == 200
    with depot.client("readonly") as client:
        response = client.get("/api/v1/telemetry/workshop")
    assert response.status_code == 200
    body = response.json()
    assert body["node"] == "workshop"
    assert [(m["samples"], m["power_w_mean"], m["power_w_max"]) for m in body["minutes"]] == [
        (2, 45_000.0, 48_000.0),
        (1, 50_000.0, 50_000.0),
    ]
    assert body["minutes"][0]["minute"] == START.isoformat()


def test_history_of_an_unknown_node_is_404(depot: Depot) -> None:
    with depot.client("readonly") as client:
        problem(client.get("/api/v1/telemetry/nowhere"), 404, "not_found")
        problem(
            client.get("/api/v1/telemetry/workshop", params={"since": "2026-03-02T14:00:00"}),
            422,
            "invalid_request",
        )
