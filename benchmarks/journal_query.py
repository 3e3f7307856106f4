"""Issue 16: the journal query "one night for one EVSE" at the 300-charger site
(sites/large-depot.yaml), in a store holding ``--nights`` nights of its journal.
Prints figures; not a test.

    .venv/bin/python benchmarks/journal_query.py [--nights 30] [--per-night 29000] [--runs 50]

The store (a real SQLite file in a temporary directory, the site seeded as its first
revision) is filled with ``--nights`` nights of ``--per-night`` entries each (the AU
bus depot's 2,900 a night for 30 chargers, scaled to 300), shaped as
the controller journals them (``tests/controller/journal_night.py``: allocation
changes and command outcomes per EVSE, charger status, envelopes, alerts; ties and ids
against time). Then, for ``--runs`` EVSEs drawn at random, one night of that EVSE:
``GET /api/v1/journal?evse=…&since=18:00&until=06:00`` (site time) — timed in the
service (the store's page query and its count of the rest, what the route runs) and
over loopback HTTP to the served app (uvicorn, token, JSON). p50 / p95 / max of each.
Target: ≤ 50 ms. Then, for scale: a node (a row of chargers) for the night; a kind
and an EVSE over the whole history, first page of 200. The HTTP floor is the
reference rows (``GET /healthz``: no token, no store; ``GET /api/v1/clock``), on one
keep-alive connection as every query. ``cpu`` is the process's CPU time per query
(client and server share the process: the request's whole cost), which a loaded
machine does not inflate as it does the wall clock.

The floor was 44 ms until the controller's listening socket was made IPPROTO_TCP:
made with protocol 0, its connections kept Nagle's algorithm on (asyncio sets
TCP_NODELAY only for IPPROTO_TCP sockets) and uvicorn's answer, written as headers
then body, waited for the client's delayed ACK (40 ms on Linux).
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from depotctl.api.journal import JournalFilters  # noqa: E402
from depotctl.controller.app import create_app  # noqa: E402
from depotctl.controller.auth import load_or_create_tokens  # noqa: E402
from depotctl.controller.clock import SimClock  # noqa: E402
from depotctl.controller.service import Controller  # noqa: E402
from depotctl.controller.services.journal import journal_page  # noqa: E402
from depotctl.controller.store import Store  # noqa: E402
from tests.controller.journal_night import a_night, record  # noqa: E402
from tests.controller.test_app import serving  # noqa: E402

SITE = ROOT / "sites" / "large-depot.yaml"
#: A night's entries at 300 chargers: the AU bus depot's 2,900 for 30, ten times over.
PER_NIGHT = 29_000


def fill(controller: Controller, nights: int, per_night: int, first: datetime) -> list[str]:
    """``nights`` nights from ``first`` (18:00 site time each evening); the EVSE ids."""
    topology = controller.require_site().topology
    evses = sorted(topology.evses)
    nodes = sorted(topology.nodes)
    for night in range(nights):
        start = first + timedelta(days=night)
        record(controller.units(), a_night(evses, nodes, start, per_night, seed=night))
    return evses


def figures(label: str, seconds: list[float], found: list[int], cpu_s: float) -> None:
    ms = sorted(s * 1000 for s in seconds)
    p95 = ms[max(0, round(0.95 * len(ms)) - 1)]
    print(
        f"| {label} | {statistics.median(ms):.1f} ms | {p95:.1f} ms | {ms[-1]:.1f} ms "
        f"| {cpu_s * 1000 / len(ms):.1f} ms | {statistics.median(found):,.0f} |"
    )


def timed(ask: Callable[[], int], runs: int) -> tuple[list[float], list[int], float]:
    """Each run's wall time and count, and the process's CPU time for them all."""
    seconds, found = [], []
    cpu = time.process_time()
    for _ in range(runs):
        began = time.perf_counter()
        count = ask()
        seconds.append(time.perf_counter() - began)
        found.append(count)
    return seconds, found, time.process_time() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--nights", type=int, default=30)
    parser.add_argument("--per-night", type=int, default=PER_NIGHT)
    parser.add_argument("--runs", type=int, default=50)
    args = parser.parse_args()
    zone = ZoneInfo("Australia/Sydney")
    first = datetime(2026, 11, 7, 18, 0, tzinfo=zone)
    last_night = first + timedelta(days=args.nights - 1)
    rng = random.Random(7)
    with tempfile.TemporaryDirectory() as directory:
        state = Path(directory)
        clock = SimClock(last_night + timedelta(hours=13), monotonic=lambda: 0.0)
        controller = Controller(Store.open(state / "depotctl.sqlite"), clock, base_dir=SITE.parent)
        controller.seed(SITE, SITE.read_text(encoding="utf-8"), author="benchmark")
        began = time.perf_counter()
        evses = fill(controller, args.nights, args.per_night, first)
        size = (state / "depotctl.sqlite").stat().st_size
        print(
            f"store: {args.nights} nights × {args.per_night:,} entries "
            f"({args.nights * args.per_night:,}), {len(evses)} EVSEs, "
            f"filled in {time.perf_counter() - began:.1f} s, {size / 1e6:.0f} MB (before WAL checkpoint)"
        )
        window = JournalFilters(since=last_night, until=last_night + timedelta(hours=12))

        def service(evse: str) -> int:
            page = journal_page(controller, window | JournalFilters(evse=evse, limit=10_000))
            return len(page.entries)

        print("| query | p50 | p95 | max | cpu | entries |")
        print("|---|---|---|---|---|---|")
        figures(
            "one EVSE, one night (service)",
            *timed(lambda: service(rng.choice(evses)), args.runs),
        )
        tokens = load_or_create_tokens(state)
        app = create_app(controller, tokens)
        with serving(app) as url:
            headers = {"Authorization": f"Bearer {tokens.admin}"}
            with httpx.Client(base_url=url, headers=headers, timeout=30) as client:

                def over_http(**params: str) -> int:
                    query = {
                        "since": last_night.isoformat(),
                        "until": (last_night + timedelta(hours=12)).isoformat(),
                        "limit": "10000",
                        **params,
                    }
                    query = {name: value for name, value in query.items() if value}
                    response = client.get("/api/v1/journal", params=query)
                    response.raise_for_status()
                    return len(response.json()["entries"])

                def bare(path: str) -> Callable[[], int]:
                    def ask() -> int:
                        client.get(path).raise_for_status()
                        return 0

                    return ask

                figures("reference: GET /healthz (HTTP)", *timed(bare("/healthz"), args.runs))
                figures(
                    "reference: GET /api/v1/clock (HTTP)", *timed(bare("/api/v1/clock"), args.runs)
                )
                figures(
                    "one EVSE, one night (HTTP)",
                    *timed(lambda: over_http(evse=rng.choice(evses)), args.runs),
                )
                board = controller.require_site().topology.evses[evses[0]].path[1]
                figures(
                    f"node {board}, one night (HTTP)",
                    *timed(lambda: over_http(node=board), max(5, args.runs // 5)),
                )
                figures(
                    "charger.status, every night, first page of 200 (HTTP)",
                    *timed(
                        lambda: over_http(kind="charger.status", since="", until="", limit="200"),
                        max(5, args.runs // 5),
                    ),
                )
                figures(
                    "one EVSE, every night, first page of 200 (HTTP)",
                    *timed(
                        lambda: over_http(evse=rng.choice(evses), since="", until="", limit="200"),
                        args.runs,
                    ),
                )
        controller.close()


if __name__ == "__main__":
    main()
