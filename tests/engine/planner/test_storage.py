"""A battery's values: what is refused and why, and its energy bounds."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

import pytest

from depotctl.engine.planner import PlannedStorage

#: 50 of 100 kWh held, 20–90 kWh usable, 50 kW either way
BESS = PlannedStorage("bess", ("site",), 50_000.0, 100_000.0, 0.2, 0.9, 50_000.0, 50_000.0)


def battery(**fields: Any) -> PlannedStorage:
    return dataclasses.replace(BESS, **fields)


def test_bounds_are_the_soc_window_widened_to_where_it_is_now() -> None:
    assert battery().energy_bounds_wh() == pytest.approx((20_000.0, 90_000.0))
    assert battery(energy_wh=5_000.0).energy_bounds_wh() == pytest.approx((5_000.0, 90_000.0))
    assert battery(energy_wh=95_000.0).energy_bounds_wh() == pytest.approx((20_000.0, 95_000.0))


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"capacity_wh": 0.0}, r"storage 'bess': capacity_wh 0.0 must be finite, > 0.0"),
        ({"min_soc": 0.95}, r"max_soc 0.9 must be finite, ≥ 0.95 and ≤ 1.0"),
        ({"charge_efficiency": 1.2}, r"charge_efficiency 1.2 must be finite, > 0.0 and ≤ 1.0"),
        ({"max_discharge_w": math.inf}, r"max_discharge_w inf must be finite"),
        ({"final_energy_wh": 200_000.0}, r"final_energy_wh 200000.0 .* ≤ 100000.0"),
        ({"weights": (1.0, 2.0)}, r"has 2 weights for 1 nodes; give one per node"),
        ({"node_ids": ("site", "site")}, r"node_ids lists a node twice"),
    ],
)
def test_a_battery_the_program_cannot_hold_is_refused(
    fields: dict[str, object], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        battery(**fields)
