"""The spells of a kept fault night, read again from its state directory.

    .venv/bin/python benchmarks/fault_night_spells.py STATE_DIR [--clean] [--speed 20] [--tick 5]

``fault_night.py --keep`` keeps each night's state directory; this reads its store's
alerts and its simulator's report (``chargers.json``) and prints the spells of chargers
the controller could not command, by cause, with the bound of one reboot — the same
functions as ``fault_night.py``, without running the night again.
"""

from __future__ import annotations

import argparse
import json
from datetime import datetime
from pathlib import Path

from fault_night import faults, reboot_bound, report_spells, spells, stored_alerts


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("state_dir", type=Path)
    parser.add_argument("--speed", type=float, default=20.0)
    parser.add_argument("--tick", type=float, default=5.0, help="the site's tick, seconds")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--window", default="8h")
    parser.add_argument("--clean", action="store_true", help="the night without faults")
    args = parser.parse_args()
    report = json.loads((args.state_dir / "chargers.json").read_text(encoding="utf-8"))
    alerts = stored_alerts(args.state_dir / "depotctl.sqlite")
    found = spells(
        alerts,
        report,
        () if args.clean else faults(args.window),
        args.seed,
        datetime.fromisoformat(report["to"]),
    )
    trips = report.get("round_trips") or {}
    bound = reboot_bound(args.speed, args.tick, float(trips.get("p95_s") or 0.0))
    reboots = sum(c.get("reboots", 0) for c in report.get("chargers", []))
    print(f"{args.state_dir}: {len(alerts)} alerts, {reboots} reboots, bound {bound:.0f} s")
    within = report_spells(found, bound)
    print(f"  every spell within one reboot: {'yes' if within else 'NO'}")


if __name__ == "__main__":
    main()
