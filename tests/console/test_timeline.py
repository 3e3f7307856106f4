"""The timeline renderer on a known timeline, cell by cell: ten minutes from 18:00 in
Sydney (+11), a load climbing to its limit, an envelope that cut the limit to half for
two minutes; drawn a cell a minute, two minutes a cell, and as a chart."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from depotctl.api.timeline import Timeline
from depotctl.console.timeline import (
    GUTTER,
    axis,
    cells_of,
    chart,
    night_since,
    short,
    sparkline,
    title,
)

SYDNEY = ZoneInfo("Australia/Sydney")
SINCE = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 18:00 +11:00
LOADS = [None, 0.0, 2.0, 4.0, 8.0, 4.0, 4.0, 6.0, 8.0, 8.0]
LIMITS = [8.0] * 5 + [4.0, 4.0] + [8.0] * 3


def known(**changes: Any) -> Timeline:
    minute = timedelta(minutes=1)
    body: dict[str, Any] = {
        "subject": "chg-01/1",
        "kind": "evse",
        "unit": "A",
        "since": SINCE.isoformat(),
        "until": (SINCE + 10 * minute).isoformat(),
        "step_s": 60,
        "meters": ["chg-01"],
        "points": [
            {
                "at": (SINCE + i * minute).isoformat(),
                "load": load,
                "limit": limit,
                "resolution_s": None if load is None else 60,
            }
            for i, (load, limit) in enumerate(zip(LOADS, LIMITS, strict=True))
        ],
        "envelopes": [
            {
                "envelope": "E-cut",
                "source": "dnsp",
                "target": "gc-main",
                "begin": (SINCE + 5 * minute).isoformat(),
                "end": (SINCE + 7 * minute).isoformat(),
                "limit": 12e3,
                "unit": "W",
                "mode": "normal",
            }
        ],
    }
    return Timeline.model_validate(body | changes)


def test_a_cell_a_minute() -> None:
    load, limit, marks = sparkline(known(), GUTTER + 10, SYDNEY)
    assert load.plain == "load  " + " ▁▂▄█▄▄▆██"
    assert limit.plain == "limit " + "█████▄▄███"
    assert marks.plain == "      " + "18:00[·]··"
    # at its limit: red; else green
    red = {span.start - GUTTER for span in load.spans if span.style == "bold red"}
    assert red == {4, 5, 6, 8, 9}


def test_two_minutes_a_cell_keep_the_peak_and_the_cut() -> None:
    cells = cells_of(known(), 5)
    assert cells.load == (0.0, 4.0, 8.0, 6.0, 8.0)
    assert cells.limit == (8.0, 8.0, 4.0, 4.0, 8.0)
    assert cells.at_limit == (False, False, True, True, True)
    load, limit, _ = sparkline(known(), GUTTER + 5, SYDNEY)
    assert load.plain[GUTTER:] == "▁▄█▆█"
    assert limit.plain[GUTTER:] == "██▄▄█"


def test_an_envelope_that_begins_and_ends_in_one_cell_is_a_bar() -> None:
    # five minutes a cell: it begins and ends in the second; 18:00 has no room
    assert axis(known(), 2, SYDNEY) == "·|"


def test_an_envelope_still_open_marks_only_its_begin() -> None:
    [cut] = known().envelopes
    open_cut = cut.model_copy(update={"end": None})
    assert axis(known(envelopes=[open_cut.model_dump(mode="json")]), 10, SYDNEY) == "18:00[····"


def test_the_axis_labels_the_site_hours_that_fit() -> None:
    night = known(until=(SINCE + timedelta(hours=12)).isoformat(), points=[], envelopes=[])
    # 12 h in 74 cells: a label (and its gap) every hour fits
    assert axis(night, 74, SYDNEY).startswith("18:00·19:00·20:00")
    # in 60 cells it would not: every 2 h
    assert axis(night, 60, SYDNEY) == "·····".join(
        ["18:00", "20:00", "22:00", "00:00", "02:00", "04:00", ""]
    )


def test_the_chart_stacks_eighths_and_draws_the_limit_above_the_load() -> None:
    top, bottom, marks = chart(known(), GUTTER + 10, 2, SYDNEY)
    assert top.plain == "   8A " + "────█──▄██"
    assert bottom.plain == "    0 " + "  ▄███████"
    assert marks.plain == "      " + "18:00[·]··"


def test_the_title_in_site_time() -> None:
    assert title(known(), SYDNEY) == (
        "chg-01/1 18:00 → 18:10 +11:00 · peak 8.0 A · limit 4.0 A to 8.0 A"
    )
    empty = known(points=[])
    assert title(empty, SYDNEY).endswith("peak no readings · limit no limit known")


def test_a_node_in_watts_reads_kilowatts() -> None:
    node = known(
        subject="gc-main",
        kind="node",
        unit="W",
        points=[
            {"at": SINCE.isoformat(), "load": 31_800.0, "limit": 100_000.0, "resolution_s": 60}
        ],
    )
    assert title(node, SYDNEY).endswith("peak 31.8 kW · limit 100.0 kW")


def test_the_charts_top_value_fits_the_gutter() -> None:
    assert [short(v, "A") for v in (8.0, 102.9, 1900.0)] == ["8A", "103A", "1900A"]
    assert [short(v, "W") for v in (31_800.0, 400_000.0, 1_200_000.0)] == [
        "32kW",
        "400kW",
        "1.2MW",
    ]


def test_the_last_night_starts_at_18_00_or_12_hours_back() -> None:
    morning = datetime(2026, 3, 2, 20, 30, tzinfo=UTC)  # 07:30 +11:00 on the 3rd
    assert night_since(morning, SYDNEY) == datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 18:00
    evening = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # 20:00 +11:00: 18:00 is 2 h back
    assert night_since(evening, SYDNEY) == evening - timedelta(hours=12)
    at_six = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)  # 18:00 itself: the 12 h before it
    assert night_since(at_six, SYDNEY) == at_six - timedelta(hours=12)
