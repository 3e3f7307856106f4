"""The console looks back (``t``): against the real controller of ``conftest`` with
two recorded control cycles a minute apart — dc-02 paused by an operator in the first,
resumed before the second — the whole depot is shown as the first cycle left it,
marked PAST in the site's time beside the live time, esc back to now; an instant older than the inputs
kept is refused in words and the console stays at now."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest

from depotctl.console.app import ConsoleApp
from depotctl.console.widgets.evses import COLUMNS, EvseTable
from depotctl.console.widgets.past import PastBanner
from depotctl.controller.dispatch import RecordingDispatcher
from depotctl.controller.inputs_record import InputsRecorder
from depotctl.controller.loop import ControlLoop
from depotctl.domain.instants import format_clock, format_instant
from tests.console.conftest import Depot, heard, loaded, shown, wait_for

pytestmark = pytest.mark.anyio

STATE = [key for key, _, _ in COLUMNS].index("state")


async def two_cycles(depot: Depot) -> datetime:
    """A recorded cycle with dc-02 paused, a minute, dc-02 resumed, another cycle;
    the first cycle's instant."""
    loop = ControlLoop(depot.controller, RecordingDispatcher(), inputs=InputsRecorder())
    await loop.cycle("tick")
    paused_at = depot.clock.now()
    depot.clock.advance(60)
    with depot.http() as client:
        assert client.delete("/evses/dc-02%2F1/override").is_success
    await loop.cycle("tick")
    return paused_at


async def ask(pilot: Any, text: str) -> None:
    await pilot.press("t")
    await pilot.pause()
    await pilot.press(*text)
    await pilot.press("enter")


def dc02_state(app: ConsoleApp) -> str:
    return shown(app.query_one(EvseTable).get_row("dc-02/1")[STATE])


async def test_t_shows_the_depot_as_a_past_cycle_left_it_and_esc_comes_back(
    fresh_depot: Depot,
) -> None:
    paused_at = await two_cycles(fresh_depot)
    app = fresh_depot.console(pane="evses")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        banner = app.query_one(PastBanner)
        assert not banner.display
        assert "paused" not in dc02_state(app)
        asked = paused_at + timedelta(seconds=30)  # between the cycles: the first's
        await ask(pilot, asked.isoformat())
        await wait_for(pilot, lambda: app.model.past is not None)
        await pilot.pause()
        assert app.model.past == paused_at
        assert banner.display
        when = format_instant(paused_at, app.model.local)
        live = format_clock(fresh_depot.clock.now(), app.model.local)
        assert shown(banner) == f"PAST  {when}, live is {live} — esc for now"
        assert "paused" in dc02_state(app)
        assert not app.model.may_write  # no changes to the past
        await pilot.press("escape")
        await wait_for(pilot, lambda: app.model.past is None)
        await pilot.pause()
        assert not banner.display
        assert "paused" not in dc02_state(app)
        assert app.model.may_write


async def test_an_instant_older_than_the_inputs_kept_is_refused_in_words(
    fresh_depot: Depot,
) -> None:
    paused_at = await two_cycles(fresh_depot)
    app = fresh_depot.console(pane="evses")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        said = heard(app)
        await ask(pilot, (paused_at - timedelta(hours=1)).isoformat())
        await wait_for(pilot, lambda: bool(said))
        assert said[0].startswith("cannot show the past: 404 inputs_not_kept"), said
        assert app.model.past is None and app.coordinator.at is None
        assert not app.query_one(PastBanner).display
        await ask(pilot, "+2h")  # the future is not shown
        await wait_for(pilot, lambda: len(said) > 1)
        assert said[1].endswith("is after the controller's now; give a past time"), said
        assert app.coordinator.at is None
