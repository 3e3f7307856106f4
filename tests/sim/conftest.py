"""Fixtures of the replay tests: the Caltech site compiled, a small ACN-Data file, and
a stand-in allocator for tests that must not depend on the engine's decisions."""

from __future__ import annotations

from pathlib import Path

import pytest

from depotctl.domain.policy import Policy
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.topology import Topology
from depotctl.engine.allocation import (
    Allocation,
    Binding,
    BindingKind,
    EvseAllocation,
    EvseState,
)
from depotctl.sim.run import load_site
from tests.conftest import SHARED_DATA, SITES

HERE = Path(__file__).parent
#: Five sessions written for these tests: one the evening before 2019-05-13, one
#: capped by its 2 h window, one in the morning, one at a station the site lacks,
#: one the next day.
FIXTURE_CSV = HERE / "sessions.csv"
#: The real ACN-Data file (Caltech, May–August 2019); see ../shared/data/README.md.
CALTECH_CSV = SHARED_DATA / "acn" / "caltech_2019-05-01_2019-08-31.csv.gz"
CALTECH_SITE = SITES / "caltech-acn.yaml"

needs_acn_data = pytest.mark.skipif(
    not CALTECH_CSV.exists(), reason=f"the shared ACN-Data file is not at {CALTECH_CSV}"
)


@pytest.fixture(scope="session")
def caltech() -> tuple[Topology, Policy]:
    return load_site(CALTECH_SITE)


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
