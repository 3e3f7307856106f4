"""Safe starts, as a property: whenever a vehicle plugs in — between cycles, while
commands are out, in any order their answers arrive — no node is overloaded.

The control loop runs on a real SQLite store against a model of the chargers that
holds what each EVSE was last told: a running session draws its session's limit (or,
before any, the EVSE's start), an idle EVSE would start at its start allowance (its
stand-in when below the fallback, else the fallback). Commands are answered in an
order hypothesis picks, some never; vehicles plug in and leave at any step. After
every step the draws that could happen *now* — each session's, and each idle EVSE's
start — are checked against every node's effective limit by the independent
recomputation of ``tests/engine/node_loads.py``."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depotctl.controller.clock import SimClock
from depotctl.controller.dispatch import OutcomeSink
from depotctl.controller.loop import ControlLoop
from depotctl.controller.service import Controller
from depotctl.controller.store import Store, UnitOfWork
from depotctl.domain.chargers import CommandOutcome
from depotctl.domain.commands import Delivery, LimitCommand, Outcome
from depotctl.domain.envelopes import Direction, Envelope, LimitUnit
from depotctl.domain.sessions import EnergyRequirement, Session
from depotctl.domain.snapshot import Snapshot
from tests.engine.node_loads import overloads

START = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)

#: four 3-phase chargers (16 A fallback each) on a 70 A board under a grid connection
#: that an envelope may cut below what their fallbacks together would draw
SITE = """\
apiVersion: depotctl/v1
kind: Site
metadata: {name: safe-starts, timezone: Australia/Sydney}
spec:
  electrical: {voltage: 230 V, phases: 3}
  nodes:
    - id: gc-main
      type: grid_connection
      limits: {import: 60 kW, current: 90 A}
    - id: db-1
      type: circuit
      parent: gc-main
      limits: {current: 70 A}
""" + "".join(
    f"""\
    - id: chg-{n}
      type: charger
      parent: db-1
      ocpp: {{id: CP-{n}, protocol: ocpp1.6, password_env: SAFE_STARTS_PASSWORD}}
      rating: {{power: 22 kW, current: 32 A}}
      phases: 3
      fallback: 16 A
      evses: [{{id: 1, connectors: [{{id: 1, type: Type2}}]}}]
"""
    for n in range(1, 5)
)
EVSES = [f"chg-{n}/1" for n in range(1, 5)]
FALLBACK_A = 16.0


@dataclass
class Evse:
    """What one EVSE holds: its session's limit (a TxProfile) and where a vehicle
    starts (its stand-in below the fallback, else the fallback)."""

    start_a: float = FALLBACK_A
    session_a: float | None = None  # None: no TxProfile for the running session
    plugged: bool = False

    @property
    def could_draw_a(self) -> float:
        """What it may draw now, or the instant a vehicle plugs in."""
        if self.plugged:
            return self.session_a if self.session_a is not None else self.start_a
        return self.start_a


@dataclass
class ModelChargers:
    """A dispatcher whose commands wait until the test answers them, and land as a real
    charger applies them (see :class:`Evse`)."""

    evses: dict[str, Evse] = field(default_factory=lambda: {e: Evse() for e in EVSES})
    waiting: list[tuple[LimitCommand, OutcomeSink]] = field(default_factory=list)

    def send(self, commands: Sequence[LimitCommand], report: OutcomeSink) -> None:
        self.waiting.extend((command, report) for command in commands)

    def renew(self, in_force: object, report: OutcomeSink) -> int:
        return 0

    async def close(self) -> None:
        return None

    def land(self, command: LimitCommand) -> None:
        evse = self.evses[command.evse_id]
        if evse.plugged:
            evse.session_a = command.limit_a
        # below the fallback its stand-in carries the limit; at or above, any lower
        # stand-in lapses to the fallback (at most this limit)
        evse.start_a = min(command.limit_a, FALLBACK_A)

    def answer(self, index: int, *, applied: bool, answered: bool) -> None:
        command, report = self.waiting.pop(index)
        if applied:
            self.land(command)
        until = command.at + timedelta(seconds=30)
        if answered:
            result = CommandOutcome.ACCEPTED if applied else CommandOutcome.REJECTED
            report(Outcome(command, result, None, Delivery.ANSWERED, until if applied else None))
        else:  # it may have landed: the controller cannot tell
            report(
                Outcome(command, CommandOutcome.TIMEOUT, "no answer", Delivery.UNANSWERED, until)
            )

    def plug(self, evse_id: str) -> None:
        evse = self.evses[evse_id]
        evse.plugged, evse.session_a = True, None  # a new transaction: no TxProfile yet

    def unplug(self, evse_id: str) -> None:
        evse = self.evses[evse_id]
        evse.plugged, evse.session_a = False, None

    def draws(self) -> dict[str, float]:
        return {evse_id: evse.could_draw_a for evse_id, evse in self.evses.items()}


@pytest.fixture
def site_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("site") / "site.yaml"
    path.write_text(SITE)
    return path


@dataclass
class Depot:
    controller: Controller
    loop: ControlLoop
    chargers: ModelChargers
    sessions: dict[str, str] = field(default_factory=dict)
    count: int = 0

    def check(self, what: str) -> None:
        """No node overloaded by what could be drawn now (ground truth: the model)."""
        live = self.controller.snapshot()
        # every charger counts with its real draw: no state makes one "uncontrollable"
        truth = Snapshot(
            at=live.at,
            topology=live.topology,
            policy=live.policy,
            envelopes=live.envelopes,
            sources=live.sources,
            telemetry=live.telemetry,
        )
        assert overloads(truth, self.chargers.draws()) == [], (what, self.chargers.evses)


@pytest.fixture
def make_depot(site_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[object]:
    made: list[Controller] = []

    def make(cut_w: float | None) -> Depot:
        clock = SimClock(START)
        clock.pause()
        store = Store.open(tmp_path_factory.mktemp("state") / "depotctl.sqlite")
        controller = Controller(store, clock, base_dir=site_file.parent)
        controller.seed(site_file, SITE, author="test")
        made.append(controller)
        if cut_w is not None:
            UnitOfWork(store).sources.heard_from("local", START)
            UnitOfWork(store).envelopes.put(
                Envelope(
                    id="cut",
                    source="local",
                    target="gc-main",
                    direction=Direction.IMPORT,
                    limit=cut_w,
                    unit=LimitUnit.W,
                    start=START,
                    end=None,
                    received_at=START,
                )
            )
        chargers = ModelChargers()
        return Depot(controller, ControlLoop(controller, chargers), chargers)

    yield make
    for controller in made:
        controller.close()


def cycle(depot: Depot) -> None:
    asyncio.run(depot.loop.cycle("test"))


STEPS = st.lists(
    st.one_of(
        st.tuples(st.just("plug"), st.integers(0, 3)),
        st.tuples(st.just("unplug"), st.integers(0, 3)),
        st.tuples(st.just("cycle"), st.just(0)),
        st.tuples(st.just("answer"), st.integers(0, 50)),
        st.tuples(st.just("lose"), st.integers(0, 50)),  # unanswered, applied or not
        st.tuples(st.just("wait"), st.integers(1, 120)),
    ),
    min_size=5,
    max_size=40,
)


@settings(
    max_examples=60,
    # the fixture makes a fresh depot per example; generation may be slow on a busy box
    suppress_health_check=[
        HealthCheck.function_scoped_fixture,
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
    ],
)
@given(
    cut_w=st.sampled_from([None, 30_000.0, 14_000.0, 6_000.0]),
    steps=STEPS,
    coin=st.randoms(use_true_random=False),
)
def test_no_node_is_overloaded_whenever_a_vehicle_plugs_in(
    make_depot: object, cut_w: float | None, steps: list[tuple[str, int]], coin: object
) -> None:
    depot: Depot = make_depot(cut_w)  # type: ignore[operator]
    chargers = depot.chargers
    # the start: every EVSE at its fallback; the first cycle brings the start
    # allowances under the cut, and until those land a plug-in could overload
    cycle(depot)
    while chargers.waiting:
        chargers.answer(0, applied=True, answered=True)
    cycle(depot)
    depot.check("settled")
    for kind, value in steps:
        if kind == "plug":
            evse_id = EVSES[value]
            if not chargers.evses[evse_id].plugged:
                chargers.plug(evse_id)
                depot.count += 1
                session_id = f"S-{depot.count}"
                depot.sessions[evse_id] = session_id
                depot.controller.units().sessions.put(
                    Session(
                        session_id,
                        evse_id,
                        depot.controller.clock.now(),
                        requirement=EnergyRequirement(
                            40_000.0, depot.controller.clock.now() + timedelta(hours=8)
                        ),
                    )
                )
                depot.controller.changed("session started")
        elif kind == "unplug":
            evse_id = EVSES[value]
            if chargers.evses[evse_id].plugged:
                chargers.unplug(evse_id)
                depot.controller.units().sessions.end(
                    depot.sessions.pop(evse_id),
                    at=depot.controller.clock.now(),
                    energy_delivered_wh=0.0,
                )
                depot.controller.changed("session ended")
        elif kind == "cycle":
            cycle(depot)
        elif kind in ("answer", "lose") and chargers.waiting:
            index = value % len(chargers.waiting)
            if kind == "answer":
                chargers.answer(index, applied=True, answered=True)
            else:
                chargers.answer(index, applied=coin.random() < 0.5, answered=False)  # type: ignore[attr-defined]
        elif kind == "wait":
            depot.controller.clock.advance(value)
        depot.check(f"after {kind} {value}")
    # and it settles: once every answer is in, the sessions share what there is
    for _ in range(6):
        cycle(depot)
        while chargers.waiting:
            chargers.answer(0, applied=True, answered=True)
            depot.check("settling")
