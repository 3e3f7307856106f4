"""Issue 16's shipping target: "shipping keeps up with 50 depots × 300 chargers into
one PostgreSQL on this machine (simulated), backlog drained faster than it grows".

A throwaway PostgreSQL 15 (tests/history's fixture server: initdb, a Unix socket, as
the postgres user when run as root) and a simulated 300-charger depot's controller
store, written through the store's API on a clock the script moves: each minute a
reading of every one of the 300 chargers and the journal's entries of a busy minute.
50 shippers (the real :class:`~depotctl.history.shipping.Shipper`, each its own
connection and cursors) ship it under 50 depot names into one database — 50 depots
whose minutes are alike, each read from the store and written to PostgreSQL on its
own. Three figures, each computed in this run:

1. **Keeping up**: a round is one more minute at all 50 depots, shipped by the 50
   shippers one after another; its wall time against the 60 s it covers (p50, max).
2. **An outage**: the server stopped while the clock runs ``--outage`` minutes on (every
   shipper's round fails meanwhile; the backlog is in the store), then started: the
   time one round of the 50 shippers takes to drain it, the drain rate (the outage's
   new rows / that time) against the growth rate (the 50 depots' new rows a minute /
   60 s), and their ratio: how much faster than it grows the backlog drains.
3. The process CPU time of the shipping (the server's is its own).

    .venv/bin/python benchmarks/history_ship.py [--depots 50] [--rounds 5] [--outage 10]
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
from depotctl.history.shipping import HistoryUnavailable, Shipper
from depotctl.history.target import HistoryTarget
from tests.history.depots import Depot
from tests.history.postgres import PostgresServer, start_server

NODES = 300
JOURNAL_PER_MINUTE = 5  # ~2,900 entries in a 10-hour night at the bus depot, rounded up


def _minute(depot: Depot, units: Units) -> None:
    """One minute of the depot: a reading of every charger and the journal's entries."""
    depot.advance(60 - JOURNAL_PER_MINUTE)
    with units() as uow:
        uow.telemetry.put(
            Reading(f"chg-{n:03d}", depot.now, 7000.0 + n, {Phase.L1: 30.0}) for n in range(NODES)
        )
    depot.journal(JOURNAL_PER_MINUTE)


def _round(shippers: list[Shipper]) -> tuple[int, float, float]:
    """One round of every shipper: rows sent, wall and process CPU seconds."""
    wall, cpu = time.perf_counter(), time.process_time()
    rows = sum(sum(shipper.ship_round()) for shipper in shippers)
    return rows, time.perf_counter() - wall, time.process_time() - cpu


def _outage(
    server: PostgresServer, depot: Depot, units: Units, shippers: list[Shipper], minutes: int
) -> None:
    """The server down while ``minutes`` of the clock pass; then one round drains it."""
    server.stop()
    try:
        for _ in range(minutes):
            _minute(depot, units)
            for shipper in shippers:
                try:
                    shipper.ship_round()
                except HistoryUnavailable:
                    continue
                raise SystemExit("a round shipped while the server was stopped")
    finally:
        server.start()
    rows, wall, cpu = _round(shippers)
    growth = len(shippers) * (NODES + JOURNAL_PER_MINUTE) / 60.0  # new rows/s, all depots
    backlog = growth * minutes * 60  # the new rows the outage left in the store
    drain = backlog / wall
    print(
        f"outage of {minutes} min (simulated) at {len(shippers)} depots: a backlog of"
        f" {backlog:,.0f} new rows drained in {wall:.2f} s ({cpu:.2f} s CPU; {rows:,} rows"
        f" sent with the grace's re-sends on new connections): {drain:,.0f} rows/s against"
        f" a growth of {growth:,.0f} rows/s — drained {drain / growth:.1f}x faster than it grows"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--depots", type=int, default=50)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--outage", type=int, default=10, help="minutes the server is down")
    parser.add_argument("--minutes", type=int, default=10, help="history before the first ship")
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
        rows, wall, cpu = _round(shippers)
        print(
            f"first ship, {args.depots} depots × {args.minutes} min of {NODES} chargers:"
            f" {rows:,} rows in {wall:.2f} s ({cpu:.2f} s CPU): {rows / wall:,.0f} rows/s"
        )
        rounds = []
        for _ in range(args.rounds):
            _minute(depot, units)
            rows, wall, cpu = _round(shippers)
            rounds.append((wall, cpu))
        p50 = statistics.median(w for w, _ in rounds)
        print(
            f"keeping up, {args.depots} depots × {NODES} chargers, a minute each a round:"
            f" {rows:,} rows a round in p50 {p50:.2f} s, max {max(w for w, _ in rounds):.2f} s"
            f" (CPU p50 {statistics.median(c for _, c in rounds):.2f} s) for 60 s of history:"
            f" {p50 / 60:.1%} of the time it covers"
        )
        _outage(server, depot, units, shippers, args.outage)
        for shipper in shippers:
            shipper.close()
            shipper.backlog.close()
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(state, ignore_errors=True)


if __name__ == "__main__":
    main()
