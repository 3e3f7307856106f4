"""The planner's linear program on generated depots: build and solve time, cold and
warm. Prints figures; not a test.

    .venv/bin/python benchmarks/planner_solve.py [--sizes 500,2000] [--blocks 96]

Per size (instances of :mod:`generated_trees`: every EVSE occupied, departures 30 min
to 12 h ahead), one horizon of ``--blocks`` quarter-hours from the instance's instant
(17:00 UTC): each session's remaining need, its departure and its EVSE's maximum power
(``max_current_a × watts_per_amp``); the site, every circuit and every charger group
as a node, its capacity from :func:`node_capacities` (the current limit as balanced
power, 3 × 230 V × A), the site cut to 70 % from 17:00 to 21:00 (as an envelope known
ahead would); a tariff-like price (0.32 /kWh 17–21 h, 0.09 /kWh 23–06 h, 0.18
otherwise), a carbon profile (0.45 kg/kWh in the evening peak, 0.20 at night, 0.30
otherwise) at 0.05 /kg; a demand charge of 15 /kW on the horizon's peak (one metered
at 10 % of the site so far); other site load (8 % of the site, 12 % from 17 to 21 h);
a solar profile (a half sine from 06 to 18 h peaking at 15 % of the site); and one
battery on the site row (1 h of 20 % of the site at 95 % each way, held at half,
10–95 %, to end where it starts).

Reported: ``problem`` (the plain values from the snapshot; the controller's side),
``build`` (the sparse matrix, :func:`build_program`), ``solve`` (:func:`solve`: the
build again, handing it to HiGHS, HiGHS's run and the plan read back, wall time) and
HiGHS's own run time and iterations, with the program's size, the status and the
energy planned and missed; then two warm replans, each against a cold solve of the
same problem: after ONE ARRIVAL (the plan of all sessions but one, then the one
added) and a BLOCK LATER (the horizon one quarter-hour on, its first block's plan
followed: needs, the battery's energy and the peak so far as the plan left them).
Targets (this machine): 500 × 96 ≤ 1.5 s and 2,000 × 96 ≤ 10 s, the build included;
a warm re-solve after one arrival ≤ 0.3 s at 500.
"""

from __future__ import annotations

import argparse
import dataclasses
import math
import sys
import time
from datetime import datetime
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generated_trees import Instance, generate

from depotctl.engine.planner import (
    DemandTerm,
    NodeCapacity,
    Plan,
    PlannedSession,
    PlannedStorage,
    PlanningProblem,
    PlanStatus,
    node_capacities,
    plan_blocks,
    solve,
)
from depotctl.engine.planner.blocks import BLOCK
from depotctl.engine.planner.program import build_program

TARGETS_S = {500: 1.5, 2_000: 10.0}
WARM_TARGETS_S = {500: 0.3}
CUT = 0.70
DEMAND_PER_KW = 15.0


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


def base_load(start: datetime, site_w: float) -> float:
    return site_w * (0.12 if 17 <= start.hour < 21 else 0.08)


def solar(start: datetime, site_w: float) -> float:
    hour = start.hour + start.minute / 60
    return site_w * 0.15 * max(0.0, math.sin(math.pi * (hour - 6) / 12)) if 6 <= hour < 18 else 0.0


def problem_of(instance: Instance, count: int, later: int = 0) -> PlanningProblem:
    """The instance's problem over ``count`` blocks, ``later`` blocks after its instant."""
    snapshot = instance.snapshot
    topology = snapshot.topology
    blocks = plan_blocks(snapshot.at + BLOCK * later, BLOCK * count)
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
    site_w = next(node.capacity_w[0] for node in nodes if node.node_id == "site") / CUT
    starts = blocks.starts()
    hold = 0.5 * site_w * 0.2
    return PlanningProblem(
        blocks=blocks,
        sessions=tuple(sessions),
        nodes=nodes,
        price_per_kwh=tuple(price(s) for s in starts),
        carbon_kg_per_kwh=tuple(carbon(s) for s in starts),
        carbon_price_per_kg=0.05,
        base_load_w=tuple(base_load(s, site_w) for s in starts),
        generation_w=tuple(solar(s, site_w) for s in starts),
        demand=(DemandTerm(DEMAND_PER_KW, tuple(range(count)), 0.1 * site_w),),
        storage=(
            PlannedStorage(
                id="bess",
                node_ids=("site",),
                energy_wh=hold,
                capacity_wh=2 * hold,
                min_soc=0.1,
                max_soc=0.95,
                max_charge_w=0.2 * site_w,
                max_discharge_w=0.2 * site_w,
                charge_efficiency=0.95,
                discharge_efficiency=0.95,
                final_energy_wh=hold,
            ),
        ),
    )


def without_last(problem: PlanningProblem) -> PlanningProblem:
    """``problem`` before its last session arrived."""
    gone = problem.sessions[-1].id
    return dataclasses.replace(
        problem,
        sessions=problem.sessions[:-1],
        nodes=tuple(
            dataclasses.replace(node, session_ids=tuple(s for s in node.session_ids if s != gone))
            for node in problem.nodes
        ),
    )


def followed(
    problem: PlanningProblem, plan: Plan, count: int, instance: Instance
) -> PlanningProblem:
    """The problem a block later, its first block's plan followed: each session's need
    less what it took, the battery where the plan left it, the peak so far raised to
    the block's import."""
    later = problem_of(instance, count, later=1)
    first = problem.blocks.hours_before
    sessions = tuple(
        dataclasses.replace(
            s, need_wh=max(0.0, s.need_wh - plan.sessions[s.id].power_w[0] * first(s.departure)[0])
        )
        for s in later.sessions
    )
    battery = dataclasses.replace(later.storage[0], energy_wh=plan.storage["bess"].energy_wh[0])
    term = later.demand[0]
    peak = max(term.peak_so_far_w, plan.import_w[0])
    return dataclasses.replace(
        later,
        sessions=sessions,
        storage=(battery,),
        demand=(dataclasses.replace(term, peak_so_far_w=peak),),
    )


def timed(problem: PlanningProblem, warm: Plan | None = None) -> tuple[Plan, float]:
    began = time.perf_counter()
    plan = solve(problem, warm=warm)
    return plan, time.perf_counter() - began


def verdict(seconds: float, target: float | None) -> str:
    if target is None:
        return ""
    return f"  target ≤ {target:.1f} s: " + ("met" if seconds <= target else "MISSED")


def run(size: int, count: int) -> None:
    instance = generate(size)
    began = time.perf_counter()
    problem = problem_of(instance, count)
    assembled = time.perf_counter()
    program = build_program(problem)
    built = time.perf_counter()
    plan, seconds = timed(problem)
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
    print(
        f"{size:>6} sessions × {count} blocks: {program.num_col:,} columns, "
        f"{program.num_row:,} rows, {program.index.size:,} nonzeros; "
        f"{plan.status.value}"
    )
    print(
        f"        problem {assembled - began:6.3f} s   build {built - assembled:6.3f} s   "
        f"solve (build + HiGHS) {seconds:6.3f} s   HiGHS run {plan.solve_seconds:6.3f} s, "
        f"{plan.iterations:,} iterations{verdict(seconds, TARGETS_S.get(size))}"
    )
    if plan.status is PlanStatus.OPTIMAL and plan.costs is not None:
        costs = plan.costs
        print(
            f"        need {need_kwh:,.0f} kWh, planned {planned_kwh:,.0f} kWh, "
            f"missed {missed_kwh:,.0f} kWh; energy {costs.energy:,.2f}, demand "
            f"{costs.demand:,.2f} (peak {plan.demand_peak_w[0] / 1000:,.0f} kW), carbon "
            f"{costs.carbon:,.2f} ({costs.carbon_kg:,.0f} kg); battery "
            f"{min(plan.storage['bess'].setpoint_w) / 1000:,.0f}…"
            f"{max(plan.storage['bess'].setpoint_w) / 1000:,.0f} kW"
        )
    before, _ = timed(without_last(problem))
    later = followed(problem, plan, count, instance)
    for name, replanned, previous in (
        ("one arrival", problem, before),
        ("a block later", later, plan),
    ):
        cold, cold_s = timed(replanned)
        warm, warm_s = timed(replanned, warm=previous)
        same = abs((warm.objective or 0.0) - (cold.objective or 0.0)) <= 1e-6 * max(
            1.0, abs(cold.objective or 0.0)
        )
        target = WARM_TARGETS_S.get(size) if name == "one arrival" else None
        print(
            f"        replan after {name}: cold {cold_s:6.3f} s ({cold.solve_seconds:.3f} s "
            f"HiGHS, {cold.iterations:,} it.)   warm {warm_s:6.3f} s ({warm.solve_seconds:.3f} "
            f"s HiGHS, {warm.iterations:,} it.), "
            f"{'same optimum' if same else 'OPTIMA DIFFER'}{verdict(warm_s, target)}"
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
