"""The EVSE pane's readiness column and detail, driven with Textual's Pilot against
the real controller of ``conftest`` (its clock standing at START): each session's
forecast as the API gives it — ✓, or how short — and, for the selected EVSE, the
forecast in words in the site's time."""

from __future__ import annotations

from typing import Any

import pytest

from depotctl.client.figures import kwh
from depotctl.console.widgets.evses import COLUMNS, EvseDetail, EvseTable
from tests.console.conftest import Depot, loaded, shown

pytestmark = pytest.mark.anyio


def readiness_by_evse(depot: Depot) -> dict[str, dict[str, Any]]:
    with depot.http("readonly") as client:
        response = client.get("/sessions")
    assert response.status_code == 200
    return {s["evse"]: s["readiness"] for s in response.json()["sessions"]}


async def test_the_ready_column_shows_a_tick_or_how_short_as_the_api_forecasts(
    depot: Depot,
) -> None:
    forecasts = readiness_by_evse(depot)
    short = sorted(e for e, r in forecasts.items() if r["short_wh"] > 0)
    assert short, "the populated depot has sessions that will be short"
    app = depot.console(pane="evses")
    async with app.run_test(size=(160, 48)) as pilot:
        await loaded(pilot, app)
        table = app.query_one(EvseTable)
        column = [key for key, _, _ in COLUMNS].index("ready")
        for evse_id in table.shown:
            cell = shown(table.get_row(evse_id)[column])
            forecast = forecasts.get(evse_id)
            if forecast is None:
                assert cell == "—", evse_id
            elif forecast["short_wh"] > 0:
                assert cell == f"{kwh(forecast['short_wh'])} short", evse_id
            else:
                assert cell == "✓", evse_id
        # the most short one behind a full node: its forecast in words, in Sydney time
        full = [e for e in short if (forecasts[e]["cause"] or {}).get("node")]
        worst = max(full, key=lambda e: forecasts[e]["short_wh"])
        await pilot.press("slash", *worst, "enter")
        assert table.shown == [worst]
        binding_line, ready_line = shown(app.query_one(EvseDetail)).strip().splitlines()
        # on the present limit the cause is the binding the line above names: once
        assert f"{forecasts[worst]['cause']['node']} import power is full" in binding_line
        short = kwh(forecasts[worst]["short_wh"])
        assert ready_line.startswith(f"ready: will be {short} short at ")
        assert ready_line.endswith(" (present limit)") and "full" not in ready_line
        # the paused one: short, its cause the pause, which the line above names
        await pilot.press("slash", *"dc-02/1", "enter")
        detail = shown(app.query_one(EvseDetail))
        said = f"ready: will be {kwh(forecasts['dc-02/1']['short_wh'])} short at 06:30 "
        assert detail.count("paused by operator") == 1 and said in detail
