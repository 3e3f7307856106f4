"""The alert book over a real SQLite store: raised and cleared each exactly once in
the journal, the debounce that keeps a flapping condition from writing every cycle,
a restart that neither repeats nor loses an alert; and ``GET /api/v1/alerts`` over
real HTTP, seeded through the book from the real controller's own conditions."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depotctl.controller.alerts import CLEAR_AFTER_S, RETENTION_S, AlertBook
from depotctl.controller.app import create_app
from depotctl.controller.auth import Tokens, load_or_create_tokens
from depotctl.controller.service import Controller
from depotctl.controller.store import JournalKind, Store, UnitOfWork, Units
from depotctl.domain.alerts import AlertCondition, AlertKind, Subject, SubjectKind
from depotctl.engine.alerts import alert_conditions
from tests.controller.test_app import START, serving
from tests.controller.test_inputs import fresh_controller

CHARGER = Subject(SubjectKind.CHARGER, "dc-07")
NODE = Subject(SubjectKind.NODE, "gc-main")
CLEAR = timedelta(seconds=CLEAR_AFTER_S)


def uncontrollable(reason: str = "no answer within 5 s") -> AlertCondition:
    return AlertCondition(AlertKind.CHARGER_UNCONTROLLABLE, CHARGER, reason, {"online": True})


def overcommitted(reserved: float = 650.0) -> AlertCondition:
    return AlertCondition(
        AlertKind.NODE_OVERCOMMITTED,
        NODE,
        f"import power: assumed draws {reserved:.1f} kW over the 600.0 kW limit from the site",
        {"limits": [{"kind": "import_power", "reserved": reserved, "effective_limit": 600.0}]},
    )


def s(seconds: float) -> datetime:
    return START + timedelta(seconds=seconds)


@pytest.fixture
def store(tmp_path: Path) -> Iterator[Store]:
    with Store.open(tmp_path / "depotctl.sqlite") as opened:
        yield opened


def cycle(book: AlertBook, conditions: list[AlertCondition], at: datetime) -> int:
    """What the control loop does: update and journal in one transaction; the number
    of journal entries written."""
    with book.units() as uow:
        entries = book.update(conditions, at=at)
        uow.journal.record(entries)
    return len(entries)


def alert_entries(store: Store) -> list[tuple[str, str]]:
    return [
        (e.kind, e.message)
        for e in UnitOfWork(store).journal.entries(limit=10_000)
        if e.kind in (JournalKind.ALERT_RAISED, JournalKind.ALERT_CLEARED)
    ]


def test_a_condition_is_raised_once_and_journaled_once(store: Store) -> None:
    book = AlertBook(Units(store))
    assert cycle(book, [uncontrollable()], s(0)) == 1
    for k in range(1, 20):
        assert cycle(book, [uncontrollable()], s(5 * k)) == 0
    [alert] = book.open_alerts()
    assert (alert.kind, alert.subject, alert.since) == (
        AlertKind.CHARGER_UNCONTROLLABLE,
        CHARGER,
        s(0),
    )
    assert alert_entries(store) == [
        ("alert.raised", "alert: charger dc-07 uncontrollable (no answer within 5 s)")
    ]
    [entry] = UnitOfWork(store).journal.entries(kind="alert.raised")
    assert entry.data["alert"] == alert.id
    assert entry.data["subject"] == {"kind": "charger", "id": "dc-07"}
    assert entry.data["severity"] == "warning"


def test_a_condition_gone_clears_once_it_stayed_away_and_dates_the_clearing_when_it_went(
    store: Store,
) -> None:
    book = AlertBook(Units(store))
    cycle(book, [uncontrollable()], s(0))
    assert cycle(book, [], s(60)) == 0  # gone at 60 s: not cleared yet
    assert cycle(book, [], s(60) + CLEAR - timedelta(seconds=1)) == 0
    assert book.open_alerts() != []
    assert cycle(book, [], s(60) + CLEAR) == 1
    assert book.open_alerts() == []
    [alert] = book.alerts(cleared_since=s(0))
    assert alert.cleared_at == s(60) and alert.since == s(0)
    assert alert_entries(store)[-1] == (
        "alert.cleared",
        "alert cleared after 60 s: charger dc-07 uncontrollable",
    )
    [entry] = UnitOfWork(store).journal.entries(kind="alert.cleared")
    assert entry.at == s(60) + CLEAR
    assert entry.data["duration_s"] == 60.0
    # it stays cleared: nothing more is written while the condition is away
    assert cycle(book, [], s(600)) == 0


def test_a_condition_back_before_its_alert_cleared_keeps_the_alert_and_writes_nothing(
    store: Store,
) -> None:
    book = AlertBook(Units(store))
    cycle(book, [uncontrollable()], s(0))
    assert cycle(book, [], s(10)) == 0
    assert cycle(book, [uncontrollable()], s(10 + CLEAR_AFTER_S - 1)) == 0
    # away again: the debounce starts over from this absence
    assert cycle(book, [], s(50)) == 0
    assert cycle(book, [], s(50 + CLEAR_AFTER_S - 1)) == 0
    assert cycle(book, [], s(50 + CLEAR_AFTER_S)) == 1
    [alert] = book.alerts(cleared_since=s(0))
    assert alert.cleared_at == s(50)
    assert [kind for kind, _ in alert_entries(store)] == ["alert.raised", "alert.cleared"]


def test_a_condition_that_flaps_every_cycle_writes_one_entry_not_one_per_cycle(
    store: Store,
) -> None:
    book = AlertBook(Units(store))
    written = sum(
        cycle(book, [uncontrollable()] if k % 2 == 0 else [], s(5 * k)) for k in range(240)
    )  # 20 minutes of 5 s cycles, the charger answering every other one
    assert written == 1
    assert len(book.open_alerts()) == 1


def test_a_condition_raised_again_after_it_cleared_is_a_new_alert(store: Store) -> None:
    book = AlertBook(Units(store))
    cycle(book, [uncontrollable()], s(0))
    cycle(book, [], s(10))
    cycle(book, [], s(10) + CLEAR)
    assert cycle(book, [uncontrollable("offline")], s(100)) == 1
    [again] = book.open_alerts()
    assert again.since == s(100) and again.reason == "offline"
    assert len(book.alerts(cleared_since=s(0))) == 2


def test_an_open_alert_follows_its_conditions_figures_without_journaling_them(
    store: Store,
) -> None:
    book = AlertBook(Units(store))
    cycle(book, [overcommitted(650.0)], s(0))
    assert cycle(book, [overcommitted(655.5)], s(5)) == 0
    [alert] = book.open_alerts()
    assert alert.reason.startswith("import power: assumed draws 655.5 kW")
    assert alert.data["limits"][0]["reserved"] == 655.5
    assert alert.since == s(0)
    assert len(alert_entries(store)) == 1


def test_of_two_conditions_on_one_subject_the_first_counts(store: Store) -> None:
    book = AlertBook(Units(store))
    assert cycle(book, [uncontrollable("first"), uncontrollable("second")], s(0)) == 1
    assert [a.reason for a in book.open_alerts()] == ["first"]


def test_several_kinds_and_subjects_are_kept_apart(store: Store) -> None:
    book = AlertBook(Units(store))
    assert cycle(book, [uncontrollable(), overcommitted()], s(0)) == 2
    assert cycle(book, [overcommitted()], s(5)) == 0
    assert cycle(book, [overcommitted()], s(5) + CLEAR) == 1
    [left] = book.open_alerts()
    assert left.kind is AlertKind.NODE_OVERCOMMITTED
    [raised] = [
        e
        for e in UnitOfWork(store).journal.entries(kind="alert.raised")
        if e.data["kind"] == left.kind
    ]
    assert raised.data["severity"] == "critical"


def test_an_alert_on_an_evse_or_session_is_found_by_the_journals_filters(store: Store) -> None:
    book = AlertBook(Units(store))
    evse = AlertCondition(
        AlertKind.CHARGER_UNCONTROLLABLE, Subject(SubjectKind.EVSE, "dc-01/1"), "x"
    )
    session = AlertCondition(
        AlertKind.CHARGER_UNCONTROLLABLE, Subject(SubjectKind.SESSION, "bus-1"), "y"
    )
    cycle(book, [evse, session], s(0))
    assert [e.message for e in UnitOfWork(store).journal.entries(evse="dc-01/1")] == [
        "alert: evse dc-01/1 uncontrollable (x)"
    ]
    assert [e.message for e in UnitOfWork(store).journal.entries(session="bus-1")] == [
        "alert: session bus-1 uncontrollable (y)"
    ]


def test_a_restart_neither_repeats_nor_loses_an_alert_or_its_pending_clearance(
    tmp_path: Path,
) -> None:
    path = tmp_path / "depotctl.sqlite"
    with Store.open(path) as store:
        book = AlertBook(Units(store))
        cycle(book, [uncontrollable(), overcommitted()], s(0))
        cycle(book, [overcommitted()], s(20))  # the charger is back at 20 s
    with Store.open(path) as store:  # the controller restarted
        book = AlertBook(Units(store))
        assert {a.kind for a in book.open_alerts()} == {
            AlertKind.CHARGER_UNCONTROLLABLE,
            AlertKind.NODE_OVERCOMMITTED,
        }
        assert cycle(book, [overcommitted()], s(25)) == 0  # nothing raised twice
        assert cycle(book, [overcommitted()], s(20) + CLEAR) == 1  # cleared on time
        [cleared] = [a for a in book.alerts(cleared_since=s(0)) if not a.is_open]
        assert cleared.cleared_at == s(20)
        kinds = [kind for kind, _ in alert_entries(store)]
    assert kinds == ["alert.raised", "alert.raised", "alert.cleared"]


def test_a_cycle_that_fails_leaves_no_alert_behind(store: Store) -> None:
    """The book writes in the caller's transaction: a cycle rolled back raises
    nothing, so the next one raises (and journals) it."""
    book = AlertBook(Units(store))
    with pytest.raises(RuntimeError), store.transaction():
        book.update([uncontrollable()], at=s(0))
        raise RuntimeError("the dispatch fell over")
    assert book.open_alerts() == []
    assert cycle(book, [uncontrollable()], s(5)) == 1


def test_cleared_alerts_are_dropped_after_the_retention(store: Store) -> None:
    book = AlertBook(Units(store))
    cycle(book, [uncontrollable()], s(0))
    cycle(book, [], s(10))
    cycle(book, [], s(10) + CLEAR)
    assert len(book.alerts(cleared_since=s(0))) == 1
    cycle(book, [], s(10 + RETENTION_S - 1))
    assert len(book.alerts(cleared_since=s(0))) == 1
    cycle(book, [], s(10 + RETENTION_S + 1))
    assert book.alerts(cleared_since=s(0)) == []
    assert len(alert_entries(store)) == 2  # the journal keeps them


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.integers(1, 40), st.booleans()), min_size=1, max_size=40))
def test_the_journal_of_a_flapping_condition_is_bounded_and_alternates(
    tmp_path_factory: pytest.TempPathFactory, steps: list[tuple[int, bool]]
) -> None:
    """Whatever the cycles (gaps in seconds, the condition holding or not): the alert
    is open exactly while the condition holds or was first seen away less than
    CLEAR_AFTER_S ago, and is then cleared as of that first absence; raises and
    clears alternate, each alert is raised and cleared once, and raises are more than
    CLEAR_AFTER_S apart — so the journal grows by at most two entries per
    CLEAR_AFTER_S, however the condition flaps."""
    path = tmp_path_factory.mktemp("flap") / "depotctl.sqlite"
    with Store.open(path) as store:
        book = AlertBook(Units(store))
        now = s(0)
        ever_held = False
        first_absent: datetime | None = None
        for gap, holds in steps:
            now += timedelta(seconds=gap)
            cycle(book, [uncontrollable()] if holds else [], now)
            if holds:
                ever_held, first_absent = True, None
            elif ever_held and first_absent is None:
                first_absent = now
            gone = first_absent is not None and now - first_absent >= CLEAR
            assert bool(book.open_alerts()) == (holds or (ever_held and not gone))
            if gone:
                assert first_absent is not None
                latest = max(book.alerts(cleared_since=s(0)), key=lambda a: a.id)
                assert latest.cleared_at == first_absent
        entries = [
            e
            for e in UnitOfWork(store).journal.entries(limit=10_000)
            if e.kind.startswith("alert.")
        ]
    kinds = [e.kind for e in entries]
    assert kinds[:1] in ([], ["alert.raised"])
    assert all(a != b for a, b in itertools.pairwise(kinds))
    raised = [e.data["alert"] for e in entries if e.kind == "alert.raised"]
    cleared = [e.data["alert"] for e in entries if e.kind == "alert.cleared"]
    assert cleared == raised[: len(cleared)] and len(set(raised)) == len(raised)
    raises = [e.at for e in entries if e.kind == "alert.raised"]
    assert all(b - a > CLEAR for a, b in itertools.pairwise(raises))


# The real controller's conditions, through the book, over HTTP


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Tokens, Controller]]:
    controller, _ = fresh_controller(tmp_path)
    tokens = load_or_create_tokens(tmp_path)
    with serving(create_app(controller, tokens)) as url:
        yield url, tokens, controller
    controller.close()


def get(url: str, token: str, **params: str) -> httpx.Response:
    return httpx.get(
        url + "/api/v1/alerts", params=params, headers={"Authorization": f"Bearer {token}"}
    )


def test_the_route_serves_the_controllers_own_conditions_raised_by_the_book(
    served: tuple[str, Tokens, Controller],
) -> None:
    url, tokens, controller = served
    assert get(url, tokens.readonly).json()["alerts"] == []
    # the loop's one call, on the controller's own live state: the AU depot's DNSP
    # has never been heard from and its workshop meter never read
    live = controller.live()
    book = AlertBook(controller.units)
    with controller.store.transaction():
        entries = book.update(alert_conditions(live.snapshot, live.allocation), at=live.snapshot.at)
        controller.units().journal.record(entries)
    answer = get(url, tokens.readonly)
    assert answer.status_code == 200
    body = answer.json()
    assert body["timezone"] == "Australia/Sydney"
    assert body["open"] == len(body["alerts"]) == len(entries) > 0
    assert [(a["kind"], a["subject"]) for a in body["alerts"]] == [
        ("meter_stale", {"kind": "meter", "id": "m-workshop"}),
        ("source_offline", {"kind": "source", "id": "ausgrid-oscp"}),
    ]
    assert [a["message"] for a in body["alerts"]] == [
        e.message.removeprefix("alert: ") for e in entries
    ]
    first = body["alerts"][0]
    assert set(first) == {
        "id",
        "kind",
        "severity",
        "subject",
        "since",
        "cleared_at",
        "open",
        "headline",
        "reason",
        "message",
        "data",
    }
    assert first["since"] == START.isoformat() and first["open"] is True
    assert first["message"] == f"{first['headline']} ({first['reason']})"


def test_the_route_adds_cleared_alerts_with_all_or_since(
    served: tuple[str, Tokens, Controller],
) -> None:
    url, tokens, controller = served
    book = AlertBook(controller.units)
    cycle(book, [uncontrollable(), overcommitted()], s(0))
    cycle(book, [overcommitted()], s(10))
    cycle(book, [overcommitted()], s(10) + CLEAR)
    open_only = get(url, tokens.admin).json()
    assert [a["kind"] for a in open_only["alerts"]] == ["node_overcommitted"]
    everything = get(url, tokens.admin, all="true").json()
    assert [(a["kind"], a["open"]) for a in everything["alerts"]] == [
        ("charger_uncontrollable", False),
        ("node_overcommitted", True),
    ]
    assert everything["open"] == 1
    assert everything["alerts"][0]["cleared_at"] == s(10).isoformat()
    later = get(url, tokens.admin, since=(s(11)).isoformat()).json()
    assert [a["kind"] for a in later["alerts"]] == ["node_overcommitted"]
    earlier = get(url, tokens.admin, since="2026-03-02T14:00:05Z").json()
    assert len(earlier["alerts"]) == 2


@pytest.mark.parametrize(
    "params",
    [
        {"since": "2026-03-02T14:00:00"},  # no zone
        {"since": "yesterday"},
        {"limit": "0"},
        {"all": "maybe"},
    ],
)
def test_the_route_refuses_bad_queries_with_422(
    served: tuple[str, Tokens, Controller], params: dict[str, str]
) -> None:
    url, tokens, _ = served
    answer = get(url, tokens.admin, **params)
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_request"


def test_the_route_needs_a_token(served: tuple[str, Tokens, Controller]) -> None:
    url, _, _ = served
    assert httpx.get(url + "/api/v1/alerts").status_code == 401
