"""``GET /api/v1/chargers`` over real HTTP against the real app (the AU bus depot in a
SQLite file, its clock standing at START): charger states put in the store as the
control loop puts them, the uncontrollable charger's alert raised by the real alert
book from the controller's own live state."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from depotctl.controller.alerts import AlertBook
from depotctl.controller.app import create_app
from depotctl.controller.auth import Tokens, load_or_create_tokens
from depotctl.controller.clock import SimClock
from depotctl.controller.service import Controller
from depotctl.controller.store import Store
from depotctl.domain.chargers import ChargerState, CommandOutcome, HeldLimit
from depotctl.engine.alerts import alert_conditions
from tests.controller.test_app import AU_DEPOT, START, serving
from tests.controller.test_inputs import fresh_controller

LATER = START + timedelta(minutes=5)


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Tokens, Controller, SimClock]]:
    controller, clock = fresh_controller(tmp_path)
    tokens = load_or_create_tokens(tmp_path)
    with serving(create_app(controller, tokens)) as url:
        yield url, tokens, controller, clock
    controller.close()


def get(url: str, token: str | None) -> httpx.Response:
    headers = {"Authorization": f"Bearer {token}"} if token is not None else {}
    return httpx.get(url + "/api/v1/chargers", headers=headers)


def raise_alerts(controller: Controller) -> None:
    """The control loop's alert update, on the controller's live state."""
    live = controller.live()
    with controller.units() as uow:
        uow.journal.record(
            AlertBook(controller.units).update(
                alert_conditions(live.snapshot, live.allocation), at=live.snapshot.at
            )
        )


def test_every_charger_of_the_site_is_listed_with_its_evses_and_a_read_only_token_may(
    served: tuple[str, Tokens, Controller, SimClock],
) -> None:
    url, tokens, controller, _ = served
    answer = get(url, tokens.readonly)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    topology = controller.require_site().topology
    assert [c["id"] for c in body["chargers"]] == sorted(
        {e.charger_id for e in topology.evses.values()}
    )
    assert (body["time"], body["timezone"], body["uncontrollable"]) == (
        START.isoformat(),
        "Australia/Sydney",
        0,
    )
    first = body["chargers"][0]
    assert first == {
        "id": "ac-01",
        "evses": ["ac-01/1"],
        "heard_from": False,
        "online": True,
        "controllable": True,
        "reason": None,
        "since": None,
        "fallback_accepted": True,
        "last_outcome": None,
        "last_command_at": None,
        "last_accepted_limit_a": None,
        "held": {},
    }


def test_an_uncontrollable_charger_shows_why_since_when_and_the_limits_it_may_hold(
    served: tuple[str, Tokens, Controller, SimClock],
) -> None:
    url, tokens, controller, clock = served
    rejected = ChargerState(
        "dc-02",
        online=True,
        last_outcome=CommandOutcome.REJECTED,
        last_accepted_limit_a=120.0,
        last_command_at=START,
        reason="dc-02/1: rejected (profile refused)",
        held={
            "dc-02/1": (
                HeldLimit(120.0, START + timedelta(minutes=10)),
                HeldLimit(200.0, START + timedelta(minutes=2)),
            )
        },
    )
    accepted = ChargerState(
        "dc-01", last_outcome=CommandOutcome.ACCEPTED, last_accepted_limit_a=80.0
    )
    controller.units().chargers.put([rejected, accepted])
    raise_alerts(controller)  # at START
    clock.advance((LATER - START).total_seconds())

    body = get(url, tokens.readonly).json()
    chargers = {c["id"]: c for c in body["chargers"]}
    assert body["uncontrollable"] == 1
    assert [c["id"] for c in body["chargers"] if not c["controllable"]] == ["dc-02"]
    shown = chargers["dc-02"]
    assert shown["heard_from"] and shown["online"] and shown["fallback_accepted"]
    # its alert's words, as /alerts gives them
    assert shown["reason"] == "its last command was rejected: dc-02/1: rejected (profile refused)"
    assert shown["since"] == START.isoformat()  # its alert's, not the answer's time
    assert (shown["last_outcome"], shown["last_accepted_limit_a"]) == ("rejected", 120.0)
    assert shown["last_command_at"] == START.isoformat()
    assert shown["held"] == {
        "dc-02/1": [
            {"limit_a": 120.0, "until": (START + timedelta(minutes=10)).isoformat(), "holds": True},
            {"limit_a": 200.0, "until": (START + timedelta(minutes=2)).isoformat(), "holds": False},
        ]
    }
    assert body["time"] == LATER.isoformat()
    fine = chargers["dc-01"]
    assert (fine["controllable"], fine["reason"], fine["since"]) == (True, None, None)
    assert (fine["heard_from"], fine["last_accepted_limit_a"]) == (True, 80.0)


def test_an_uncontrollable_charger_before_its_alert_gives_the_controllers_record(
    served: tuple[str, Tokens, Controller, SimClock],
) -> None:
    url, tokens, controller, _ = served
    controller.units().chargers.put(
        [ChargerState("pan-01", online=False, reason="offline: connection closed (1006)")]
    )
    [shown] = [c for c in get(url, tokens.admin).json()["chargers"] if c["id"] == "pan-01"]
    assert (shown["controllable"], shown["online"]) == (False, False)
    assert shown["reason"] == "offline: connection closed (1006)"
    assert shown["since"] is None  # no alert raised yet: not known


def test_a_charger_never_heard_from_shows_as_the_controller_counts_it(
    served: tuple[str, Tokens, Controller, SimClock],
) -> None:
    url, tokens, controller, _ = served
    controller.unseen_chargers_controllable = False  # as `serve` has it
    controller.units().chargers.put([ChargerState("dc-01")])
    body = get(url, tokens.readonly).json()
    chargers = {c["id"]: c for c in body["chargers"]}
    assert body["uncontrollable"] == len(chargers) - 1
    unseen = chargers["dc-03"]
    assert (unseen["heard_from"], unseen["online"], unseen["fallback_accepted"]) == (
        False,
        False,
        False,
    )
    assert unseen["reason"] == "never connected to this controller"
    assert chargers["dc-01"]["controllable"] and chargers["dc-01"]["heard_from"]


def test_the_route_needs_a_token(served: tuple[str, Tokens, Controller, SimClock]) -> None:
    url, _, _, _ = served
    assert get(url, None).status_code == 401


def test_before_the_first_revision_there_is_no_site_to_list(tmp_path: Path) -> None:
    controller = Controller(
        Store.open(tmp_path / "depotctl.sqlite"),
        SimClock(START, monotonic=lambda: 0.0),
        base_dir=AU_DEPOT.parent,
    )
    tokens = load_or_create_tokens(tmp_path)
    try:
        with serving(create_app(controller, tokens)) as url:
            answer = get(url, tokens.readonly)
    finally:
        controller.close()
    assert answer.status_code == 404
    assert answer.json()["code"] == "not_found"
