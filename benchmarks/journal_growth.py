"""Journal growth under a tight envelope, with and without rotation's minimum on and
off times. Prints figures; not a test.

    .venv/bin/python benchmarks/journal_growth.py [--size 500] [--share 0.5] [--minutes 60]

The generated depot of ``--size`` occupied EVSEs (:mod:`generated_trees`) under an
operators' envelope on its grid connection that leaves room for the minimum current
of ``--share`` of its sessions; a control cycle every 5 s of simulated time for
``--minutes``, the way the control loop runs it: each cycle allocates with the limits
in force (hysteresis) and, per EVSE, since when it is switched on or off
(``Snapshot.admission``, kept with :func:`depotctl.domain.admission.switched` as the
loop keeps it); every changed limit is accepted at once and drawn in full, and each
vehicle leaves at its departure. The first cycle, which moves every EVSE from its
fallback to its first limit, is not counted. Run twice: with the default policy (5 min on, 5 min
off) and without (0 s: admission in laxity order every cycle, as before).

Per run: limit changes (commands) per hour, of which switches on or off; per EVSE per
hour, the mean and the most; the journal entries they write (one
``allocation.changed`` before the command and one ``command.outcome`` after, shaped
as ``depotctl/controller/loop.py`` writes them, binding detail included), and their
bytes — measured: the entries are appended, a transaction per cycle, to a real store
(``Store.open`` in a temporary directory), and the file's growth is read once the
store is closed.
"""

from __future__ import annotations

import argparse
import random
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass, replace
from datetime import timedelta
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from generated_trees import generate  # noqa: E402

from depotctl.controller.store import JournalKind, NewJournalEntry, Store, UnitOfWork  # noqa: E402
from depotctl.domain.admission import Admission, switched  # noqa: E402
from depotctl.domain.envelopes import (  # noqa: E402
    LOCAL_SOURCE,
    Direction,
    Envelope,
    LimitUnit,
    SourceHealth,
)
from depotctl.domain.phases import Phase  # noqa: E402
from depotctl.domain.sessions import EnergyRequirement  # noqa: E402
from depotctl.domain.snapshot import Snapshot  # noqa: E402
from depotctl.engine import Allocation, BindingKind, allocate  # noqa: E402
from depotctl.views import binding_json  # noqa: E402

TICK_S = 5.0


@dataclass
class Run:
    """What one simulated stretch did."""

    label: str
    hours: float
    evses: int
    changes: Counter[str]
    switches: Counter[str]
    entries: int
    journal_bytes: int
    seconds: float

    def per_hour(self, count: float) -> float:
        return count / self.hours

    def row(self) -> str:
        changes = sum(self.changes.values())
        switches = sum(self.switches.values())
        most = max(self.changes.values(), default=0)
        most_switches = max(self.switches.values(), default=0)
        return (
            f"| {self.label} | {self.per_hour(changes):,.0f} | {self.per_hour(switches):,.0f} "
            f"| {self.per_hour(changes) / self.evses:.1f} / {self.per_hour(most):.0f} "
            f"| {self.per_hour(switches) / self.evses:.1f} / {self.per_hour(most_switches):.0f} "
            f"| {self.per_hour(self.entries):,.0f} "
            f"| {self.per_hour(self.journal_bytes) / 1e6:.2f} MB "
            f"| {self.journal_bytes / max(self.entries, 1):.0f} B "
            f"| {self.seconds:.1f} s |"
        )


def night(snapshot: Snapshot, seed: int = 2019) -> Snapshot:
    """A depot's night: every vehicle plugged in within the last hour, to leave 8 h to
    9 h ahead (on the 5-minute grid) with what 3 h to 6 h at its full rate give —
    needs alike, as a fleet's are, so every session is in one tier (none urgent) and
    their laxities lie close together."""
    rng = random.Random(seed)
    evses = snapshot.topology.evses
    sessions = []
    for session in snapshot.sessions:
        evse = evses[session.evse_id]
        vehicle = session.vehicle_max_current_a or evse.max_current_a
        full_rate_w = min(evse.max_current_a, vehicle) * evse.watts_per_amp
        sessions.append(
            replace(
                session,
                started=snapshot.at - timedelta(minutes=rng.randint(0, 60)),
                energy_delivered_wh=0.0,
                requirement=EnergyRequirement(
                    full_rate_w * rng.uniform(3.0, 6.0),
                    snapshot.at + timedelta(hours=8, minutes=5 * rng.randint(0, 12)),
                ),
            )
        )
    return replace(snapshot, sessions=tuple(sessions))


def tight(snapshot: Snapshot, share: float) -> Snapshot:
    """``snapshot`` with an envelope on its grid connection leaving room for the
    minimum current of ``share`` of its sessions (per phase, on its most loaded one)."""
    topology = snapshot.topology
    minimums = dict.fromkeys(Phase, 0.0)
    for evse in topology.evses.values():
        assert evse.connection is not None
        for phase in evse.connection.lines:
            minimums[phase] += evse.min_current_a
    limit = round(share * max(minimums.values()), 1)
    root = next(n.id for n in topology.nodes.values() if n.parent is None)
    envelope = Envelope(
        id="L-tight",
        source=LOCAL_SOURCE,
        target=root,
        direction=Direction.IMPORT,
        limit=limit,
        unit=LimitUnit.A,
        start=snapshot.at - timedelta(hours=1),
        end=None,
        received_at=snapshot.at - timedelta(hours=1),
    )
    return replace(
        snapshot,
        envelopes=(envelope,),
        sources={LOCAL_SOURCE: SourceHealth(LOCAL_SOURCE, snapshot.at, None)},
    )


def simulate(start: Snapshot, label: str, minutes: float, store: Store) -> Run:
    """Cycles every 5 s; returns the counts and the journal entries' measured bytes."""
    topology = start.topology
    sessions = {s.evse_id: s for s in start.sessions}
    in_force: dict[str, float] = {}
    admission: dict[str, Admission] = {}
    changes: Counter[str] = Counter()
    switches: Counter[str] = Counter()
    entries = 0
    size_before = store.path.stat().st_size
    began = time.perf_counter()
    for cycle in range(round(minutes * 60 / TICK_S) + 1):
        now = start.at + timedelta(seconds=cycle * TICK_S)
        for evse_id, session in list(sessions.items()):
            requirement = session.requirement
            if requirement is not None and requirement.departure <= now:
                del sessions[evse_id]  # the vehicle leaves
        snapshot = replace(
            start,
            at=now,
            sessions=tuple(sessions.values()),
            previous_limits=dict(in_force),
            admission=dict(admission),
        )
        allocation = allocate(snapshot)
        journal: list[NewJournalEntry] = []
        for evse_id, limit in allocation.limits_a.items():
            evse = topology.evses[evse_id]
            before = in_force.get(evse_id, evse.fallback_a)
            if abs(before - limit) > 1e-9:
                record = switched(admission.get(evse_id), before, limit, now)
                if record is not None:
                    admission[evse_id] = record
                if cycle > 0:  # the first moves every EVSE off its fallback: not counted
                    changes[evse_id] += 1
                    switches[evse_id] += record is not None
                    journal += _entries(allocation, evse_id, before, limit)
                in_force[evse_id] = limit
            session = sessions.get(evse_id)
            if session is not None and limit > 0:
                drawn_wh = limit * evse.watts_per_amp * TICK_S / 3600.0
                sessions[evse_id] = replace(
                    session, energy_delivered_wh=session.energy_delivered_wh + drawn_wh
                )
        if journal:
            UnitOfWork(store).journal.record(journal)
            entries += len(journal)
    seconds = time.perf_counter() - began
    store.close()  # checkpoints the WAL into the file
    return Run(
        label=label,
        hours=minutes / 60.0,
        evses=len(topology.evses),
        changes=changes,
        switches=switches,
        entries=entries,
        journal_bytes=store.path.stat().st_size - size_before,
        seconds=seconds,
    )


def _entries(
    allocation: Allocation, evse_id: str, before: float, limit: float
) -> list[NewJournalEntry]:
    """The loop's two entries for one command: the decision (before the wire) and the
    charger's answer."""
    view = allocation.evses[evse_id]
    binding = view.binding
    when = allocation.at
    decided = NewJournalEntry(
        at=when,
        kind=JournalKind.ALLOCATION_CHANGED,
        message=(
            f"{evse_id} limit {before:.1f} A → {limit:.1f} A: {binding.kind.value}"
            + (f" {binding.ref}" if binding.ref else "")
            + f" ({binding.detail})"
        ),
        evse=evse_id,
        envelope=binding.ref if binding.kind is BindingKind.ENVELOPE else None,
        session=view.session_id,
        data={
            "limit_a": limit,
            "previous_a": before,
            "state": view.state.value,
            "binding": binding_json(binding),
            "revision": 1,
        },
    )
    answered = NewJournalEntry(
        at=when,
        kind=JournalKind.COMMAND_OUTCOME,
        message=f"{evse_id} {limit:.1f} A: accepted",
        evse=evse_id,
        data={"limit_a": limit, "outcome": "accepted", "purpose": "change", "delivery": "answered"},
    )
    return [decided, answered]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=int, default=500)
    parser.add_argument("--share", type=float, default=0.5)
    parser.add_argument("--minutes", type=float, default=60.0)
    args = parser.parse_args()
    generated = generate(args.size).snapshot
    scenarios = (
        ("night: needs alike", tight(night(generated), args.share)),
        ("generated sessions", tight(generated, args.share)),
    )
    envelope = scenarios[0][1].envelopes[0]
    print(
        f"{args.size} EVSEs, envelope {envelope.limit:.1f} A per phase on {envelope.target} "
        f"(the minimum current of {args.share:.0%} of the sessions); a cycle every "
        f"{TICK_S:.0f} s for {args.minutes:.0f} simulated minutes\n"
    )
    print(
        "| sessions | rotation | changes/h | of which on/off "
        "| changes per EVSE per h: mean / most | on/off per EVSE per h: mean / most "
        "| journal entries/h | journal/h | per entry | wall |"
    )
    print("|---|---|---:|---:|---:|---:|---:|---:|---:|---:|")
    for scenario, start in scenarios:
        policy = start.policy
        runs = (
            (f"min on {policy.min_on_s:.0f} s, off {policy.min_off_s:.0f} s", policy),
            ("none (0 s)", replace(policy, min_on_s=0.0, min_off_s=0.0)),
        )
        for label, chosen in runs:
            with tempfile.TemporaryDirectory() as state_dir:
                path = Path(state_dir) / "depotctl.sqlite"
                Store.open(path).close()  # an empty store, its WAL checkpointed
                store = Store.open(path)
                run = simulate(replace(start, policy=chosen), label, args.minutes, store)
            print(f"| {scenario} {run.row()}", flush=True)


if __name__ == "__main__":
    main()
