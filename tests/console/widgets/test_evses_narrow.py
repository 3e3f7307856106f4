"""The EVSE pane at 80×24, against the real controller of ``conftest``: scrolled
sideways to the last column, the EVSE id column stays (frozen); the selected EVSE's
binding constraint is under the table whole, with no scrolling at all."""

from __future__ import annotations

import pytest

from depotctl.console.widgets.evses import EvseDetail, EvseTable
from tests.console.conftest import Depot, loaded, shown

pytestmark = pytest.mark.anyio


async def test_at_80_columns_the_id_stays_and_the_binding_shows_whole(depot: Depot) -> None:
    app = depot.console(pane="evses")
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        table = app.query_one(EvseTable)
        first = table.shown[0]
        assert table.selected_evse() == first
        binding = app.model.evses[first].allocation.binding
        detail = shown(app.query_one(EvseDetail))
        assert binding.kind in detail and binding.detail[:40] in detail.replace("\n", " ")
        assert table.render_line(1).text.lstrip().startswith(first)
        table.scroll_to(x=table.max_scroll_x, animate=False)
        await pilot.pause()
        assert table.scroll_x > 0
        row = table.render_line(1).text
        assert row.lstrip().startswith(first), row  # the id column stays
        header = table.render_line(0).text
        assert header.lstrip().startswith("EVSE") and "Session" not in header, header
