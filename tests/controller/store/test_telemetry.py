"""The store's telemetry on a real file: the latest reading per node, its minutes, and
several nodes' minutes and quarter hours added up."""

from __future__ import annotations

import math

import pytest

from depotctl.controller.store import (
    Store,
    UnitOfWork,
)
from depotctl.controller.store.compaction import Compactor
from depotctl.domain.phases import Phase
from depotctl.domain.telemetry import Reading
from tests.controller.store.plans import plans_of
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


def test_totals_add_up_the_nodes_asked_by_minute_and_by_quarter_hour(uow: UnitOfWork) -> None:
    """Power summed over the nodes with a power reading, each phase over the nodes with
    that phase's current; another node's rows and the window's ends left out."""
    uow.telemetry.put(
        [
            Reading("chg-1", at(0), power_w=1_000.25, current_a={Phase.L1: 2.5}),
            Reading("chg-1", at(0.5), power_w=3_000.25),  # the minute's mean: 2,000.25 W
            Reading("chg-2", at(0.2), power_w=None, current_a={Phase.L1: 1.0, Phase.L3: 4.0}),
            Reading("other", at(0), power_w=9e6, current_a={Phase.L2: 900.0}),
            Reading("chg-2", at(1), power_w=None, current_a=None),  # neither: no total
            Reading("chg-1", at(2), power_w=500.0),
            Reading("chg-2", at(3), power_w=1.0),  # at the window's end: left out
        ]
    )
    totals = uow.telemetry.minute_totals(["chg-1", "chg-2", "nobody"], since=at(0), until=at(3))
    assert [(t.start, t.power_w, t.current_a) for t in totals] == [
        (at(0), 2_000.25, {Phase.L1: 3.5, Phase.L3: 4.0}),
        (at(1), None, None),
        (at(2), 500.0, None),
    ]
    assert uow.telemetry.minute_totals([], since=at(0), until=at(3)) == []


def test_quarter_totals_add_each_nodes_mean_over_its_minutes_with_power(
    uow: UnitOfWork,
) -> None:
    for minute in range(15):  # chg-1 draws power 10 minutes of the quarter, chg-2 none
        power = 600.0 + minute if minute < 10 else None
        uow.telemetry.put(
            [
                Reading("chg-1", at(minute), power_w=power, current_a={Phase.L2: 1.0 + minute}),
                Reading("chg-2", at(minute), current_a={Phase.L2: 2.0}),
            ]
        )
    Compactor(uow.store).downsample_telemetry(before=at(15), max_minutes=1_000)
    [total] = uow.telemetry.quarter_totals(["chg-1", "chg-2"], since=at(0), until=at(15))
    assert (total.start, total.current_a) == (at(0), {Phase.L2: 15.0 + 2.0})
    assert total.power_w == pytest.approx(604.5)  # 600..609 over its 10 minutes, chg-2 none


def test_totals_read_each_nodes_primary_key_range(uow: UnitOfWork, store: Store) -> None:
    """Each node's rows in the window by the primary key, however many nodes: no scan
    of the table or of the time index."""
    uow.telemetry.put(Reading(f"chg-{n}", at(m), power_w=1.0) for n in range(50) for m in range(5))
    nodes = [f"chg-{n}" for n in range(40)]

    def reads() -> None:
        assert len(uow.telemetry.minute_totals(nodes, since=at(1), until=at(4))) == 3
        uow.telemetry.quarter_totals(nodes, since=at(0), until=at(15))

    plans = plans_of(store, reads)
    assert plans[0].startswith(
        "SEARCH telemetry USING PRIMARY KEY (node=? AND minute>? AND minute<?)"
    )
    assert plans[1].startswith(
        "SEARCH telemetry_quarters USING PRIMARY KEY (node=? AND start>? AND start<?)"
    )
    assert not any("SCAN telemetry" in plan or "BY_" in plan.upper() for plan in plans), plans
