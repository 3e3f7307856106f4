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
- ``g[b]`` ≥ 0, the site's import in block ``b`` (its energy from now over the block's
  hours: the first block's average as if nothing came before now), at the block's
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
  (generation[b] − base load[b])·h[b]/h`` (a session leaving mid-block counts at its
  average; the base load and generation of the first block from now only);
- per demand term and each quarter hour ``q`` its blocks fall in (the tariff's demand
  interval on the clock: :func:`~depotctl.engine.planner.demand_charge.quarter_shares`),
  its average import: ``Σ_b g[b]·h·share[b,q]/¼ − peak[t] ≤ −so_far/¼`` — ``share[b,q]``
  the part of block ``b``'s time from now in ``q`` (1 for a block inside one quarter,
  split by time for a block across quarters, its import taken as even over it), and
  ``so_far`` the term's energy imported in the quarter holding now before now, in that
  quarter's row only. On the controller's grid of 15-minute blocks a block is a quarter
  and the row of the first is ``g[0] + so_far/¼ ≤ peak[t]``;
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

from depotctl.domain.bill import EPOCH
from depotctl.engine.planner.demand_charge import (
    QUARTER,
    QUARTER_HOURS,
    QuarterShares,
    quarter_shares,
)
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
    then its final miss; the overloads from ``overload_column`` to the end. Rows:
    ``node_row`` is the first node row, ``import_row`` the first import row; the
    demand rows follow the import rows, per term one per quarter hour in
    ``demand_quarters`` (each quarter's index from the epoch, ascending)."""

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
    demand_quarters: tuple[tuple[int, ...], ...] = ()

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
    demand = _DemandRows.of(problem, demand_row)
    soc_row = demand_row + demand.count
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
    # a session leaving inside a block across quarters: its part of their demand rows
    left_rows, left_values, left_held = demand.departures(
        block, until[session], hours_before, begins, block_starts + block_seconds
    )
    table_rows = np.concatenate(
        [
            session[:, None],
            node_row + nodes * count + block[:, None],
            (import_row + block)[:, None],
            left_rows,
        ],
        axis=1,
    )
    table_values = np.concatenate(
        [
            hours_before[:, None],
            members.weight[session],
            (hours_before / hours)[:, None],
            left_values,
        ],
        axis=1,
    )
    held = np.ones(table_rows.shape, dtype=bool)
    width = members.held.shape[1]
    held[:, 1 : 1 + width] = members.held[session]
    held[:, 2 + width :] = left_held
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
    terms = len(problem.demand)
    # each block's import: its import row, then each demand term's quarter rows it
    # falls in (ascending: the terms' rows follow each other)
    block_of = np.concatenate([np.arange(count), demand.block])
    row_of = np.concatenate([import_row + np.arange(count), demand.row])
    value_of = np.concatenate([np.full(count, -1.0), demand.share * (hours / QUARTER_HOURS)])
    entry = np.lexsort((row_of, block_of))
    columns.extend(
        energy_cost * hours,
        np.where(energy_cost >= 0.0, 0.0, -math.inf),
        np.full(count, math.inf),
        row_of[entry].astype(np.int32),
        value_of[entry],
        np.bincount(block_of, minlength=count).astype(np.int32),
    )
    peak_column = columns.count
    columns.extend(
        np.array([term.rate_per_kw for term in problem.demand], dtype=np.float64),
        np.array([term.peak_so_far_w / 1000.0 for term in problem.demand], dtype=np.float64),
        np.full(terms, math.inf),
        np.arange(demand_row, soc_row, dtype=np.int32),
        np.full(soc_row - demand_row, -1.0),
        np.array([len(q) for q in demand.quarters], dtype=np.int32),
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
    net_kw[0] *= ahead[0] / hours  # the first block's from now: its time before has gone
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
            demand.upper,
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
        demand_quarters=demand.quarters,
    )


@dataclass(frozen=True, slots=True)
class _DemandRows:
    """The demand rows (see the module): per entry, the block whose import it holds,
    the row and the block's share of its time from now in the row's quarter; per row,
    its bound (kW: minus the energy before now over a quarter in the quarter holding
    now, else 0); per term, its quarters (index from the epoch), one row each."""

    block: npt.NDArray[np.intp]
    row: npt.NDArray[np.intp]
    share: Floats
    upper: Floats
    quarters: tuple[tuple[int, ...], ...]
    #: per entry, its quarter's start and end in seconds from the first block's start
    since: Floats
    until: Floats
    #: whether some block falls in more than one quarter
    across: bool = False

    @property
    def count(self) -> int:
        return int(self.upper.size)

    def _by_block(self, count: int) -> tuple[npt.NDArray[np.intp], Bools]:
        """Per block (a line each, padded), the entries of the blocks across quarters
        (a block in one quarter has none: its import is its quarter's), by row."""
        spans = np.bincount(self.block, minlength=count)
        across = np.flatnonzero(np.isin(self.block, np.flatnonzero(spans > 1)))
        across = across[np.lexsort((self.row[across], self.block[across]))]
        per = np.bincount(self.block[across], minlength=count)
        table = np.zeros((count, int(per.max(initial=0))), dtype=np.intp)
        held = np.zeros(table.shape, dtype=bool)
        slot = np.arange(across.size) - np.repeat(np.cumsum(per) - per, per)
        table[self.block[across], slot] = across
        held[self.block[across], slot] = True
        return table, held

    def departures(
        self,
        block: npt.NDArray[np.intp],
        leaves: Floats,
        hours_before: Floats,
        begins: Floats,
        ends: Floats,
    ) -> tuple[npt.NDArray[np.intp], Floats, Bools]:
        """Per session column (in ``block``, its session leaving ``leaves`` seconds
        after the first block's start, charging ``hours_before`` in it), its entries in
        the demand rows of a block across quarters that it leaves inside: each
        quarter's row and, per kW, the energy it draws in that quarter less the block's
        share of it its import entry counts there, over a quarter's hours (exact: the
        quarter counts what it draws in it). ``begins``/``ends``: each block's time
        from now, in seconds from the first block's start."""
        if not self.across:  # every block inside one quarter: no entries
            none = np.zeros((block.size, 0), dtype=np.intp)
            return none, np.zeros(none.shape), np.zeros(none.shape, dtype=bool)
        table, held = self._by_block(begins.size)
        entry, mask = table[block], held[block] & (leaves < ends[block])[:, None]
        if not mask.any():
            return np.zeros((block.size, 0), dtype=np.intp), np.zeros((block.size, 0)), mask[:, :0]
        lo = np.maximum(begins[block][:, None], self.since[entry])
        hi = np.minimum(np.minimum(ends[block], leaves)[:, None], self.until[entry])
        charged = np.maximum(hi - lo, 0.0) / 3600.0
        spread = self.share[entry] * hours_before[:, None]
        return self.row[entry], (charged - spread) / QUARTER_HOURS, mask

    @classmethod
    def of(cls, problem: PlanningProblem, first_row: int) -> _DemandRows:
        if not problem.demand:
            empty = np.zeros(0, dtype=np.intp)
            nothing = np.zeros(0)
            return cls(empty, empty, nothing, nothing, (), nothing, nothing)
        shares: QuarterShares = quarter_shares(problem.blocks, problem.now)
        start = (problem.blocks.start - EPOCH) // timedelta(microseconds=1)
        quarter_us = QUARTER // timedelta(microseconds=1)
        blocks, rows, values, uppers, quarters, sinces = [], [], [], [], [], []
        row = first_row
        for term in problem.demand:
            in_term = np.zeros(problem.blocks.count, dtype=bool)
            in_term[list(term.blocks)] = True
            held = in_term[shares.block]
            quarter = shares.quarter[held]  # ascending: the blocks' quarters follow in time
            own = quarter[np.flatnonzero(np.diff(quarter, prepend=quarter[:1] - 1))]
            blocks.append(shares.block[held])
            rows.append(row + np.searchsorted(own, quarter))
            values.append(shares.share[held])
            sinces.append((quarter * quarter_us - start) / 1e6)
            upper = np.zeros(own.size)
            upper[own == shares.now_quarter] = -term.so_far_wh / 1000.0 / QUARTER_HOURS
            uppers.append(upper)
            quarters.append(tuple(own.tolist()))
            row += own.size
        return cls(
            np.concatenate(blocks).astype(np.intp),
            np.concatenate(rows).astype(np.intp),
            np.concatenate(values),
            np.concatenate(uppers),
            tuple(quarters),
            np.concatenate(sinces),
            np.concatenate(sinces) + QUARTER.total_seconds(),
            bool(shares.block.size > problem.blocks.count),
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
