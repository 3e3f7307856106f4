"""The depot's other load as the demo counts it — site loads at their fallback,
batteries charging at their maximum, generation as nothing, unless their meters'
minutes cover the night: then at the worst they read — on the planner example depot,
worked out by hand from its file; the fleet's sizing leaves it out of the connection's
import."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

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


#: the night the meters' minutes cover (two hours)
NIGHT = (datetime(2026, 3, 2, 7, 0, tzinfo=UTC), datetime(2026, 3, 2, 9, 0, tzinfo=UTC))


def minutes(watts: float, *, skip: int | None = None) -> list[dict[str, Any]]:
    """A meter's minutes over NIGHT, its highest reading ``watts`` in each (but minute
    ``skip``, where it was silent), as ``GET /api/v1/telemetry/{meter}`` gives them."""
    start = NIGHT[0]
    return [
        {"minute": (start + timedelta(minutes=m)).isoformat(), "samples": 12, "power_w_max": watts}
        for m in range(120)
        if m != skip
    ]


def test_a_battery_and_a_generator_metered_all_night_count_at_what_their_meters_read() -> None:
    topology, _ = load_site(DEPOT)
    assets = {"m-bess": minutes(20_000.0), "m-pv-roof": minutes(-30_000.0)}
    assets["m-bess"][7]["power_w_max"] = 45_000.0  # its highest minute
    load = other_load_w(topology, assets, NIGHT)
    # the battery at its highest metered draw (45 kW, not its 150 kW maximum charge), the
    # roof at its least production (30 kW freed); the carport has no meter's minutes
    assert load["gc-main"] == pytest.approx(60_000 + 50_000 + 45_000 - 30_000)
    assert load["db-1"] == pytest.approx(50_000)


def test_a_meter_silent_for_a_minute_counts_its_asset_at_the_worst_case() -> None:
    topology, _ = load_site(DEPOT)
    assets = {"m-bess": minutes(20_000.0, skip=60), "m-pv-roof": minutes(-30_000.0, skip=0)}
    assert other_load_w(topology, assets, NIGHT) == other_load_w(topology)


def test_relief_is_bounded_by_the_nameplate_whatever_the_meter_says() -> None:
    topology, _ = load_site(DEPOT)
    assets = {"m-bess": minutes(-900_000.0), "m-pv-roof": minutes(-900_000.0)}
    load = other_load_w(topology, assets, NIGHT)
    assert load["gc-main"] == pytest.approx(60_000 + 50_000 - 200_000 - 99_000)
