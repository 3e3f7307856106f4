"""A readiness forecast in words: what counts as short."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from depotctl.domain.readiness import Readiness

AT = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def behind(short_wh: float) -> Readiness:
    need = 60_000.0
    departs = AT + timedelta(hours=2)
    return Readiness("s-1", "dc-01/1", AT, departs, need, need - short_wh, short_wh, "plan")


def test_a_few_watt_hours_behind_is_not_short_and_a_tenth_of_a_kwh_is() -> None:
    """A live serve said 'will be 0.0 kWh short' of sessions 40 Wh behind their plan."""
    assert not behind(40.0).is_short
    assert behind(40.0).outcome(UTC) == "will have its 60.0 kWh by 16:00 (plan)"
    assert behind(60.0).is_short
    assert behind(60.0).outcome(UTC) == "will be 0.1 kWh short at 16:00 (plan)"


def test_a_forecast_of_a_known_vehicle_is_said_of_the_vehicle() -> None:
    anonymous = behind(18_000.0)
    named = Readiness(*[getattr(anonymous, f) for f in anonymous.__slots__][:-1], "bus-42")
    assert anonymous.words(UTC).startswith("dc-01/1 (session s-1) will be 18.0 kWh short")
    assert named.words(UTC) == "bus-42 (dc-01/1) will be 18.0 kWh short at 16:00 (plan)"
