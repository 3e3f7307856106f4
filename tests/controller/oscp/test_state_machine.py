"""Whatever the Capacity Provider sends and the operator does — forecasts, heartbeats
with their deadlines, silences, withdrawals — and however often the controller
restarts, the limits in force on the grid connection, now and ahead, equal the model
of the specification's rules (:mod:`tests.protocols.oscp.forecast_rules`), and the
allocation never puts a node over the tightest of them.

Through the controller: the OSCP endpoints' port (its HTTP layer is tested in
test_forecasts), the operators' withdrawal service, a real SQLite store and state
directory, the snapshot the control loop allocates, and a simulated clock the test
moves. Each message arrives a second after the step before it: one instant, one
message. (Two forecasts taken at one instant, as under a paused clock, are not told
apart by arrival: the later does not replace the earlier, and supersession orders them
by request id. Left open: the store keeps no arrival order.)"""

from __future__ import annotations

import math
import tempfile
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    rule,
    run_state_machine_as_test,
)

from depotctl.api.state_dir import StateDir
from depotctl.controller.clock import SimClock
from depotctl.controller.oscp.events import ControllerCapacityProviderEvents
from depotctl.controller.oscp.tokens import OscpTokens
from depotctl.controller.service import Controller
from depotctl.controller.services.envelopes import withdraw_envelope
from depotctl.controller.store import JournalKind, Store
from depotctl.domain.envelopes import Envelope, applicable_limits
from depotctl.domain.sessions import Session
from depotctl.engine import allocate
from depotctl.protocols.oscp import (
    CapacityForecastType,
    ForecastedBlock,
    ForecastedBlockUnit,
    PhaseIndicator,
    UpdateGroupCapacityForecast,
)
from depotctl.protocols.oscp.events import Caller, Inbound, OscpRefused
from depotctl.protocols.oscp.messages import Heartbeat, Register, VersionUrl
from tests.conftest import SITES
from tests.controller.oscp.rig import GROUP, SOURCE, START, site_text
from tests.engine.node_loads import POWER, flows, overloads
from tests.protocols.oscp import forecast_rules as rules

#: Consumption most often; the source's own fallback often enough to meet silences.
TYPES = [
    CapacityForecastType.CONSUMPTION,
    CapacityForecastType.CONSUMPTION,
    CapacityForecastType.CONSUMPTION,
    CapacityForecastType.FALLBACK_CONSUMPTION,
    CapacityForecastType.FALLBACK_CONSUMPTION,
    CapacityForecastType.GENERATION,
]
#: The sessions drawing: more than any forecast here lets through (150 kW chargers).
SESSION_EVSES = 8
#: Where the limits are compared besides now and every change ahead as far as is known
#: now (seconds ahead).
AHEAD_S = (1, 299, 300, 301, 900, 3600)
#: One message, one instant: the clock moves this much before each.
WIRE_S = 1
THEIR_TOKEN = "cp-token-1"


def _seconds(at: datetime) -> float:
    return (at - START).total_seconds()


def _at(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


class ControllerUnderForecasts(RuleBasedStateMachine):
    """The controller, the Capacity Provider's messages to it and the operator; the
    model's record of what was taken (times in seconds from ``START``)."""

    def __init__(self) -> None:
        super().__init__()
        self.directory = tempfile.TemporaryDirectory(prefix="depotctl-oscp-machine-")
        self.state_dir = StateDir(Path(self.directory.name))
        self.clock = SimClock(START, monotonic=lambda: 0.0)
        self.controller = self._open()
        self.controller.seed(
            SITES / "au-bus-depot.yaml", site_text("http://127.0.0.1:9"), author="test"
        )
        spec = self.controller.require_site().topology.sources[SOURCE]
        assert spec.offline_after_s is not None and spec.fallback.import_w is not None
        self.site = rules.Site(spec.targets, spec.offline_after_s, spec.fallback.import_w)
        self.events = self._events()
        self.sent: list[rules.Sent] = []
        self.heard: list[rules.Message] = []
        self.withdrawn: dict[rules.BlockOn, float] = {}
        self.blocks: dict[str, rules.BlockOn] = {}  # envelope id → its block on its target
        self.requests = 0
        self.our_token = ""

    def _open(self) -> Controller:
        return Controller(Store.open(self.state_dir.store), self.clock, base_dir=SITES)

    def _events(self) -> ControllerCapacityProviderEvents:
        return ControllerCapacityProviderEvents(
            self.controller, OscpTokens(self.state_dir), base_url="http://127.0.0.1:8/oscp/fp/2.0"
        )

    @property
    def now(self) -> float:
        return _seconds(self.clock.now())

    def _inbound(self, *, initial: bool = False) -> Inbound:
        self.clock.advance(WIRE_S)
        self.requests += 1
        return Inbound(Caller(SOURCE, initial), f"rq-{self.requests}", None, self.clock.now())

    @initialize()
    def register_and_plug_in(self) -> None:
        """The provider registers (the initial token); buses plug in on the DC rows."""
        inbound = self._inbound(initial=True)
        version = VersionUrl(version="2.0", base_url="http://127.0.0.1:9/oscp/cp/2.0")
        self.events.registered(inbound, Register(token=THEIR_TOKEN, version_url=[version]))
        self.heard.append(rules.Message(_seconds(inbound.at)))
        ours = self.events.tokens.ours(SOURCE)
        assert ours is not None
        self.our_token = ours
        evses = sorted(e for e in self.controller.require_site().topology.evses if "dc" in e)
        with self.controller.units() as uow:
            for number, evse_id in enumerate(evses[:SESSION_EVSES]):
                uow.sessions.put(Session(f"bus-{number}", evse_id, started=START))

    # The Capacity Provider

    @rule(drawn=rules.sent_forecast(0, TYPES), protective=st.booleans())
    def forecast(self, drawn: rules.Sent, protective: bool) -> None:
        """A forecast whose blocks start from 30 minutes ago to 90 ahead (all zero when
        ``protective``); one that ended before it arrived is refused, and no message."""
        inbound = self._inbound()
        at = _seconds(inbound.at)
        blocks = tuple(
            (at + 60 * start, at + 60 * end, 0.0 if protective else capacity, unit)
            for start, end, capacity, unit in drawn.blocks
        )
        sent = rules.Sent(at, drawn.type, blocks)
        message = UpdateGroupCapacityForecast(
            group_id=GROUP,
            type=sent.type,
            forecasted_blocks=[
                ForecastedBlock(
                    capacity=capacity,
                    phase=PhaseIndicator.ALL,
                    unit=ForecastedBlockUnit(unit),
                    start_time=_at(start),
                    end_time=_at(end),
                )
                for start, end, capacity, unit in blocks
            ],
        )
        try:
            self.events.capacity_forecast(inbound, message)
        except OscpRefused as refused:
            assert not sent.acceptable, refused.message
            assert refused.status == 400
            return
        assert sent.acceptable, "a forecast with blocks still to come was refused"
        position = len(self.sent)
        self.sent.append(sent)
        self.heard.append(rules.Message(at))
        for index in range(len(blocks)):
            for target in self.site.targets:
                ident = f"{SOURCE}:{inbound.request_id}:{index}:{target}"
                self.blocks[ident] = (position, index, target)

    @rule(deadline_s=st.sampled_from([0, 60, 180, 300, 600, 1800]))
    def heartbeat(self, deadline_s: int) -> None:
        """A heartbeat: alive until ``offline_mode_at``, ``deadline_s`` on."""
        inbound = self._inbound()
        deadline = inbound.at + timedelta(seconds=deadline_s)
        self.events.heartbeat(inbound, Heartbeat(offline_mode_at=deadline))
        self.heard.append(rules.Message(_seconds(inbound.at), _seconds(deadline)))

    # Time

    @rule(seconds=st.sampled_from([30, 60, 240, 300, 900, 1800]))
    def time_passes(self, seconds: int) -> None:
        self.clock.advance(seconds)

    @rule(past=st.sampled_from([0, 1, 30]))
    def silence(self, past: int) -> None:
        """Nothing heard until ``past`` seconds after the source's deadline (when it is
        still ahead)."""
        last = self.heard[-1]  # messages arrive in order
        until = last.deadline if last.deadline is not None else last.at + self.site.offline_after
        if until + past > self.now:
            self.clock.advance(until + past - self.now)

    # The operator and the process

    @rule(pick=st.integers(0, 10_000))
    def withdraw(self, pick: int) -> None:
        """The operator withdraws one of the source's envelopes (any, ended or not)."""
        stored = sorted(e.id for e in self.controller.units().envelopes.all(source=SOURCE))
        if not stored:
            return
        self.withdraw_one(stored[pick % len(stored)])

    def withdraw_one(self, envelope_id: str) -> None:
        self.clock.advance(WIRE_S)
        withdraw_envelope(self.controller, envelope_id)
        self.withdrawn.setdefault(self.blocks[envelope_id], self.now)

    @rule()
    def restart(self) -> None:
        """The controller closed and opened again on the same store and state
        directory: the registration, the tokens and the envelopes are still there."""
        before = self.controller.units().envelopes.all()
        registered = self.controller.units().oscp.get(SOURCE)
        self.controller.close()
        self.controller = self._open()
        self.events = self._events()
        assert self.controller.units().envelopes.all() == before
        assert self.controller.units().oscp.get(SOURCE) == registered
        assert self.events.caller(self.our_token) == Caller(SOURCE, initial=False)
        assert self.events.tokens.theirs(SOURCE) == THEIR_TOKEN

    # What must hold

    def expected(self, at: float) -> list[rules.Limit]:
        return rules.limits_in_force(self.sent, self.heard, at, self.site, self.withdrawn)

    @invariant()
    def the_limits_in_force_are_the_rules(self) -> None:
        snapshot = self.controller.snapshot()
        topology = snapshot.topology
        now = _seconds(snapshot.at)
        changes = rules.edges(self.sent, self.heard, self.site.offline_after)
        for instant in sorted({now, *(now + s for s in AHEAD_S), *(e for e in changes if e > now)}):
            at = _at(instant)
            found = sorted(
                (limit.target, limit.direction.value, limit.unit.value, limit.limit)
                for limit in applicable_limits(
                    snapshot.envelopes, snapshot.sources, topology.sources, at
                )
                if limit.origin.source == SOURCE
            )
            expected = self.expected(instant)
            assert found == expected, f"at {at.isoformat()} (now {now:g} s): {found} != {expected}"

    @invariant()
    def no_allocation_exceeds_them(self) -> None:
        snapshot = self.controller.snapshot()
        allocation = allocate(snapshot)
        assert overloads(snapshot, allocation.limits_a) == []
        watts = [
            value
            for _, direction, unit, value in self.expected(self.now)
            if direction == "import" and unit == "W"
        ]
        tightest = min(watts, default=math.inf)
        for target in self.site.targets:
            flow = flows(snapshot, allocation.limits_a)[(target, POWER)]
            assert flow.limit <= tightest, f"{target}: {flow.limit} W allowed under {tightest} W"

    def teardown(self) -> None:
        self.controller.close()
        self.directory.cleanup()


#: The suite's run: a few seconds of CPU.
QUICK = settings(max_examples=15, stateful_step_count=20)
#: The deep run (``-m slow``): longer histories, many more of them (a few minutes).
DEEP = settings(max_examples=300, stateful_step_count=40)


def test_the_limits_in_force_follow_the_rules_through_the_controller() -> None:
    run_state_machine_as_test(ControllerUnderForecasts, settings=QUICK)


@pytest.mark.slow
def test_the_limits_in_force_follow_the_rules_through_the_controller_thoroughly() -> None:
    run_state_machine_as_test(ControllerUnderForecasts, settings=DEEP)


# What the machine found, kept as examples


def _consumption(*blocks: tuple[int, int, float]) -> rules.Sent:
    """A consumption forecast in kW, its blocks in minutes from its receipt."""
    return rules.Sent(0, CapacityForecastType.CONSUMPTION, tuple((*b, "KW") for b in blocks))


def _envelope(machine: ControllerUnderForecasts, envelope_id: str) -> Envelope:
    found = machine.controller.units().envelopes.get(envelope_id)
    assert found is not None
    return found


def test_a_cut_a_newer_forecast_brings_forward_holds() -> None:
    """A block cut ahead (it straddles the next forecast's first block) is cut earlier
    by a third forecast that starts earlier: the store keeps the earlier withdrawal."""
    machine = ControllerUnderForecasts()
    try:
        machine.register_and_plug_in()
        machine.heartbeat(1800)
        machine.forecast(_consumption((0, 120, 300.0)), protective=False)  # rq-3
        machine.forecast(_consumption((60, 90, 200.0)), protective=False)  # rq-4
        cut_ahead = _envelope(machine, f"{SOURCE}:rq-3:0:gc-main").withdrawn_at
        assert cut_ahead == _at(machine.sent[1].first)
        machine.forecast(_consumption((10, 20, 100.0)), protective=False)  # rq-5
        cut = _envelope(machine, f"{SOURCE}:rq-3:0:gc-main").withdrawn_at
        assert cut == _at(machine.sent[2].first) < cut_ahead  # rq-5's first block
        machine.the_limits_in_force_are_the_rules()  # nothing from 20 to 60 min
        machine.no_allocation_exceeds_them()
    finally:
        machine.teardown()


def test_the_operator_withdraws_a_block_a_newer_forecast_cuts_later() -> None:
    """Withdrawn by the operator now, a block whose cut is scheduled ahead no longer
    applies from now (and the withdrawal is journaled)."""
    machine = ControllerUnderForecasts()
    try:
        machine.register_and_plug_in()
        machine.heartbeat(1800)
        machine.forecast(_consumption((-10, 120, 300.0)), protective=False)  # rq-3
        machine.forecast(_consumption((60, 90, 200.0)), protective=False)  # rq-4
        machine.withdraw_one(f"{SOURCE}:rq-3:0:gc-main")
        assert _envelope(machine, f"{SOURCE}:rq-3:0:gc-main").withdrawn_at == machine.clock.now()
        entries = machine.controller.units().journal.entries(kind=JournalKind.ENVELOPE_WITHDRAWN)
        assert [e.envelope for e in entries] == [f"{SOURCE}:rq-3:0:gc-main"]
        machine.the_limits_in_force_are_the_rules()
        machine.no_allocation_exceeds_them()
    finally:
        machine.teardown()
