"""SVG snapshots of the console's main screens (pytest-textual-snapshot), at 80×24
and 160×48, against the real controller of ``conftest`` whose simulated clock stands
still — so every run draws the same screen. Update them after a deliberate change
with ``pytest tests/console --snapshot-update`` and review the SVGs."""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pytest

from depotctl.console.widgets.timeline import TimelineView
from tests.console.conftest import Depot, loaded, wait_for

Compare = Callable[..., bool]


def prepared(depot: Depot, keys: Iterable[str] = (), **kw: Any) -> tuple[Any, Any]:
    app = depot.console(**kw)

    async def run_before(pilot: Any) -> None:
        await loaded(pilot, app)
        for key in keys:
            await pilot.press(key)
        screen = app.screen
        if hasattr(screen, "loaded"):
            await wait_for(pilot, lambda: screen.loaded)
        await wait_for(pilot, lambda: timelines_drawn(app))
        await pilot.pause(0.1)

    return app, run_before


def timelines_drawn(app: Any) -> bool:
    """Every timeline asked for on screen is drawn (the snapshot is of a settled screen)."""
    views = [*app.screen.query(TimelineView), *app.main.query(TimelineView)]
    return all(v.timeline is not None and not v.following for v in views if v.wanted)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
@pytest.mark.parametrize("pane", ["tree", "evses", "envelopes"])
def test_pane(depot: Depot, snap_compare: Compare, pane: str, size: tuple[int, int]) -> None:
    app, run_before = prepared(depot, pane=pane)
    assert snap_compare(app, terminal_size=size, run_before=run_before)


@pytest.mark.parametrize("size", [(80, 24), (160, 48)], ids=["80x24", "160x48"])
def test_explanation(depot: Depot, snap_compare: Compare, size: tuple[int, int]) -> None:
    app, run_before = prepared(depot, ["slash", *"bus-0001", "enter", "e"], pane="evses")
    assert snap_compare(app, terminal_size=size, run_before=run_before)


def test_read_only_tree(depot: Depot, snap_compare: Compare) -> None:
    app, run_before = prepared(depot, token="readonly")
    assert snap_compare(app, terminal_size=(80, 24), run_before=run_before)
