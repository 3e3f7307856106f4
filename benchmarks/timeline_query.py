"""Issue 16: a node's timeline (``GET /api/v1/timeline/{node}``, which the console asks
on each selection change) at the 300-charger site (sites/large-depot.yaml) over the
last 12 h, its load summed by the store (one query per resolution, GROUP BY minute)
against the same service summing each meter's minutes in Python as it did before
(tests/controller/services/timeline_before.py, run in the same process). Prints figures;
not a test.

    .venv/bin/python benchmarks/timeline_query.py [--hours 12] [--runs 20]

The store is real (the site seeded as revision 1), every charger and meter reporting
power and three phase currents every minute. Timed in the service
(:func:`depotctl.controller.services.timeline.timeline`), p50/p95 of the wall clock and
the process's CPU per call (a loaded machine inflates the wall clock, not the CPU):
msb-n (the north main switchboard: 150 chargers, the warehouse's meter and the
battery's, the most any node of the site sums), db-n1 (60 chargers), row-01 (5);
then the load of all 302 meters of the site, what a node over every charger would
sum. Each answer is checked equal to the old one (loads to 1e-12). Target: a node's
12 h at 300 chargers ≤ 100 ms.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from depotctl.controller.clock import SimClock  # noqa: E402
from depotctl.controller.service import Controller  # noqa: E402
from depotctl.controller.services import timeline as service  # noqa: E402
from depotctl.controller.store import Store  # noqa: E402
from depotctl.domain.phases import Phase  # noqa: E402
from depotctl.domain.telemetry import Reading  # noqa: E402
from tests.controller.services.timeline_before import load_samples_before  # noqa: E402

SITE = ROOT / "sites" / "large-depot.yaml"
START = datetime(2026, 11, 1, 7, 0, tzinfo=UTC)
NODES = ("msb-n", "db-n1", "row-01")


def fill(controller: Controller, minutes: int) -> list[str]:
    """Every charger and meter reporting every minute; their ids."""
    topology = controller.require_site().topology
    chargers = sorted({e.charger_id for e in topology.evses.values()})
    meters = sorted(n.meter for n in topology.nodes.values() if n.meter)
    nodes = chargers + meters
    rng = random.Random(16)

    def reading(node: str, at: datetime) -> Reading:
        amps = {p: round(rng.uniform(0, 70), 1) for p in Phase}
        return Reading(node, at, power_w=round(rng.uniform(0, 50e3), 1), current_a=amps)

    telemetry = controller.units().telemetry
    for minute in range(minutes):
        at = START + timedelta(minutes=minute, seconds=7)
        telemetry.put(reading(node, at) for node in nodes)
    return nodes


def timed(call: Callable[[], object], runs: int) -> tuple[list[float], list[float], object]:
    """Wall and CPU seconds of each of ``runs`` calls, and the last answer."""
    walls, cpus, answer = [], [], None
    for _ in range(runs):
        wall, cpu = time.perf_counter(), time.process_time()
        answer = call()
        walls.append(time.perf_counter() - wall)
        cpus.append(time.process_time() - cpu)
    return walls, cpus, answer


def figures(walls: list[float], cpus: list[float]) -> str:
    p95 = statistics.quantiles(walls, n=20)[-1] if len(walls) > 1 else walls[0]
    return (
        f"p50 {statistics.median(walls) * 1e3:7.1f} ms  p95 {p95 * 1e3:7.1f} ms  "
        f"CPU {statistics.median(cpus) * 1e3:6.1f} ms"
    )


def same_loads(new: list[float | None], old: list[float | None]) -> bool:
    return len(new) == len(old) and all(
        a == b or (a is not None and b is not None and abs(a - b) <= 1e-12 * abs(b))
        for a, b in zip(new, old, strict=True)
    )


def compare(label: str, new: Callable[[], object], old: Callable[[], object], runs: int) -> None:
    walls, cpus, answer = timed(new, runs)
    old_walls, old_cpus, before = timed(old, max(3, runs // 4))
    loads = _loads(answer)
    ok = same_loads(loads, _loads(before))
    print(f"{label}  ({sum(x is not None for x in loads)} steps with a load)")
    print(f"  summed by the store   {figures(walls, cpus)}")
    print(f"  summed in Python      {figures(old_walls, old_cpus)}")
    ratio = statistics.median(old_cpus) / statistics.median(cpus)
    print(f"  CPU ratio {ratio:.1f}x; same answer: {'yes' if ok else 'NO'}")


def _loads(answer: object) -> list[float | None]:
    if isinstance(answer, service.Timeline):
        return [p.load for p in answer.points]
    assert isinstance(answer, list)
    return [s.value for s in answer]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--hours", type=int, default=12)
    parser.add_argument("--runs", type=int, default=20)
    args = parser.parse_args()
    end = START + timedelta(hours=args.hours)
    with tempfile.TemporaryDirectory() as tmp:
        clock = SimClock(end, speed=1.0)
        clock.pause()
        controller = Controller(
            Store.open(Path(tmp) / "depotctl.sqlite"), clock, base_dir=SITE.parent
        )
        controller.seed(SITE, SITE.read_text(), author="benchmark")
        cpu = time.process_time()
        nodes = fill(controller, args.hours * 60)
        print(
            f"{len(nodes)} chargers and meters, {args.hours} h of minutes "
            f"({len(nodes) * args.hours * 60:,} rows) in {time.process_time() - cpu:.1f} s CPU"
        )
        for node in NODES:
            meters = len(service.timeline(controller, node, None, None).meters)

            def after(node: str = node) -> object:
                return service.timeline(controller, node, None, None)

            def before(node: str = node) -> object:
                with summed_in_python():
                    return service.timeline(controller, node, None, None)

            compare(f"{node} ({meters} meters), its timeline", after, before, args.runs)
        since = START

        def load(summed: Callable[..., list[service.Sample]]) -> Callable[[], object]:
            return lambda: summed(controller, nodes, since, end, "A", 690.0)

        compare(
            f"all {len(nodes)} meters, their load summed",
            load(service._load_samples),
            load(load_samples_before),
            args.runs,
        )
        controller.close()


@contextmanager
def summed_in_python() -> Iterator[None]:
    """The service with its load summed as before, for the length of a ``with``."""
    held = service._load_samples
    service._load_samples = load_samples_before
    try:
        yield
    finally:
        service._load_samples = held


if __name__ == "__main__":
    main()
