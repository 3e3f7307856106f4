"""Warm starts: a solve's simplex basis kept with its plan, and mapped onto the next
program — each session's, node's, battery's and the import's columns and rows by
their id and block instant — so a replan after an arrival, a departure or a block
boundary starts where the last one ended.

Demand terms match by their place in the problem's list. What cannot be matched (a
new session, a block new to the horizon) starts as a slack basis would (columns at their lower bound, rows basic). The
result may hold too many or too few basic variables; it is handed to HiGHS as an
*alien* basis, which HiGHS completes into a valid one before its simplex runs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import highspy
import numpy as np
import numpy.typing as npt

from depotctl.engine.planner.blocks import Blocks
from depotctl.engine.planner.problem import PlanningProblem
from depotctl.engine.planner.program import Bools, Floats, LinearProgram

Statuses = npt.NDArray[np.int8]
_LOWER = int(highspy.HighsBasisStatus.kLower)
_BASIC = int(highspy.HighsBasisStatus.kBasic)
_UPPER = int(highspy.HighsBasisStatus.kUpper)
_ZERO = int(highspy.HighsBasisStatus.kZero)
_STATUS = [highspy.HighsBasisStatus(value) for value in range(5)]


@dataclass(frozen=True, slots=True)
class _Layout:
    """Where a program's parts sit, by id (see :class:`LinearProgram`)."""

    blocks: Blocks
    sessions: dict[str, tuple[int, int, int]]  # id: (first column, present, row)
    shortfall_column: int
    nodes: dict[tuple[str, int], int]  # (node id, occurrence): its first row
    import_column: int
    import_row: int
    peak_column: int
    demand: list[dict[int, int]]  # per term: quarter hour (from the epoch): its row
    storage: dict[str, tuple[int, int, int]]  # id: (first column, first soc row, final row)

    @classmethod
    def of(cls, problem: PlanningProblem, program: LinearProgram) -> _Layout:
        count = problem.blocks.count
        seen: dict[str, int] = {}
        nodes = {}
        for k, node in enumerate(problem.nodes):
            occurrence = seen.get(node.node_id, 0)
            seen[node.node_id] = occurrence + 1
            nodes[(node.node_id, occurrence)] = program.node_row + k * count
        soc_row = program.num_row - len(problem.storage) * (count + 1)
        final_row = soc_row + len(problem.storage) * count
        demand = []
        row = program.import_row + count
        for quarters in program.demand_quarters:
            demand.append({q: row + k for k, q in enumerate(quarters)})
            row += len(quarters)
        return cls(
            blocks=problem.blocks,
            sessions={
                s.id: (int(program.first_column[i]), int(program.present[i]), i)
                for i, s in enumerate(problem.sessions)
            },
            shortfall_column=program.shortfall_column,
            nodes=nodes,
            import_column=program.import_column,
            import_row=program.import_row,
            peak_column=program.peak_column,
            demand=demand,
            storage={
                battery.id: (first, soc_row + j * count, final_row + j)
                for j, (battery, first) in enumerate(
                    zip(problem.storage, program.storage_column, strict=True)
                )
            },
        )


@dataclass(frozen=True, slots=True, eq=False)
class WarmStart:
    """A solve's basis (HiGHS's status per column and per row ``held``, those it was
    handed) with its problem and program, read only when a later solve starts from it
    (reading a basis out of HiGHS costs more than building a small program); equal
    only to itself (a plan compares without it)."""

    basis: highspy.HighsBasis
    problem: PlanningProblem
    program: LinearProgram
    held: Bools

    @classmethod
    def of(
        cls,
        basis: highspy.HighsBasis,
        problem: PlanningProblem,
        program: LinearProgram,
        held: Bools,
    ) -> WarmStart | None:
        """The warm start of a solve's ``basis`` of ``program``'s rows ``held``; None
        when HiGHS has no valid one."""
        return cls(basis, problem, program, held) if basis.valid else None

    def statuses(self) -> tuple[Statuses, Statuses] | None:
        """The status of each column and of each row of the program (a row HiGHS was
        not handed is basic: it never binds); None when HiGHS's basis is not of the
        program handed to it. Each read converts the whole vector."""
        cols, held = _statuses(self.basis.col_status), _statuses(self.basis.row_status)
        if cols.size != self.program.num_col or held.size != np.count_nonzero(self.held):
            return None
        rows = np.full(self.program.num_row, _BASIC, dtype=np.int8)
        rows[self.held] = held
        return cols, rows


def starting_basis(
    warm: WarmStart, problem: PlanningProblem, program: LinearProgram, held: Bools | None = None
) -> highspy.HighsBasis | None:
    """``warm`` mapped onto ``program``'s rows ``held`` (None: all; see the module);
    None when the horizons do not line up (blocks of another length, or a start not a
    whole number of blocks after the old one)."""
    shift = _shift(warm.problem.blocks, problem.blocks)
    if shift is None:
        return None
    was = warm.statuses()
    if was is None:
        return None
    col_was, row_was = was
    old, new = _Layout.of(warm.problem, warm.program), _Layout.of(problem, program)
    count, old_count = problem.blocks.count, old.blocks.count
    cols = np.full(program.num_col, _LOWER, dtype=np.int8)
    rows = np.full(program.num_row, _BASIC, dtype=np.int8)

    def copy(target: Statuses, to: int, source: Statuses, at: int, n: int) -> None:
        """``n`` blocks from block ``shift`` on of the old part at ``at`` into the new
        part at ``to`` (each part one entry per block)."""
        n = min(n, old_count - shift)
        if n > 0:
            target[to : to + n] = source[at + shift : at + shift + n]

    for session_id, (first, present, row) in new.sessions.items():
        before = old.sessions.get(session_id)
        if before is None:
            continue
        old_first, old_present, old_row = before
        copy(cols, first, col_was, old_first, min(present, old_present - shift))
        cols[program.shortfall_column + row] = col_was[old.shortfall_column + old_row]
        rows[row] = row_was[old_row]
    for key, row in new.nodes.items():
        if key in old.nodes:
            copy(rows, row, row_was, old.nodes[key], count)
    copy(cols, new.import_column, col_was, old.import_column, count)
    copy(rows, new.import_row, row_was, old.import_row, count)
    for t, (old_rows, new_rows) in enumerate(zip(old.demand, new.demand, strict=False)):
        cols[new.peak_column + t] = col_was[old.peak_column + t]
        for q, row in new_rows.items():
            if q in old_rows:
                rows[row] = row_was[old_rows[q]]
    for battery_id, (first, soc, final) in new.storage.items():
        if battery_id not in old.storage:
            continue
        old_first, old_soc, old_final = old.storage[battery_id]
        for part in range(3):  # charge, discharge, energy
            copy(cols, first + part * count, col_was, old_first + part * old_count, count)
        cols[first + 3 * count] = col_was[old_first + 3 * old_count]  # final miss
        copy(rows, soc, row_was, old_soc, count)
        rows[final] = row_was[old_final]
    _fit_bounds(cols, program.col_lower, program.col_upper)
    _fit_bounds(rows, program.row_lower, program.row_upper)
    basis = highspy.HighsBasis()
    basis.col_status = [_STATUS[s] for s in cols.tolist()]
    basis.row_status = [_STATUS[s] for s in (rows if held is None else rows[held]).tolist()]
    basis.valid = True
    basis.alien = True
    return basis


def _shift(old: Blocks, new: Blocks) -> int | None:
    """How many blocks ``new`` starts after ``old``; None when they do not line up."""
    if old.length != new.length or new.start < old.start:
        return None
    shift, rest = divmod(new.start - old.start, old.length)
    return int(shift) if not rest and shift < old.count else None


def _fit_bounds(status: Statuses, lower: Floats, upper: Floats) -> None:
    """Each nonbasic status moved to a bound the new program has (a price turned
    negative frees an import column; a bound may be gone)."""
    at_lower = (status == _LOWER) & np.isinf(lower)
    at_upper = (status == _UPPER) & np.isinf(upper)
    status[at_lower] = np.where(np.isinf(upper[at_lower]), _ZERO, _UPPER)
    status[at_upper] = np.where(np.isinf(lower[at_upper]), _ZERO, _LOWER)


def _statuses(statuses: Sequence[highspy.HighsBasisStatus]) -> Statuses:
    return np.fromiter(map(int, statuses), dtype=np.int8, count=len(statuses))
