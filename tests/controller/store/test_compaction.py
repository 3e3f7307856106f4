"""The store's compaction on a real SQLite file: telemetry minutes before the cut fold
into quarter hours whose values are the minutes' aggregates, the newer minutes stay;
the journal forgets entries before its horizon only, bounded per call."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime, timedelta

import pytest

from depotctl.controller.store import Store, UnitOfWork, journal_entry
from depotctl.controller.store.compaction import Compactor, quarter_of
from depotctl.domain.phases import Phase
from depotctl.domain.telemetry import Reading

T0 = datetime(2026, 1, 5, 12, 0, tzinfo=UTC)


def put(uow: UnitOfWork, minute: int, *powers: float | None, amps: float = 10.0) -> None:
    at = T0 + timedelta(minutes=minute)
    uow.telemetry.put(
        Reading("m-1", at + timedelta(seconds=5 * i), power_w=p, current_a={Phase.L1: amps + i})
        for i, p in enumerate(powers)
    )


def test_minutes_before_the_cut_fold_into_their_quarters_and_newer_ones_stay(
    store: Store, uow: UnitOfWork
) -> None:
    put(uow, 0, 1000.0, 3000.0)  # minute mean 2000, peak 3000, 11 A
    put(uow, 7, 5000.0)
    put(uow, 14, None, amps=40.0)  # no power: counts as a minute, not in the mean
    put(uow, 15, 8000.0)  # second quarter
    put(uow, 31, 9000.0)  # after the cut: stays a minute
    folded = Compactor(store).downsample_telemetry(
        before=T0 + timedelta(minutes=30), max_minutes=1000
    )
    assert folded == 4
    quarters = Compactor(store).quarters("m-1")
    assert [(q.start, q.minutes, q.samples, q.power_minutes) for q in quarters] == [
        (T0, 3, 4, 2),
        (T0 + timedelta(minutes=15), 1, 1, 1),
    ]
    first = quarters[0]
    assert first.power_w_mean == pytest.approx((2000.0 + 5000.0) / 2)
    assert first.power_w_max == 5000.0
    assert first.current_a_max == {Phase.L1: 40.0}
    assert [m.minute for m in uow.telemetry.history("m-1")] == [T0 + timedelta(minutes=31)]


def test_a_bounded_call_folds_whole_quarters_and_the_next_call_merges_what_came_late(
    store: Store, uow: UnitOfWork
) -> None:
    for minute in range(60):
        put(uow, minute, float(minute))
    cut = T0 + timedelta(hours=1)
    assert Compactor(store).downsample_telemetry(before=cut, max_minutes=20) == 15
    assert len(Compactor(store).quarters("m-1")) == 1
    put(uow, 3, 1000.0)  # a late reading in a quarter already folded
    assert Compactor(store).downsample_telemetry(before=cut, max_minutes=10_000) == 46
    quarters = Compactor(store).quarters("m-1")
    assert [q.minutes for q in quarters] == [16, 15, 15, 15]
    assert quarters[0].power_w_mean == pytest.approx((sum(range(15)) + 1000.0) / 16)
    assert [q.power_w_mean for q in quarters[1:]] == [
        pytest.approx(sum(range(s, s + 15)) / 15) for s in (15, 30, 45)
    ]


def test_the_journal_forgets_before_its_horizon_only(store: Store, uow: UnitOfWork) -> None:
    uow.journal.record(
        journal_entry("allocation.changed", f"day {d}", at=T0 + timedelta(days=d)) for d in range(6)
    )
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), store.transaction():
        store.write("DELETE FROM journal")
    cut = T0 + timedelta(days=3)
    assert Compactor(store).forget_journal(before=cut, max_entries=2) == 2
    assert Compactor(store).forget_journal(before=cut, max_entries=2) == 1
    assert [e.message for e in uow.journal.entries()] == ["day 3", "day 4", "day 5"]
    assert Compactor(store).journal_horizon() == cut
    with pytest.raises(sqlite3.IntegrityError, match="append-only"), store.transaction():
        store.write("DELETE FROM journal")
    # the horizon never moves back
    assert Compactor(store).forget_journal(before=T0, max_entries=10) == 0
    assert Compactor(store).journal_horizon() == cut


def test_quarter_of() -> None:
    assert quarter_of(T0 + timedelta(minutes=44, seconds=59)) == T0 + timedelta(minutes=30)
