"""The store's telemetry on a real file: the latest reading per node and its minutes."""

from __future__ import annotations

import math

import pytest

from depotctl.controller.store import (
    UnitOfWork,
)
from depotctl.domain.phases import Phase
from depotctl.domain.telemetry import Reading
from tests.controller.store.records import at


def test_the_latest_reading_per_node_wins_even_out_of_order(uow: UnitOfWork) -> None:
    uow.telemetry.put(
        [
            Reading("grid", at(1), power_w=250_000.0, current_a={Phase.L1: 300.0, Phase.L2: 290.5}),
            Reading("pv", at(1), power_w=-12_000.0),
        ]
    )
    uow.telemetry.put([Reading("grid", at(0), power_w=1.0), Reading("pv", at(2), power_w=-9.0)])
    assert uow.telemetry.latest() == {
        "grid": Reading("grid", at(1), 250_000.0, {Phase.L1: 300.0, Phase.L2: 290.5}),
        "pv": Reading("pv", at(2), power_w=-9.0),
    }


@pytest.mark.parametrize(
    "reading",
    [
        Reading("grid", at(1), power_w=math.inf),
        Reading("grid", at(1), power_w=math.nan),
        Reading("grid", at(1), power_w=-1e300),
        Reading("grid", at(1), power_w=1.000001e9),
        Reading("grid", at(1), current_a={Phase.L2: math.inf}),
        Reading("grid", at(1), current_a={Phase.L1: 5.0, Phase.L3: 100_001.0}),
    ],
    ids=["inf", "nan", "huge-export", "beyond-1000-MW", "inf-current", "beyond-100-kA"],
)
def test_a_reading_no_meter_of_a_depot_reads_is_refused_with_its_batch(
    uow: UnitOfWork, reading: Reading
) -> None:
    with pytest.raises(ValueError, match="grid"):
        uow.telemetry.put([Reading("pv", at(1), power_w=-9.0), reading])
    assert uow.telemetry.latest() == {}
    assert uow.telemetry.history("pv") == [] and uow.telemetry.history("grid") == []


def test_readings_at_the_bounds_keep_the_minute_finite(uow: UnitOfWork) -> None:
    """Issue 11: an infinite reading made the minute's mean and peak null."""
    uow.telemetry.put([Reading("grid", at(1), power_w=1e9, current_a={Phase.L1: 1e5})])
    uow.telemetry.put([Reading("grid", at(1.5), power_w=1e9, current_a={Phase.L1: 1e5})])
    uow.telemetry.put([Reading("grid", at(1.7), power_w=-1e9)])
    (minute,) = uow.telemetry.history("grid")
    assert minute.samples == 3
    assert minute.power_w_mean == pytest.approx(1e9 / 3)
    assert minute.power_w_max == 1e9
    assert minute.current_a_max == {Phase.L1: 1e5}
