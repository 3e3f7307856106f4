"""The cycle-input rows on a real SQLite store: the chain that rebuilds an instant
starts at the keyframe before it and ends at the last cycle at or before it; pruning
keeps every row an instant from the cut-off on needs."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from depotctl.controller.store import Store, Units

T0 = datetime(2026, 12, 6, 7, 0, tzinfo=UTC)
LEAD = timedelta(seconds=10)


@pytest.fixture
def units(tmp_path: Path) -> Iterator[Units]:
    store = Store.open(tmp_path / "depotctl.sqlite")
    units = Units(store)
    # cycles every 5 s; keyframes at 0, 3 and 6
    for n in range(9):
        units().cycle_inputs.add(
            T0 + timedelta(seconds=5 * n),
            revision=1 + (n >= 6),
            envelope_lead=LEAD,
            keyframe=n % 3 == 0,
            body=bytes([n]),
        )
    yield units
    store.close()


def bodies(units: Units, at: datetime) -> list[int]:
    return [row.body[0] for row in units().cycle_inputs.chain(at)]


def test_the_chain_runs_from_the_keyframe_before_to_the_cycle_at_or_before(units: Units) -> None:
    assert bodies(units, T0 + timedelta(seconds=25)) == [3, 4, 5]
    assert bodies(units, T0 + timedelta(seconds=29.9)) == [3, 4, 5]  # between two cycles
    assert bodies(units, T0 + timedelta(seconds=15)) == [3]
    assert bodies(units, T0 + timedelta(hours=1)) == [6, 7, 8]
    assert bodies(units, T0 - timedelta(microseconds=1)) == []
    [*_, last] = units().cycle_inputs.chain(T0 + timedelta(seconds=40))
    assert (last.at, last.revision, last.envelope_lead) == (T0 + timedelta(seconds=40), 2, LEAD)


def test_pruning_keeps_the_keyframe_an_instant_after_the_cut_needs(units: Units) -> None:
    assert units().cycle_inputs.earliest() == T0
    dropped = units().cycle_inputs.prune(before=T0 + timedelta(seconds=25))
    assert dropped == 3  # rows 0-2: row 5 needs 3 and 4
    assert units().cycle_inputs.earliest() == T0 + timedelta(seconds=15)
    assert bodies(units, T0 + timedelta(seconds=25)) == [3, 4, 5]
    assert bodies(units, T0 + timedelta(seconds=10)) == []
    assert units().cycle_inputs.prune(before=T0) == 0
