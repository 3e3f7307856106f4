"""What a replay bills and plans with: the site's tariff or a tariff file, its planner."""

from __future__ import annotations

from pathlib import Path

import pytest

from depotctl.replay.costs import ReplayCostError, replay_costs
from tests.recordings.conftest import CALTECH_SITE
from tests.replay.conftest import acnportal_tariff_json


def test_the_sites_tariff_and_planner_or_a_tariff_file_in_its_place(tmp_path: Path) -> None:
    own = replay_costs(CALTECH_SITE)
    assert own.tariff is not None and own.prices is None
    assert [c.price for c in own.tariff.demand_charges] == [15.51]  # SCE TOU-EV-4
    assert not own.planner.enabled
    assert own.signals(None).carbon_price_per_kg == 0.0
    assert own.planner_settings().enabled
    flat = tmp_path / "flat.json"
    flat.write_text(acnportal_tariff_json([0], [0.2]))
    other = replay_costs(CALTECH_SITE, flat)
    assert other.tariff is not None and other.tariff.demand_charges == ()
    with pytest.raises(ReplayCostError, match=f"cannot read {tmp_path / 'none.yaml'}"):
        replay_costs(CALTECH_SITE, tmp_path / "none.yaml")
