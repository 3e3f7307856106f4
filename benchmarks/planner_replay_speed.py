"""Issue 15's speed target: a replayed day with replanning every 5 minutes in at most
10 s (acnportal's adaptive scheduling: 85-96 s on this kind of machine, as the issue
quotes it; acnportal's ASA is not run here). Prints figures; not a test.

    .venv/bin/python benchmarks/planner_replay_speed.py [--sizes 30,50,150] [--runs 1]

The whole replay of Caltech ACN 2019-05-13 (every session of the day, from local
midnight until the last one leaves — 2.8 days later), ``sim replay --planner``: every
5-minute step the planner builds the horizon's problem from the step's snapshot, solves
it (HiGHS) and the allocator follows the plan. Per size: wall time and this process's
CPU time for the online plan, beside the allocator alone replaying the same steps in
the same run (the reference: this machine is shared, so ratios say more than seconds),
and the planner's own split (problems built, HiGHS's run time, both wall).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from acnportal_caltech_replay import DAY, PERIOD_MIN, SESSIONS, SITE
from planner_replay import Row, replayed

from depotctl.config import load_site
from depotctl.recordings import read_sessions, select_sessions
from depotctl.replay.steps import replay_window

#: acnportal's adaptive scheduling on a replayed day, as issue 15 quotes it (s)
ACNPORTAL_ASA_S = (85.0, 96.0)
TARGET_S = 10.0


@dataclass(frozen=True)
class Timed:
    """One replay's wall and process CPU seconds, and what it printed of itself."""

    wall_s: float
    cpu_s: float
    row: Row


def timed(kva: int, planned: bool) -> Timed:
    """The replay of the day at ``kva``, the allocator alone or following the plan."""
    cpu, wall = time.process_time(), time.perf_counter()
    row = replayed(kva, "online plan" if planned else "allocator", planned, None, None)
    return Timed(time.perf_counter() - wall, time.process_time() - cpu, row)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="30,50,150", help="transformer sizes, kVA")
    parser.add_argument("--runs", type=int, default=1, help="replays of each, the best kept")
    args = parser.parse_args()
    topology, _ = load_site(SITE)
    zone = ZoneInfo(topology.timezone)
    sessions = select_sessions(read_sessions(SESSIONS), topology, DAY, DAY).sessions
    start, end = replay_window(sessions, zone, DAY, PERIOD_MIN * 60.0)
    steps = round((end - start).total_seconds() / (PERIOD_MIN * 60.0))
    print(
        f"Caltech ACN, {DAY}: {len(sessions)} sessions, replayed from {start:%Y-%m-%d %H:%M} "
        f"to {end.astimezone(zone):%Y-%m-%d %H:%M} ({(end - start).total_seconds() / 86400:.1f}"
        f" days, {steps} steps of {PERIOD_MIN} min); target <= {TARGET_S:g} s, acnportal's "
        f"adaptive scheduling {ACNPORTAL_ASA_S[0]:g}-{ACNPORTAL_ASA_S[1]:g} s (issue 15)"
    )
    print(
        f"{'size':>7}  {'allocator alone':>17}  {'online plan':>17}  {'× alone (CPU)':>13}  "
        f"{'delivered':>10}  {'violations':>10}  the planner's split (wall)"
    )
    for kva in (int(size) for size in args.sizes.split(",")):
        alone = min((timed(kva, False) for _ in range(args.runs)), key=lambda t: t.cpu_s)
        plan = min((timed(kva, True) for _ in range(args.runs)), key=lambda t: t.cpu_s)
        split = plan.row.wall.split("; ", 1)[-1]
        print(
            f"{kva:>4} kVA  {alone.wall_s:>5.1f} s / {alone.cpu_s:>4.1f} s  "
            f"{plan.wall_s:>5.1f} s / {plan.cpu_s:>4.1f} s  {plan.cpu_s / alone.cpu_s:>13.1f}  "
            f"{plan.row.delivered_kwh:>6.1f} kWh  {plan.row.violations:>10}  {split}"
        )
    print("(wall / process CPU; the best of --runs by CPU)")


if __name__ == "__main__":
    main()
