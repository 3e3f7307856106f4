"""The 2019-05-13 Caltech replay at 30, 50 and 150 kVA. Prints figures; not a test.

    .venv/bin/python benchmarks/replay_caltech.py [--runs 3] [--step 5min]

For each transformer size (``--capacity-scale`` 0.2, 1/3 and 1 on the 150 kVA
site): sessions arriving on 2019-05-13 (Pasadena time), demand = delivered_energy
capped at what each session's window allows; energy delivered as a share of demand,
demands met, limit violations (recomputed from the draws, independently of the
engine), and wall time per simulated day and for the busiest local day (median
over ``--runs``), against the 1 s target for a replayed day at 54 EVSEs. Beside
them, the reference figures of the issue (earliest-deadline-first under the same
conservative linear constraints, and the adaptive algorithm of the ACN papers).
"""

from __future__ import annotations

import argparse
import statistics
from datetime import date
from pathlib import Path

from depotctl.config import load_site
from depotctl.domain import Duration
from depotctl.engine import allocate
from depotctl.recordings import read_sessions
from depotctl.replay import ReplayReport, ReplaySettings, run_replay

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "sites" / "caltech-acn.yaml"
SESSIONS = ROOT / "data" / "acn" / "caltech_2019-05-01_2019-08-31.csv.gz"
DAY = date(2019, 5, 13)
SIZES = ((30, 0.2), (50, 1 / 3), (150, 1.0))
#: delivered share: earliest-deadline-first (reference implementation), adaptive (ASA)
REFERENCE = {30: (59.1, 69.0), 50: (82.6, 88.5), 150: (100.0, 99.9)}
DAY_TARGET_S = 1.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--step", default="5min")
    args = parser.parse_args()
    step_s = Duration.parse(args.step).seconds
    topology, policy = load_site(SITE)
    sessions = read_sessions(SESSIONS)
    print(f"Caltech ACN, sessions arriving on {DAY} (local), {args.step} steps, {args.runs} runs")
    print(
        f"{'size':>8}  {'sessions':>8}  {'delivered':>9}  {'met':>7}  {'violations':>10}  "
        f"{'ms/sim day':>10}  {'busiest day':>11}  {'EDF ref':>7}  {'ASA ref':>7}"
    )
    for kva, scale in SIZES:
        reports: list[ReplayReport] = []
        for _ in range(args.runs):
            settings = ReplaySettings(first=DAY, last=DAY, step_s=step_s, capacity_scale=scale)
            reports.append(run_replay(topology, policy, sessions, settings, allocate))
        result = reports[0].result
        per_day = statistics.median(r.result.wall_s_per_day for r in reports)
        busiest = statistics.median(max(r.result.wall_s_by_day.values()) for r in reports)
        edf, asa = REFERENCE[kva]
        flag = "" if busiest < DAY_TARGET_S else "  (over the 1 s target)"
        print(
            f"{kva:>5} kVA  {len(result.outcomes):>8}  {result.delivered_share * 100:>8.1f}%  "
            f"{result.met:>3}/{len(result.outcomes):<3}  {len(result.violations):>10}  "
            f"{per_day * 1000:>10.1f}  {busiest * 1000:>8.1f} ms  {edf:>6.1f}%  {asa:>6.1f}%{flag}"
        )


if __name__ == "__main__":
    main()
