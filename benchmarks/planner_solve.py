"""The planner's linear program on generated depots: build and solve time. Prints
figures; not a test.

    .venv/bin/python benchmarks/planner_solve.py [--sizes 500,2000] [--blocks 96]

Per size (instances of :mod:`generated_trees`: every EVSE occupied, departures 30 min
to 12 h ahead), one horizon of ``--blocks`` quarter-hours from the instance's instant
(17:00 UTC): each session's remaining need, its departure and its EVSE's maximum power
(``max_current_a × watts_per_amp``); the site, every circuit and every charger group
as a node, its capacity from :func:`node_capacities` (the current limit as balanced
power, 3 × 230 V × A: the planner's core states one power row per node and block,
phase balance comes with the delta-wye work), the site cut to 70 % from 17:00 to
21:00 (as an envelope known ahead would); a time-of-use price
(0.32 /kWh 17–21 h, 0.09 /kWh 23–06 h, 0.18 otherwise), a carbon profile (0.45 kg/kWh
in the evening peak, 0.20 at night, 0.30 otherwise) at 0.05 /kg.

Reported: ``problem`` (the plain values from the snapshot; the controller's side),
``build`` (the sparse matrix, :func:`build_program`), ``solve`` (:func:`solve`: the
build again, handing it to HiGHS and HiGHS's run, wall time) and HiGHS's own run time,
with the program's size, the status and the energy planned and missed.
Targets (this machine): 500 × 96 ≤ 1.5 s and 2,000 × 96 ≤ 10 s, the build included.
"""

from __future__ import annotations

import argparse
import sys
import time
from datetime import datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generated_trees import Instance, generate

from depotctl.engine.planner import (
    NodeCapacity,
    PlannedSession,
    PlanningProblem,
    PlanStatus,
    node_capacities,
    plan_blocks,
    solve,
)
from depotctl.engine.planner.program import build_program

TARGETS_S = {500: 1.5, 2_000: 10.0}
CUT = 0.70


def price(start: datetime) -> float:
    hour = start.hour
    if 17 <= hour < 21:
        return 0.32
    return 0.09 if hour >= 23 or hour < 6 else 0.18


def carbon(start: datetime) -> float:
    hour = start.hour
    if 17 <= hour < 21:
        return 0.45
    return 0.20 if hour >= 23 or hour < 6 else 0.30


def problem_of(instance: Instance, count: int) -> PlanningProblem:
    snapshot = instance.snapshot
    topology = snapshot.topology
    blocks = plan_blocks(snapshot.at, timedelta(minutes=15) * count)
    sessions = []
    for session in snapshot.sessions:
        evse = topology.evses[session.evse_id]
        requirement = session.requirement
        assert requirement is not None  # every generated session states its need
        amps = min(evse.max_current_a, session.vehicle_max_current_a or evse.max_current_a)
        sessions.append(
            PlannedSession(
                id=session.id,
                evse_id=session.evse_id,
                need_wh=max(0.0, requirement.energy_wh - session.energy_delivered_wh),
                departure=requirement.departure,
                max_power_w=amps * evse.watts_per_amp,
            )
        )
    nodes = tuple(
        NodeCapacity(
            node.node_id,
            tuple(
                watts * CUT if node.node_id == "site" and 17 <= start.hour < 21 else watts
                for watts, start in zip(node.capacity_w, blocks.starts(), strict=True)
            ),
            node.session_ids,
        )
        for node in node_capacities(snapshot, blocks)
    )
    starts = blocks.starts()
    return PlanningProblem(
        blocks=blocks,
        sessions=tuple(sessions),
        nodes=nodes,
        price_per_kwh=tuple(price(s) for s in starts),
        carbon_kg_per_kwh=tuple(carbon(s) for s in starts),
        carbon_price_per_kg=0.05,
    )


def run(size: int, count: int) -> None:
    instance = generate(size)
    began = time.perf_counter()
    problem = problem_of(instance, count)
    assembled = time.perf_counter()
    program = build_program(problem)
    built = time.perf_counter()
    plan = solve(problem)
    solved = time.perf_counter()
    planned_kwh = sum(
        sum(
            power * hours
            for power, hours in zip(
                plan.sessions[s.id].power_w, problem.blocks.hours_before(s.departure), strict=True
            )
        )
        / 1000.0
        for s in problem.sessions
    )
    missed_kwh = sum(p.shortfall_wh for p in plan.sessions.values()) / 1000.0
    need_kwh = sum(s.need_wh for s in problem.sessions) / 1000.0
    target = TARGETS_S.get(size)
    verdict = (
        ""
        if target is None
        else f"  target ≤ {target:.1f} s: " + ("met" if solved - built <= target else "MISSED")
    )
    print(
        f"{size:>6} sessions × {count} blocks: {program.num_col:,} columns, "
        f"{program.num_row:,} rows, {program.index.size:,} nonzeros; "
        f"{plan.status.value}"
    )
    print(
        f"        problem {assembled - began:6.3f} s   build {built - assembled:6.3f} s   "
        f"solve (build + HiGHS) {solved - built:6.3f} s   HiGHS run {plan.solve_seconds:6.3f} s"
        f"{verdict}"
    )
    if plan.status is PlanStatus.OPTIMAL:
        print(
            f"        need {need_kwh:,.0f} kWh, planned {planned_kwh:,.0f} kWh, "
            f"missed {missed_kwh:,.0f} kWh, objective {plan.objective:,.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="500,2000")
    parser.add_argument("--blocks", type=int, default=96)
    args = parser.parse_args()
    for size in (int(s) for s in args.sizes.split(",")):
        run(size, args.blocks)


if __name__ == "__main__":
    main()
