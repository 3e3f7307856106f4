"""The journal pane's filter and jump-to-time: the filter keeps the entries holding
every word typed (in the kind, EVSE, envelope, session or message), in time order,
new ones arriving filtered too; ``g`` scrolls to the first entry at or after a time,
and says when the pane starts later than asked. Through the app, against a real
controller: ``/`` on the journal pane filters it, escape shows every entry again."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from textual.app import App, ComposeResult

from depotctl.api import JournalEntry
from depotctl.console.model import Connection, Model, tail
from depotctl.console.widgets.journal import JournalTail, matches
from tests.console.conftest import Depot, loaded, wait_for

pytestmark = pytest.mark.anyio

T0 = datetime(2026, 12, 7, 15, 0, tzinfo=UTC)  # 02:00 in Sydney
SYDNEY = ZoneInfo("Australia/Sydney")


def entry(entry_id: int, minutes: float, evse: str, message: str) -> JournalEntry:
    return JournalEntry(
        id=entry_id,
        at=T0 + timedelta(minutes=minutes),
        kind="allocation.changed",
        evse=evse,
        envelope=None,
        session=None,
        message=message,
        data={},
    )


def model(*entries: JournalEntry) -> Model:
    now = T0 + timedelta(hours=1)
    return Model(Connection("http://depot"), 1, now, local=SYDNEY, journal=tail(entries, 500))


class Pane(App[None]):
    def compose(self) -> ComposeResult:
        yield JournalTail()


NIGHT = [entry(i, 10 * i, f"dc-0{i % 3}/1", f"limit {i} A") for i in range(1, 10)]


def test_an_entry_matches_every_word_in_any_case() -> None:
    one = entry(1, 0, "dc-07/1", "limit 16 A: envelope E-17")
    assert matches(one, "")
    assert matches(one, "DC-07 e-17")
    assert matches(one, "allocation")
    assert not matches(one, "dc-07 E-18")


async def test_the_filter_keeps_matching_entries_and_new_ones_arrive_filtered() -> None:
    app = Pane()
    async with app.run_test(size=(80, 12)) as pilot:
        pane = app.query_one(JournalTail)
        pane.update_model(model(*NIGHT[:6]))
        pane.set_filter("dc-01")
        await pilot.pause()
        assert [e.id for e in pane.written] == [1, 4]
        assert len(pane.lines) == 2
        pane.update_model(model(*NIGHT))  # 7 is dc-01 too
        await pilot.pause()
        assert [e.id for e in pane.written] == [1, 4, 7]
        pane.set_filter("")
        await pilot.pause()
        assert [e.id for e in pane.written] == list(range(1, 10))
        assert len(pane.lines) == 9


async def test_jump_to_scrolls_to_the_first_entry_at_or_after_the_time() -> None:
    app = Pane()
    async with app.run_test(size=(80, 5)) as pilot:
        pane = app.query_one(JournalTail)
        pane.update_model(model(*NIGHT))
        await pilot.pause()
        said = pane.jump_to(T0 + timedelta(minutes=35))  # entry 4, at 02:40
        await pilot.pause()
        assert said == "2026-12-08 02:40:00+11:00: the first entry from then"
        assert pane.scroll_offset.y == 3
        said = pane.jump_to(T0 - timedelta(hours=1))
        await pilot.pause()
        assert said.startswith("the pane holds entries from 2026-12-08 02:10:00+11:00")
        assert pane.scroll_offset.y == 0
        said = pane.jump_to(T0 + timedelta(hours=5))
        assert said.startswith("no entry shown at or after 2026-12-08 07:00:00+11:00")


async def test_slash_on_the_journal_pane_filters_it(depot: Depot) -> None:
    app = depot.console(pane="journal")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        pane = app.query_one(JournalTail)
        await wait_for(pilot, lambda: len(pane.written) > 0)
        everything = len(pane.written)
        assert any(e.envelope != "E-18" for e in pane.written)
        await pilot.press("slash")
        assert app.query_one("#journal-filter").has_focus
        await pilot.press(*"E-18")
        await pilot.pause()
        assert pane.written and all(matches(e, "E-18") for e in pane.written)
        assert len(pane.written) < everything
        await pilot.press("escape")
        await pilot.pause()
        assert len(pane.written) == everything
        assert pane.has_focus
