"""The alert banner, driven with Textual's Pilot against a real controller on
loopback: alerts raised by the real alert book in its store appear above the panes
from the coordinator's poll — yellow, red once one is critical — and the banner goes
when they clear."""

from __future__ import annotations

from datetime import timedelta

import pytest

from depotctl.console.widgets.alerts import AlertBanner
from depotctl.controller.alerts import CLEAR_AFTER_S, AlertBook
from depotctl.domain.alerts import AlertCondition, AlertKind, Subject, SubjectKind
from tests.console.conftest import Depot, loaded, shown, wait_for
from tests.controller.test_app import START

pytestmark = pytest.mark.anyio

CHARGER = AlertCondition(
    AlertKind.CHARGER_UNCONTROLLABLE,
    Subject(SubjectKind.CHARGER, "dc-07"),
    "no answer within 5 s",
)
NODE = AlertCondition(
    AlertKind.NODE_OVERCOMMITTED,
    Subject(SubjectKind.NODE, "gc-main"),
    "import power: assumed draws 612.4 kW over the 570.0 kW limit from envelope E-17",
)


def update(depot: Depot, *conditions: AlertCondition, minutes: float) -> None:
    """What the control loop does each cycle, at START + ``minutes``."""
    book = AlertBook(depot.controller.units)
    with depot.controller.units() as uow:
        uow.journal.record(book.update(conditions, at=START + timedelta(minutes=minutes)))


async def test_no_alert_no_banner(depot: Depot) -> None:
    app = depot.console()
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, app)
        assert app.model.alerts == ()
        assert not app.query_one(AlertBanner).display


async def test_open_alerts_show_in_one_line_yellow_then_red_then_go(fresh_depot: Depot) -> None:
    update(fresh_depot, CHARGER, minutes=-58)
    app = fresh_depot.console()
    async with app.run_test(size=(160, 30)) as pilot:
        await loaded(pilot, app)
        banner = app.query_one(AlertBanner)
        assert banner.display and banner.has_class("warning") and not banner.has_class("critical")
        # the controller's clock stands at 01:00 in Sydney
        assert shown(banner) == (
            "⚠ alerts: 1 — charger dc-07 uncontrollable since 00:02:00 (no answer within 5 s)"
        )
        assert banner.region.height == 1

        update(fresh_depot, CHARGER, NODE, minutes=-55)
        await wait_for(pilot, lambda: len(app.model.alerts) == 2)
        await pilot.pause()
        assert banner.has_class("critical") and not banner.has_class("warning")
        assert shown(banner).startswith(
            "⚠ alerts: 2 — node gc-main over-committed since 00:05:00 (import power: assumed"
        )
        assert "charger dc-07 uncontrollable since 00:02:00" in shown(banner)

        update(fresh_depot, minutes=-50)
        update(fresh_depot, minutes=-50 + CLEAR_AFTER_S / 60)  # away long enough: cleared
        await wait_for(pilot, lambda: app.model.alerts == ())
        await pilot.pause()
        assert not banner.display
