"""The header's count of uncontrollable chargers, driven with Textual's Pilot against a
real controller on loopback: charger states put in its store as the control loop puts
them reach the header from the coordinator's poll of ``/chargers``, and the count goes
when every charger is controllable again."""

from __future__ import annotations

import pytest

from depotctl.console.model import Connection, Link, Model
from depotctl.console.widgets.status import StatusBar, header_text
from depotctl.domain.chargers import ChargerState, CommandOutcome
from tests.console.conftest import Depot, loaded, shown, wait_for

pytestmark = pytest.mark.anyio

REJECTED = ChargerState("dc-03", last_outcome=CommandOutcome.REJECTED, reason="rejected")
OFFLINE = ChargerState("pan-01", online=False, reason="offline: connection closed (1006)")


async def test_the_header_counts_the_uncontrollable_chargers_until_none_is(
    fresh_depot: Depot,
) -> None:
    units = fresh_depot.controller.units
    units().chargers.put([REJECTED, OFFLINE])
    app = fresh_depot.console()
    async with app.run_test(size=(160, 30)) as pilot:
        await loaded(pilot, app)
        await wait_for(pilot, lambda: app.model.uncontrollable_chargers == 2)
        await pilot.pause()
        header = shown(app.query_one(StatusBar))
        assert header.endswith("  ⚠ 2 chargers uncontrollable")

        units().chargers.put([ChargerState("pan-01")])
        await wait_for(pilot, lambda: app.model.uncontrollable_chargers == 1)
        await pilot.pause()
        assert shown(app.query_one(StatusBar)).endswith("  ⚠ 1 charger uncontrollable")

        units().chargers.put([ChargerState("dc-03")])
        await wait_for(pilot, lambda: app.model.uncontrollable_chargers == 0)
        await pilot.pause()
        assert "uncontrollable" not in shown(app.query_one(StatusBar))


@pytest.mark.parametrize("count", [None, 0])
def test_no_count_is_shown_when_none_is_or_the_controller_does_not_say(
    count: int | None,
) -> None:
    model = Model(Connection("http://depot", Link.CONNECTED), uncontrollable_chargers=count)
    assert "uncontrollable" not in header_text(model).plain
