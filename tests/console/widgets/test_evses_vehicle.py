"""The EVSE pane names a session by its vehicle when the controller knows it (bus-42),
else by its id — against a real controller of its own."""

from __future__ import annotations

import pytest

from depotctl.console.widgets.evses import COLUMNS, EvseTable
from tests.console.conftest import Depot, loaded, shown

pytestmark = pytest.mark.anyio


async def test_the_session_column_shows_the_vehicle_when_known(fresh_depot: Depot) -> None:
    with fresh_depot.http() as client:
        first, second, *_ = client.get("/sessions").json()["sessions"]
        named = client.put(f"/sessions/{first['id']}/vehicle", json={"vehicle": "bus-42"})
        assert named.status_code == 200, named.text
    app = fresh_depot.console(pane="evses")
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot, app)
        table = app.query_one(EvseTable)
        column = [key for key, _, _ in COLUMNS].index("session")
        assert shown(table.get_row(first["evse"])[column]).strip() == "bus-42"
        unnamed = shown(table.get_row(second["evse"])[column]).strip()
        assert unnamed.rstrip("…") == second["id"][: len(unnamed.rstrip("…"))]
        assert len(unnamed) >= 8
