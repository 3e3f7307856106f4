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


async def test_a_refused_token_is_a_configuration_error_with_its_fix_not_a_lost_link(
    depot: Depot,
) -> None:
    """A wrong token: the controller answers 401 to every poll. The console says which
    token, where it is read from and how to give it the right one — not "UNREACHABLE,
    retrying" — and keeps asking at its slowest pace."""
    from depotctl.client.api import AsyncControllerClient
    from depotctl.console.app import ConsoleApp
    from depotctl.console.coordinator import Coordinator
    from depotctl.console.widgets.status import Banner
    from tests.console.conftest import PATIENCE_S

    client = AsyncControllerClient(depot.url, "not-this-controllers-token", timeout=PATIENCE_S)
    coordinator = Coordinator(
        client,
        interval=0.2,
        first_backoff=0.1,
        max_backoff=0.3,
        token_source="/srv/depot/admin.token (--token-file)",
    )
    app = ConsoleApp(coordinator)
    async with app.run_test(size=(160, 30)) as pilot:
        await wait_for(pilot, lambda: app.model.connection.attempt >= 2)
        await pilot.pause()
        connection = app.model.connection
        assert connection.link is Link.REFUSED
        assert connection.retry_in == 0.3  # the slowest pace from the first refusal
        banner = app.query_one(Banner)
        assert banner.display
        text = " ".join(shown(banner).split())
        assert text.startswith(f"The controller at {depot.url} refuses the console's token 401 ")
        assert "The token is read from /srv/depot/admin.token (--token-file)." in text
        assert "STATE_DIR/tokens/admin.token on its host" in text
        assert f"depotctl context add NAME --server {depot.url} --token-file FILE" in text
        assert text.endswith("Asking again every 0.3 s")  # no data from it to keep
        assert "unreachable" not in text.lower() and "retrying" not in text
        header = shown(app.query_one(StatusBar))
        assert "TOKEN REFUSED" in header and "UNREACHABLE" not in header
        assert not app.model.loaded  # nothing from the controller was shown


@pytest.mark.parametrize(
    ("zone", "printed"),
    [
        ("Australia/Sydney", "2026-03-03 01:00:00+11:00"),
        ("Asia/Kolkata", "2026-03-02 19:30:00+05:30"),
        ("America/St_Johns", "2026-03-02 10:30:00-03:30"),
        ("UTC", "2026-03-02 14:00:00+00:00"),
    ],
)
def test_the_header_prints_the_controllers_time_as_every_command_does(
    zone: str, printed: str
) -> None:
    """The site's time with its offset, to the second, as ``format_instant`` prints it:
    no space before the offset, and ``parse_instant`` reads it back to the same instant."""
    from datetime import UTC, datetime
    from zoneinfo import ZoneInfo

    from depotctl.domain.instants import parse_instant

    at = datetime(2026, 3, 2, 14, 0, 0, 750_000, tzinfo=UTC)
    model = Model(Connection("http://depot", Link.CONNECTED), time=at, local=ZoneInfo(zone))
    header = header_text(model).plain
    assert f"  {printed}" in header
    assert parse_instant(printed, now=at, zone=UTC) == at.replace(microsecond=0)


def test_looking_back_the_header_marks_its_time_as_the_past() -> None:
    from datetime import UTC, datetime

    at = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
    live = Model(Connection("http://depot", Link.CONNECTED), time=at)
    assert "PAST" not in header_text(live).plain
    past = Model(Connection("http://depot", Link.CONNECTED), time=at, past=at)
    assert "  PAST  2026-03-02 14:00:00+00:00" in header_text(past).plain
