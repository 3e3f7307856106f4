"""A real shipper process that stops inside one batch's transaction — its rows sent,
its commit not — says so on stdout and waits there to be killed (SIGKILL, by the
test): ``python -m tests.history.killed_shipper STORE URL DEPOT STREAM NTH``."""

from __future__ import annotations

import sys
import threading
from pathlib import Path

from depotctl.history.backlog import StoreBacklog
from depotctl.history.shipping import Shipper
from depotctl.history.target import HistoryTarget

#: Rows per batch: small, so that a few dozen rows are several batches.
BATCH = 10


def main(store: str, url: str, depot: str, stream: str, nth: str) -> None:
    batches = 0

    def hold(name: str, rows: int) -> None:
        nonlocal batches
        batches += name == stream
        if name == stream and batches == int(nth):
            print(f"holding {stream} batch {batches} of {rows} rows", flush=True)
            threading.Event().wait()  # until killed

    shipper = Shipper(
        StoreBacklog.open(Path(store)), HistoryTarget(url), depot, batch=BATCH, before_commit=hold
    )
    shipper.ship_round()
    print("shipped without being held", flush=True)


if __name__ == "__main__":
    main(*sys.argv[1:])
