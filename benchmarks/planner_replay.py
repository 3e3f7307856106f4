"""Issue 15's quality bar: the Caltech ACN on 2019-05-13, replayed with the horizon
planner online, beside the allocator alone, acnportal's EDF and the offline optimum,
in one run. Prints figures; not a test.

    .venv/bin/pip install -e '.[bench]'       # acnportal 0.3.3 for EDF, optional
    .venv/bin/python benchmarks/planner_replay.py [--sizes 30,50,150] [--no-tariff]

Part 1, energy (30 / 50 / 150 kVA, ``--capacity-scale`` kVA/150: the grid connection,
the transformer and its secondary bus, acnportal's ``transformer_cap``): energy
delivered as a share of demand and violations by the replay's exact phasor check, for

- **allocator**: ``depotctl sim replay`` (the allocator alone, every 5 min);
- **online plan**: ``sim replay --planner`` — every 5 min the planner sees only the
  sessions plugged in (no future arrivals), plans them over its horizon (15-minute
  blocks, each departure held back by the 5-minute replan interval) and the
  allocator caps every session at the plan's rate (an urgent one goes first only
  when the plan charges it at its full rate);
- **acnportal EDF**: acnportal 0.3.3's own simulator and earliest-deadline-first on
  ``caltech_acn(transformer_cap=kVA)`` (``acnportal_caltech_replay.acnportal_edf``),
  violations by acnportal's exact check;
- **offline optimum**: the planner's LP with every session known in advance
  (``depotctl.replay.offline``), on the allocator's constraint rows, 5-minute blocks;
  its draws checked by the replay's exact check;

and the issue's anchors beside them (acnportal's adaptive scheduling on the exact
phasor model: 69.0 / 88.5 / 99.9 %). Wall time: the online replay of the day, every
step replanned, until its last session left (and per simulated day).

Part 2, cost (150 kVA, SCE TOU-EV-4 read from acnportal's tariff JSON through
``depotctl.config.read_acnportal_tariff``, its 15.51 USD/kW demand charge on the
replay's period as one billing window; carbon with the CAISO SCE marginal rate,
``data/carbon/caiso-sce-moer-2019-05-08.csv.gz``): demand met, the bill (energy +
demand charge, ``depotctl.domain.bill``), the peak and kg CO2e, for the same four;
the online plan and the offline optimum weigh the tariff's prices and demand charge
(the peak metered so far counts), without a carbon price and with one
(``--carbon-price``, USD/kg, default 0.05); the allocator alone and EDF do not.
Targets: all demand met, bill ≤ 0.75 × EDF's, carbon below EDF's.
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

sys.path.insert(0, str(Path(__file__).resolve().parent))

from acnportal_caltech_replay import (
    DAY,
    PERIOD_MIN,
    SESSIONS,
    SITE,
    VOLTAGE,
    acnportal_edf,
)
from acnportal_compare import acnportal_available

from depotctl.config import (
    carbon_file_intensity,
    load_site,
    read_acnportal_tariff,
    tariff_of,
)
from depotctl.domain.bill import Bill
from depotctl.domain.carbon import Intensity
from depotctl.domain.tariff import Tariff
from depotctl.engine import allocate
from depotctl.engine.planner.inputs import CostSignals
from depotctl.recordings import read_sessions, select_sessions
from depotctl.replay import ReplaySettings, run_replay
from depotctl.replay.bill_report import replay_bill
from depotctl.replay.offline import offline_optimum
from depotctl.replay.planning import PlanFollower
from depotctl.replay.script import scale_top
from depotctl.replay.steps import replay_window

ROOT = Path(__file__).resolve().parents[1]
TARIFF = ROOT.parent / "shared" / "data" / "tariffs" / "sce_tou_ev_4_march_2019.json"
CARBON = ROOT / "data" / "carbon" / "caiso-sce-moer-2019-05-08.csv.gz"
#: acnportal's adaptive scheduling on the exact model, % of demand (issue 15)
ANCHOR = {30: 69.0, 50: 88.5, 150: 99.9}
#: acnportal's EDF at 150 kVA under SCE TOU-EV-4 (issue 15): energy, demand charge
#: (USD) and peak (kW)
EDF_BILL = (42.6, 1433.0, 92.4)
STEP = timedelta(minutes=PERIOD_MIN)


@dataclass(frozen=True)
class Row:
    who: str
    demand_kwh: float
    delivered_kwh: float
    met: str
    violations: str
    wall: str = ""
    bill: Bill | None = None
    kg: float | None = None

    @property
    def share(self) -> float:
        return self.delivered_kwh / self.demand_kwh if self.demand_kwh else 1.0


def replayed(
    kva: int,
    who: str,
    planned: bool,
    tariff: Tariff | None,
    carbon: Intensity | None,
    carbon_price: float = 0.0,
) -> Row:
    """depotctl's replay at ``kva``: the allocator alone, or following the online plan
    (under ``tariff`` and ``carbon`` when given)."""
    topology, policy = load_site(SITE)
    zone = ZoneInfo(topology.timezone)
    signals = CostSignals(tariff=tariff, carbon=carbon, carbon_price_per_kg=carbon_price)
    follower = PlanFollower(allocate, zone, signals)
    settings = ReplaySettings(
        first=DAY, last=DAY, step_s=STEP.total_seconds(), capacity_scale=kva / 150
    )
    began = time.perf_counter()
    report = run_replay(
        topology,
        policy,
        read_sessions(SESSIONS),
        settings,
        follower if planned else allocate,
        None,
        carbon,
        tariff,
    )
    wall = time.perf_counter() - began
    result = report.result
    note = f"{wall:.1f} s ({result.wall_s_per_day:.1f} s per simulated day)"
    if planned:
        tally = follower.tally
        note += (
            f"; {tally.solves} solves, {tally.failed} failed, "
            f"HiGHS {tally.solve_s:.1f} s, problems {tally.build_s:.1f} s"
        )
    kg = result.carbon.total.kg if result.carbon is not None else None
    return Row(
        who,
        result.demand_wh / 1000,
        result.delivered_wh / 1000,
        f"{result.met}/{len(result.outcomes)}",
        str(len(result.violations)),
        note,
        report.cost,
        kg,
    )


def offline(
    kva: int,
    tariff: Tariff | None,
    carbon: Intensity | None,
    carbon_price: float = 0.0,
    who: str = "offline optimum",
) -> Row:
    topology, policy = load_site(SITE)
    zone = ZoneInfo(topology.timezone)
    scaled, _ = scale_top(topology, kva / 150)
    selection = select_sessions(read_sessions(SESSIONS), topology, DAY, DAY)
    start, end = replay_window(selection.sessions, zone, DAY, STEP.total_seconds())
    began = time.perf_counter()
    optimum = offline_optimum(
        scaled,
        policy,
        selection.sessions,
        start,
        end,
        STEP,
        CostSignals(tariff=tariff, carbon=carbon, carbon_price_per_kg=carbon_price),
    )
    wall = time.perf_counter() - began
    met = sum(
        1 for s in optimum.sessions if optimum.delivered_wh[s.id] >= s.demand_wh * 0.999 - 1e-6
    )
    cost = None
    if tariff is not None:
        cost = replay_bill(optimum.site_wh, start, STEP.total_seconds(), zone, tariff)
    kg = None
    if carbon is not None:
        kg = sum(
            carbon.emissions_kg(start + STEP * k, start + STEP * (k + 1), wh)
            for k, wh in enumerate(optimum.site_wh)
            if wh > 0
        )
    return Row(
        who,
        optimum.demand_wh / 1000,
        sum(optimum.delivered_wh.values()) / 1000,
        f"{met}/{len(optimum.sessions)}",
        str(len(optimum.violations)),
        f"{wall:.1f} s (HiGHS {optimum.plan.solve_seconds:.1f} s)",
        cost,
        kg,
    )


def edf(kva: int, tariff: Tariff | None, carbon: Intensity | None) -> Row:
    topology, _ = load_site(SITE)
    zone = ZoneInfo(topology.timezone)
    selection = select_sessions(read_sessions(SESSIONS), topology, DAY, DAY)
    start = datetime.combine(DAY, datetime.min.time(), zone)
    outcome = acnportal_edf(kva, selection.sessions, start)
    assert outcome.rates is not None
    # each period's energy: Σ amps × 208 V over the period (acnportal's basic EVSEs)
    site_wh = tuple(float(amps) * VOLTAGE * PERIOD_MIN / 60 for amps in outcome.rates.sum(axis=0))
    cost = replay_bill(site_wh, start, STEP.total_seconds(), zone, tariff) if tariff else None
    kg = None
    if carbon is not None:
        kg = sum(
            carbon.emissions_kg(start + STEP * k, start + STEP * (k + 1), wh)
            for k, wh in enumerate(site_wh)
            if wh > 0
        )
    return Row(
        "acnportal EDF",
        outcome.demand_kwh,
        outcome.delivered_kwh,
        "",
        f"{outcome.violations.exact} (acnportal's exact)",
        f"{outcome.wall_s:.1f} s",
        cost,
        kg,
    )


def energy_table(sizes: list[int]) -> None:
    print(
        f"{'size':>7}  {'who':<16}  {'delivered':>10}  {'share':>6}  {'anchor':>6}  "
        f"{'met':>5}  {'exact violations':<22}  wall"
    )
    for kva in sizes:
        rows = [
            replayed(kva, "allocator", False, None, None),
            replayed(kva, "online plan", True, None, None),
        ]
        if acnportal_available():
            rows.append(edf(kva, None, None))
        rows.append(offline(kva, None, None))
        for row in rows:
            print(
                f"{kva:>4} kVA  {row.who:<16}  {row.delivered_kwh:>6.1f} kWh  "
                f"{row.share * 100:>5.1f}%  {ANCHOR[kva]:>5.1f}%  {row.met:>5}  "
                f"{row.violations:<22}  {row.wall}"
            )


def cost_table(tariff: Tariff, carbon: Intensity, carbon_price: float) -> None:
    priced = f", {carbon_price * 1000:g} USD/t"
    rows = [
        replayed(150, "allocator", False, tariff, carbon),
        replayed(150, "online plan", True, tariff, carbon),
        replayed(150, "online plan" + priced, True, tariff, carbon, carbon_price),
    ]
    reference: Row | None = None
    if acnportal_available():
        reference = edf(150, tariff, carbon)
        rows.append(reference)
    rows.append(offline(150, tariff, carbon))
    rows.append(offline(150, tariff, carbon, carbon_price, "offline optimum" + priced))
    print(
        f"{'who':<28}  {'share':>6}  {'met':>5}  {'energy':>8}  {'demand':>9}  "
        f"{'bill':>9}  {'× EDF':>6}  {'peak':>8}  {'kg CO2e':>8}  {'vs EDF':>7}  exact violations"
    )
    for row in rows:
        assert row.bill is not None
        peak = max((line.peak for line in row.bill.demand), default=0.0)
        ratio = (
            f"{float(row.bill.total) / float(reference.bill.total):.3f}"
            if reference is not None and reference.bill is not None
            else "—"
        )
        carbon_ratio = (
            f"{row.kg / reference.kg:.3f}"
            if reference is not None and reference.kg and row.kg is not None
            else "—"
        )
        print(
            f"{row.who:<28}  {row.share * 100:>5.1f}%  {row.met:>5}  "
            f"{float(row.bill.energy_amount):>8.2f}  {float(row.bill.demand_amount):>9.2f}  "
            f"{float(row.bill.total):>9.2f}  {ratio:>6}  {peak:>5.1f} kW  "
            f"{row.kg if row.kg is not None else float('nan'):>8.2f}  {carbon_ratio:>7}  "
            f"{row.violations}"
        )
    energy, demand, peak = EDF_BILL
    print(
        f"issue's EDF: {energy:.1f} USD energy + {demand:,.0f} USD demand charge, peak "
        f"{peak} kW; target: bill ≤ 0.75 × EDF's, carbon below EDF's, all demand met"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="30,50,150", help="transformer sizes, kVA")
    parser.add_argument("--tariff", type=Path, default=TARIFF, help="acnportal tariff JSON")
    parser.add_argument("--no-tariff", action="store_true", help="skip part 2 (cost)")
    parser.add_argument("--no-energy", action="store_true", help="skip part 1 (energy)")
    parser.add_argument(
        "--carbon-price",
        type=float,
        default=0.05,
        help="USD per kg CO2e for the priced rows of part 2 (default 0.05: 50 USD/t)",
    )
    args = parser.parse_args()
    if not acnportal_available():
        print(
            "acnportal is not installed: acnportal's EDF is left out. Install the optional "
            "benchmark dependency with  pip install -e '.[bench]'  (acnportal 0.3.3)."
        )
    sessions = select_sessions(read_sessions(SESSIONS), load_site(SITE)[0], DAY, DAY).sessions
    print(
        f"Caltech ACN, {DAY} (America/Los_Angeles): {len(sessions)} sessions, demand "
        f"{sum(s.demand_wh for s in sessions) / 1000:.1f} kWh; {PERIOD_MIN}-minute steps"
    )
    if not args.no_energy:
        print("\nEnergy delivered (no tariff):")
        energy_table([int(size) for size in args.sizes.split(",")])
    if not args.no_tariff:
        tariff = tariff_of(read_acnportal_tariff(args.tariff.read_text(encoding="utf-8")))
        carbon = carbon_file_intensity(CARBON, ZoneInfo("America/Los_Angeles"))
        print(f"\nCost at 150 kVA, {args.tariff.name}, carbon {CARBON.name}:")
        cost_table(tariff, carbon, args.carbon_price)


if __name__ == "__main__":
    main()
