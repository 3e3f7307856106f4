"""The planning problem as a linear program, its matrix built directly in sparse
(column-wise) form for HiGHS — no modelling layer.

Units inside the program are kW and kWh (well scaled for the solver). Columns:
``p[s, b]`` ≥ 0, session ``s``'s power in block ``b``, only for the blocks the
session is present in (from the first block until its departure), at most its
maximum power; then ``u[s]`` ≥ 0, its shortfall. Rows: per session,
``Σ_b p[s,b]·h[s,b] + u[s] = need[s]`` (``h`` the block's hours before the
departure: a vehicle takes no more than it needs); per node and block,
``Σ_{s under node} w[node,s]·p[s,b] ≤ capacity[node, b]`` in the row's own units
(``w`` the node's weights, 1 for a power row; the row divided by its largest
weight, so a current row in A/W is as well scaled as a power row; a capacity below
zero plans zero). Objective: energy price + carbon price × intensity per kWh, plus the
shortfall penalty per kWh missed — never infeasible.

Extension points (later pieces of the planner): a demand charge adds one peak
column per billing period and a row per block (``Σ p − peak ≤ peak so far``);
storage adds charge/discharge columns and a state-of-charge row chain; solar and
non-EV load shift the capacities; the delta-wye polygon replaces a three-phase
node's one capacity row per block by its facet rows (coefficients of both signs).
Each is more columns after ``u`` and more rows after the node rows: the layout
below keeps sessions' rows first so that appended blocks do not renumber them.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from depotctl.engine.planner.problem import NodeCapacity, PlanningProblem

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int32]


@dataclass(frozen=True, slots=True)
class LinearProgram:
    """The program's arrays (HiGHS's column-wise LP) and where each session's columns
    sit: session ``i`` has ``present[i]`` power columns from ``first_column[i]`` (its
    blocks 0 … present−1), and its shortfall column at ``shortfall_column + i``."""

    col_cost: Floats
    col_lower: Floats
    col_upper: Floats
    row_lower: Floats
    row_upper: Floats
    start: Ints
    index: Ints
    value: Floats
    first_column: Ints
    present: Ints
    shortfall_column: int

    @property
    def num_col(self) -> int:
        return int(self.col_cost.size)

    @property
    def num_row(self) -> int:
        return int(self.row_lower.size)


def build_program(problem: PlanningProblem) -> LinearProgram:
    """The linear program of ``problem`` (see the module)."""
    blocks = problem.blocks
    count = blocks.count
    sessions = problem.sessions
    n_sessions = len(sessions)
    position = {session.id: i for i, session in enumerate(sessions)}
    # each session's node indices, ascending (so its column's rows come sorted), and
    # its coefficient in each: the node's weight, the row scaled to its largest weight
    scales = [_row_scale(node) for node in problem.nodes]
    nodes_of: list[list[int]] = [[] for _ in sessions]
    weights_of: list[list[float]] = [[] for _ in sessions]
    for k, node in enumerate(problem.nodes):
        for session_id, weight in zip(node.session_ids, node.weight_of(), strict=True):
            nodes_of[position[session_id]].append(k)
            weights_of[position[session_id]].append(weight * scales[k])

    cost_per_kwh = np.asarray(problem.energy_cost_per_kwh(), dtype=np.float64)
    penalty = problem.penalty_per_kwh()
    block_starts = np.array(
        [(start - blocks.start).total_seconds() for start in blocks.starts()], dtype=np.float64
    )
    block_seconds = blocks.length.total_seconds()

    costs: list[Floats] = []
    uppers: list[Floats] = []
    starts: list[Ints] = []
    indices: list[Ints] = []
    values: list[Floats] = []
    first_column = np.zeros(n_sessions, dtype=np.int32)
    present = np.zeros(n_sessions, dtype=np.int32)
    column = 0
    nonzeros = 0
    for i, session in enumerate(sessions):
        until = (session.departure - blocks.start).total_seconds()
        hours = np.clip(until - block_starts, 0.0, block_seconds) / 3600.0
        n = int(np.count_nonzero(hours > 0.0))  # presence is a prefix of the blocks
        first_column[i] = column
        present[i] = n
        if n == 0:
            continue
        hours = hours[:n]
        node_rows = [n_sessions + k * count for k in nodes_of[i]]
        width = 1 + len(node_rows)
        rows = np.empty((n, width), dtype=np.int32)
        rows[:, 0] = i
        block = np.arange(n, dtype=np.int32)
        for j, base in enumerate(node_rows, start=1):
            rows[:, j] = base + block
        coefficients = np.empty((n, width), dtype=np.float64)
        coefficients[:, 0] = hours
        coefficients[:, 1:] = weights_of[i]
        indices.append(rows.ravel())
        values.append(coefficients.ravel())
        starts.append(nonzeros + width * block)
        costs.append(cost_per_kwh[:n] * hours)
        uppers.append(np.full(n, session.max_power_w / 1000.0))
        column += n
        nonzeros += n * width
    shortfall_column = column
    # the shortfall columns: one entry each, in their session's energy row
    starts.append(nonzeros + np.arange(n_sessions, dtype=np.int32))
    indices.append(np.arange(n_sessions, dtype=np.int32))
    values.append(np.ones(n_sessions))
    costs.append(np.full(n_sessions, penalty))
    need_kwh = np.array([s.need_wh / 1000.0 for s in sessions], dtype=np.float64)
    uppers.append(need_kwh)
    nonzeros += n_sessions
    starts.append(np.array([nonzeros], dtype=np.int32))

    capacity_kw = np.empty(len(problem.nodes) * count, dtype=np.float64)
    for k, node in enumerate(problem.nodes):
        capacity_kw[k * count : (k + 1) * count] = [
            math.inf if math.isinf(c) else max(0.0, c) * scales[k] / 1000.0 for c in node.capacity_w
        ]
    col_cost = np.concatenate(costs)
    return LinearProgram(
        col_cost=col_cost,
        col_lower=np.zeros(col_cost.size),
        col_upper=np.concatenate(uppers),
        row_lower=np.concatenate([need_kwh, np.full(capacity_kw.size, -math.inf)]),
        row_upper=np.concatenate([need_kwh, capacity_kw]),
        start=np.concatenate(starts).astype(np.int32),
        index=np.concatenate(indices).astype(np.int32),
        value=np.concatenate(values),
        first_column=first_column,
        present=present,
        shortfall_column=shortfall_column,
    )


def _row_scale(node: NodeCapacity) -> float:
    """The factor a node's row is scaled by: 1 / its largest weight (so a current row
    in A/W reads like a power row in W per W, well scaled for HiGHS); 1 for weights in
    W per W or none at all."""
    largest = max((abs(w) for w in node.weight_of()), default=0.0)
    return 1.0 / largest if largest > 0.0 else 1.0
