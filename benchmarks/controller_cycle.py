"""The controller's speed on the 300-charger bundled site (issue 4's targets).

    .venv/bin/python benchmarks/controller_cycle.py

Prints p50/p99 of: one control cycle (snapshot from the SQLite store, allocation,
the journal of every changed limit and of the envelope transitions and alerts,
committed before the commands go to a recording dispatcher), the next one (its
outcomes stored and journaled, the increases that waited for the decreases sent)
with a session on every EVSE, alternating between two envelope levels so every cycle
changes every limit (the worst case for the journal); a cycle in which nothing
changed; `GET /api/v1/state` (the body is rendered once per cycle: both the first GET after
a cycle and the ones that reuse it are measured) and a `plan` round trip over real
HTTP. Targets: cycle
< 50 ms, state < 50 ms, plan < 1 s.
"""

from __future__ import annotations

import asyncio
import socket
import statistics
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from depotctl.controller.app import create_app  # noqa: E402
from depotctl.controller.auth import load_or_create_tokens  # noqa: E402
from depotctl.controller.clock import SimClock  # noqa: E402
from depotctl.controller.dispatch import RecordingDispatcher  # noqa: E402
from depotctl.controller.loop import ControlLoop  # noqa: E402
from depotctl.controller.service import Controller  # noqa: E402
from depotctl.controller.store import Store  # noqa: E402
from depotctl.domain.envelopes import Direction, Envelope, LimitUnit  # noqa: E402
from depotctl.domain.sessions import EnergyRequirement, Session  # noqa: E402

SITE = ROOT / "sites" / "large-depot.yaml"
#: the first grid connection's import limit, which the plan lowers to 900 kW
FIRST_IMPORT_LIMIT = "import: 1500 kW"
START = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def line(name: str, seconds: list[float], target_ms: float | None) -> str:
    p50, p99 = percentile(seconds, 0.5) * 1e3, percentile(seconds, 0.99) * 1e3
    verdict = ""
    if target_ms is not None:
        verdict = f"  target < {target_ms:g} ms: {'met' if p99 < target_ms else 'NOT met'}"
    return f"  {name:<44} p50 {p50:7.2f} ms   p99 {p99:7.2f} ms   n={len(seconds)}{verdict}"


def main() -> None:
    with tempfile.TemporaryDirectory() as state:
        state_dir = Path(state)
        store = Store.open(state_dir / "depotctl.sqlite")
        clock = SimClock(START)
        clock.pause()
        controller = Controller(store, clock, base_dir=SITE.parent)
        controller.seed(SITE, SITE.read_text(), author="benchmark")
        topology = controller.require_site().topology
        for i, evse_id in enumerate(sorted(topology.evses)):
            controller.units().sessions.put(
                Session(
                    id=f"S-{i}",
                    evse_id=evse_id,
                    started=START - timedelta(hours=1),
                    requirement=EnergyRequirement(200_000.0, START + timedelta(hours=6 + i % 5)),
                )
            )
        top = next(node.id for node in topology.nodes.values() if node.parent is None)
        controller.units().sources.heard_from("local", START)
        loop = ControlLoop(controller, RecordingDispatcher())
        asyncio.run(loop.cycle("warm-up"))

        changing: list[float] = []
        answered: list[float] = []
        steady: list[float] = []
        for k in range(60):
            clock.advance(60)
            controller.units().envelopes.put(
                Envelope(
                    id=f"E-{k}",
                    source="local",
                    target=top,
                    direction=Direction.IMPORT,
                    limit=[900_000.0, 1_100_000.0][k % 2],
                    unit=LimitUnit.W,
                    start=clock.now(),
                    end=clock.now() + timedelta(minutes=1),
                    received_at=clock.now(),
                )
            )
            began = time.perf_counter()
            result = asyncio.run(loop.cycle("envelope"))
            changing.append(time.perf_counter() - began)
            assert result.error is None and result.commands, result
            changed = len(result.commands)
            # the next cycle takes in their outcomes and sends the increases that
            # waited for the decreases; the one after has nothing to do
            began = time.perf_counter()
            asyncio.run(loop.cycle("the commands were answered"))
            answered.append(time.perf_counter() - began)
            began = time.perf_counter()
            asyncio.run(loop.cycle("tick"))
            steady.append(time.perf_counter() - began)

        tokens = load_or_create_tokens(state_dir)
        app = create_app(controller, tokens)
        sock = socket.socket()
        sock.bind(("127.0.0.1", 0))
        server = uvicorn.Server(
            uvicorn.Config(
                app, log_config=None, access_log=False, lifespan="off", log_level="error"
            )
        )
        thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
        thread.start()
        while not server.started:
            time.sleep(0.01)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/api/v1/state"
        headers = {"Authorization": f"Bearer {tokens.admin}"}
        state_times: list[float] = []
        with httpx.Client() as http:
            http.get(url, headers=headers).raise_for_status()
            for _ in range(50):
                began = time.perf_counter()
                response = http.get(url, headers=headers)
                state_times.append(time.perf_counter() - began)
                response.raise_for_status()
        size = len(response.content)
        # the first GET after a cycle renders the state (later ones reuse the body)
        fresh_times: list[float] = []
        with httpx.Client() as http:
            for k in range(100):
                clock.advance(1)
                controller.units().envelopes.put(
                    Envelope(
                        id=f"F-{k}",
                        source="local",
                        target=top,
                        direction=Direction.IMPORT,
                        limit=[900_000.0, 1_100_000.0][k % 2],
                        unit=LimitUnit.W,
                        start=clock.now(),
                        end=clock.now() + timedelta(minutes=1),
                        received_at=clock.now(),
                    )
                )
                asyncio.run(loop.cycle("envelope"))
                began = time.perf_counter()
                fresh = http.get(url, headers=headers)
                fresh_times.append(time.perf_counter() - began)
                fresh.raise_for_status()
                assert fresh.json()["time"] == clock.now().isoformat()
        plan_url = url.removesuffix("/state") + "/plan"
        changed_site = SITE.read_text().replace(
            FIRST_IMPORT_LIMIT, FIRST_IMPORT_LIMIT.replace("1500 kW", "900 kW"), 1
        )
        assert changed_site != SITE.read_text(), "the plan needs a change to show"
        plan_times: list[float] = []
        with httpx.Client(timeout=30) as http:
            for _ in range(10):
                began = time.perf_counter()
                planned = http.post(
                    plan_url, headers=headers, json={"site": changed_site, "path": str(SITE)}
                )
                plan_times.append(time.perf_counter() - began)
                planned.raise_for_status()
        server.should_exit = True
        thread.join(10)
        controller.close()

    print(f"Controller on {SITE.relative_to(ROOT)}: {len(topology.evses)} EVSEs, all in session")
    print(line(f"control cycle, {changed} limits changed and journaled", changing, 50))
    print(line("control cycle, their outcomes and the increases", answered, 50))
    print(line("control cycle, nothing changed", steady, 50))
    print(line(f"GET /api/v1/state ({size / 1024:.0f} KiB JSON)", state_times, 50))
    print(line("GET /api/v1/state, first after a cycle", fresh_times, 50))
    print(line("plan round trip (POST /api/v1/plan)", plan_times, 1000))
    print(
        f"  (medians: {statistics.median(changing) * 1e3:.2f} / "
        f"{statistics.median(steady) * 1e3:.2f} / {statistics.median(state_times) * 1e3:.2f} ms)"
    )


if __name__ == "__main__":
    main()
