"""The alerts pane (5), driven with Textual's Pilot against a real controller on
loopback: each open alert raised by the real alert book is a row — the critical
first — with since when in the site's time and for how long on the controller's
clock, and why; a cleared alert leaves the pane; none open, the pane says so."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from depotctl.console.widgets.alerts import AlertsTable, for_how_long
from tests.console.conftest import Depot, loaded, shown, wait_for
from tests.console.test_alerts import CHARGER, NODE, update

pytestmark = pytest.mark.anyio


def rows(table: AlertsTable) -> list[list[str]]:
    return [[shown(cell).strip() for cell in table.get_row_at(i)] for i in range(table.row_count)]


async def test_each_open_alert_is_a_row_with_since_when_and_why(fresh_depot: Depot) -> None:
    update(fresh_depot, CHARGER, minutes=-58)
    update(fresh_depot, CHARGER, NODE, minutes=-55)
    app = fresh_depot.console()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        await pilot.press("5")
        await pilot.pause()
        table = app.query_one(AlertsTable)
        assert table.has_focus
        node, charger = rows(table)
        # the controller's clock stands at 01:00 in Sydney
        assert node[:3] == ["CRITICAL", "node gc-main over-committed", "00:05:00 (55 min)"]
        assert node[3].startswith("import power: assumed draws 612.4 kW")
        assert charger == [
            "WARNING",
            "charger dc-07 uncontrollable",
            "00:02:00 (58 min)",
            "no answer within 5 s",
        ]

        update(fresh_depot, minutes=-50)
        update(fresh_depot, minutes=-40)  # away long enough: both cleared
        await wait_for(pilot, lambda: app.model.alerts == ())
        await pilot.pause()
        assert rows(table) == [["", "no open alerts", "", ""]]


def test_for_how_long_reads_seconds_minutes_hours_and_days() -> None:
    since = datetime(2026, 12, 7, 1, 0, tzinfo=UTC)
    spans = [timedelta(seconds=45), timedelta(minutes=58), timedelta(hours=2, minutes=5)]
    spans.append(timedelta(days=3, hours=4, minutes=30))
    assert [for_how_long(since, since + span) for span in spans] == [
        "45 s",
        "58 min",
        "2 h 05 min",
        "3 d 4 h",
    ]
    assert for_how_long(since, None) == ""
