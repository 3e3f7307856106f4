"""Issue 16: what a day of history costs in SQLite per charger at the 300-charger site
(sites/large-depot.yaml), part by part, and what the store holds at the default
retention (docs/retention.md). Prints figures; not a test.

    .venv/bin/python benchmarks/retention_size.py [--days 1]

Measured here in a real store (the site seeded as revision 1): ``--days`` of telemetry
minutes — every meter and every charger reporting every minute with power and three
phase currents (the worst case: a charger's MeterValues folded into its node's minute)
— the bytes of the ``telemetry`` table, its minute index and the node table (SQLite's
``dbstat``; store migration 13 keys them by node id and epoch minute); then the
compaction pass folds them into quarter hours and the same for ``telemetry_quarters``
and its index.
Taken from the other benchmarks (same site, same store): the journal, 29,000 entries
a night at 309 B each with its indexes (journal_query.py: 269 MB for 870,000 entries),
and the cycle inputs, 82 kB per charger per day of store file (time_travel.py, each
row of changes compressed with the row before as its dictionary; 98 kB without).
Target: ≤ 200 kB per charger per day.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
from datetime import UTC, datetime, timedelta
from pathlib import Path

from depotctl.controller.clock import SimClock
from depotctl.controller.compaction import Compaction
from depotctl.controller.retention import Retention
from depotctl.controller.service import Controller
from depotctl.controller.store import Store
from depotctl.domain.phases import Phase
from depotctl.domain.telemetry import Reading

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "sites" / "large-depot.yaml"
START = datetime(2026, 11, 1, 7, 0, tzinfo=UTC)
#: journal_query.py: 870,000 entries (30 nights × 29,000) in 269 MB with their indexes
JOURNAL_NIGHT_ENTRIES, JOURNAL_ENTRY_B = 29_000, 269e6 / 870_000
#: time_travel.py: the store file per charger per day of cycle inputs
INPUTS_PER_CHARGER_DAY_B = 82e3


def table_bytes(store: Store, *names: str) -> int:
    """The pages of ``names`` (tables and indexes), from SQLite's dbstat."""
    marks = ", ".join("?" for _ in names)
    rows = store.rows(f"SELECT coalesce(sum(pgsize), 0) FROM dbstat WHERE name IN ({marks})", names)
    return int(rows[0][0])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=1)
    args = parser.parse_args()
    rng = random.Random(16)
    with tempfile.TemporaryDirectory() as tmp:
        store = Store.open(Path(tmp) / "depotctl.sqlite")
        clock = SimClock(START, speed=1.0)
        clock.pause()
        controller = Controller(store, clock, base_dir=SITE.parent)
        controller.seed(SITE, SITE.read_text(), author="benchmark")
        topology = controller.require_site().topology
        chargers = sorted({e.charger_id for e in topology.evses.values()})
        meters = sorted(n for n, node in topology.nodes.items() if node.meter)
        nodes = chargers + meters
        minutes = args.days * 1440
        for minute in range(minutes):
            at = START + timedelta(minutes=minute)
            controller.units().telemetry.put(
                Reading(
                    node,
                    at,
                    power_w=round(rng.uniform(0, 150e3), 1),
                    current_a={p: round(rng.uniform(0, 200), 1) for p in Phase},
                )
                for node in nodes
            )
        per_day = len(chargers) * args.days
        raw = table_bytes(store, "telemetry", "telemetry_by_minute", "telemetry_nodes") / per_day
        row_b = table_bytes(store, "telemetry") / (minutes * len(nodes))
        index_b = table_bytes(store, "telemetry_by_minute") / (minutes * len(nodes))
        end = START + timedelta(days=args.days)
        retention = Retention(raw_telemetry=timedelta(days=1), inputs=timedelta(days=1))
        compaction = Compaction(controller.units, retention, max_minutes=10**9)
        counts = compaction.run(end + timedelta(days=1))
        store.write("VACUUM")
        quarters = table_bytes(store, "telemetry_quarters", "telemetry_quarters_by_start") / per_day
        journal = JOURNAL_NIGHT_ENTRIES * JOURNAL_ENTRY_B / len(chargers)
        inputs = INPUTS_PER_CHARGER_DAY_B
        store.close()
    kept = Retention()
    newest = journal + raw + inputs
    steady = (
        kept.decisions.days * journal
        + kept.raw_telemetry.days * raw
        + (kept.decisions.days - kept.raw_telemetry.days) * quarters
        + kept.inputs.days * inputs
    )
    print(f"{len(chargers)} chargers, {len(meters)} meters; {counts.minutes_folded:,} minutes")
    print("per charger per day of history:")
    print(f"  journal (decisions, kept {kept.decisions.days} d)      {journal / 1e3:7.1f} kB")
    print(
        f"  telemetry minutes (kept {kept.raw_telemetry.days} d)        {raw / 1e3:7.1f} kB"
        f"  ({row_b:.1f} B a row, {index_b:.1f} B of its minute index)"
    )
    print(f"  telemetry quarter hours (to {kept.decisions.days} d)   {quarters / 1e3:7.1f} kB")
    print(f"  cycle inputs (kept {kept.inputs.days} d)             {inputs / 1e3:7.1f} kB")
    print(f"  a day at full resolution: {newest / 1e3:.1f} kB (target ≤ 200 kB)")
    print(
        f"at the default retention the store holds {steady * len(chargers) / 1e9:.1f} GB: "
        f"{steady / 1e6:.1f} MB per charger, {steady / kept.decisions.days / 1e3:.1f} kB per "
        f"charger per day of its {kept.decisions.days} days"
    )
    sys.exit(0 if newest <= 200e3 else 1)


if __name__ == "__main__":
    main()
