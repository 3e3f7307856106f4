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
from datetime import timedelta
from itertools import chain

import numpy as np
import numpy.typing as npt

from depotctl.engine.planner.problem import PlanningProblem

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int32]
Bools = npt.NDArray[np.bool_]

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
    """The columns as they are appended, a part at a time: bounds, cost and entries."""

    def __init__(self) -> None:
        self.costs: list[Floats] = []
        self.lowers: list[Floats] = []
        self.uppers: list[Floats] = []
        self.lengths: list[Ints] = []
        self.indices: list[Ints] = []
        self.values: list[Floats] = []
        self.count = 0

    def extend(
        self, cost: Floats, lower: Floats, upper: Floats, rows: Ints, values: Floats, width: Ints
    ) -> None:
        """Columns whose entries are ``rows``/``values`` in order, ``width[k]`` each."""
        self.costs.append(cost)
        self.lowers.append(lower)
        self.uppers.append(upper)
        self.indices.append(rows.astype(np.int32, copy=False))
        self.values.append(values)
        self.lengths.append(width.astype(np.int32, copy=False))
        self.count += int(cost.size)

    def extend_table(
        self,
        cost: Floats,
        lower: Floats,
        upper: Floats,
        rows: Ints,
        values: Floats,
        held: npt.NDArray[np.bool_] | None = None,
    ) -> None:
        """Columns given as a table, one line each: its entries the line's ``rows`` and
        ``values`` (rows ascending) where ``held`` (None: every one)."""
        if held is None:
            held = np.ones(rows.shape, dtype=bool)
        self.extend(cost, lower, upper, rows[held], values[held], held.sum(axis=1))


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

    rows_of_battery = _battery_rows(problem)
    members = _Members.of(problem, rows_of_battery)

    hours = blocks.hours
    spread = problem.early_per_kwh()
    penalty = problem.penalty_per_kwh()
    early = spread * np.arange(count, dtype=np.float64) / max(1, count - 1)
    # weighed from 1 (the earliest departure) to ½ (the latest): a unique optimum, the
    # earliest deadline first, so that a replan keeps who charges now
    order = sorted(range(n_sessions), key=lambda i: (sessions[i].departure, sessions[i].id))
    deadline_weight = np.empty(n_sessions, dtype=np.float64)
    deadline_weight[order] = 1.0 - 0.5 * np.arange(n_sessions) / max(1, n_sessions - 1)
    block_seconds = blocks.length.total_seconds()
    # each block's start in seconds from the first's, as timedelta.total_seconds() gives
    # it (whole microseconds, divided once)
    microseconds = blocks.length // timedelta(microseconds=1)
    block_starts = (np.arange(count, dtype=np.int64) * microseconds) / 1e6
    # the first block counts from now: the time before it has gone
    since = 0.0 if problem.now is None else (problem.now - blocks.start).total_seconds()
    begins = np.maximum(block_starts, since)
    # each block's hours from now (the first one's may be less than a block's)
    ahead = (block_starts + block_seconds - begins) / 3600.0

    columns = _Columns()
    # per session and block, its hours before it departs; presence is a prefix
    until = np.array(
        [(s.departure - blocks.start).total_seconds() for s in sessions], dtype=np.float64
    )
    before = np.clip(until[:, None] - begins, 0.0, block_starts + block_seconds - begins) / 3600.0
    present = np.count_nonzero(before > 0.0, axis=1).astype(np.int32)
    first_column = np.zeros(n_sessions, dtype=np.int32)
    first_column[1:] = np.cumsum(present)[:-1]
    session = np.repeat(np.arange(n_sessions), present)  # per power column
    block = np.arange(session.size) - np.repeat(first_column, present)
    hours_before = before[session, block]
    # each column: its need row, its session's node rows (ascending), the import row
    nodes = members.node[session]
    table_rows = np.concatenate(
        [
            session[:, None],
            node_row + nodes * count + block[:, None],
            (import_row + block)[:, None],
        ],
        axis=1,
    )
    table_values = np.concatenate(
        [hours_before[:, None], members.weight[session], (hours_before / hours)[:, None]],
        axis=1,
    )
    held = np.ones(table_rows.shape, dtype=bool)
    held[:, 1:-1] = members.held[session]
    max_kw = np.array([s.max_power_w for s in sessions], dtype=np.float64) / 1000.0
    columns.extend_table(
        early[block] * hours_before * deadline_weight[session],
        np.zeros(session.size),
        max_kw[session],
        table_rows,
        table_values,
        held,
    )
    shortfall_column = columns.count
    need_kwh = np.array([s.need_wh / 1000.0 for s in sessions], dtype=np.float64)
    # no upper bound: the need row and p ≥ 0 already keep u ≤ need, and a bound as
    # small as a need of a few µWh trips HiGHS's presolve into "infeasible"
    columns.extend(
        np.full(n_sessions, penalty),
        np.zeros(n_sessions),
        np.full(n_sessions, math.inf),
        np.arange(n_sessions, dtype=np.int32),
        np.ones(n_sessions),
        np.ones(n_sessions, dtype=np.int32),
    )

    import_column = columns.count
    energy_cost = np.asarray(problem.energy_cost_per_kwh(), dtype=np.float64)
    # each block's import: its import row, then each demand term's row holding it
    terms = len(problem.demand)
    demand_rows = np.zeros((count, terms), dtype=np.intp)
    demand_held = np.zeros((count, terms), dtype=bool)
    row = demand_row
    for t, term in enumerate(problem.demand):
        held_blocks = np.asarray(term.blocks, dtype=np.intp)
        demand_rows[held_blocks, t] = row + np.arange(held_blocks.size)
        demand_held[held_blocks, t] = True
        row += held_blocks.size
    columns.extend_table(
        energy_cost * hours,
        np.where(energy_cost >= 0.0, 0.0, -math.inf),
        np.full(count, math.inf),
        np.concatenate([(import_row + np.arange(count))[:, None], demand_rows], axis=1),
        np.concatenate([np.full((count, 1), -1.0), np.ones((count, terms))], axis=1),
        np.concatenate([np.ones((count, 1), dtype=bool), demand_held], axis=1),
    )
    peak_column = columns.count
    widths = np.array([len(term.blocks) for term in problem.demand], dtype=np.int32)
    columns.extend(
        np.array([term.rate_per_kw for term in problem.demand], dtype=np.float64),
        np.array([term.peak_so_far_w / 1000.0 for term in problem.demand], dtype=np.float64),
        np.full(terms, math.inf),
        np.arange(demand_row, soc_row, dtype=np.int32),
        np.full(soc_row - demand_row, -1.0),
        widths,
    )

    storage_column = []
    soc_rhs = np.zeros(len(problem.storage) * count)
    final_lower = np.full(len(problem.storage), -math.inf)
    each_block = np.arange(count)
    for j, battery in enumerate(problem.storage):
        storage_column.append(columns.count)
        loads = rows_of_battery[j]
        load_rows = np.array([node_row + k * count for k, _ in loads], dtype=np.intp)
        load_w = np.array([w * members.scale[k] for k, w in loads], dtype=np.float64)
        soc = soc_row + j * count
        for sign, limit, stored in (
            (1.0, battery.max_charge_w, -battery.charge_efficiency),
            (-1.0, battery.max_discharge_w, 1.0 / battery.discharge_efficiency),
        ):
            # like a session's, its first block counts from now (at its average in the
            # import)
            columns.extend_table(
                np.zeros(count),
                np.zeros(count),
                np.full(count, limit / 1000.0),
                np.concatenate(
                    [
                        load_rows + each_block[:, None],
                        (import_row + each_block)[:, None],
                        (soc + each_block)[:, None],
                    ],
                    axis=1,
                ),
                np.concatenate(
                    [
                        np.broadcast_to(sign * load_w, (count, load_w.size)),
                        (sign * ahead / hours)[:, None],
                        (stored * ahead)[:, None],
                    ],
                    axis=1,
                ),
            )
        low, high = battery.energy_bounds_wh()
        # each block's energy: its own balance row and the next (the last: the final row)
        following = soc + each_block + 1
        following[-1] = final_row + j
        columns.extend_table(
            np.zeros(count),
            np.full(count, low / 1000.0),
            np.full(count, high / 1000.0),
            np.stack([soc + each_block, following], axis=1),
            np.stack([np.ones(count), np.where(each_block + 1 < count, -1.0, 1.0)], axis=1),
        )
        final = battery.final_energy_wh
        columns.extend(
            np.array([problem.storage_penalty_per_kwh()]),
            np.zeros(1),
            np.array([0.0 if final is None else math.inf]),
            np.array([final_row + j], dtype=np.int32),
            np.ones(1),
            np.ones(1, dtype=np.int32),
        )
        soc_rhs[j * count] = battery.energy_wh / 1000.0
        if final is not None:
            final_lower[j] = final / 1000.0

    capacity = np.array([node.capacity_w for node in problem.nodes], dtype=np.float64)
    scaled = capacity.reshape(len(problem.nodes), count) * members.scale[:, None] / 1000.0
    capacity_kw = scaled.ravel()
    # a row below zero: an overload column, at most what brings the row to zero
    below = np.flatnonzero(capacity_kw < 0.0)
    overload_column = columns.count
    columns.extend(
        np.full(below.size, OVERLOAD_FACTOR * penalty * hours),
        np.zeros(below.size),
        -capacity_kw[below],
        (node_row + below).astype(np.int32),
        np.full(below.size, -1.0),
        np.ones(below.size, dtype=np.int32),
    )
    net_kw = (
        np.asarray(problem.generation(), dtype=np.float64)
        - np.asarray(problem.base_load(), dtype=np.float64)
    ) / 1000.0
    # a negative price: the import is the net load exactly (see the module)
    import_lower = np.where(energy_cost < 0.0, net_kw, -math.inf)
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


@dataclass(frozen=True, slots=True)
class _Members:
    """Which node rows carry each session, as a table (a line per session, padded to
    the most any session has; ``held`` marks the entries there are): each node row's
    index, ascending, and the session's coefficient in it — the node's weight, the
    row scaled (``scale``, per node row) to its largest weight."""

    node: npt.NDArray[np.intp]
    weight: Floats
    held: npt.NDArray[np.bool_]
    scale: Floats

    @classmethod
    def of(
        cls, problem: PlanningProblem, rows_of_battery: list[list[tuple[int, float]]]
    ) -> _Members:
        nodes = problem.nodes
        position = {session.id: i for i, session in enumerate(problem.sessions)}
        sizes = np.array([len(node.session_ids) for node in nodes], dtype=np.intp)
        total = int(sizes.sum())
        carried = chain.from_iterable(node.session_ids for node in nodes)
        session = np.fromiter(map(position.__getitem__, carried), dtype=np.intp, count=total)
        weights = chain.from_iterable(node.weight_of() for node in nodes)
        weight = np.fromiter(weights, dtype=np.float64, count=total)
        node = np.repeat(np.arange(len(nodes)), sizes)
        scale = _row_scales(len(nodes), node, weight, rows_of_battery)
        by_session = np.lexsort((node, session))  # each session's nodes ascending
        session, node, weight = session[by_session], node[by_session], weight[by_session]
        counts = np.bincount(session, minlength=len(position))
        slot = np.arange(total) - np.repeat(np.cumsum(counts) - counts, counts)
        shape = (len(position), int(counts.max(initial=0)))
        table = cls(
            np.zeros(shape, dtype=np.intp),
            np.zeros(shape, dtype=np.float64),
            np.zeros(shape, dtype=bool),
            scale,
        )
        table.node[session, slot] = node
        table.weight[session, slot] = weight * scale[node]
        table.held[session, slot] = True
        return table


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
    count: int,
    node: npt.NDArray[np.intp],
    weight: Floats,
    rows_of_battery: list[list[tuple[int, float]]],
) -> Floats:
    """Per node row, the factor it is scaled by: 1 / its largest weight (``weight``
    the sessions', on rows ``node``), the batteries' included (so a current row in A/W
    reads like a power row in W per W); 1 for weights in W per W or none at all."""
    largest = np.zeros(count)
    np.maximum.at(largest, node, np.abs(weight))
    for rows in rows_of_battery:
        for k, w in rows:
            largest[k] = max(largest[k], abs(w))
    scale = np.ones(count)
    np.divide(1.0, largest, out=scale, where=largest > 0.0)
    return scale


def binding_rows(program: LinearProgram) -> Bools:
    """Per row of ``program``, whether it can bind: every row but a node row that its
    columns, each at the bound that loads the row most, cannot fill (one with no
    column at all included). Such a row changes no solution, and most node rows are
    such (blocks after their sessions leave, limits above their sessions' power):
    left out of what HiGHS is handed, its presolve need not find them."""
    column = np.repeat(np.arange(program.num_col), np.diff(program.start))
    upper, lower = program.col_upper[column], program.col_lower[column]
    with np.errstate(invalid="ignore"):  # 0 × inf: a column the row does not load
        most = np.maximum(program.value * upper, program.value * lower)
    load = np.bincount(program.index, weights=most, minlength=program.num_row)
    rows = np.ones(program.num_row, dtype=bool)
    nodes = slice(program.node_row, program.import_row)
    rows[nodes] = ~(load[nodes] <= program.row_upper[nodes])  # NaN or more: it may bind
    return rows
