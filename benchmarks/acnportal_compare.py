"""depotctl's allocator beside acnportal's earliest-deadline-first and round-robin, on
the same generated depots. Prints figures; not a test.

    .venv/bin/pip install -e '.[bench]'       # acnportal 0.3.3, optional
    .venv/bin/python benchmarks/acnportal_compare.py [--sizes 54,500,2000,10000]
        [--edf-max 2000] [--rr-max 500]

Per size (instances of :mod:`generated_trees`): our cycle time (p50 over repeats) and
acnportal's ``schedule()`` time (one call, or the median of a few at 54 EVSEs) on an
interface stub that serves the same active sessions, constraint matrix and maximum
rates; the time ratio (target: ≥ 100× faster than EDF at 500 EVSEs); the total
allocated current (Σ A per line over EVSEs) and power of each; the L1 difference per
EVSE (mean |ours − theirs|, A); how many EVSEs acnportal set between 0 and our 6 A
minimum (which a J1772 charger cannot apply); and whether each result keeps every
limit (``|A|·x ≤ limit``).

acnportal's sorted algorithms call ``infrastructure_constraints_feasible`` with its
default exact phasor check; three-phase EVSEs have no single phase angle, so both
algorithms run here with its ``linear=True`` check — the same constraints as ours.
(acnportal 0.3.3 fails on that check with a one-dimensional schedule — an ``AxisError``
in ``np.linalg.norm`` here, numpy 2.4 — so the schedule is passed as a column; nothing
else changes.)
EDF and RR call that check once per session per bisection step or increment, so they
are run only up to ``--edf-max`` / ``--rr-max`` EVSEs; above that, the estimated
time is printed instead. Without acnportal installed, this prints a note and exits 0.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from engine_cycle import percentile, timed
from generated_trees import (
    PERIOD_MIN,
    POLICY,
    SIZES,
    Instance,
    acnportal_network,
    acnportal_sessions,
    constraint_matrix,
    generate,
    infrastructure_info,
)

from depotctl.engine import allocate

OUR_REPEATS = {54: 500, 500: 200, 2_000: 100, 10_000: 50}
EDF_TARGET_RATIO = 100.0


def acnportal_available() -> bool:
    try:
        import acnportal.algorithms  # noqa: F401
    except ImportError:
        return False
    return True


@contextmanager
def linear_feasibility() -> Iterator[None]:
    """Make acnportal's sorted algorithms (EDF, RR, …) check the linear constraints
    ``|A|·x ≤ limit`` instead of the exact phasor magnitudes."""
    import acnportal.algorithms.sorted_algorithms as sorted_algorithms

    exact = sorted_algorithms.infrastructure_constraints_feasible

    def linear(rates: np.ndarray, infrastructure: Any, **options: Any) -> bool:
        column = rates[:, None] if rates.ndim == 1 else rates
        return bool(exact(column, infrastructure, linear=True, **options))

    sorted_algorithms.infrastructure_constraints_feasible = linear
    try:
        yield
    finally:
        sorted_algorithms.infrastructure_constraints_feasible = exact


def snapshot_interface(infrastructure: Any, sessions: list[dict[str, Any]]) -> Any:
    """An acnportal ``Interface`` serving one instant: the sessions, the network and the
    period, with no simulator behind it (like acnportal's ``TestingInterface``, but
    looking stations up by dict, as its real ``Interface`` does)."""
    from acnportal.acnsim.interface import Interface, SessionInfo

    class SnapshotInterface(Interface):  # type: ignore[misc]
        def __init__(self) -> None:
            super().__init__(None)

        @property
        def current_time(self) -> int:
            return 0

        @property
        def period(self) -> float:
            return PERIOD_MIN

        def active_sessions(self) -> list[Any]:
            return [SessionInfo(current_time=0, **session) for session in sessions]

        def _infrastructure_info(self) -> Any:
            return infrastructure

        def infrastructure_info(self) -> Any:
            return infrastructure  # the real one deep-copies; not counted against them

    return SnapshotInterface()


@dataclass(frozen=True)
class Run:
    name: str
    seconds: list[float]
    rates: np.ndarray  # A per EVSE, instance order

    @property
    def median_s(self) -> float:
        return statistics.median(self.seconds)


def run_acnportal(
    name: str, algorithm: Any, instance: Instance, infrastructure: Any, runs: int
) -> Run:
    sessions = acnportal_sessions(instance)
    interface = snapshot_interface(infrastructure, sessions)
    algorithm.register_interface(interface)
    seconds = []
    schedule: dict[str, list[float]] = {}
    with linear_feasibility():
        for _ in range(runs):
            active = interface.active_sessions()
            start = time.perf_counter()
            schedule = algorithm.schedule(active)
            seconds.append(time.perf_counter() - start)
    rates = np.array([schedule[evse_id][0] for evse_id in instance.evse_ids], dtype=float)
    return Run(name, seconds, rates)


def check_seconds(infrastructure: Any, size: int) -> float:
    """One linear feasibility check of acnportal on this network."""
    from acnportal.algorithms.utils import infrastructure_constraints_feasible

    column = np.zeros((size, 1))
    samples = timed(
        lambda: infrastructure_constraints_feasible(column, infrastructure, linear=True), 5
    )
    return statistics.median(samples)


def estimate_s(name: str, check_s: float, instance: Instance) -> float:
    """Rough time of one acnportal call: EDF makes 2–14 checks per session (a try at
    the maximum, then a bisection to 0.01 A; about 4–6 on average on these depots); RR
    one check per 0.1 A increment."""
    if name == "EDF":
        return check_s * instance.size * 5
    mean_amps = float(np.mean([instance.evse(i).max_current_a for i in range(instance.size)]))
    return check_s * instance.size * mean_amps / 0.1 / 2


def feasible(instance: Instance, matrix: np.ndarray, rates: np.ndarray) -> tuple[bool, float]:
    """Whether ``rates`` keep every node-phase limit and EVSE cap; the worst excess (A)."""
    limits = np.array([row.limit_a for row in instance.rows])
    excess = float(np.max(matrix @ rates - limits, initial=0.0))
    excess = max(excess, float(np.max(rates - session_caps(instance), initial=0.0)))
    return excess <= 1e-4 * max(1.0, float(limits.max(initial=1.0))), excess


def max_power_kw(instance: Instance, matrix: np.ndarray, caps: np.ndarray) -> float | None:
    """The most power any allocation could draw under the same limits and caps (a linear
    programme, no minimum current): an upper bound for both sides. None without scipy."""
    try:
        from scipy import sparse
        from scipy.optimize import linprog
    except ImportError:
        return None
    watts = np.array([instance.evse(i).watts_per_amp for i in range(instance.size)])
    limits = np.array([row.limit_a for row in instance.rows])
    bounds = list(zip(np.zeros(instance.size), caps, strict=True))
    result = linprog(
        -watts, A_ub=sparse.csr_matrix(matrix), b_ub=limits, bounds=bounds, method="highs"
    )
    return float(-result.fun / 1000) if result.status == 0 else None


def session_caps(instance: Instance) -> np.ndarray:
    """Each EVSE's own cap: its rating, or its vehicle's maximum when lower."""
    return np.array(
        [
            min(instance.evse(i).max_current_a, s.vehicle_max_current_a or np.inf)
            for i, s in enumerate(instance.snapshot.sessions)
        ]
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--edf-max", type=int, default=2_000, help="largest size to run EDF on")
    parser.add_argument("--rr-max", type=int, default=500, help="largest size to run RR on")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if not acnportal_available():
        print(
            "acnportal is not installed: nothing to compare against. Install the optional "
            "benchmark dependency with  pip install -e '.[bench]'  (acnportal 0.3.3)."
        )
        return
    from acnportal.algorithms import RoundRobin, SortedSchedulingAlgo, earliest_deadline_first

    algorithms: dict[str, tuple[Callable[[], Any], int]] = {
        "EDF": (lambda: SortedSchedulingAlgo(earliest_deadline_first), args.edf_max),
        "RR": (lambda: RoundRobin(earliest_deadline_first), args.rr_max),
    }
    print(
        "depotctl vs acnportal 0.3.3 (linear constraints), generated depots (seed 2019), "
        f"our minimum current {POLICY.min_current_a:g} A, theirs 0 A"
    )
    header = (
        f"{'EVSEs':>6} {'algo':>4} {'ours p50':>9} {'theirs':>10} {'ratio':>8}  "
        f"{'Σ ours A':>10} {'Σ theirs A':>10} {'Δ A':>9} {'Δ %':>6}  {'Σ ours kW':>9} "
        f"{'Σ theirs kW':>11}  {'L1 A/EVSE':>9}  {'0<x<6A':>6}  {'feasible':>8}"
    )
    print(header)
    for size in sizes:
        instance = generate(size)
        allocate(instance.snapshot)  # warm the structure cache, as in operation
        ours_s = timed(partial(allocate, instance.snapshot), OUR_REPEATS.get(size, 20))
        ours_p50 = percentile(ours_s, 50)
        allocation = allocate(instance.snapshot)
        ours = np.array([allocation.limits_a[e] for e in instance.evse_ids])
        watts = np.array([instance.evse(i).watts_per_amp for i in range(size)])
        network = acnportal_network(instance)
        infrastructure = infrastructure_info(network)
        matrix = constraint_matrix(instance)
        ok, _ = feasible(instance, matrix, ours)
        bound = max_power_kw(instance, matrix, session_caps(instance))
        bound_text = (
            f"; at most {bound:,.1f} kW is possible (LP), ours {ours @ watts / 1000 / bound:.1%} of it"
            if bound
            else ""
        )
        print(
            f"{size:>6} {'ours':>4} {ours_p50 * 1000:>7.2f}ms {'':>10} {'':>8}  "
            f"{ours.sum():>10,.1f} {'':>10} {'':>9} {'':>6}  {ours @ watts / 1000:>9,.1f} "
            f"{'':>11}  {'':>9}  {'':>6}  {'yes' if ok else 'NO':>8}  "
            f"(paused {int((ours == 0).sum())}){bound_text}"
        )
        check_s = check_seconds(infrastructure, size)
        for name, (build, largest) in algorithms.items():
            if size > largest:
                guess = estimate_s(name, check_s, instance)
                print(
                    f"{size:>6} {name:>4} {'':>9} not run: ≈{guess / 60:,.0f} min estimated "
                    f"({check_s * 1000:.1f} ms per feasibility check); raise --"
                    f"{name.lower()}-max to run it"
                )
                continue
            runs = 5 if size <= 54 else 1
            run = run_acnportal(name, build(), instance, infrastructure, runs)
            theirs = run.rates
            ok, worst = feasible(instance, matrix, theirs)
            delta = ours.sum() - theirs.sum()
            print(
                f"{size:>6} {name:>4} {'':>9} {run.median_s * 1000:>8.1f}ms "
                f"{run.median_s / ours_p50:>7,.0f}×  {'':>10} {theirs.sum():>10,.1f} "
                f"{delta:>+9,.1f} {delta / theirs.sum() * 100:>+5.1f}%  {'':>9} "
                f"{theirs @ watts / 1000:>11,.1f}  {np.abs(ours - theirs).mean():>9.2f}  "
                f"{int(((theirs > 1e-6) & (theirs < POLICY.min_current_a - 1e-6)).sum()):>6}  "
                f"{'yes' if ok else f'NO {worst:.2f}A':>8}  (paused {int((theirs <= 1e-6).sum())}"
                + (f"; {theirs @ watts / 1000 / bound:.1%} of LP" if bound else "")
                + ")"
            )
            if name == "EDF" and size == 500:
                ratio = run.median_s / ours_p50
                verdict = "met" if ratio >= EDF_TARGET_RATIO else "NOT met"
                print(
                    f"{'':>6} target at 500 EVSEs: ≥ {EDF_TARGET_RATIO:g}× faster than EDF — {verdict}"
                )
    print(
        "\nratio: acnportal's schedule() time over our cycle's p50. Δ: ours − theirs. "
        "L1: mean |ours − theirs| per EVSE.\n0<x<6A: EVSEs acnportal set below our minimum "
        "current (not 0). feasible: every node-phase limit and EVSE/vehicle cap kept.\n"
        "paused: EVSEs at 0 A. LP: the most power any allocation could draw under the same "
        "limits and caps, no minimum current."
    )


if __name__ == "__main__":
    main()
