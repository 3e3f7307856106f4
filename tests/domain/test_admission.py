"""An EVSE's on/off record follows the limits its charger accepts: a new one only when
it switches."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from depotctl.domain.admission import Admission, switched

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
LATER = T0 + timedelta(minutes=3)


def test_switching_on_or_off_starts_a_new_record() -> None:
    assert switched(Admission(False, T0), 0.0, 6.0, LATER) == Admission(True, LATER)
    assert switched(Admission(True, T0), 6.0, 0.0, LATER) == Admission(False, LATER)


def test_a_change_that_stays_on_or_off_keeps_the_record() -> None:
    assert switched(Admission(True, T0), 6.0, 16.5, LATER) is None
    assert switched(Admission(False, T0), 0.0, 0.0, LATER) is None


def test_without_a_record_only_a_switch_seen_makes_one() -> None:
    assert switched(None, 6.0, 10.0, LATER) is None  # on before, on now: since unknown
    assert switched(None, 0.0, 0.0, LATER) is None
    assert switched(None, 6.0, 0.0, LATER) == Admission(False, LATER)
    assert switched(None, 0.0, 6.0, LATER) == Admission(True, LATER)


def test_an_unknown_limit_before_counts_as_a_switch() -> None:
    assert switched(None, None, 6.0, LATER) == Admission(True, LATER)
    assert switched(None, None, 0.0, LATER) == Admission(False, LATER)
