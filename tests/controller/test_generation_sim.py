"""The simulated generators on a real controller (SQLite store, a paused simulated
clock moved by the test): each generator with a forecast is metered at what its
forecast says now, and the live capacity counts it."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from depotctl.controller.clock import SimClock
from depotctl.controller.generation_sim import SimulatedGenerators
from depotctl.controller.service import Controller
from depotctl.controller.store import Store
from depotctl.engine.asset_draw import generation_draw
from tests.conftest import EXAMPLES

SITE = EXAMPLES / "valid" / "planner" / "storage-solar-depot.yaml"
#: Monday 7 December 2026, 13:00 in Sydney (+11): the roof at 88 % of its 99 kW
NOON = datetime(2026, 12, 7, 2, 0, tzinfo=UTC)


@pytest.fixture
def controller(tmp_path: Path) -> Iterator[Controller]:
    shutil.copytree(SITE.parent, tmp_path / "site")
    site = tmp_path / "site" / SITE.name
    clock = SimClock(NOON, speed=1.0)
    clock.pause()
    controller = Controller(Store.open(tmp_path / "depotctl.sqlite"), clock, base_dir=site.parent)
    controller.seed(site, site.read_text(), author="test")
    yield controller
    controller.close()


def test_a_generator_is_metered_at_its_forecast_and_the_capacity_counts_it(
    controller: Controller,
) -> None:
    generators = SimulatedGenerators(controller)
    readings = {r.node: r for r in generators.publish()}
    roof = readings["m-pv-roof"]  # under its meter, as a real meter's reading
    assert roof.power_w == pytest.approx(-0.88 * 99_000)  # a net import: producing
    assert roof.at == controller.clock.now()
    topology = controller.require_site().topology
    snapshot = controller.snapshot()
    _, watts, stale = generation_draw(snapshot, topology.generation["pv-roof"])
    assert watts == pytest.approx(-0.88 * 99_000) and not stale

    # three hours on the clock (16:00: 45 %); before publishing, the 13:00 reading is stale
    clock = controller.clock
    assert isinstance(clock, SimClock)
    clock.advance(timedelta(hours=3).total_seconds())
    assert generation_draw(controller.snapshot(), topology.generation["pv-roof"])[1] == 0.0
    later = {r.node: r for r in generators.publish()}
    assert later["m-pv-roof"].power_w == pytest.approx(-0.45 * 99_000)
    _, watts, _ = generation_draw(controller.snapshot(), topology.generation["pv-roof"])
    assert watts == pytest.approx(-0.45 * 99_000)


def test_a_generator_outside_its_series_is_not_metered(controller: Controller) -> None:
    topology = controller.require_site().topology
    carport = topology.generation["pv-carport"]
    assert carport.forecast is not None
    clock = controller.clock
    assert isinstance(clock, SimClock)
    clock.advance(timedelta(days=400).total_seconds())  # long past the CSV's last row
    nodes = {r.node for r in SimulatedGenerators(controller).publish()}
    assert "pv-carport" not in nodes and "m-pv-roof" in nodes
