"""How fast the console redraws a large depot (issue 6's speed bar).

A headless console (``App.run_test``) is fed a synthetic model of 1,000 EVSEs
(one grid connection, 10 circuits, 50 charger groups, 1,000 chargers of one EVSE
each) with 10 % of the EVSEs (and their chargers) changing per update, the way the
coordinator feeds it. Reported:

- one refresh of the tree and of the EVSE table — ``ConsoleApp.apply`` plus the
  repaint that follows (``pilot.pause``), with that pane on screen: p50 / p95 over
  ``--updates`` updates (target p95 < 100 ms);
- the console process's CPU share at one update a second over ``--seconds``
  (``time.process_time`` against wall time; target < 20 % of a core).

Run: ``.venv/bin/python benchmarks/console_refresh.py [--updates 60] [--seconds 30]``.
"""

from __future__ import annotations

import argparse
import asyncio
import random
import statistics
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from depotctl.client.api import AsyncControllerClient
from depotctl.console.app import ConsoleApp
from depotctl.console.coordinator import Coordinator
from depotctl.console.model import (
    Connection,
    Evse,
    Limit,
    Link,
    Model,
    Node,
    Outlook,
    Session,
)

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
EVSES = 1000


def _limit(load: float, limit: float, unit: str, kind: str, source: str = "static") -> Limit:
    return Limit(kind, unit, limit, load, limit - load, source, load >= limit - 0.01)


def _phases(load: float, limit: float) -> tuple[Limit, ...]:
    return tuple(_limit(load, limit, "A", f"current_L{i}") for i in (1, 2, 3))


def synthetic(rng: random.Random) -> Model:
    nodes = [
        Node(
            "gc-1",
            "grid_connection",
            None,
            _limit(3000, 3200, "kW", "import_power", "envelope E-17"),
            (),
            False,
        )
    ]
    evses: dict[str, Evse] = {}
    for c in range(10):
        circuit = f"db-{c:02d}"
        phases = _phases(900.0, 1200.0)
        nodes.append(Node(circuit, "circuit", "gc-1", phases[0], phases, False))
        for g in range(5):
            group = f"row-{c:02d}-{g}"
            nodes.append(Node(group, "charger_group", circuit, None, (), False))
            for k in range(20):
                charger = f"ch-{c:02d}{g}{k:02d}"
                limit_a = rng.uniform(0, 63)
                nodes.append(
                    Node(
                        charger,
                        "charger",
                        group,
                        _limit(limit_a * 0.69, 43.5, "kW", "import_power", "rating"),
                        (),
                        False,
                    )
                )
                evse_id = f"{charger}/1"
                departure = START + timedelta(hours=rng.randint(2, 16))
                outlook = Outlook(200_000, 150_000, 50_000, False, departure, "db full")
                session = Session(
                    f"bus-{len(evses):04d}", evse_id, 20_000, 200_000, departure, 0, outlook
                )
                evses[evse_id] = Evse(
                    evse_id,
                    charger,
                    group,
                    limit_a,
                    limit_a * 0.69,
                    "charging",
                    "node_limit",
                    circuit,
                    f"{circuit} current on L1 is full",
                    session.id,
                    session=session,
                )
    return Model(
        connection=Connection("http://bench", Link.CONNECTED),
        generation=1,
        time=START,
        speed=1.0,
        clock_kind="sim",
        site_name="bench-1000",
        revision=1,
        revision_hash="0" * 64,
        nodes=tuple(nodes),
        evses=evses,
        may_write=True,
    )


def changed(model: Model, rng: random.Random, share: float = 0.1) -> Model:
    """``share`` of the EVSEs get a new limit (and their chargers a new load)."""
    evses = dict(model.evses)
    picked = rng.sample(sorted(evses), int(len(evses) * share))
    new_load = {}
    for evse_id in picked:
        limit_a = rng.uniform(0, 63)
        evses[evse_id] = replace(evses[evse_id], limit_a=limit_a, limit_kw=limit_a * 0.69)
        new_load[evses[evse_id].charger] = limit_a * 0.69
    nodes = tuple(
        replace(n, binding=_limit(new_load[n.id], 43.5, "kW", "import_power", "rating"))
        if n.id in new_load
        else n
        for n in model.nodes
    )
    return replace(
        model,
        generation=model.generation + 1,
        nodes=nodes,
        evses=evses,
        time=(model.time or START) + timedelta(seconds=1),
    )


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(p / 100 * (len(ordered) - 1)))]


async def run(updates: int, seconds: float, size: tuple[int, int]) -> None:
    rng = random.Random(6)
    client = AsyncControllerClient("http://127.0.0.1:9", "bench")
    coordinator = Coordinator(client)
    app = ConsoleApp(coordinator, poll=False)
    model = synthetic(rng)
    async with app.run_test(size=size) as pilot:
        coordinator.model = model
        started = time.perf_counter()
        app.apply(model)
        await pilot.pause()
        print(
            f"first load of {len(model.evses)} EVSEs, {len(model.nodes)} nodes: "
            f"{(time.perf_counter() - started) * 1000:.0f} ms"
        )
        for pane in ("tree", "evses"):
            app.action_pane(pane)
            await pilot.pause()
            times = []
            for _ in range(updates):
                model = changed(model, rng)
                coordinator.model = model
                started = time.perf_counter()
                app.apply(model)
                await pilot.pause()
                times.append((time.perf_counter() - started) * 1000)
            print(
                f"refresh with the {pane:5} pane shown ({updates} updates, 10 % changed): "
                f"p50 {statistics.median(times):.1f} ms, p95 {percentile(times, 95):.1f} ms, "
                f"max {max(times):.1f} ms"
            )
        app.action_pane("evses")
        cpu0, wall0 = time.process_time(), time.perf_counter()
        while time.perf_counter() - wall0 < seconds:
            model = changed(model, rng)
            coordinator.model = model
            app.apply(model)
            await asyncio.sleep(1.0)
        cpu, wall = time.process_time() - cpu0, time.perf_counter() - wall0
        print(
            f"CPU at one update a second for {wall:.0f} s (EVSE pane shown): "
            f"{cpu:.2f} s of CPU = {100 * cpu / wall:.1f} % of a core "
            "(model building included)"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--updates", type=int, default=60)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--width", type=int, default=160)
    parser.add_argument("--height", type=int, default=48)
    args = parser.parse_args()
    asyncio.run(run(args.updates, args.seconds, (args.width, args.height)))


if __name__ == "__main__":
    main()
