"""Alerts through the client: ``ControllerClient.alerts`` and the console's async
client against the real app on loopback (alerts raised by the real alert book in a
real store), and the answer read into values and put into one line."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from depotctl.api import Alert, Alerts
from depotctl.client.alerts import alert_sentence, alerts_line, alerts_of, site_zone
from depotctl.client.api import AsyncControllerClient, ControllerClient
from depotctl.controller.alerts import CLEAR_AFTER_S, AlertBook
from depotctl.controller.app import create_app
from depotctl.controller.auth import Tokens, load_or_create_tokens
from depotctl.domain.alerts import AlertCondition, AlertKind, Subject, SubjectKind
from tests.controller.test_app import START, serving
from tests.controller.test_inputs import fresh_controller

SYDNEY = ZoneInfo("Australia/Sydney")

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
METER = AlertCondition(
    AlertKind.METER_STALE, Subject(SubjectKind.METER, "m-workshop"), "no reading yet"
)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Tokens]]:
    """The AU depot with alerts: dc-07 raised at START (cleared 30 s after it went
    away at START + 1 min), gc-main at START + 3 min, the meter at START + 4 min."""
    controller, _ = fresh_controller(tmp_path)
    book = AlertBook(controller.units)
    for at, conditions in (
        (START, [CHARGER]),
        (START + timedelta(minutes=1), []),
        (START + timedelta(minutes=1, seconds=CLEAR_AFTER_S), []),
        (START + timedelta(minutes=3), [NODE]),
        (START + timedelta(minutes=4), [NODE, METER]),
    ):
        with controller.units() as uow:
            uow.journal.record(book.update(conditions, at=at))
    tokens = load_or_create_tokens(tmp_path)
    with serving(create_app(controller, tokens)) as url:
        yield url, tokens
    controller.close()


def test_the_client_reads_open_alerts_and_on_request_the_cleared(
    served: tuple[str, Tokens],
) -> None:
    url, tokens = served
    with ControllerClient(url, tokens.readonly) as client:
        open_only = client.alerts()
        everything = client.alerts(include_cleared=True)
        recent = client.alerts(since=START + timedelta(minutes=2))
        older = client.alerts(since=START)
    assert [a.kind for a in open_only.alerts] == ["node_overcommitted", "meter_stale"]
    assert open_only.timezone == "Australia/Sydney"
    assert [a.kind for a in everything.alerts] == [
        "charger_uncontrollable",
        "node_overcommitted",
        "meter_stale",
    ]
    assert [a.kind for a in recent.alerts] == ["node_overcommitted", "meter_stale"]
    assert len(older.alerts) == 3
    views = alerts_of(everything)
    [cleared] = [v for v in views if not v.is_open]
    assert cleared.cleared_at == START + timedelta(minutes=1)
    # the critical first, then by since
    assert [v.kind for v in views] == [
        "node_overcommitted",
        "charger_uncontrollable",
        "meter_stale",
    ]


def test_the_console_client_reads_the_same_alerts(served: tuple[str, Tokens]) -> None:
    url, tokens = served

    async def read() -> tuple[Alerts, Alerts]:
        client = AsyncControllerClient(url, tokens.readonly)
        try:
            return await client.alerts(), await client.alerts(include_cleared=True)
        finally:
            await client.aclose()

    open_only, everything = asyncio.run(read())
    with ControllerClient(url, tokens.readonly) as client:
        assert open_only.alerts == client.alerts().alerts
        assert everything.alerts == client.alerts(include_cleared=True).alerts


def test_the_line_names_the_open_alerts_in_site_time_the_critical_first(
    served: tuple[str, Tokens],
) -> None:
    url, tokens = served
    with ControllerClient(url, tokens.readonly) as client:
        body = client.alerts(include_cleared=True)
    zone = site_zone(body)
    line = alerts_line(alerts_of(body), zone, START)
    # START is 01:00 on 3 March in Sydney (UTC+11)
    assert line == (
        "2 — node gc-main over-committed since 01:03:00 (import power: assumed draws 612.4 kW "
        "over the 570.0 kW limit from envelope E-17); meter m-workshop stale since 01:04:00 "
        "(no reading yet)"
    )


def view(n: int, *, critical: bool = False, minutes: int = 0, **fields: object) -> Alert:
    since = datetime(2026, 3, 2, 18, 2, tzinfo=UTC) + timedelta(minutes=minutes)
    values: dict[str, object] = {
        "id": n,
        "kind": "node_overcommitted" if critical else "charger_uncontrollable",
        "severity": "critical" if critical else "warning",
        "subject": {"kind": "node" if critical else "charger", "id": f"x-{n}"},
        "since": since.isoformat(),
        "cleared_at": None,
        "open": True,
        "headline": f"thing x-{n} bad",
        "reason": "why",
        "message": f"thing x-{n} bad (why)",
        "data": {},
    }
    values.update(fields)
    return Alert.model_validate(values)


def test_no_open_alert_is_none() -> None:
    cleared = view(1, cleared_at="2026-03-02T19:00:00+00:00", open=False)
    assert alerts_line([], UTC) == "none"
    assert alerts_line([cleared], UTC) == "none"


def test_past_a_few_alerts_the_rest_are_counted() -> None:
    views = [view(n, minutes=n) for n in range(1, 6)]
    line = alerts_line(views, UTC, most=2)
    assert line == (
        "5 — thing x-1 bad since 2026-03-02 18:03:00+00:00 (why); "
        "thing x-2 bad since 2026-03-02 18:04:00+00:00 (why); and 3 more"
    )


def test_a_critical_alert_comes_first_whatever_its_age() -> None:
    line = alerts_line([view(1), view(2, critical=True, minutes=30)], UTC)
    assert line.startswith("2 — thing x-2 bad since 2026-03-02 18:32:00+00:00")


def test_an_alert_from_another_day_gives_its_date() -> None:
    alert = view(1)
    assert alert_sentence(alert, UTC, datetime(2026, 3, 3, 9, tzinfo=UTC)) == (
        "thing x-1 bad since 2026-03-02 18:02:00 (why)"
    )
    assert alert_sentence(alert, SYDNEY, alert.since) == "thing x-1 bad since 05:02:00 (why)"


def test_an_alert_of_a_kind_this_client_does_not_know_still_shows() -> None:
    unknown = view(4, critical=True, kind="battery_on_fire", headline="", reason="smoke")
    body = Alerts(time=unknown.since, timezone="Nowhere/Atlantis", open=1, alerts=[unknown])
    [alert] = alerts_of(body)
    assert site_zone(body) is UTC  # an unknown zone reads as UTC
    assert alert.is_critical and alert.is_open
    # without a headline, one is made of its subject and kind
    assert alert_sentence(alert, UTC) == (
        "node x-4 battery_on_fire since 2026-03-02 18:02:00+00:00 (smoke)"
    )
