"""The linear program's sparse layout: columns only where a session is present."""

from __future__ import annotations

import math
from datetime import timedelta

import numpy as np
import pytest

from depotctl.domain.bill import EPOCH
from depotctl.engine.planner import NodeCapacity, PlannedSession, PlanningProblem, plan_blocks
from depotctl.engine.planner.demand_charge import DemandTerm
from depotctl.engine.planner.program import (
    OVERLOAD_FACTOR,
    LinearProgram,
    binding_rows,
    build_program,
)
from depotctl.engine.planner.solve import _pass, _quiet_highs, solve
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
    # two half-hours, no session: the site row (2 rows), 2 import rows, 2 demand rows
    # (block 1's two quarter hours), 2 state-of-charge rows, 1 final row
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
    assert program.num_row == 2 + 2 + 2 + 2 + 1

    def column(k: int) -> list[tuple[int, float]]:
        begin, end = program.start[k], program.start[k + 1]
        rows, values = program.index[begin:end].tolist(), program.value[begin:end].tolist()
        return list(zip(rows, values, strict=True))

    # the import of block 1 in its import row and both its quarters' demand rows (half
    # its half hour in each: the quarter's average is the block's); the peak its floor
    assert column(1) == [(3, -1.0), (4, 1.0), (5, 1.0)]
    assert column(2) == [(4, -1.0), (5, -1.0)]
    assert (program.col_lower[2], program.col_cost[2]) == (7.0, 12.0)
    # charge in block 0: the site row, the import, the chain at −η_c·h
    assert column(3) == [(0, 1.0), (2, 1.0), (6, pytest.approx(-0.9 * 0.5))]
    # discharge in block 1: −1 in the site row and the import, h/η_d in the chain
    assert column(6) == [(1, -1.0), (3, -1.0), (7, pytest.approx(0.5 / 0.8))]
    assert list(program.col_upper[3:7]) == [5.0, 5.0, 3.0, 3.0]
    # its energy: block 0 links to block 1, block 1 to the final row; 1–9 kWh
    assert column(7) == [(6, 1.0), (7, -1.0)]
    assert column(8) == [(7, 1.0), (8, 1.0)]
    assert (program.col_lower[7], program.col_upper[7]) == (1.0, 9.0)
    # the chain starts from the 4 kWh held; the final row asks 6 kWh, its miss priced
    assert list(program.row_lower[6:9]) == [4.0, 0.0, 6.0]
    assert program.col_cost[9] == problem.storage_penalty_per_kwh()
    # the import at most generation less base load
    assert list(program.row_upper[2:4]) == [-1.0, -1.5]


def rich_problem(length: timedelta = timedelta(minutes=15)) -> PlanningProblem:
    """Every part of the program: sessions leaving mid-block, after the horizon, before
    now's block ends and already gone; rows in W and in A with weights of both signs,
    one below zero; two overlapping demand terms; a negative price; a battery on two
    rows, one weighted; now inside the first block. Blocks of ``length`` (twelve
    quarter-hours by default)."""
    blocks = plan_blocks(T0, timedelta(hours=3), length)
    minutes = [40, 185, 10, 95, -5, 70]
    sessions = tuple(
        PlannedSession(f"s{i}", f"e{i}", 4_000.0 * i, T0 + timedelta(minutes=m), 7_000.0 + i)
        for i, m in enumerate(minutes)
    )
    ids = tuple(s.id for s in sessions)
    count = blocks.count
    prices = tuple(0.2 + 0.01 * (b % 5) for b in range(count))
    return PlanningProblem(
        blocks=blocks,
        sessions=sessions,
        nodes=(
            NodeCapacity("site", tuple(30_000.0 - 500.0 * b for b in range(count)), ids),
            NodeCapacity(
                "l1", (-3.0, *[32.0] * (count - 1)), ids[::2], (1 / 230, -1 / 460, 1 / 400)
            ),
            NodeCapacity("db", (9_000.0,) * count, ids[3:]),
        ),
        price_per_kwh=tuple(-0.05 if b == min(5, count - 1) else p for b, p in enumerate(prices)),
        carbon_kg_per_kwh=tuple(0.3 + 0.02 * b for b in range(count)),
        carbon_price_per_kg=0.05,
        base_load_w=tuple(1_000.0 * (b % 3) for b in range(count)),
        generation_w=tuple(500.0 * (b % 4) for b in range(count)),
        demand=(
            DemandTerm(12.0, tuple(range(count)), 7_000.0, so_far_wh=1_500.0),
            DemandTerm(4.0, tuple(b for b in (0, 2, 3, 4, 9) if b < count), so_far_wh=800.0),
        ),
        storage=(
            PlannedStorage(
                "bess",
                ("site", "l1"),
                4_000.0,
                10_000.0,
                0.1,
                0.9,
                5_000.0,
                3_000.0,
                0.9,
                0.8,
                6_000.0,
                (1.0, 1 / 200),
            ),
        ),
        now=T0 + length * 2 / 5,
    )


Key = tuple[object, ...]


def defined_program(problem: PlanningProblem) -> dict[str, np.ndarray]:
    """The program of ``problem`` written out densely, row by row as the module states
    it, with nothing shared with :func:`build_program`."""
    blocks, sessions, nodes = problem.blocks, problem.sessions, problem.nodes
    count, h = blocks.count, blocks.hours
    starts = [(s - blocks.start).total_seconds() for s in blocks.starts()]
    since = (problem.now - blocks.start).total_seconds() if problem.now else 0.0
    begins = [max(start, since) for start in starts]
    ahead = [
        (start + h * 3600.0 - begin) / 3600.0 for start, begin in zip(starts, begins, strict=True)
    ]

    def before(departure: float, b: int) -> float:
        return min(max(departure - begins[b], 0.0), ahead[b] * 3600.0) / 3600.0

    weight = {
        (k, sid): w
        for k, n in enumerate(nodes)
        for sid, w in zip(n.session_ids, n.weight_of(), strict=True)
    }
    battery_weight = {
        (j, n): w
        for j, battery in enumerate(problem.storage)
        for n, w in zip(battery.node_ids, battery.weight_of(), strict=True)
    }
    scale = []
    for k, n in enumerate(nodes):
        largest = max([abs(w) for (kk, _), w in weight.items() if kk == k], default=0.0)
        for (_, node_id), w in battery_weight.items():
            largest = max(largest, abs(w)) if node_id == n.node_id else largest
        scale.append(1.0 / largest if largest > 0.0 else 1.0)
    costs = problem.energy_cost_per_kwh()
    penalty = problem.penalty_per_kwh()
    by_deadline = sorted(
        range(len(sessions)), key=lambda i: (sessions[i].departure, sessions[i].id)
    )
    deadline = {i: 1.0 - 0.5 * r / max(1, len(sessions) - 1) for r, i in enumerate(by_deadline)}

    rows: list[tuple[float, float]] = []  # (lower, upper)
    row_of: dict[Key, int] = {}

    def row(key: Key, lower: float, upper: float) -> None:
        row_of[key] = len(rows)
        rows.append((lower, upper))

    for s in sessions:
        row(("need", s.id), s.need_wh / 1000.0, s.need_wh / 1000.0)
    for k, n in enumerate(nodes):
        for b in range(count):
            row(("node", k, b), -math.inf, n.capacity_w[b] * scale[k] / 1000.0)
    for b in range(count):
        net = (problem.generation()[b] - problem.base_load()[b]) / 1000.0 * ahead[b] / h
        row(("import", b), net if costs[b] < 0.0 else -math.inf, net)
    # each block's time from now in each clock quarter hour (its index from the epoch)
    quarter = timedelta(minutes=15)
    now = problem.now or blocks.start
    in_quarter: dict[int, dict[int, float]] = {}
    for b, start in enumerate(blocks.starts()):
        begin, end = max(start, now), start + blocks.length
        q = (begin - EPOCH) // quarter
        while EPOCH + q * quarter < end:
            lo, hi = max(begin, EPOCH + q * quarter), min(end, EPOCH + (q + 1) * quarter)
            in_quarter.setdefault(b, {})[q] = (hi - lo) / (end - begin)
            q += 1
    now_quarter = (now - EPOCH) // quarter
    for t, term in enumerate(problem.demand):
        for q in sorted({q for b in term.blocks for q in in_quarter[b]}):
            so_far = term.so_far_wh / 1000.0 / 0.25 if q == now_quarter else 0.0
            row(("demand", t, q), -math.inf, -so_far)
    for j, battery in enumerate(problem.storage):
        for b in range(count):
            rhs = battery.energy_wh / 1000.0 if b == 0 else 0.0
            row(("soc", j, b), rhs, rhs)
    for j, battery in enumerate(problem.storage):
        final = battery.final_energy_wh
        row(("final", j), -math.inf if final is None else final / 1000.0, math.inf)

    columns: list[tuple[float, float, float, dict[int, float]]] = []  # cost, bounds, entries
    first_column: list[int] = []
    present: list[int] = []
    storage_column: list[int] = []
    places: dict[str, int] = {}

    def column(cost: float, lower: float, upper: float, entries: dict[Key, float]) -> None:
        columns.append((cost, lower, upper, {row_of[key]: v for key, v in entries.items()}))

    for i, s in enumerate(sessions):
        departs = (s.departure - blocks.start).total_seconds()
        blocks_in = [b for b in range(count) if before(departs, b) > 0.0]
        first_column.append(len(columns))
        present.append(len(blocks_in))
        for b in blocks_in:
            hours = before(departs, b)
            entries: dict[Key, float] = {("need", s.id): hours, ("import", b): hours / h}
            if len(in_quarter[b]) > 1 and departs < starts[b] + h * 3600.0:
                # it leaves inside a block across quarters: each quarter its own draw
                for t, term in enumerate(problem.demand):
                    if b not in term.blocks:
                        continue
                    for q, share in in_quarter[b].items():
                        lo = max(begins[b], (EPOCH + q * quarter - blocks.start).total_seconds())
                        hi = min(
                            departs, (EPOCH + (q + 1) * quarter - blocks.start).total_seconds()
                        )
                        drawn = max(hi - lo, 0.0) / 3600.0
                        entries[("demand", t, q)] = (drawn - share * hours) / 0.25
            for k in range(len(nodes)):
                if (k, s.id) in weight:
                    entries[("node", k, b)] = weight[(k, s.id)] * scale[k]
            early = problem.early_per_kwh() * b / max(1, count - 1)
            column(early * hours * deadline[i], 0.0, s.max_power_w / 1000.0, entries)
    places["shortfall_column"] = len(columns)
    for s in sessions:
        column(penalty, 0.0, math.inf, {("need", s.id): 1.0})
    places["import_column"] = len(columns)
    for b in range(count):
        block_entries: dict[Key, float] = {("import", b): -1.0}
        for t, term in enumerate(problem.demand):
            if b in term.blocks:
                for q, share in in_quarter[b].items():
                    block_entries[("demand", t, q)] = h * share / 0.25
        column(costs[b] * h, 0.0 if costs[b] >= 0.0 else -math.inf, math.inf, block_entries)
    places["peak_column"] = len(columns)
    for t, term in enumerate(problem.demand):
        peak_entries: dict[Key, float] = {
            ("demand", t, q): -1.0 for b in term.blocks for q in in_quarter[b]
        }
        column(term.rate_per_kw, term.peak_so_far_w / 1000.0, math.inf, peak_entries)
    for j, battery in enumerate(problem.storage):
        storage_column.append(len(columns))
        for sign, limit, stored in (
            (1.0, battery.max_charge_w, -battery.charge_efficiency * 1.0),
            (-1.0, battery.max_discharge_w, 1.0 / battery.discharge_efficiency),
        ):
            for b in range(count):
                power: dict[Key, float] = {
                    ("import", b): sign * ahead[b] / h,
                    ("soc", j, b): stored * ahead[b],
                }
                for k, n in enumerate(nodes):
                    if (j, n.node_id) in battery_weight:
                        power[("node", k, b)] = sign * battery_weight[(j, n.node_id)] * scale[k]
                column(0.0, 0.0, limit / 1000.0, power)
        low, high = battery.energy_bounds_wh()
        for b in range(count):
            later = ("soc", j, b + 1) if b + 1 < count else ("final", j)
            column(
                0.0,
                low / 1000.0,
                high / 1000.0,
                {("soc", j, b): 1.0, later: -1.0 if b + 1 < count else 1.0},
            )
        final = battery.final_energy_wh
        column(
            problem.storage_penalty_per_kwh(),
            0.0,
            0.0 if final is None else math.inf,
            {("final", j): 1.0},
        )
    places["overload_column"] = len(columns)
    for k, n in enumerate(nodes):
        for b in range(count):
            room = n.capacity_w[b] * scale[k] / 1000.0
            if room < 0.0:
                column(OVERLOAD_FACTOR * penalty * h, 0.0, -room, {("node", k, b): -1.0})

    matrix = np.zeros((len(rows), len(columns)))
    for c, (_, _, _, cells) in enumerate(columns):
        for r, v in cells.items():
            matrix[r, c] = v
    return {
        "matrix": matrix,
        "col_cost": np.array([c[0] for c in columns]),
        "col_lower": np.array([c[1] for c in columns]),
        "col_upper": np.array([c[2] for c in columns]),
        "row_lower": np.array([r[0] for r in rows]),
        "row_upper": np.array([r[1] for r in rows]),
        "first_column": np.array(first_column),
        "present": np.array(present),
        "storage_column": np.array(storage_column),
        **{name: np.asarray(place) for name, place in places.items()},
        "node_row": np.asarray(row_of[("node", 0, 0)]),
        "import_row": np.asarray(row_of[("import", 0)]),
    }


def dense(program: LinearProgram) -> np.ndarray:
    """The program's matrix, dense; each column's rows checked ascending."""
    matrix = np.zeros((program.num_row, program.num_col))
    for c in range(program.num_col):
        rows = program.index[program.start[c] : program.start[c + 1]]
        assert np.all(np.diff(rows) > 0), f"column {c}: rows not ascending"
        matrix[rows, c] = program.value[program.start[c] : program.start[c + 1]]
    return matrix


def test_the_sparse_program_is_the_one_the_module_defines() -> None:
    """The program built from arrays (no loop per entry) is, entry for entry, the one
    written out row by row from the module's definition: the same columns in the same
    places, coefficients, costs and bounds; each column's rows ascending."""
    problem = rich_problem()
    program = build_program(problem)
    defined = defined_program(problem)
    # the case has what it should: a session gone, one past the horizon, an overload
    assert list(program.present) == [3, 12, 1, 7, 0, 5]
    assert program.num_col - program.overload_column == 1
    matrix = dense(program)
    assert matrix.shape == defined["matrix"].shape
    assert np.array_equal(matrix != 0.0, defined["matrix"] != 0.0)
    np.testing.assert_allclose(matrix, defined["matrix"], rtol=1e-12, atol=0.0)
    for name in ("col_cost", "col_lower", "col_upper", "row_lower", "row_upper"):
        np.testing.assert_allclose(getattr(program, name), defined[name], rtol=1e-12, err_msg=name)
    for name in (
        "first_column",
        "present",
        "shortfall_column",
        "import_column",
        "peak_column",
        "storage_column",
        "overload_column",
        "node_row",
        "import_row",
    ):
        assert np.array_equal(np.asarray(getattr(program, name)), defined[name]), name


@pytest.mark.parametrize("minutes", [5, 20, 30, 60])
def test_blocks_of_other_lengths_map_onto_the_quarter_hours_as_the_module_defines(
    minutes: int,
) -> None:
    """Blocks inside a quarter (5 min) and across quarters (20, 30, 60 min; a session
    leaving inside one): the same program, entry for entry, as the definition's."""
    problem = rich_problem(timedelta(minutes=minutes))
    program = build_program(problem)
    defined = defined_program(problem)
    matrix = dense(program)
    assert matrix.shape == defined["matrix"].shape
    np.testing.assert_allclose(matrix, defined["matrix"], rtol=1e-12, atol=1e-12)
    for name in ("col_cost", "col_lower", "col_upper", "row_lower", "row_upper"):
        np.testing.assert_allclose(getattr(program, name), defined[name], rtol=1e-12, err_msg=name)


def test_the_rows_that_cannot_bind_are_the_node_rows_their_columns_cannot_fill() -> None:
    """A node row its columns, each at the bound that loads it most, cannot fill (no
    column at all included) is left out of what HiGHS is handed; every other row is
    kept, and the optimum is the one of the whole program."""
    problem = rich_problem()
    program = build_program(problem)
    defined = defined_program(problem)
    matrix = defined["matrix"]
    # each entry at the bound of its column that loads the row most
    bound = np.where(matrix > 0.0, defined["col_upper"], defined["col_lower"])
    cells = np.zeros_like(matrix)
    np.multiply(matrix, bound, out=cells, where=matrix != 0.0)
    most = cells.sum(axis=1)
    row = np.arange(program.num_row)
    nodes = (row >= program.node_row) & (row < program.import_row)
    held = binding_rows(program)
    assert np.array_equal(held, ~nodes | (most > program.row_upper))
    assert 0 < np.count_nonzero(held & nodes) < np.count_nonzero(nodes)  # both kinds here
    whole = _quiet_highs()
    _pass(whole, program, np.ones(program.num_row, dtype=bool))
    whole.run()
    plan = solve(problem)
    assert plan.objective == pytest.approx(whole.getInfo().objective_function_value, rel=1e-9)
    assert plan.objective == pytest.approx(float(program.col_cost @ whole.getSolution().col_value))
