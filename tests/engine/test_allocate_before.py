"""The allocator decides exactly as it did before its speed-up: on generated depots,
every EVSE's limit, the constraint that stopped it and the one that paused it are
those of the cycle kept in :mod:`tests.engine.allocate_before` (bit for bit, not
within a tolerance: the speed-up reorganises the work, never the arithmetic)."""

from __future__ import annotations

import sys
from unittest.mock import patch

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depotctl.domain.snapshot import Snapshot
from depotctl.engine import allocate
from tests.engine.allocate_before import decided
from tests.engine.strategies import snapshots, topologies

ENGINE = sys.modules["depotctl.engine.allocate"]
SAME = settings(
    max_examples=120,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


def check_same(snap: Snapshot) -> None:
    """As before, whether each tier reads every entry (a small depot) or its admitted
    EVSEs' only (a large one: forced here)."""
    limits, binder, paused_at = decided(snap)
    for picked_from in (ENGINE._PICKED_FROM, 0):
        with patch.object(ENGINE, "_PICKED_FROM", picked_from):
            decision = allocate(snap)._decision
        assert decision is not None
        ids = decision.structure.evse_ids
        assert dict(zip(ids, decision.limits.tolist(), strict=True)) == dict(
            zip(ids, limits.tolist(), strict=True)
        )
        assert decision.binder.tolist() == binder.tolist()
        assert decision.paused_at.tolist() == paused_at.tolist()


@SAME
@given(snapshots())
def test_small_depots_are_decided_as_before(snap: Snapshot) -> None:
    check_same(snap)


@settings(SAME, max_examples=25)
@given(st.data())
def test_larger_depots_are_decided_as_before(data: st.DataObject) -> None:
    """Up to 40 chargers (80 EVSEs): contested admission and nodes that fill in turn."""
    topology = data.draw(topologies(max_chargers=40))
    check_same(data.draw(snapshots(topology)))
