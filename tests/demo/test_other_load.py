"""The depot's other load as the demo counts it — site loads at their fallback,
batteries charging at their maximum, generation as nothing — on the planner example
depot, worked out by hand from its file; the fleet's sizing leaves it out of the
connection's import."""

from __future__ import annotations

import pytest

from depotctl.config import load_site
from depotctl.demo.other_load import other_load_w
from depotctl.demo.scenario import SAFETY, _usable_import_w
from tests.conftest import EXAMPLES

DEPOT = EXAMPLES / "valid" / "planner" / "storage-solar-depot.yaml"


def test_site_loads_at_their_fallback_and_the_battery_at_its_maximum_charge() -> None:
    topology, _ = load_site(DEPOT)
    load = other_load_w(topology)
    # gc-main: the workshop (60 kW), the bus wash below db-1 (50 kW) and bess-1 charging
    # at its max_charge (150 kW, not its 200 kW rating); the PV arrays free nothing
    assert load["gc-main"] == pytest.approx(60_000 + 50_000 + 150_000)
    assert load["db-1"] == pytest.approx(50_000)
    assert "pv-roof" not in load and "chg-01" not in load


def test_the_fleet_is_sized_on_what_the_other_load_leaves_of_the_import() -> None:
    topology, _ = load_site(DEPOT)
    assert _usable_import_w(topology, "gc-main") == pytest.approx(
        400_000 * SAFETY - (60_000 + 50_000 + 150_000)
    )
