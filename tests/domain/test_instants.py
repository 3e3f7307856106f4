"""One parser and one printed form for times: every form docs/times.md lists, the
printed form read back for any instant in any zone, and the daylight-saving nights'
skipped and doubled times refused with both readings."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given
from hypothesis import strategies as st

from depotctl.domain.instants import (
    InstantError,
    format_clock,
    format_instant,
    parse_instant,
)

SYDNEY = ZoneInfo("Australia/Sydney")
LOS_ANGELES = ZoneInfo("America/Los_Angeles")
ZONES = [SYDNEY, LOS_ANGELES, ZoneInfo("UTC"), UTC, ZoneInfo("Asia/Kolkata"),
         timezone(timedelta(hours=-3, minutes=-30))]  # fmt: skip
#: 2026-12-07 14:00:00+11:00
NOW = datetime(2026, 12, 7, 3, 0, tzinfo=UTC)

instants = st.datetimes(
    min_value=datetime(1970, 1, 2), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)


def _read(text: str, ahead: bool = False) -> str:
    return format_instant(parse_instant(text, now=NOW, zone=SYDNEY, ahead=ahead), SYDNEY)


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("now", "2026-12-07 14:00:00+11:00"),
        ("2026-12-07T07:30:05Z", "2026-12-07 18:30:05+11:00"),
        ("2026-12-07 18:30+11:00", "2026-12-07 18:30:00+11:00"),
        ("2026-12-07T10:30:05-08:00", "2026-12-08 05:30:05+11:00"),
        ("2026-12-07 18:30", "2026-12-07 18:30:00+11:00"),
        ("2026-12-07T18:30:05", "2026-12-07 18:30:05+11:00"),
        ("2026-12-07", "2026-12-07 00:00:00+11:00"),
        ("02:14", "2026-12-07 02:14:00+11:00"),
        ("2:14", "2026-12-07 02:14:00+11:00"),
        ("18:30", "2026-12-06 18:30:00+11:00"),
        ("14:00", "2026-12-07 14:00:00+11:00"),
        ("18:30:05", "2026-12-06 18:30:05+11:00"),
        ("yesterday 02:14", "2026-12-06 02:14:00+11:00"),
        ("today 18:30", "2026-12-07 18:30:00+11:00"),
        ("Tomorrow  06:00", "2026-12-08 06:00:00+11:00"),
        ("8h", "2026-12-07 06:00:00+11:00"),
        ("90min", "2026-12-07 12:30:00+11:00"),
        ("2 d", "2026-12-05 14:00:00+11:00"),
        ("8h ago", "2026-12-07 06:00:00+11:00"),
        ("-30 min", "2026-12-07 13:30:00+11:00"),
        ("+2h", "2026-12-07 16:00:00+11:00"),
    ],
)
def test_every_form_reads_as_the_site_time_it_names(text: str, meant: str) -> None:
    assert _read(text) == meant


@pytest.mark.parametrize(
    ("text", "meant"),
    [
        ("8h", "2026-12-07 22:00:00+11:00"),
        ("02:14", "2026-12-08 02:14:00+11:00"),
        ("18:30", "2026-12-07 18:30:00+11:00"),
        ("8h ago", "2026-12-07 06:00:00+11:00"),
        ("yesterday 02:14", "2026-12-06 02:14:00+11:00"),
    ],
)
def test_a_command_that_looks_ahead_reads_bare_spans_and_clock_times_after_now(
    text: str, meant: str
) -> None:
    assert _read(text, ahead=True) == meant


def test_the_answer_is_utc() -> None:
    assert parse_instant("2026-12-07 18:30", now=NOW, zone=SYDNEY).tzinfo is UTC
    assert parse_instant("8h", now=NOW.astimezone(SYDNEY), zone=SYDNEY).tzinfo is UTC


@given(at=instants, zone=st.sampled_from(ZONES))
def test_the_printed_form_reads_back_as_the_same_second(at: datetime, zone: timezone) -> None:
    text = format_instant(at, zone)
    assert "." not in text and text[-6] in "+-" and text[-3] == ":"
    assert parse_instant(text, now=NOW, zone=SYDNEY) == at.replace(microsecond=0)


@given(at=instants, zone=st.sampled_from(ZONES))
def test_a_site_time_without_its_offset_reads_back_unless_the_clocks_change_around_it(
    at: datetime, zone: timezone
) -> None:
    wall = format_instant(at, zone)[:-6]
    before, after = at - timedelta(hours=3), at + timedelta(hours=3)
    if before.astimezone(zone).utcoffset() == after.astimezone(zone).utcoffset():
        assert parse_instant(wall, now=NOW, zone=zone) == at.replace(microsecond=0)


#: The days the clocks change at 02:00 in Sydney and Los Angeles, and any other.
days = st.one_of(
    st.sampled_from([date(2026, 4, 5), date(2026, 10, 4), date(2026, 3, 8), date(2026, 11, 1),
                     date(2031, 4, 6), date(2031, 10, 5), date(2031, 3, 9), date(2031, 11, 2)]),
    st.dates(min_value=date(2000, 1, 1), max_value=date(2090, 1, 1)),
)  # fmt: skip


@given(
    day=days,
    zone=st.sampled_from([SYDNEY, LOS_ANGELES]),
    minute=st.integers(0, 59),
)
def test_a_wall_time_is_read_as_one_instant_or_refused_with_both_readings(
    day: date, zone: ZoneInfo, minute: int
) -> None:
    """At 01:MM and 02:MM every day: a time the clocks skip or pass twice is refused
    naming both offsets; any other reads as the one instant that shows as it."""
    for hour in (1, 2):
        wall = datetime(day.year, day.month, day.day, hour, minute)
        offsets = {wall.replace(tzinfo=zone, fold=f).utcoffset() for f in (0, 1)}
        text = wall.isoformat(sep=" ", timespec="minutes")
        if len(offsets) == 1:
            read = parse_instant(text, now=NOW, zone=zone)
            assert read.astimezone(zone).replace(tzinfo=None) == wall
            continue
        with pytest.raises(InstantError) as refused:
            parse_instant(text, now=NOW, zone=zone)
        shown = [wall.replace(tzinfo=zone, fold=f).isoformat()[11:16] for f in (0, 1)]
        assert all(f"{wall:%H:%M}{offset[5:]}" in refused.value.message for offset in shown)
        assert zone.key in refused.value.message


def test_a_time_that_occurs_twice_is_refused_with_both_offsets() -> None:
    with pytest.raises(InstantError) as refused:
        parse_instant("2026-04-05 02:30", now=NOW, zone=SYDNEY)
    assert refused.value.message == (
        "2026-04-05 02:30 occurs twice in Australia/Sydney: 02:30+11:00 or 02:30+10:00"
    )
    assert "add the offset" in refused.value.hint
    assert _read("2026-04-05 02:30+10:00") == "2026-04-05 02:30:00+10:00"


def test_a_time_the_clocks_skip_is_refused_with_what_each_offset_would_mean() -> None:
    with pytest.raises(InstantError) as refused:
        parse_instant("2026-03-08 02:30", now=NOW, zone=LOS_ANGELES)
    assert refused.value.message == (
        "2026-03-08 02:30 does not exist in America/Los_Angeles (the clocks skip it): "
        "02:30-08:00 is 2026-03-08 03:30:00-07:00, 02:30-07:00 is 2026-03-08 01:30:00-08:00"
    )


def test_a_bare_clock_time_on_a_night_the_clocks_skip_is_refused_too() -> None:
    now = datetime(2026, 10, 4, 3, 0, tzinfo=SYDNEY)
    with pytest.raises(InstantError, match="does not exist in Australia/Sydney"):
        parse_instant("02:30", now=now, zone=SYDNEY)


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("", "no time given"),
        ("   ", "no time given"),
        ("banana", "'banana' is not a time depotctl reads"),
        ("8", "'8' is not a time depotctl reads"),
        ("8 hours", 'unknown unit "hours"'),
        ("8h ago ago", "is not a duration"),
        ("+tomorrow", "is not a duration"),
        ("25:00", "'25:00' is not a time of day"),
        ("yesterday 2pm", "'2pm' is not a time of day"),
        ("3654 d", "out of range"),
        ("0001-01-01T00:00+01:00", "outside the times depotctl can take"),
    ],
)
def test_what_is_not_a_time_is_refused_saying_what_to_write(text: str, says: str) -> None:
    with pytest.raises(InstantError) as refused:
        parse_instant(text, now=NOW, zone=SYDNEY)
    assert says in refused.value.message
    assert refused.value.hint


def test_now_must_be_aware() -> None:
    with pytest.raises(ValueError, match="aware"):
        parse_instant("8h", now=datetime(2026, 12, 7), zone=SYDNEY)


def test_the_printed_form_drops_microseconds_and_names_the_offset() -> None:
    at = datetime(2026, 12, 7, 7, 30, 5, 999_999, tzinfo=UTC)
    assert format_instant(at, SYDNEY) == "2026-12-07 18:30:05+11:00"
    assert format_instant(at, UTC) == "2026-12-07 07:30:05+00:00"
    assert format_instant(at, LOS_ANGELES) == "2026-12-06 23:30:05-08:00"


def test_the_short_clock_form_gives_the_date_off_the_day_of_now() -> None:
    at = datetime(2026, 12, 7, 7, 30, 5, 250_000, tzinfo=UTC)
    assert format_clock(at, SYDNEY, NOW) == "18:30:05"
    assert format_clock(at, SYDNEY, NOW + timedelta(days=1)) == "2026-12-07 18:30:05"
    assert format_clock(at, SYDNEY) == "18:30:05"


def test_the_refusals_docs_times_md_shows_are_the_ones_given() -> None:
    """Each ``$ depotctl journal --since "…"`` example of docs/times.md is followed by
    the line the parser's refusal makes (``--since: MESSAGE; HINT``)."""
    lines = (Path(__file__).parents[2] / "docs" / "times.md").read_text().splitlines()
    examples = [(line, lines[n + 1]) for n, line in enumerate(lines) if line.startswith("$ ")]
    assert len(examples) == 2
    for typed, said in examples:
        text = typed.split('--since "')[1].rstrip('"')
        with pytest.raises(InstantError) as refused:
            parse_instant(text, now=NOW, zone=SYDNEY)
        error = refused.value
        assert said == f"depotctl journal: --since: {error.message}; {error.hint}"


@given(
    text=st.one_of(
        st.text(max_size=40),
        st.from_regex(
            r"(yesterday |today |tomorrow |[+-])?[0-9: .TZ+-]{1,25}( ago)?", fullmatch=True
        ),
    ),
    zone=st.sampled_from(ZONES),
)
def test_any_text_is_an_instant_in_utc_or_refused_with_a_hint(text: str, zone: timezone) -> None:
    try:
        read = parse_instant(text, now=NOW, zone=zone, ahead=text.startswith("t"))
    except InstantError as refused:
        assert refused.message and refused.hint
    else:
        assert read.tzinfo is UTC


def test_a_day_clock_is_short_on_the_first_day_and_counts_later_ones() -> None:
    """The short form of a text whose heading states the first day's date and offset:
    the clock alone that day, ``+1d`` the next, the whole instant where the offset is
    no longer the first day's (a daylight-saving change overnight)."""
    from depotctl.domain.instants import format_day_clock

    sydney = ZoneInfo("Australia/Sydney")
    first = datetime(2026, 12, 8, 5, 10, tzinfo=UTC)  # 16:10+11:00
    assert format_day_clock(first + timedelta(hours=2), sydney, first) == "18:10:00"
    assert format_day_clock(first + timedelta(hours=13), sydney, first, "%H:%M") == "05:10 +1d"
    autumn = datetime(2026, 4, 4, 6, 0, tzinfo=UTC)  # 17:00+11:00, the night clocks go back
    assert format_day_clock(autumn + timedelta(hours=14), sydney, autumn) == (
        "2026-04-05 06:00:00+10:00"
    )
