"""Issue 16: time travel at the 300-charger site (sites/large-depot.yaml) — what a
day of recorded cycle inputs costs in SQLite per charger, and how long ``explain
--at`` takes at any instant of a 30-day history. Prints figures; not a test.

    .venv/bin/python benchmarks/time_travel.py [--days 30] [--day-cycles 17280] [--runs 40]

The store (a real SQLite file, the site seeded as revision 1) gets one day of cycle
rows written by the control loop's own recorder (controller/inputs_record.py) from a
snapshot changed each 5 s cycle as a busy day changes it: every meter read each
cycle; each charger's held limit renewed every 15 s (its state's last command and
held ``until``: OCPP profiles of 30 s renewed at half their validity); each session's
delivered energy every 60 s (MeterValues); a few limits changed per cycle, with their
command out for one cycle and the admission switched; every plan note and a third of
the planned rates each 5 min replan; a session leaving and another arriving every
~5 min; the two OSCP sources heard every minute and a forecast's envelope every 15
min. The first day's rows are then copied to fill ``--days`` days (times shifted;
bodies as they are) — the store is generated, not run for 30 days.

Then, for ``--runs`` instants drawn at random over the whole history, ``GET
/api/v1/explain/EVSE?at=`` over loopback HTTP to the served app (uvicorn, token,
JSON) and the same in the service (rebuild + allocate + explain), p50 / p95 / max.
Targets: ≤ 300 ms; ≤ 200 kB per charger per day.
"""

from __future__ import annotations

import argparse
import random
import statistics
import sys
import tempfile
import time
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

from depotctl.controller.app import create_app
from depotctl.controller.auth import load_or_create_tokens
from depotctl.controller.clock import SimClock
from depotctl.controller.inputs_record import InputsRecorder
from depotctl.controller.service import Controller
from depotctl.controller.store import Store
from depotctl.controller.store.encoding import iso
from depotctl.controller.time_travel import state_at
from depotctl.domain.admission import Admission
from depotctl.domain.chargers import ChargerState, CommandOutcome, HeldLimit
from depotctl.domain.envelopes import Direction, Envelope, EnvelopeMode, LimitUnit, SourceHealth
from depotctl.domain.plan_notes import PlanNote
from depotctl.domain.sessions import EnergyRequirement, Session
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.telemetry import Reading
from depotctl.views import Origin, explain_json

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "sites" / "large-depot.yaml"
START = datetime(2026, 11, 1, 7, 0, tzinfo=UTC)  # 18:00 in Sydney
TICK = timedelta(seconds=5)


class BusyDay:
    """The snapshot of each cycle of a day, changed as the module docstring says."""

    def __init__(self, base: Snapshot, seed: int = 16) -> None:
        self.rng = random.Random(seed)
        self.base = base
        topology = base.topology
        self.evses = sorted(topology.evses)
        self.chargers = sorted({e.charger_id for e in topology.evses.values()})
        self.meters = sorted(n for n, node in topology.nodes.items() if node.meter) or ["gc-north"]
        self.sources = sorted(topology.sources)
        self.sessions: dict[str, Session] = {}
        self.serial = 0
        self.limits = {e: 16.0 for e in self.evses}
        self.admission = {e: Admission(True, START) for e in self.evses}
        self.states: dict[str, ChargerState] = {}
        self.health = {s: SourceHealth(s, START, 300.0) for s in self.sources}
        self.notes: dict[str, PlanNote] = {}
        self.envelopes: list[Envelope] = []
        for evse in self.evses[: int(len(self.evses) * 0.85)]:
            self.arrive(evse, START)

    def arrive(self, evse: str, at: datetime) -> None:
        self.serial += 1
        need = EnergyRequirement(self.rng.uniform(50e3, 300e3), at + timedelta(hours=11))
        session = Session(f"{self.serial:08x}-5b1c-4e7a-9d2f-{self.serial:012x}", evse, at,
                          requirement=need, planned_rate_a=None)  # fmt: skip
        self.sessions[evse] = session

    def cycle(self, n: int, at: datetime) -> Snapshot:
        rng = self.rng
        for i, charger in enumerate(self.chargers):  # renewals every 15 s
            if (n + i) % 3 == 0:
                held = {
                    e: (HeldLimit(self.limits[e], at + timedelta(seconds=30)),)
                    for e in self.evses_of(charger)
                }
                self.states[charger] = ChargerState(
                    charger, last_outcome=CommandOutcome.ACCEPTED,
                    last_accepted_limit_a=max(self.limits[e] for e in held),
                    last_command_at=at, held=held,
                )  # fmt: skip
        for i, (evse, session) in enumerate(list(self.sessions.items())):  # MeterValues
            if (n + i) % 12 == 0:
                delivered = session.energy_delivered_wh + self.limits[evse] * 690 / 60
                self.sessions[evse] = replace(session, energy_delivered_wh=delivered)
        pending = {}
        for evse in rng.sample(self.evses, 3):  # a few limits change
            new = float(rng.choice([0, 6, 10, 16, 24, 32, 48, 63]))
            pending[evse] = new
            if (new > 0) != (self.limits[evse] > 0):
                self.admission[evse] = Admission(new > 0, at)
            self.limits[evse] = new
        if n % 60 == 0:  # a replan: every note, a third of the rates
            for evse, session in self.sessions.items():
                departure = session.requirement.departure if session.requirement else at
                self.notes[session.id] = PlanNote(
                    session.id, 0.21, 0.06, at + timedelta(hours=2), departure,
                    (departure - at).total_seconds() / 3600 - 2.0,
                )  # fmt: skip
                if rng.random() < 1 / 3:
                    rate = float(rng.choice([0, 8, 16, 32]))
                    self.sessions[evse] = replace(session, planned_rate_a=rate)
        if n % 58 == 29:  # one leaves, another arrives
            evse = rng.choice(sorted(self.sessions))
            gone = self.sessions.pop(evse)
            self.notes.pop(gone.id, None)
            self.arrive(evse, at)
        if n % 12 == 0:
            for source in self.sources:
                self.health[source] = SourceHealth(source, at, 300.0)
        if n % 180 == 0:
            for k, source in enumerate(self.sources):
                self.envelopes.append(self.envelope(n, k, source, at))
            self.envelopes = self.envelopes[-16:]
        telemetry = {
            node: Reading(node, at, power_w=round(rng.uniform(200e3, 900e3), 1))
            for node in self.meters
        }
        return replace(
            self.base, at=at, envelopes=tuple(self.envelopes), sources=dict(self.health),
            telemetry=telemetry, sessions=tuple(self.sessions.values()),
            chargers=dict(self.states), previous_limits=dict(self.limits),
            pending=pending, admission=dict(self.admission), plan_notes=dict(self.notes),
        )  # fmt: skip

    def envelope(self, n: int, k: int, source: str, at: datetime) -> Envelope:
        target = self.base.topology.sources[source].targets[0]
        return Envelope(
            f"oscp-{source}-{n}", source, target, Direction.IMPORT, 1_100_000.0, LimitUnit.W,
            at, at + timedelta(minutes=15), at, EnvelopeMode.NORMAL,
        )  # fmt: skip

    def evses_of(self, charger: str) -> list[str]:
        return [e for e in self.evses if e.split("/", 1)[0] == charger]


def fill(controller: Controller, day_cycles: int) -> int:
    """One day of rows by the recorder; their bytes (the body and the row's columns)."""
    base = controller.snapshot()
    day = BusyDay(base)
    recorder = InputsRecorder()
    revision = controller.require_site().revision.number
    began = time.perf_counter()
    for batch in range(0, day_cycles, 500):
        with controller.units() as uow:
            for n in range(batch, min(batch + 500, day_cycles)):
                recorder.record(uow, day.cycle(n, START + TICK * n), revision=revision)
                recorder.committed()
    took = time.perf_counter() - began
    print(f"recorded {day_cycles:,} cycles in {took:.1f} s (with building them)")
    rows = controller.store.rows("SELECT sum(length(body) + 50) FROM cycle_inputs")
    return int(rows[0][0])


def copy_days(controller: Controller, days: int, day_cycles: int) -> None:
    rows = controller.store.rows(
        "SELECT at, revision, lead_s, keyframe, body FROM cycle_inputs ORDER BY id"
    )
    with controller.store.transaction():
        for d in range(1, days):
            shift = timedelta(days=d)
            controller.store.write_many(
                "INSERT INTO cycle_inputs (at, revision, lead_s, keyframe, body)"
                " VALUES (?, ?, ?, ?, ?)",
                ((iso(datetime.fromisoformat(r[0]) + shift), r[1], r[2], r[3], r[4]) for r in rows),
            )


def figures(label: str, samples: list[float]) -> None:
    samples = sorted(samples)
    p95 = samples[max(0, int(len(samples) * 0.95) - 1)]
    print(
        f"{label}: p50 {statistics.median(samples) * 1e3:.0f} ms, p95 {p95 * 1e3:.0f} ms, "
        f"max {samples[-1] * 1e3:.0f} ms ({len(samples)} instants)"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=int, default=30)
    parser.add_argument("--day-cycles", type=int, default=17_280)
    parser.add_argument("--runs", type=int, default=40)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        state_dir = Path(tmp)
        store = Store.open(state_dir / "depotctl.sqlite")
        clock = SimClock(START, speed=1.0)
        clock.pause()
        controller = Controller(store, clock, base_dir=SITE.parent)
        controller.seed(SITE, SITE.read_text(), author="benchmark")
        chargers = len({e.charger_id for e in controller.require_site().topology.evses.values()})
        file = state_dir / "depotctl.sqlite"
        empty = file.stat().st_size
        day_bytes = fill(controller, args.day_cycles)
        scale = 17_280 / args.day_cycles
        grown = (file.stat().st_size - empty) * scale
        print(
            f"one day: {day_bytes * scale / 1e6:.1f} MB of cycle-input rows for {chargers} "
            f"chargers, {day_bytes * scale / chargers / 1e3:.0f} kB per charger; the file grew "
            f"{grown / 1e6:.1f} MB: {grown / chargers / 1e3:.0f} kB per charger per day "
            "(target ≤ 200 kB)"
        )
        copy_days(controller, args.days, args.day_cycles)
        store.write("ANALYZE")
        size = file.stat().st_size
        print(
            f"{args.days} days: the store file is {size / 1e6:.0f} MB: "
            f"{size / args.days / chargers / 1e3:.0f} kB per charger per day"
        )
        end = START + TICK * args.day_cycles + timedelta(days=args.days - 1)
        rng = random.Random(7)
        instants = [START + (end - START) * rng.random() for _ in range(args.runs)]
        evses = sorted(controller.require_site().topology.evses)
        clock.advance((end - START).total_seconds())
        service = []
        for at in instants:
            began = time.perf_counter()
            past = state_at(controller, at)
            assert past is not None
            explain_json(past.live.snapshot, past.live.allocation, rng.choice(evses), Origin())
            service.append(time.perf_counter() - began)
        figures("explain --at, in the service (rebuild, allocate, explain)", service)
        sys.path.insert(0, str(ROOT))  # the tests' server on a free port
        from tests.controller.test_app import serving

        tokens = load_or_create_tokens(state_dir)
        http = []
        with (
            serving(create_app(controller, tokens)) as url,
            httpx.Client(
                base_url=url, headers={"Authorization": f"Bearer {tokens.readonly}"}, timeout=60
            ) as client,
        ):
            for at in instants:
                evse = rng.choice(evses).replace("/", "%2F")
                began = time.perf_counter()
                answer = client.get(f"/api/v1/explain/{evse}", params={"at": at.isoformat()})
                http.append(time.perf_counter() - began)
                assert answer.status_code == 200, answer.text
        figures("GET /api/v1/explain/EVSE?at= over HTTP (target ≤ 300 ms)", http)
        controller.close()


if __name__ == "__main__":
    main()
