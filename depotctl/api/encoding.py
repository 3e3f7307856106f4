"""How the API writes times and figures in its JSON, in one place for every route and
view that renders an answer: times in UTC as ``datetime.isoformat`` writes them,
figures rounded to a thousandth (``None`` where not finite, never ``-0.0``)."""

from __future__ import annotations

import math
from datetime import UTC, datetime


def utc_text(at: datetime | None) -> str | None:
    """``2026-03-02T14:00:00+00:00``; ``None`` for no time."""
    return at.astimezone(UTC).isoformat() if at is not None else None


def figure(value: float | None) -> float | None:
    """``value`` rounded to 3 decimals; ``None`` for none, infinity or NaN."""
    if value is None or not math.isfinite(value):
        return None
    return round(value, 3) + 0.0  # no "-0.0"
