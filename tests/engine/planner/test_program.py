"""The linear program's sparse layout: columns only where a session is present."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from depotctl.engine.planner import NodeCapacity, PlannedSession, PlanningProblem, plan_blocks
from depotctl.engine.planner.demand_charge import DemandTerm
from depotctl.engine.planner.program import build_program
from depotctl.engine.planner.storage import PlannedStorage
from tests.engine.conftest import T0


def test_columns_rows_and_coefficients() -> None:
    blocks = plan_blocks(T0, timedelta(hours=1))  # four quarter-hours
    problem = PlanningProblem(
        blocks=blocks,
        sessions=(
            PlannedSession("a", "e1", 5_000.0, T0 + timedelta(minutes=40), 11_000.0),
            PlannedSession("b", "e2", 2_000.0, T0 + timedelta(hours=3), 7_000.0),
        ),
        nodes=(
            NodeCapacity("site", (20_000.0,) * 4, ("a", "b")),
            NodeCapacity("db", (-5.0, 1.0, 2.0, 3.0), ("b",)),
        ),
        price_per_kwh=(0.1, 0.2, 0.3, 0.4),
        carbon_kg_per_kwh=(0.0,) * 4,
    )
    program = build_program(problem)
    # a is present in 3 blocks (the third only 10 minutes), b in all 4; 2 shortfalls,
    # 4 imports, 1 overload (db's first block is below zero); rows: 2 needs, 2 × 4
    # node rows, 4 import rows
    assert list(program.present) == [3, 4]
    assert (program.num_col, program.num_row) == (3 + 4 + 2 + 4 + 1, 2 + 2 * 4 + 4)
    column_of_a_third = int(program.first_column[0]) + 2
    begin, end = program.start[column_of_a_third], program.start[column_of_a_third + 1]
    # a's third block: its energy row at 10 minutes' worth, the site's row of block 2,
    # the import of block 2 at its average over the quarter-hour
    assert list(program.index[begin:end]) == [0, 2 + 2, 10 + 2]
    assert np.allclose(program.value[begin:end], [10 / 60, 1.0, (10 / 60) / 0.25])
    b_first = int(program.first_column[1])
    begin, end = program.start[b_first], program.start[b_first + 1]
    assert list(program.index[begin:end]) == [1, 2 + 0, 2 + 4, 10]
    # kW and kWh inside: capacities, bounds, needs; the import at most the generation
    # less the base load (none here)
    assert list(program.row_upper) == [
        5.0,
        2.0,
        *[20.0] * 4,
        -0.005,
        0.001,
        0.002,
        0.003,
        *[0.0] * 4,
    ]
    assert list(program.col_upper[:3]) == [11.0] * 3
    # sessions pay only the charge-early tie-break (0.001 /kWh at the last block)
    assert np.allclose(program.col_cost[:3], [0.0, 0.001 / 3 * 0.25, 0.002 / 3 * 10 / 60])
    assert program.shortfall_column == 7
    assert list(program.col_cost[7:9]) == [1_000.0, 1_000.0]
    # the import pays the price: per kW over a quarter-hour
    assert program.import_column == 9
    assert np.allclose(program.col_cost[9:13], [0.025, 0.05, 0.075, 0.1])
    begin, end = program.start[9], program.start[10]
    assert list(program.index[begin:end]) == [10]
    assert list(program.value[begin:end]) == [-1.0]
    # db's block 0 at -5 W: an overload of at most 5 W in its row, dear
    assert program.overload_column == 13
    assert list(program.index[program.start[13] :]) == [6]
    assert list(program.value[program.start[13] :]) == [-1.0]
    assert program.col_upper[13] == 0.005
    assert program.col_cost[13] == 10 * 1_000.0 * 0.25


def test_a_weighted_row_is_scaled_to_its_largest_weight() -> None:
    # a 32 A row over a (1/230 A/W) and b (1/460 A/W): a's coefficient 1, b's 0.5,
    # the capacity 32 A × 230 W/A = 7.36 kW
    blocks = plan_blocks(T0, timedelta(minutes=15))
    problem = PlanningProblem(
        blocks=blocks,
        sessions=(
            PlannedSession("a", "e1", 1_000.0, T0 + timedelta(hours=1), 7_000.0),
            PlannedSession("b", "e2", 1_000.0, T0 + timedelta(hours=1), 7_000.0),
        ),
        nodes=(NodeCapacity("l1", (32.0,), ("a", "b"), (1 / 230, 1 / 460)),),
        price_per_kwh=(0.1,),
        carbon_kg_per_kwh=(0.0,),
    )
    program = build_program(problem)
    # each column: its need, its row, the import
    values = program.value[program.start[0] : program.start[2]]
    assert np.allclose(values, [0.25, 1.0, 1.0, 0.25, 0.5, 1.0])
    assert program.row_upper[2] == pytest.approx(32 * 230 / 1000)


def test_a_batterys_columns_and_its_state_of_charge_chain() -> None:
    # two half-hours, no session: the site row (2 rows), 2 import rows, 1 demand row
    # (block 1 only), 2 state-of-charge rows, 1 final row
    blocks = plan_blocks(T0, timedelta(hours=1), timedelta(minutes=30))
    battery = PlannedStorage(
        "bess", ("site",), 4_000.0, 10_000.0, 0.1, 0.9, 5_000.0, 3_000.0, 0.9, 0.8, 6_000.0
    )
    problem = PlanningProblem(
        blocks=blocks,
        sessions=(),
        nodes=(NodeCapacity("site", (20_000.0, 20_000.0), ()),),
        price_per_kwh=(0.1, 0.2),
        carbon_kg_per_kwh=(0.0, 0.0),
        base_load_w=(1_000.0, 2_000.0),
        generation_w=(0.0, 500.0),
        demand=(DemandTerm(12.0, (1,), 7_000.0),),
        storage=(battery,),
    )
    program = build_program(problem)
    assert (program.import_column, program.peak_column, program.storage_column) == (0, 2, (3,))
    assert program.num_row == 2 + 2 + 1 + 2 + 1

    def column(k: int) -> list[tuple[int, float]]:
        begin, end = program.start[k], program.start[k + 1]
        rows, values = program.index[begin:end].tolist(), program.value[begin:end].tolist()
        return list(zip(rows, values, strict=True))

    # the import of block 1 in its import row and the demand row; the peak its floor
    assert column(1) == [(3, -1.0), (4, 1.0)]
    assert column(2) == [(4, -1.0)]
    assert (program.col_lower[2], program.col_cost[2]) == (7.0, 12.0)
    # charge in block 0: the site row, the import, the chain at −η_c·h
    assert column(3) == [(0, 1.0), (2, 1.0), (5, pytest.approx(-0.9 * 0.5))]
    # discharge in block 1: −1 in the site row and the import, h/η_d in the chain
    assert column(6) == [(1, -1.0), (3, -1.0), (6, pytest.approx(0.5 / 0.8))]
    assert list(program.col_upper[3:7]) == [5.0, 5.0, 3.0, 3.0]
    # its energy: block 0 links to block 1, block 1 to the final row; 1–9 kWh
    assert column(7) == [(5, 1.0), (6, -1.0)]
    assert column(8) == [(6, 1.0), (7, 1.0)]
    assert (program.col_lower[7], program.col_upper[7]) == (1.0, 9.0)
    # the chain starts from the 4 kWh held; the final row asks 6 kWh, its miss priced
    assert list(program.row_lower[5:8]) == [4.0, 0.0, 6.0]
    assert program.col_cost[9] == problem.storage_penalty_per_kwh()
    # the import at most generation less base load
    assert list(program.row_upper[2:4]) == [-1.0, -1.5]
