"""Issue 16's shipping target: 50 depots × 300 chargers into one PostgreSQL on this
machine, the backlog drained faster than it grows.

A throwaway PostgreSQL 15 (tests/history's fixture server: initdb, a Unix socket, as
the postgres user when run as root) and one controller store of a 300-charger depot
with an hour of history: 300 nodes' telemetry minutes, the journal of a busy hour, 300
sessions. First the backlog's ship (rows/s); then the steady state: each round the
store gains one more minute of all 300 nodes and a minute's journal entries, and is
shipped under 50 depot names (50 shippers, one after another, one database) — the
round's wall time against the minute it covers.

    .venv/bin/python benchmarks/history_ship.py [--depots 50] [--rounds 5]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from depotctl.controller.store import Units
from depotctl.domain.phases import Phase
from depotctl.domain.telemetry import Reading
from depotctl.history.backlog import StoreBacklog
from depotctl.history.shipping import Shipper
from depotctl.history.target import HistoryTarget
from tests.history.depots import Depot
from tests.history.postgres import start_server

NODES = 300
JOURNAL_PER_MINUTE = 5  # ~2,900 entries in a 10-hour night at the bus depot, rounded up


def _minute(depot: Depot, units: Units) -> None:
    """One minute of the depot: a reading of every node and the journal's entries."""
    depot.advance(60 - JOURNAL_PER_MINUTE)
    with units() as uow:
        uow.telemetry.put(
            Reading(f"chg-{n:03d}", depot.now, 7000.0 + n, {Phase.L1: 30.0}) for n in range(NODES)
        )
    depot.journal(JOURNAL_PER_MINUTE)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depots", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--minutes", type=int, default=60, help="history before the first ship")
    args = parser.parse_args()

    root = Path(tempfile.mkdtemp(prefix="depotctl-pg-bench-"))
    server = start_server(root)
    state = Path(tempfile.mkdtemp(prefix="depotctl-bench-state-"))
    try:
        url = server.url(server.create_database())
        depot = Depot(state, "bench")
        units = Units(depot.store)
        for n in range(NODES):
            depot.session(f"tx-{n}", f"chg-{n:03d}/1")
        for _ in range(args.minutes):
            _minute(depot, units)
        shippers = [
            Shipper(StoreBacklog.open(state / "depotctl.sqlite"), HistoryTarget(url), f"d{i:02d}")
            for i in range(args.depots)
        ]
        started = time.perf_counter()
        first = shippers[0].ship_round()
        took = time.perf_counter() - started
        print(
            f"backlog of one depot ({args.minutes} min): {sum(first):,} rows"
            f" ({first.journal:,} journal, {first.sessions:,} sessions,"
            f" {first.telemetry:,} minutes) in {took:.2f} s: {sum(first) / took:,.0f} rows/s"
        )
        for shipper in shippers[1:]:
            shipper.ship_round()
        rounds = []
        for _ in range(args.rounds):
            _minute(depot, units)
            started = time.perf_counter()
            rows = sum(sum(shipper.ship_round()) for shipper in shippers)
            rounds.append(time.perf_counter() - started)
        p50 = statistics.median(rounds)
        print(
            f"steady state, {args.depots} depots × {NODES} nodes, one minute each a round:"
            f" {rows:,} rows a round, p50 {p50:.2f} s, max {max(rounds):.2f} s"
            f" for 60 s of history ({p50 / 60:.1%} of the time)"
        )
        for shipper in shippers:
            shipper.close()
            shipper.backlog.close()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
