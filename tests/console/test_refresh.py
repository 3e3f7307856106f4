"""A live update redraws what changed and nothing else: the EVSE table sets only the
changed cells and repaints their rows, moves rows in place when a sort's order
changes (the cursor staying on its EVSE), and the tree relabels only the nodes that
changed — what the screen shows is the new model every time."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from textual.geometry import Region

from depotctl.api import Binding, EvseAllocation, LimitSource, NodeAllocation, NodeLimit
from depotctl.client.api import AsyncControllerClient
from depotctl.console.app import ConsoleApp
from depotctl.console.coordinator import Coordinator
from depotctl.console.model import Connection, EvseNow, Link, Model
from depotctl.console.widgets.evses import EvseTable
from depotctl.console.widgets.tree import ElectricalTree

pytestmark = pytest.mark.anyio

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
CHARGERS = 30


RATING = LimitSource(kind="static", ref=None, fresh=True, text="rating")
NO_LIMIT: dict[str, Any] = {
    **dict.fromkeys(("kind", "unit", "effective_limit", "source", "reserved", "allocated")),
    "headroom": None,
    "at_limit": False,
}


def _power(load: float) -> NodeLimit:
    return NodeLimit(
        kind="import_power",
        unit="kW",
        effective_limit=43.5,
        source=RATING,
        reserved=0.0,
        allocated=load,
        headroom=43.5 - load,
        at_limit=False,
    )


def _node(
    node_id: str, node_type: str, parent: str | None, limit: NodeLimit | None
) -> NodeAllocation:
    """A node whose tightest (and only) limit is ``limit``."""
    fields = limit.model_dump() if limit is not None else NO_LIMIT
    limits = [limit] if limit is not None else []
    return NodeAllocation(id=node_id, type=node_type, parent=parent, **fields, limits=limits)


def _evse(charger: str, limit_a: float) -> EvseNow:
    return EvseNow(
        EvseAllocation(
            id=f"{charger}/1",
            charger=charger,
            parent="db-1",
            limit_a=limit_a,
            limit_kw=6.9,
            state="charging",
            binding=Binding(kind="node_limit", ref="db-1", detail="db-1 is full"),
            session_id=None,
            tier=None,
        )
    )


def depot_model() -> Model:
    """A grid connection, one circuit and ``CHARGERS`` chargers of one EVSE each."""
    nodes = [
        _node("gc-1", "grid_connection", None, _power(100.0)),
        _node("db-1", "circuit", "gc-1", None),
    ]
    evses = {}
    for k in range(CHARGERS):
        charger = f"ch-{k:02d}"
        nodes.append(_node(charger, "charger", "db-1", _power(10.0 + k)))
        evses[f"{charger}/1"] = _evse(charger, 10.0 + k)
    return Model(
        connection=Connection("http://test", Link.CONNECTED),
        generation=1,
        time=START,
        site_name="test-depot",
        revision=1,
        nodes=tuple(nodes),
        evses=evses,
    )


def with_limit(model: Model, evse_id: str, limit_a: float) -> Model:
    evses = dict(model.evses)
    evses[evse_id] = _evse(evses[evse_id].allocation.charger, limit_a)
    return replace(model, evses=evses, generation=model.generation + 1)


def with_charger_load(model: Model, charger: str, load: float) -> Model:
    nodes = tuple(
        _node(charger, "charger", "db-1", _power(load)) if n.id == charger else n
        for n in model.nodes
    )
    return replace(model, nodes=nodes, generation=model.generation + 1)


def console() -> ConsoleApp:
    """The console fed its models by the test (no polling, no controller)."""
    return ConsoleApp(Coordinator(AsyncControllerClient("http://127.0.0.1:9", "t")), poll=False)


async def show(app: ConsoleApp, pilot: Any, model: Model) -> None:
    app.coordinator.model = model
    app.apply(model)
    await pilot.pause()


def screen_lines(widget: Any) -> list[str]:
    """The widget's lines as its compositor would get them now (stale cached lines
    included: a row that changed but was not repainted shows its old text)."""
    width, height = widget.size
    return [strip.text for strip in widget.render_lines(Region(0, 0, width, height))]


def line_of(lines: list[str], needle: str) -> str:
    found = [line for line in lines if needle in line]
    assert len(found) == 1, (needle, lines)
    return found[0]


async def test_a_live_update_sets_and_repaints_only_the_changed_cells() -> None:
    app = console()
    async with app.run_test(size=(120, 30)) as pilot:
        model = depot_model()
        await show(app, pilot, model)
        app.action_pane("evses")
        await pilot.pause()
        table = app.query_one(EvseTable)
        before = screen_lines(table)
        assert "15.0 A" in line_of(before, "ch-05/1")
        changed = with_limit(model, "ch-05/1", 42.5)
        assert table.update_model(changed) == 1  # the limit cell, no other
        app.coordinator.model = changed
        await pilot.pause()
        after = screen_lines(table)
        assert "42.5 A" in line_of(after, "ch-05/1") and "15.0 A" not in after
        assert [a for a, b in zip(after, before, strict=True) if a != b] == [
            line_of(after, "ch-05/1")
        ]
        assert table.get_row("ch-05/1")[3] == "42.5 A"
        assert table.update_model(changed) == 0  # nothing new: nothing set


async def test_a_sort_on_a_changing_value_moves_rows_and_keeps_the_cursor() -> None:
    app = console()
    # tall enough that the cursor's row shows with the top rows (the timeline under
    # the table takes four lines)
    async with app.run_test(size=(120, 34)) as pilot:
        model = depot_model()
        await show(app, pilot, model)
        app.action_pane("evses")
        table = app.query_one(EvseTable)
        while table.sort_key.name != "limit":
            app.action_sort()
        await pilot.pause()
        assert table.shown[:2] == ["ch-29/1", "ch-28/1"]  # the largest limit first
        table.move_cursor(row=table.shown.index("ch-10/1"))
        await pilot.pause()
        model = with_limit(model, "ch-03/1", 60.0)
        await show(app, pilot, model)
        assert table.shown[:2] == ["ch-03/1", "ch-29/1"]
        assert table.row_count == CHARGERS  # moved, none added or lost
        assert table.selected_evse() == "ch-10/1"  # the cursor followed its EVSE
        rows = [line for line in screen_lines(table) if "/1" in line]
        assert "ch-03/1" in rows[0] and "60.0 A" in rows[0] and "ch-29/1" in rows[1]


async def test_the_tree_relabels_a_changed_node_on_screen() -> None:
    app = console()
    async with app.run_test(size=(120, 40)) as pilot:
        model = depot_model()
        await show(app, pilot, model)
        tree = app.query_one(ElectricalTree)
        before = screen_lines(tree)
        assert "12.0/43.5 kW" in line_of(before, "ch-02 ")
        model = with_charger_load(model, "ch-02", 40.0)
        await show(app, pilot, model)
        after = screen_lines(tree)
        assert "40.0/43.5 kW" in line_of(after, "ch-02 ")
        assert [a for a, b in zip(after, before, strict=True) if a != b] == [
            line_of(after, "ch-02 ")
        ]
        assert tree.update_model(model) == 0  # nothing new: no label set
