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

On a shared machine, time the engine beside a reference engine in the same run::

    git worktree add --detach /tmp/engine-ref 97ab42e
    .venv/bin/python benchmarks/engine_cycle.py --reference /tmp/engine-ref [--rounds 4]

Each round runs the cycles of this checkout and of the reference, each in a fresh
process (``PYTHONPATH`` the checkout's root; the depots are this script's), the
order alternating from round to round, each process a share of the repeats. It
prints both engines' p50 and p99 over all rounds, the ratio (reference ÷ this), the
process CPU time per cycle (and, apart, its system time and minor page faults per
cycle: a heap trimmed and grown again each cycle), and whether the two decided every
limit, binding and pause alike.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import os
import resource
import subprocess
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


def decisions_digest(instance: Instance) -> str:
    """A digest of every EVSE's limit, binding constraint and pause (what the engine
    decided, not how it words it)."""
    allocation = allocate(instance.snapshot)
    decision = getattr(allocation, "_decision", None)
    digest = hashlib.sha256(json.dumps(sorted(allocation.limits_a.items())).encode())
    for name in ("binder", "paused_at"):
        if decision is not None and hasattr(decision, name):
            digest.update(getattr(decision, name).tobytes())
    return digest.hexdigest()[:16]


def worker(sizes: list[int], scale: float) -> None:
    """Time the cycles of the engine on ``sys.path`` and print them as JSON."""
    results = {}
    for size in sizes:
        instance = generate(size)
        allocate(instance.snapshot)  # cold
        gc.collect()
        runs = repeats(CYCLE_REPEATS, size, scale)
        cpu, before = time.process_time(), resource.getrusage(resource.RUSAGE_SELF)
        samples = timed(partial(allocate, instance.snapshot), runs)
        cpu, after = time.process_time() - cpu, resource.getrusage(resource.RUSAGE_SELF)
        results[size] = {
            "cycle": samples,
            "cpu": cpu,
            "system": after.ru_stime - before.ru_stime,
            "faults": after.ru_minflt - before.ru_minflt,
            "digest": decisions_digest(instance),
        }
    print(json.dumps(results))


def compare(sizes: list[int], scale: float, reference: Path, rounds: int) -> None:
    """This checkout's engine beside ``reference``'s, alternating fresh processes."""
    ours = Path(__file__).resolve().parent.parent
    sides = {"this": ours, "reference": reference.resolve()}
    samples: dict[str, dict[int, list[float]]] = {side: {s: [] for s in sizes} for side in sides}
    cpu: dict[str, dict[int, float]] = {side: dict.fromkeys(sizes, 0.0) for side in sides}
    system: dict[str, dict[int, float]] = {side: dict.fromkeys(sizes, 0.0) for side in sides}
    faults: dict[str, dict[int, float]] = {side: dict.fromkeys(sizes, 0.0) for side in sides}
    digests: dict[str, dict[int, str]] = {side: {} for side in sides}
    print(f"This checkout ({ours}) beside the reference ({sides['reference']}), {rounds} rounds")
    for round_no in range(rounds):
        order = list(sides) if round_no % 2 == 0 else list(sides)[::-1]
        for side in order:
            command = [sys.executable, __file__, "--worker", "--sizes", ",".join(map(str, sizes))]
            command += ["--scale", str(scale / rounds)]
            env = {**os.environ, "PYTHONPATH": str(sides[side])}
            out = subprocess.run(command, env=env, check=True, capture_output=True, text=True)
            for size, result in json.loads(out.stdout).items():
                samples[side][int(size)] += result["cycle"]
                cpu[side][int(size)] += result["cpu"]
                system[side][int(size)] += result["system"]
                faults[side][int(size)] += result["faults"]
                digests[side][int(size)] = result["digest"]
    print(
        f"\n{'EVSEs':>6}  {'this p50':>9}  {'p99':>8}  {'ref p50':>9}  {'p99':>8}  "
        f"{'ref/this p50':>12}  {'p99':>5}  {'CPU/cycle this':>14}  {'ref':>8}  same decisions"
    )
    for size in sizes:
        a, b = samples["this"][size], samples["reference"][size]
        a50, a99, b50, b99 = (percentile(x, q) * 1000 for x in (a, b) for q in (50, 99))
        same = "yes" if digests["this"][size] == digests["reference"][size] else "NO"
        print(
            f"{size:>6}  {a50:>7.2f}ms  {a99:>6.2f}ms  {b50:>7.2f}ms  {b99:>6.2f}ms  "
            f"{b50 / a50:>11.2f}×  {b99 / a99:>4.2f}×  {cpu['this'][size] / len(a) * 1000:>12.2f}ms"
            f"  {cpu['reference'][size] / len(b) * 1000:>6.2f}ms  {same}"
        )
    print(
        f"\n{'EVSEs':>6}  {'of the CPU, system: this':>24}  {'ref':>8}  {'page faults/cycle: this':>23}  {'ref':>7}"
    )
    for size in sizes:
        n_a, n_b = len(samples["this"][size]), len(samples["reference"][size])
        print(
            f"{size:>6}  {system['this'][size] / n_a * 1000:>22.2f}ms  "
            f"{system['reference'][size] / n_b * 1000:>6.2f}ms  "
            f"{faults['this'][size] / n_a:>23.0f}  {faults['reference'][size] / n_b:>7.0f}"
        )
    print(
        "\nn per engine and size: the repeats × --scale, split over the rounds; wall time by "
        "perf_counter with GC on;\nCPU: the worker process's CPU time over its timed cycles "
        "(system time and minor page faults: the heap grown again after a trim)."
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default=",".join(str(s) for s in SIZES))
    parser.add_argument("--scale", type=float, default=1.0, help="multiply every repeat count")
    parser.add_argument(
        "--reference", type=Path, help="a checkout of another commit to time alongside"
    )
    parser.add_argument("--rounds", type=int, default=4, help="alternations with --reference")
    parser.add_argument("--worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    if args.worker:
        worker(sizes, args.scale)
        return
    if args.reference is not None:
        if not (args.reference / "depotctl" / "engine").is_dir():
            parser.error(
                f"--reference {args.reference}: no depotctl/engine there; make one with "
                "`git worktree add --detach /tmp/engine-ref <commit>`"
            )
        compare(sizes, args.scale, args.reference, args.rounds)
        return

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
