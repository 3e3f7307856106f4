"""How the API writes times and figures."""

from __future__ import annotations

import math
from datetime import datetime, timedelta, timezone

from depotctl.api.encoding import figure, utc_text


def test_a_time_is_written_in_utc() -> None:
    sydney = datetime(2026, 3, 3, 1, tzinfo=timezone(timedelta(hours=11)))
    assert utc_text(sydney) == "2026-03-02T14:00:00+00:00"
    assert utc_text(None) is None


def test_a_figure_is_rounded_to_a_thousandth_and_never_minus_zero() -> None:
    assert figure(31.84567) == 31.846
    assert math.copysign(1.0, figure(-0.0001) or 1.0) == 1.0 and figure(-0.0001) == 0.0
    assert figure(math.inf) is None and figure(math.nan) is None and figure(None) is None
