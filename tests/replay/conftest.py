"""Fixtures of the replay tests: the Caltech site compiled (from the recordings' fixtures)
and a stand-in allocator for tests that must not depend on the engine's decisions."""

from __future__ import annotations

from depotctl.domain.snapshot import Snapshot
from depotctl.engine.allocation import (
    Allocation,
    Binding,
    BindingKind,
    EvseAllocation,
    EvseState,
)
from tests.recordings.conftest import caltech as caltech


def allocate_16a(snapshot: Snapshot) -> Allocation:
    """A stand-in allocator: every session gets min(its EVSE's maximum, 16 A),
    whatever the tree can carry."""
    evses = {}
    for session in snapshot.sessions:
        evse = snapshot.topology.evses[session.evse_id]
        amps = min(evse.max_current_a, 16.0)
        evses[evse.id] = EvseAllocation(
            evse.id,
            amps,
            amps * evse.watts_per_amp,
            EvseState.CHARGING,
            Binding(BindingKind.CHARGER_LIMIT, evse.charger_id, "stand-in"),
            session.id,
        )
    return Allocation(snapshot.at, evses, limits_a={k: v.limit_a for k, v in evses.items()})
