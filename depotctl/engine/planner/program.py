"""The planning problem as a linear program, its matrix built directly in sparse
(column-wise) form for HiGHS — no modelling layer.

Units inside the program are kW and kWh (well scaled for the solver); ``h`` is a
block's hours, ``h[s,b]`` the hours of block ``b`` before session ``s`` departs (the
first block's from the problem's ``now``).

Columns, in this order (the overload columns last; see the node rows):

- ``p[s,b]`` ≥ 0, session ``s``'s power in block ``b``, only for the blocks it is
  present in (from the first block until its departure), at most its maximum power;
  its cost is the charge-early tie-break only (:meth:`PlanningProblem.early_per_kwh`);
- ``u[s]`` ≥ 0, its shortfall, at the shortfall penalty per kWh (its need row keeps
  it within the need);
- ``g[b]`` ≥ 0, the site's import in block ``b`` (its average power), at the block's
  energy price + carbon price × intensity per kWh: energy is paid for what the grid
  supplies, and export earns nothing. In a block whose cost per kWh is negative the
  import is the net load exactly, ``g`` free (else the program would import without
  bound): an export there is charged at that negative price, over-stating what it
  costs, so the optimum soaks a surplus up rather than export it;
- ``peak[t]`` ≥ the peak so far, one per demand term, at its rate per kW;
- per battery ``j``: ``c[j,b]`` and ``d[j,b]`` ≥ 0, its charge and discharge power
  at its terminals (at most its limits), ``e[j,b]``, the energy it holds at block
  ``b``'s end (within its bounds), and ``v[j]`` ≥ 0, its miss of its final energy
  (0 without one).

Rows, in this order:

- per session, ``Σ_b p[s,b]·h[s,b] + u[s] = need[s]`` (a vehicle takes no more than
  it needs);
- per node row and block, ``Σ_s w[n,s]·p[s,b] + Σ_j w[n,j]·(c[j,b] − d[j,b]) ≤
  capacity[n,b]`` in the row's own units (``w`` its weights, 1 for a power row; the
  row divided by its largest weight, so a current row in A/W is as well scaled as a
  power row). A capacity below zero (other load past the limit) is kept where the
  row's own sessions can meet it (weights of both signs); where they cannot, an
  overload column ``o[n,b]``, at most what brings the row to zero, lets the plan come
  as close as it can at :data:`OVERLOAD_FACTOR` × the shortfall penalty per kW and
  hour (a row at zero plans its positive-weight sessions idle);
- per block, the import: ``Σ_s p[s,b]·h[s,b]/h + Σ_j (c[j,b] − d[j,b])·h[b]/h − g[b] ≤
  generation[b] − base load[b]`` (a session leaving mid-block counts at its average);
- per demand term and each of its blocks, ``g[b] − peak[t] ≤ 0``;
- per battery and block, its state of charge: ``e[j,b] − e[j,b−1] − η_c·h[b]·c[j,b] +
  h[b]/η_d·d[j,b] = 0`` (``h[b]`` the block's hours from ``now``, like a session's;
  ``e[j,−1]`` the energy now, on the right; in the import ``c`` and ``d`` count at
  their average over the block, ``h[b]/h``);
- per battery, ``e[j,last] + v[j] ≥ final`` (no bound without a final energy).

Never infeasible: every session and battery idle, every overload at its most, ``g``
at the base load less the generation (or 0) and every peak at its import meets every
row (a battery outside its bounds now has bounds that follow it: see
:class:`PlannedStorage`).

Not modelled: simultaneous charge and discharge is not excluded (it only wastes
energy, which the optimum does only under a negative price); several grid
connections are one import (one connection's export offsets another's import).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from depotctl.engine.planner.problem import PlanningProblem

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int32]

#: A node row's overload (kW over one hour, in its scaled units) weighs this many
#: times a missed kWh: the plan misses energy rather than overload a row.
OVERLOAD_FACTOR = 10.0


@dataclass(frozen=True, slots=True)
class LinearProgram:
    """The program's arrays (HiGHS's column-wise LP) and where each part's columns sit
    (see the module): session ``i`` has ``present[i]`` power columns from
    ``first_column[i]`` (its blocks 0 … present−1) and its shortfall at
    ``shortfall_column + i``; the import from ``import_column`` (one per block), the
    demand peaks from ``peak_column`` (one per term), and battery ``j``'s columns
    from ``storage_column[j]``: charge, discharge and energy (one per block each),
    then its final miss; the overloads from ``overload_column`` to the end. Rows: ``node_row`` is the first node row, ``import_row`` the
    first import row."""

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
    import_column: int = 0
    peak_column: int = 0
    storage_column: tuple[int, ...] = ()
    overload_column: int = 0
    node_row: int = 0
    import_row: int = 0

    @property
    def num_col(self) -> int:
        return int(self.col_cost.size)

    @property
    def num_row(self) -> int:
        return int(self.row_lower.size)


class _Columns:
    """The columns as they are appended: bounds, cost and entries of each. Single
    columns (:meth:`add`) wait in lists and join the arrays as one piece."""

    def __init__(self) -> None:
        self.costs: list[Floats] = []
        self.lowers: list[Floats] = []
        self.uppers: list[Floats] = []
        self.lengths: list[Ints] = []
        self.indices: list[Ints] = []
        self.values: list[Floats] = []
        self.count = 0
        self._pending: list[tuple[float, float, float, list[tuple[int, float]]]] = []

    def extend(
        self, cost: Floats, lower: Floats, upper: Floats, rows: Ints, values: Floats, width: Ints
    ) -> None:
        """Columns whose entries are ``rows``/``values`` in order, ``width[k]`` each."""
        self.flush()
        self.costs.append(cost)
        self.lowers.append(lower)
        self.uppers.append(upper)
        self.indices.append(rows)
        self.values.append(values)
        self.lengths.append(width)
        self.count += int(cost.size)

    def add(
        self, cost: float, lower: float, upper: float, entries: list[tuple[int, float]]
    ) -> None:
        """One column with ``entries`` (row, value), rows ascending."""
        self._pending.append((cost, lower, upper, entries))
        self.count += 1

    def flush(self) -> None:
        """The single columns added so far into the arrays."""
        pending, self._pending = self._pending, []
        if not pending:
            return
        self.costs.append(np.array([c for c, _, _, _ in pending], dtype=np.float64))
        self.lowers.append(np.array([low for _, low, _, _ in pending], dtype=np.float64))
        self.uppers.append(np.array([up for _, _, up, _ in pending], dtype=np.float64))
        entries = [entry for _, _, _, column in pending for entry in column]
        self.indices.append(np.array([r for r, _ in entries], dtype=np.int32))
        self.values.append(np.array([v for _, v in entries], dtype=np.float64))
        self.lengths.append(np.array([len(c) for _, _, _, c in pending], dtype=np.int32))


def build_program(problem: PlanningProblem) -> LinearProgram:
    """The linear program of ``problem`` (see the module)."""
    blocks = problem.blocks
    count = blocks.count
    sessions = problem.sessions
    n_sessions = len(sessions)
    node_row = n_sessions
    import_row = node_row + len(problem.nodes) * count
    demand_row = import_row + count
    soc_row = demand_row + sum(len(term.blocks) for term in problem.demand)
    final_row = soc_row + len(problem.storage) * count
    num_row = final_row + len(problem.storage)

    # each session's node indices, ascending (so its column's rows come sorted), and
    # its coefficient in each: the node's weight, the row scaled to its largest weight
    rows_of_battery = _battery_rows(problem)
    scales = _row_scales(problem, rows_of_battery)
    position = {session.id: i for i, session in enumerate(sessions)}
    nodes_of: list[list[int]] = [[] for _ in sessions]
    weights_of: list[list[float]] = [[] for _ in sessions]
    for k, node in enumerate(problem.nodes):
        for session_id, weight in zip(node.session_ids, node.weight_of(), strict=True):
            nodes_of[position[session_id]].append(k)
            weights_of[position[session_id]].append(weight * scales[k])

    hours = blocks.hours
    spread = problem.early_per_kwh()
    early = spread * np.arange(count, dtype=np.float64) / max(1, count - 1)
    # weighed from 1 (the earliest departure) to ½ (the latest): a unique optimum, the
    # earliest deadline first, so that a replan keeps who charges now
    order = sorted(range(n_sessions), key=lambda i: (sessions[i].departure, sessions[i].id))
    deadline_weight = np.empty(n_sessions, dtype=np.float64)
    deadline_weight[order] = 1.0 - 0.5 * np.arange(n_sessions) / max(1, n_sessions - 1)
    block_starts = np.array(
        [(start - blocks.start).total_seconds() for start in blocks.starts()], dtype=np.float64
    )
    block_seconds = blocks.length.total_seconds()
    # the first block counts from now: the time before it has gone
    since = 0.0 if problem.now is None else (problem.now - blocks.start).total_seconds()
    begins = np.maximum(block_starts, since)
    # each block's hours from now (the first one's may be less than a block's)
    ahead = (block_starts + block_seconds - begins) / 3600.0

    columns = _Columns()
    first_column = np.zeros(n_sessions, dtype=np.int32)
    present = np.zeros(n_sessions, dtype=np.int32)
    for i, session in enumerate(sessions):
        until = (session.departure - blocks.start).total_seconds()
        before = np.clip(until - begins, 0.0, block_starts + block_seconds - begins) / 3600.0
        n = int(np.count_nonzero(before > 0.0))  # presence is a prefix of the blocks
        first_column[i] = columns.count
        present[i] = n
        if n == 0:
            continue
        before = before[:n]
        block = np.arange(n, dtype=np.int32)
        width = 2 + len(nodes_of[i])
        rows = np.empty((n, width), dtype=np.int32)
        coefficients = np.empty((n, width), dtype=np.float64)
        rows[:, 0] = i
        coefficients[:, 0] = before
        for j, k in enumerate(nodes_of[i], start=1):
            rows[:, j] = node_row + k * count + block
        coefficients[:, 1:-1] = weights_of[i]
        rows[:, -1] = import_row + block
        coefficients[:, -1] = before / hours
        columns.extend(
            early[:n] * before * deadline_weight[i],
            np.zeros(n),
            np.full(n, session.max_power_w / 1000.0),
            rows.ravel(),
            coefficients.ravel(),
            np.full(n, width, dtype=np.int32),
        )
    shortfall_column = columns.count
    need_kwh = np.array([s.need_wh / 1000.0 for s in sessions], dtype=np.float64)
    # no upper bound: the need row and p ≥ 0 already keep u ≤ need, and a bound as
    # small as a need of a few µWh trips HiGHS's presolve into "infeasible"
    columns.extend(
        np.full(n_sessions, problem.penalty_per_kwh()),
        np.zeros(n_sessions),
        np.full(n_sessions, math.inf),
        np.arange(n_sessions, dtype=np.int32),
        np.ones(n_sessions),
        np.ones(n_sessions, dtype=np.int32),
    )

    import_column = columns.count
    demand_rows_of: list[list[int]] = [[] for _ in range(count)]
    row = demand_row
    for term in problem.demand:
        for b in term.blocks:
            demand_rows_of[b].append(row)
            row += 1
    energy_cost = problem.energy_cost_per_kwh()
    for b, cost in enumerate(energy_cost):
        entries = [(import_row + b, -1.0), *((r, 1.0) for r in demand_rows_of[b])]
        columns.add(cost * hours, 0.0 if cost >= 0.0 else -math.inf, math.inf, entries)
    peak_column = columns.count
    row = demand_row
    for term in problem.demand:
        entries = [(row + k, -1.0) for k in range(len(term.blocks))]
        columns.add(term.rate_per_kw, term.peak_so_far_w / 1000.0, math.inf, entries)
        row += len(term.blocks)

    storage_column = []
    soc_rhs = np.zeros(len(problem.storage) * count)
    final_lower = np.full(len(problem.storage), -math.inf)
    storage_penalty = problem.storage_penalty_per_kwh()
    for j, battery in enumerate(problem.storage):
        storage_column.append(columns.count)
        loads = [(node_row + k * count, w * scales[k]) for k, w in rows_of_battery[j]]
        soc = soc_row + j * count
        for sign, limit, stored in (
            (1.0, battery.max_charge_w, -battery.charge_efficiency),
            (-1.0, battery.max_discharge_w, 1.0 / battery.discharge_efficiency),
        ):
            for b in range(count):
                # like a session's, its first block counts from now (at its average
                # in the import)
                entries = [(base + b, sign * w) for base, w in loads]
                entries += [(import_row + b, sign * ahead[b] / hours), (soc + b, stored * ahead[b])]
                columns.add(0.0, 0.0, limit / 1000.0, entries)
        low, high = battery.energy_bounds_wh()
        for b in range(count):
            entries = [(soc + b, 1.0)]
            if b + 1 < count:
                entries.append((soc + b + 1, -1.0))
            else:
                entries.append((final_row + j, 1.0))
            columns.add(0.0, low / 1000.0, high / 1000.0, entries)
        final = battery.final_energy_wh
        columns.add(
            storage_penalty, 0.0, 0.0 if final is None else math.inf, [(final_row + j, 1.0)]
        )
        soc_rhs[j * count] = battery.energy_wh / 1000.0
        if final is not None:
            final_lower[j] = final / 1000.0

    capacity = np.array([node.capacity_w for node in problem.nodes], dtype=np.float64)
    scaled = capacity.reshape(len(problem.nodes), count) * np.array(scales)[:, None] / 1000.0
    capacity_kw = scaled.ravel()
    # a row below zero: an overload column, at most what brings the row to zero
    below = np.flatnonzero(capacity_kw < 0.0)
    overload_column = columns.count
    columns.extend(
        np.full(below.size, OVERLOAD_FACTOR * problem.penalty_per_kwh() * hours),
        np.zeros(below.size),
        -capacity_kw[below],
        (node_row + below).astype(np.int32),
        np.full(below.size, -1.0),
        np.ones(below.size, dtype=np.int32),
    )
    columns.flush()
    net_kw = (
        np.asarray(problem.generation(), dtype=np.float64)
        - np.asarray(problem.base_load(), dtype=np.float64)
    ) / 1000.0
    # a negative price: the import is the net load exactly (see the module)
    import_lower = np.where(np.asarray(energy_cost) < 0.0, net_kw, -math.inf)
    n_demand = soc_row - demand_row
    row_lower = np.concatenate(
        [
            need_kwh,
            np.full(capacity_kw.size, -math.inf),
            import_lower,
            np.full(n_demand, -math.inf),
            soc_rhs,
            final_lower,
        ]
    )
    row_upper = np.concatenate(
        [
            need_kwh,
            capacity_kw,
            net_kw,
            np.zeros(n_demand),
            soc_rhs,
            np.full(len(problem.storage), math.inf),
        ]
    )
    assert row_lower.size == num_row
    lengths = np.concatenate(columns.lengths)
    return LinearProgram(
        col_cost=np.concatenate(columns.costs),
        col_lower=np.concatenate(columns.lowers),
        col_upper=np.concatenate(columns.uppers),
        row_lower=row_lower,
        row_upper=row_upper,
        start=np.concatenate([[0], np.cumsum(lengths)]).astype(np.int32),
        index=np.concatenate(columns.indices).astype(np.int32),
        value=np.concatenate(columns.values),
        first_column=first_column,
        present=present,
        shortfall_column=shortfall_column,
        import_column=import_column,
        peak_column=peak_column,
        storage_column=tuple(storage_column),
        overload_column=overload_column,
        node_row=node_row,
        import_row=import_row,
    )


def _battery_rows(problem: PlanningProblem) -> list[list[tuple[int, float]]]:
    """Per battery, the node rows it loads (every row of each of its nodes, ascending)
    and its weight in each."""
    rows: list[list[tuple[int, float]]] = []
    for battery in problem.storage:
        weight = dict(zip(battery.node_ids, battery.weight_of(), strict=True))
        rows.append(
            [
                (k, weight[node.node_id])
                for k, node in enumerate(problem.nodes)
                if node.node_id in weight
            ]
        )
    return rows


def _row_scales(
    problem: PlanningProblem, rows_of_battery: list[list[tuple[int, float]]]
) -> list[float]:
    """Per node row, the factor it is scaled by: 1 / its largest weight, the
    batteries' included (so a current row in A/W reads like a power row in W per W);
    1 for weights in W per W or none at all."""
    largest = [max((abs(w) for w in node.weight_of()), default=0.0) for node in problem.nodes]
    for rows in rows_of_battery:
        for k, weight in rows:
            largest[k] = max(largest[k], abs(weight))
    return [1.0 / m if m > 0.0 else 1.0 for m in largest]
