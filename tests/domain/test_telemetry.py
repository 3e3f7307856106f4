"""Readings: what no meter of a depot reads is named, the rest passes."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest

from depotctl.domain.phases import Phase
from depotctl.domain.telemetry import Reading

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


@pytest.mark.parametrize(
    "reading",
    [
        Reading("gc-main", T0),
        Reading("gc-main", T0, power_w=1e9, current_a={Phase.L1: 1e5}),
        Reading("pv", T0, power_w=-1e9),  # exported
        Reading("gc-main", T0, power_w=0.0, current_a={Phase.L2: 0.0}),
    ],
)
def test_a_reading_within_the_bounds_passes(reading: Reading) -> None:
    assert reading.beyond_bounds() is None


@pytest.mark.parametrize(
    ("reading", "words"),
    [
        (Reading("gc-main", T0, power_w=math.inf), "power inf"),
        (Reading("gc-main", T0, power_w=math.nan), "power nan"),
        (Reading("gc-main", T0, power_w=-1.0000001e9), "beyond ±1000 MW"),
        (Reading("gc-main", T0, current_a={Phase.L1: 1.0, Phase.L3: 2e5}), "current on L3"),
        (Reading("gc-main", T0, current_a={Phase.L2: -math.inf}), "beyond ±100 kA"),
    ],
)
def test_a_value_no_meter_reads_is_named(reading: Reading, words: str) -> None:
    beyond = reading.beyond_bounds()
    assert beyond is not None and words in beyond
