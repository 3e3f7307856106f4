"""The compaction job on a real store, its clock the test's: a pass folds telemetry
older than the raw retention into quarter hours, forgets journal entries older than the
decisions' retention and drops cycle inputs older than theirs; newer rows stay; one
journal entry per pass with its counts; at most one pass an hour."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from depotctl.controller.compaction import COMPACTED, Compaction, CompactionCounts
from depotctl.controller.dispatch import RecordingDispatcher
from depotctl.controller.loop import ControlLoop
from depotctl.controller.retention import Retention
from depotctl.controller.store import Store, Units, journal_entry
from depotctl.controller.store.compaction import Compactor, quarter_of
from depotctl.domain.telemetry import Reading
from tests.controller.test_inputs import fresh_controller

NOW = datetime(2026, 12, 7, 2, 14, tzinfo=UTC)
RETENTION = Retention(
    decisions=timedelta(days=100), raw_telemetry=timedelta(days=10), inputs=timedelta(days=5)
)


@pytest.fixture
def units(tmp_path: Path) -> Iterator[Units]:
    store = Store.open(tmp_path / "depotctl.sqlite")
    units = Units(store)
    units().telemetry.put(
        Reading("m-1", NOW - timedelta(days=d, seconds=s), power_w=float(d * 100 + s))
        for d in (1, 9, 11, 12)
        for s in (0, 20)
    )
    units().journal.record(
        journal_entry("allocation.changed", f"{d} days ago", at=NOW - timedelta(days=d))
        for d in (1, 99, 101, 150)
    )
    for d in (7, 6, 4, 1):
        units().cycle_inputs.add(
            NOW - timedelta(days=d),
            revision=1,
            envelope_lead=timedelta(seconds=10),
            keyframe=True,
            body=b"x",
        )
    yield units
    store.close()


def test_a_pass_compacts_what_is_past_each_retention_and_keeps_the_rest(units: Units) -> None:
    compaction = Compaction(units, RETENTION)
    assert compaction.claim(NOW)
    counts = compaction.run(NOW)
    assert (counts.minutes_folded, counts.entries_forgotten, counts.inputs_dropped) == (4, 2, 1)
    # newer than 10 days: still minutes; older: a day's two minutes' mean in its quarter
    assert [m.power_w_mean for m in units().telemetry.history("m-1")] == [
        920.0,
        900.0,
        120.0,
        100.0,
    ]
    assert [q.power_w_mean for q in Compactor(units.store).quarters("m-1")] == [1210.0, 1110.0]
    kept = [e for e in units().journal.entries() if e.kind != COMPACTED]
    assert [e.message for e in kept] == ["99 days ago", "1 days ago"]
    assert units().cycle_inputs.earliest() == NOW - timedelta(days=6)
    [entry] = units().journal.entries(kind=COMPACTED)
    assert entry.at == NOW
    assert entry.data["minutes_folded"] == 4 and entry.data["entries_forgotten"] == 2
    assert "4 telemetry minutes older than 10 days" in entry.message


def test_quarter_hours_older_than_the_decisions_are_forgotten(units: Units) -> None:
    old = NOW - timedelta(days=101)
    units().telemetry.put(
        Reading("m-1", old + timedelta(minutes=15 * q), power_w=1.0) for q in range(3)
    )
    counts = Compaction(units, RETENTION, max_quarters=2).run(NOW)
    assert (counts.minutes_folded, counts.quarters_forgotten) == (4 + 3, 2)
    quarters = Compactor(units.store).quarters("m-1")
    assert quarters[0].start == quarter_of(old) + timedelta(minutes=30)
    assert Compaction(units, RETENTION).run(NOW).quarters_forgotten == 1
    assert all(q.start >= NOW - RETENTION.decisions for q in Compactor(units.store).quarters("m-1"))
    [entry, _] = units().journal.entries(kind=COMPACTED)
    assert "and 2 telemetry quarter hours older than 100 days forgotten" in entry.message


def test_one_pass_an_hour_and_a_pass_with_nothing_to_do_is_not_journaled(units: Units) -> None:
    compaction = Compaction(units, RETENTION)
    assert compaction.claim(NOW)
    compaction.run(NOW)
    assert not compaction.claim(NOW + timedelta(minutes=59))
    assert compaction.claim(NOW + timedelta(hours=1))
    assert not compaction.run(NOW + timedelta(hours=1))
    assert len(units().journal.entries(kind=COMPACTED)) == 1


def test_a_retention_longer_than_the_decisions_is_refused() -> None:
    with pytest.raises(ValueError, match="raw telemetry kept 500 days"):
        Retention(raw_telemetry=timedelta(days=500))


class _Witnessed(Compaction):
    """A compaction that notes the thread each pass ran on."""

    threads: list[int]

    def run(self, now: datetime) -> CompactionCounts:
        self.threads.append(threading.get_ident())
        return super().run(now)


def test_the_control_loop_runs_a_pass_off_the_event_loop_once_an_hour(tmp_path: Path) -> None:
    controller, _ = fresh_controller(tmp_path)
    try:
        loop = ControlLoop(controller, RecordingDispatcher())
        witnessed = _Witnessed(controller.units, loop.retention)
        witnessed.threads = []
        loop._compaction = witnessed

        async def two_cycles() -> int:
            await loop.cycle("tick")
            await loop.cycle("tick")  # within the hour: no second pass
            return threading.get_ident()

        event_loop_thread = asyncio.run(two_cycles())
        assert len(witnessed.threads) == 1
        assert witnessed.threads[0] != event_loop_thread
    finally:
        controller.close()
