"""The console's timelines, via Pilot against the real controller of ``conftest`` (a
control cycle recorded, six hours of dc-01's readings put by the store's own writer):
the selected EVSE's timeline under the EVSE table at 80×24, the selected node's under
the tree, the explanation's chart; a burst of keys asks once the selection rests and
paints once; ``:at TIME`` looks back (the timeline ends there, the banner says PAST
beside the live time) and ``:now`` comes back."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import pytest
from rich.console import Console

from depotctl.api.timeline import Timeline
from depotctl.console.app import ConsoleApp
from depotctl.console.timeline import night_since, short
from depotctl.console.widgets.evses import EvseTable
from depotctl.console.widgets.explain import ExplainScreen
from depotctl.console.widgets.past import PastBanner
from depotctl.console.widgets.timeline import TimelineView
from depotctl.controller.dispatch import RecordingDispatcher
from depotctl.controller.inputs_record import InputsRecorder
from depotctl.controller.loop import ControlLoop
from depotctl.domain.telemetry import Reading
from tests.console.conftest import Depot, heard, loaded, populated_depot, shown, wait_for

pytestmark = pytest.mark.anyio


async def with_history(depot: Depot) -> datetime:
    """A recorded cycle (every EVSE's limit journaled) and dc-01's readings every five
    minutes over the six hours before now, climbing; now."""
    now = depot.clock.now()
    depot.controller.units().telemetry.put(
        Reading("dc-01", now - timedelta(minutes=5 * i), power_w=1_000.0 * (72 - i))
        for i in range(1, 73)
    )
    loop = ControlLoop(depot.controller, RecordingDispatcher(), inputs=InputsRecorder())
    await loop.cycle("tick")
    return now


@pytest.fixture(scope="module")
def night(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Depot]:
    """One controller with its history for the module's tests that only read."""
    with populated_depot(tmp_path_factory.mktemp("timeline")) as depot:
        asyncio.run(with_history(depot))
        yield depot


def select(app: ConsoleApp, evse: str) -> None:
    """Move the EVSE table's cursor to ``evse`` (as the arrow keys would)."""
    table = app.query_one(EvseTable)
    table.move_cursor(row=table.get_row_index(evse), animate=False)


def drawn(view: TimelineView) -> list[str]:
    """The lines the view draws at its width, as plain text."""
    out = io.StringIO()
    Console(file=out, width=view.content_size.width, color_system=None).print(view.render())
    return out.getvalue().rstrip("\n").split("\n")


def showing(view: TimelineView, subject: str) -> bool:
    return view.timeline is not None and view.timeline.subject == subject and view.loaded


async def test_the_selected_evses_timeline_fits_80x24_under_the_table(
    night: Depot,
) -> None:
    now = night.clock.now()
    app = night.console(pane="evses")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        view = app.query_one("#evse-timeline", TimelineView)
        table = app.query_one(EvseTable)
        subject = table.selected_evse()
        assert subject is not None
        await wait_for(pilot, lambda: showing(view, subject))
        timeline = view.timeline
        assert timeline is not None
        # the last night in the site's time, up to the controller's now
        assert timeline.until == now
        assert timeline.since == night_since(now, app.model.local)
        with night.http() as client:
            answer = client.get(
                f"/timeline/{subject.replace('/', '%2F')}",
                params={"since": timeline.since.isoformat(), "until": now.isoformat()},
            ).json()
        assert timeline == Timeline.model_validate(answer)
        assert str(view.border_title).startswith(f"{subject} ")
        assert view.region.bottom <= 23  # above the footer: nothing scrolls


async def test_dc01s_readings_draw_its_load(night: Depot) -> None:
    app = night.console(pane="evses")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        select(app, "dc-01/1")
        view = app.query_one("#evse-timeline", TimelineView)
        await wait_for(pilot, lambda: showing(view, "dc-01/1"))
        lines = drawn(view)
        assert [line[:6] for line in lines] == ["load  ", "limit ", "      "]
        assert all(len(line) <= 78 for line in lines)  # 80 columns less its padding
        load = lines[0][6:]
        # six hours of a twelve-hour window: the second half drawn, the first blank
        assert load[: len(load) // 2 - 1].strip() == ""
        assert load[len(load) // 2 + 1 :].strip() != ""
        assert "peak" in str(view.border_title)


async def test_a_burst_of_keys_asks_once_and_paints_once(night: Depot) -> None:
    app = night.console(pane="evses")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        view = app.query_one("#evse-timeline", TimelineView)
        first = app.query_one(EvseTable).selected_evse()
        assert first is not None
        await wait_for(pilot, lambda: showing(view, first))
        held, asked = hold_timelines(app)
        painted = view.paints
        await pilot.press(*["down"] * 8)
        await pilot.pause()
        last = app.query_one(EvseTable).selected_evse()
        assert last is not None and last != first
        held.set()  # the controller answers whatever was asked meanwhile
        await wait_for(pilot, lambda: showing(view, last))
        # at most the one asked before the burst ended and the one for where it ended
        assert 1 <= len(asked) <= 2 and asked[-1] == last
        assert view.paints == painted + 1  # what was asked meanwhile is not painted


def hold_timelines(app: ConsoleApp) -> tuple[asyncio.Event, list[str]]:
    """Hold every timeline the console asks for until the event is set (the real
    request follows); the subjects asked, in order."""
    coordinator = app.coordinator
    real = coordinator.timeline
    held = asyncio.Event()
    asked: list[str] = []

    async def timeline(subject: str, at: datetime | None) -> Timeline:
        asked.append(subject)
        await held.wait()
        return await real(subject, at)

    coordinator.timeline = timeline  # type: ignore[method-assign]
    return held, asked


async def test_the_tree_shows_the_selected_nodes_timeline(night: Depot) -> None:
    app = night.console(pane="tree")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        view = app.query_one("#tree-timeline", TimelineView)
        await wait_for(pilot, lambda: showing(view, "gc-main"))  # the site: its grid connection
        assert view.timeline is not None and view.timeline.unit == "W"
        await pilot.press("down")  # the grid connection's row, then the next node
        await pilot.press("down")
        cursor = app.query_one("#tree-view").cursor_node  # type: ignore[attr-defined]
        subject = cursor.data[1]
        assert subject != "gc-main"
        await wait_for(pilot, lambda: showing(view, subject))
        assert view.timeline is not None and view.timeline.kind in ("node", "evse")


async def test_the_explanation_charts_the_evse_and_its_binding_node(night: Depot) -> None:
    app = night.console(pane="evses")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        select(app, "dc-01/1")
        await pilot.press("e")
        await wait_for(pilot, lambda: isinstance(app.screen, ExplainScreen))
        view = app.screen.query_one("#explain-timeline", TimelineView)
        await wait_for(pilot, lambda: showing(view, "dc-01/1"))
        lines = drawn(view)
        assert len(lines) == 7  # six rows of blocks and the axis
        timeline = view.timeline
        assert timeline is not None
        values = [v for p in timeline.points for v in (p.load, p.limit) if v is not None]
        assert lines[0][:6] == f"{short(max(values), 'A'):>5} "  # the top, in amps
        assert max(p.load or 0.0 for p in timeline.points) == pytest.approx(71_000 / 690)
        assert lines[5].startswith("    0 ")
        assert str(view.border_title).startswith("dc-01/1 ")
        # under it, the node that binds it: envelope E-17's target
        assert app.screen.evse == "dc-01/1"
        node = app.screen.query_one("#explain-node-timeline", TimelineView)
        await wait_for(pilot, lambda: showing(node, "gc-main"))
        assert node.timeline is not None and node.timeline.unit == "W"


async def test_colon_at_looks_back_and_colon_now_comes_back(fresh_depot: Depot) -> None:
    now = await with_history(fresh_depot)
    app = fresh_depot.console(pane="evses")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        said = heard(app)
        view = app.query_one("#evse-timeline", TimelineView)
        fresh_depot.clock.advance(60)  # the cycle recorded at `now` is a minute old
        asked = now + timedelta(seconds=30)
        await command(pilot, "at 30s")
        await wait_for(pilot, lambda: app.model.past is not None)
        banner = app.query_one(PastBanner)
        await wait_for(pilot, lambda: "live is" in shown(banner))
        assert shown(banner).startswith("PAST ")
        assert shown(banner).endswith("— esc for now")
        await wait_for(pilot, lambda: view.timeline is not None and view.timeline.until == asked)
        await command(pilot, "now")
        await wait_for(pilot, lambda: app.model.past is None and not banner.display)
        await command(pilot, "jump")
        await wait_for(pilot, lambda: bool(said))
        assert said == ['unknown command ":jump"; try ":at 02:14" (the depot then) or ":now"']


async def command(pilot: Any, text: str) -> None:
    await pilot.press("colon")
    await pilot.pause()
    await pilot.press(*text)
    await pilot.press("enter")
