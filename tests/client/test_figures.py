"""Figures and times from the controller written for people: rounded quantities, the
site's time with its offset, and the controller's words with both."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from depotctl.client.figures import (
    DASH,
    figures_in_words,
    for_people,
    instant_text,
    rounded,
    times_in_words,
    zone_named,
)

SYDNEY = ZoneInfo("Australia/Sydney")
DAY = datetime(2026, 3, 2, 18, 30, tzinfo=UTC)


def test_a_quantity_is_rounded_to_a_tenth_and_other_text_kept() -> None:
    assert rounded("42.3351 kWh") == "42.3 kWh"
    assert rounded("1204.56 kW") == "1,204.6 kW"
    assert rounded("16 A") == "16.0 A"
    assert rounded("site default") == "site default"
    assert rounded(None) == DASH


def test_a_zone_the_machine_does_not_know_reads_as_utc() -> None:
    assert zone_named("Australia/Sydney") == SYDNEY
    assert zone_named("Nowhere/Atlantis") is UTC
    assert zone_named(None) is UTC


def test_an_instant_is_the_site_time_with_its_offset() -> None:
    assert instant_text(DAY.replace(microsecond=5), SYDNEY) == "2026-03-03 05:30:00+11:00"
    assert instant_text(None, SYDNEY, "never") == "never"


def test_the_controllers_words_show_site_times_and_rounded_figures() -> None:
    said = (
        "envelope E-1 (local → gc-main import ≤ 80.123456 kW): pending → active: window "
        "started at 18:10Z; until 2026-03-02T20:00:00.5+00:00, 230 V, 12.5 A"
    )
    assert for_people(said, SYDNEY, DAY) == (
        "envelope E-1 (local → gc-main import ≤ 80.1 kW): pending → active: window "
        "started at 2026-03-03 05:10:00+11:00; until 2026-03-03 07:00:00+11:00, 230 V, 12.5 A"
    )


def test_a_time_of_day_is_converted_only_with_its_day_and_only_from_utc() -> None:
    assert times_in_words("at 18:10Z", SYDNEY) == "at 18:10Z"
    assert times_in_words("at 05:10:00+11:00", SYDNEY, DAY) == "at 05:10:00+11:00"
    assert figures_in_words("rev 1.25 of 3 kWhs, 0.05 /kWh") == "rev 1.25 of 3 kWhs, 0.05 /kWh"


def test_a_lifecycle_entry_reads_the_same_from_this_controller_and_an_older_one() -> None:
    """The controller now writes whole UTC instants into its lifecycle words; journals of
    older versions hold UTC times of day (``18:10Z``) of the entry's day. Both read as
    the same site time, the new one with no day to go by."""
    now = "source dnsp offline: last heard 2026-03-02T18:10:00Z, offline after 2 min"
    older = "source dnsp offline: last heard 18:10Z, offline after 2 min"
    read = "source dnsp offline: last heard 2026-03-03 05:10:00+11:00, offline after 2 min"
    assert times_in_words(now, SYDNEY) == read
    assert times_in_words(now, SYDNEY, DAY.replace(day=9)) == read  # its own date wins
    assert times_in_words(older, SYDNEY, DAY) == read
