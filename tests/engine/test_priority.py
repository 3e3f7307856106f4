"""How a laxity reads: to the minute, and never failing on what is not finite."""

from __future__ import annotations

import math

import pytest

from depotctl.engine.priority import duration_text


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (3 * 3600 + 12 * 60, "3 h 12 min"),
        (45 * 60, "45 min"),
        (7200, "2 h"),
        (-20 * 60, "−20 min"),
        (math.inf, "∞"),
        (-math.inf, "−∞"),  # a vehicle that cannot take any current: never done
        (math.nan, "unknown"),  # infinite energies from a store of an earlier version
    ],
)
def test_a_duration_reads_to_the_minute(seconds: float, text: str) -> None:
    assert duration_text(seconds) == text
