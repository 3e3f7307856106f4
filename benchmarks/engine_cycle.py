"""One allocation cycle on generated depots of 54 to 10,000 occupied EVSEs. Prints
figures; not a test.

    .venv/bin/python benchmarks/engine_cycle.py [--sizes 54,500,2000,10000] [--scale 1]

Per size (instances of :mod:`generated_trees`), p50 and p99 wall time of:

- ``cycle``: ``allocate(snapshot)`` — every EVSE's limit and the constraint that binds
  it (kept as an index; the structure of the tree is cached per topology, as in
  operation, so the first, cold cycle is reported on its own);
- ``+ bindings``: the cycle, then every EVSE's binding put into words
  (``allocation.evses[id].binding`` for all);
- ``chains``: every EVSE's full candidate chain (``allocation.candidates(id)``, what
  ``explain`` and the API build on demand), after the cycle and not counting it.

Targets (p99, this machine): a cycle at 500 EVSEs under 5 ms, at 10,000 under 100 ms.
Repeats: 1,000 / 500 / 300 / 200 cycles (× ``--scale``); fewer for the chains.
"""

from __future__ import annotations

import argparse
import gc
import sys
import time
from collections import Counter
from collections.abc import Callable
from functools import partial
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from generated_trees import SIZES, Instance, generate

from depotctl.engine import allocate

CYCLE_REPEATS = {54: 1_000, 500: 500, 2_000: 300, 10_000: 200}
CHAIN_REPEATS = {54: 200, 500: 50, 2_000: 20, 10_000: 10}
TARGETS_MS = {500: 5.0, 10_000: 100.0}


def percentile(samples: list[float], q: float) -> float:
    """Nearest-rank percentile (q in 0..100)."""
    ordered = sorted(samples)
    rank = max(1, min(len(ordered), round(q / 100 * len(ordered) + 0.5)))
    return ordered[rank - 1]


def timed(function: Callable[[], object], runs: int) -> list[float]:
    """Seconds per call, ``runs`` calls (the garbage collector left on, as in use)."""
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        function()
        samples.append(time.perf_counter() - start)
    return samples


def repeats(table: dict[int, int], size: int, scale: float) -> int:
    base = table.get(size, max(10, 2_000_000 // max(size, 1) // 10))
    return max(10, round(base * scale))


def cycle_with_bindings(instance: Instance) -> None:
    allocation = allocate(instance.snapshot)
    for evse_id in instance.evse_ids:
        allocation.evses[evse_id].binding  # noqa: B018 — built on access


def describe(instance: Instance) -> str:
    allocation = allocate(instance.snapshot)
    states = Counter(allocation.evses[e].state.value for e in instance.evse_ids)
    bindings = Counter(allocation.evses[e].binding.kind.value for e in instance.evse_ids)
    wiring = Counter(
        {1: "1-phase", 2: "line-to-line", 3: "3-phase"}[len(instance.evse(i).connection.phases)]  # type: ignore[union-attr]
        for i in range(instance.size)
    )
    total = sum(allocation.limits_a.values())
    return (
        f"  {instance.size:>6} EVSEs, {instance.nodes} nodes, {len(instance.rows)} node-phase "
        f"limits; wiring {dict(sorted(wiring.items()))}\n"
        f"         allocated {total:,.1f} A in all; states {dict(sorted(states.items()))}; "
        f"binding {dict(sorted(bindings.items()))}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every repeat count")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]

    print("One allocation cycle, generated depots (benchmarks/generated_trees.py, seed 2019)")
    rows = []
    for size in sizes:
        instance = generate(size)
        start = time.perf_counter()
        allocation = allocate(instance.snapshot)  # cold: builds the cached structure
        cold = time.perf_counter() - start
        gc.collect()
        cycle = timed(
            partial(allocate, instance.snapshot), repeats(CYCLE_REPEATS, size, args.scale)
        )
        bound = timed(
            partial(cycle_with_bindings, instance), repeats(CHAIN_REPEATS, size, args.scale)
        )
        chains: list[float] = []
        if hasattr(allocation, "candidates"):
            for _ in range(repeats(CHAIN_REPEATS, size, args.scale)):
                fresh = allocate(instance.snapshot)
                begin = time.perf_counter()
                for evse_id in instance.evse_ids:
                    fresh.candidates(evse_id)
                chains.append(time.perf_counter() - begin)
        rows.append((instance, cold, cycle, bound, chains))
        print(describe(instance))

    print()
    print(
        f"{'EVSEs':>6}  {'cold':>8}  {'cycle p50':>9}  {'p99':>8}  {'n':>5}  "
        f"{'+bindings p50':>13}  {'p99':>8}  {'chains p50':>10}  {'p99':>8}  target (cycle p99)"
    )
    for instance, cold, cycle, bound, chains in rows:
        target = TARGETS_MS.get(instance.size)
        p99 = percentile(cycle, 99) * 1000
        verdict = ""
        if target is not None:
            verdict = f"< {target:g} ms: " + ("met" if p99 < target else "NOT met")
        chain_cells = (
            f"{percentile(chains, 50) * 1000:>8.1f}ms  {percentile(chains, 99) * 1000:>6.1f}ms"
            if chains
            else f"{'n/a':>10}  {'':>8}"
        )
        print(
            f"{instance.size:>6}  {cold * 1000:>6.1f}ms  {percentile(cycle, 50) * 1000:>7.2f}ms  "
            f"{p99:>6.2f}ms  {len(cycle):>5}  {percentile(bound, 50) * 1000:>11.2f}ms  "
            f"{percentile(bound, 99) * 1000:>6.2f}ms  {chain_cells}  {verdict}"
        )
    if rows and not rows[0][4]:
        print("\nchains: this engine's Allocation has no candidates() accessor; not measured")
    print(
        "\ncycle: allocate() — limits and each EVSE's binding constraint (as an index); "
        "+bindings: every binding also put into words;\nchains: every EVSE's candidate "
        "chain, built on demand after the cycle. Times in ms, perf_counter, GC on."
    )


if __name__ == "__main__":
    main()
