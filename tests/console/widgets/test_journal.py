"""The console's journal pane in time order, oldest at the top as ``depotctl journal``
prints it: an entry journaled after another but stamped a moment before it (two
writers a moment apart) takes its place in time, not at the bottom."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from textual.app import App, ComposeResult

from depotctl.api import JournalEntry
from depotctl.console.model import Connection, Model, tail
from depotctl.console.widgets.journal import JournalTail

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 12, 7, 15, 14, 5, tzinfo=UTC)  # 02:14:05 in Sydney
SYDNEY = ZoneInfo("Australia/Sydney")


def entry(entry_id: int, seconds: float) -> JournalEntry:
    return JournalEntry(
        id=entry_id,
        at=T0 + timedelta(seconds=seconds),
        kind="allocation.changed",
        evse="dc-01/1",
        envelope=None,
        session=None,
        message=f"m{entry_id}",
        data={},
    )


def model(*entries: JournalEntry) -> Model:
    return Model(Connection("http://depot"), 1, T0, local=SYDNEY, journal=tail(entries, 500))


class Pane(App[None]):
    def compose(self) -> ComposeResult:
        yield JournalTail()


def shown(pane: JournalTail) -> list[str]:
    return [str(line.text).rsplit("  ", 1)[-1] for line in pane.lines]


async def test_the_models_journal_is_in_time_order_and_keeps_the_newest() -> None:
    entries = [entry(1, 0), entry(3, 2), entry(2, 4), entry(4, 2)]
    assert [e.id for e in tail(entries, 3)] == [3, 4, 2]


async def test_an_entry_stamped_before_one_shown_is_put_in_its_place() -> None:
    app = Pane()
    async with app.run_test(size=(80, 12)) as pilot:
        pane = app.query_one(JournalTail)
        first, late = entry(1, 0), entry(2, 10)
        assert pane.update_model(model(first, late)) == 2
        await pilot.pause()
        assert shown(pane) == ["m1", "m2"]
        assert str(pane.lines[0].text).startswith("02:14:05 allocation.changed")
        # id 3 was committed after id 2 but happened before it
        assert pane.update_model(model(first, late, entry(3, 5))) == 1
        await pilot.pause()
        assert shown(pane) == ["m1", "m3", "m2"]
        # a later one is appended; nothing new, nothing drawn
        assert pane.update_model(model(first, late, entry(3, 5), entry(4, 11))) == 1
        assert pane.update_model(model(first, late, entry(3, 5), entry(4, 11))) == 0
        await pilot.pause()
        assert shown(pane) == ["m1", "m3", "m2", "m4"]
