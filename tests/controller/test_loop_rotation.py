"""The control loop without churn: two equal buses and room for one, charged for half an
hour of 5 s cycles — the loop keeps since when each EVSE is on or off and passes it to
the allocation, so they take turns of at least the site's minimum on and off times
(5 min) instead of swapping every few cycles."""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from depotctl.controller.clock import SimClock
from depotctl.controller.dispatch import RecordingDispatcher
from depotctl.controller.loop import ControlLoop
from depotctl.controller.service import Controller
from depotctl.controller.store import JournalKind, Store, UnitOfWork
from depotctl.domain.envelopes import Direction, Envelope, LimitUnit
from depotctl.domain.sessions import EnergyRequirement, Session
from tests.conftest import EXAMPLES

START = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
MINIMAL = EXAMPLES / "minimal.yaml"
TICK_S = 5.0
#: chg-01 and chg-02 are three-phase at 230 V: 690 W per amp
WATTS_PER_AMP = 690.0


@pytest.fixture
def controller(tmp_path: Path) -> Iterator[Controller]:
    store = Store.open(tmp_path / "depotctl.sqlite")
    clock = SimClock(START, speed=1.0)
    clock.pause()
    controller = Controller(store, clock, base_dir=MINIMAL.parent)
    controller.seed(MINIMAL, MINIMAL.read_text(), author="test")
    yield controller
    controller.close()


def _switches(controller: Controller) -> dict[str, list[tuple[float, bool]]]:
    """Per EVSE, each limit change that switched it on or off: (seconds, on)."""
    switches: dict[str, list[tuple[float, bool]]] = {}
    for entry in controller.units().journal.entries(
        kind=JournalKind.ALLOCATION_CHANGED, limit=10_000
    ):
        before, after = entry.data["previous_a"], entry.data["limit_a"]
        if entry.evse is not None and (before is None or (before > 0) != (after > 0)):
            at = (entry.at - START).total_seconds()
            switches.setdefault(entry.evse, []).append((at, after > 0))
    return switches


def test_equal_sessions_take_turns_of_at_least_the_minimum_on_and_off_times(
    controller: Controller,
) -> None:
    store, clock = controller.store, controller.clock
    assert isinstance(clock, SimClock)
    sessions = {
        evse_id: Session(
            id=f"S-{evse_id}",
            evse_id=evse_id,
            started=START,
            requirement=EnergyRequirement(40_000.0, START + timedelta(hours=8)),
        )
        for evse_id in ("chg-01/1", "chg-02/1")
    }
    for session in sessions.values():
        UnitOfWork(store).sessions.put(session)
    UnitOfWork(store).sources.heard_from("local", START)
    UnitOfWork(store).envelopes.put(  # room for one minimum of 6 A (4.14 kW), not two
        Envelope(
            id="L-1",
            source="local",
            target="gc-main",
            direction=Direction.IMPORT,
            limit=6_000.0,
            unit=LimitUnit.W,
            start=START,
            end=None,
            received_at=START,
        )
    )
    loop = ControlLoop(controller, RecordingDispatcher(), tick_s=TICK_S)
    for _ in range(round(30 * 60 / TICK_S)):
        asyncio.run(loop.cycle("tick"))
        asyncio.run(loop.cycle("outcomes"))  # the answers, applied at once
        clock.advance(TICK_S)
        UnitOfWork(store).sources.heard_from("local", clock.now())
        for evse_id, session in sessions.items():  # each vehicle draws its limit
            drawn = loop.in_force.get(evse_id, 0.0) * WATTS_PER_AMP * TICK_S / 3600.0
            session = Session(
                id=session.id,
                evse_id=evse_id,
                started=session.started,
                energy_delivered_wh=session.energy_delivered_wh + drawn,
                requirement=session.requirement,
            )
            sessions[evse_id] = session
            UnitOfWork(store).sessions.put(session)

    switches = _switches(controller)
    assert set(switches) == {"chg-01/1", "chg-02/1"}, "both should have had a turn"
    for evse_id, changes in switches.items():
        for (t0, was_on), (t1, _) in itertools.pairwise(changes):
            least = 300.0  # the site's default min_on and min_off
            assert t1 - t0 >= least, f"{evse_id} {'on' if was_on else 'off'} for {t1 - t0} s"
        assert len(changes) <= 2 * 30 / 5 + 1
