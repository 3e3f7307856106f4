"""The store's journal on a real file: append-only, queried by time and subject, refusing secrets."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Iterable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from depotctl.api.journal import JournalFilters, JournalPosition
from depotctl.controller.store import (
    NewJournalEntry,
    Store,
    UnitOfWork,
)
from tests.controller.journal_night import a_night, record
from tests.controller.store.records import at, envelope, raw


def test_journal_round_trips_entries_oldest_first(uow: UnitOfWork) -> None:
    uow.journal.record(
        [
            NewJournalEntry(
                at(2),
                "allocation.changed",
                "chg-01/1 limited to 16 A because of envelope env-1",
                evse="chg-01/1",
                envelope="env-1",
                data={"before_a": 32.0, "after_a": 16.0, "causes": ["grid"]},
            ),
            NewJournalEntry(at(1), "envelope.received", "env-1 from dso", envelope="env-1"),
        ]
    )
    entries = uow.journal.entries()
    assert [e.kind for e in entries] == ["envelope.received", "allocation.changed"]
    changed = entries[1]
    assert changed.at == at(2) and changed.at.tzinfo is not None
    assert (changed.evse, changed.envelope, changed.session) == ("chg-01/1", "env-1", None)
    assert changed.data == {"before_a": 32.0, "after_a": 16.0, "causes": ["grid"]}
    assert entries[0].id > 0 and entries[1].id == entries[0].id - 1


def test_journal_queries_by_time_evse_envelope_session_and_follow(uow: UnitOfWork) -> None:
    uow.journal.record(
        NewJournalEntry(
            at(i),
            "k",
            f"m{i}",
            evse=f"chg-0{i % 2}/1",
            envelope="env-1" if i < 3 else None,
            session="s-9" if i == 4 else None,
        )
        for i in range(6)
    )

    def messages(**query: object) -> list[str]:
        return [e.message for e in uow.journal.entries(**query)]  # type: ignore[arg-type]

    assert messages(since=at(2), until=at(4)) == ["m2", "m3"]
    assert messages(evse="chg-01/1") == ["m1", "m3", "m5"]
    assert messages(envelope="env-1", evse="chg-00/1") == ["m0", "m2"]
    assert messages(session="s-9") == ["m4"]
    assert messages(limit=2) == ["m0", "m1"]
    assert messages(limit=2, latest=True) == ["m4", "m5"]
    third = uow.journal.entries()[2]
    assert messages(after_id=third.id) == ["m3", "m4", "m5"]
    assert messages(since=at(10)) == []


def test_times_before_the_year_1000_round_trip_in_time_order(uow: UnitOfWork) -> None:
    # found by the API fuzz (test_fuzz.py): strftime("%Y") wrote year 1 as "1-01-01",
    # which fromisoformat refused on every later read of the envelopes
    year = [datetime(y, 1, 1, tzinfo=UTC) for y in (1, 5, 10, 999)]
    ancient = envelope("env-ancient", start=year[0], end=year[3], received_at=year[0])
    assert uow.envelopes.put(ancient) is True
    assert uow.envelopes.get("env-ancient") == ancient
    assert uow.envelopes.all() == [ancient]
    uow.journal.record(NewJournalEntry(y, "k", f"year {y.year}") for y in year)
    since_year_6 = uow.journal.entries(since=datetime(6, 1, 1, tzinfo=UTC))
    assert [entry.message for entry in since_year_6] == ["year 10", "year 999"]
    assert [entry.at for entry in uow.journal.entries()] == year


def test_journal_refuses_secrets_naive_times_and_non_json_and_stores_none(uow: UnitOfWork) -> None:
    good = NewJournalEntry(at(0), "k", "fine")
    bad_entries = [
        NewJournalEntry(at(0), "k", "m", data={"charger": {"basic_auth_password": "hunter2"}}),
        NewJournalEntry(at(0), "k", "m", data={"api_token": "abc"}),
        NewJournalEntry(datetime(2024, 5, 1), "k", "naive"),
        NewJournalEntry(at(0), "k", "m", data={"when": datetime.now(UTC)}),
        NewJournalEntry(at(0), "k", "m", data={"x": float("nan")}),
    ]
    for bad in bad_entries:
        with pytest.raises(ValueError):
            uow.journal.record([good, bad])
    assert uow.journal.entries() == []


def test_journal_is_append_only_even_by_hand(db: Path, uow: UnitOfWork) -> None:
    uow.journal.record([NewJournalEntry(at(0), "k", "m")])
    with raw(db) as connection:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("UPDATE journal SET message = 'edited'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("DELETE FROM journal")


def test_journal_limit_must_not_be_negative(uow: UnitOfWork) -> None:
    with pytest.raises(ValueError, match="limit"):
        uow.journal.entries(limit=-1)


def test_a_nights_query_for_an_evse_reads_its_index_in_order(
    store: Store, uow: UnitOfWork, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page query and its count of the rest, for one EVSE's night after a cursor:
    a search of the EVSE's index over the night, already in the journal's order (no
    sort of its own); a page of everything after a cursor reads the time index, a kind's
    page and count its index (store migration 11)."""
    evses = [f"chg-{n:02d}/1" for n in range(30)]
    record(uow, a_night(evses, ["gc-main"], at(0), count=600))
    ran: list[tuple[str, list[Any]]] = []
    rows = store.rows

    def recording(sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        ran.append((sql, list(params)))
        return rows(sql, params)

    monkeypatch.setattr(store, "rows", recording)
    cursor = JournalPosition(at(60), 1).cursor()
    night = JournalFilters(evse="chg-03/1", since=at(0), until=at(720), cursor=cursor)
    assert uow.journal.entries(**night, limit=5) and uow.journal.count(**night) > 0
    uow.journal.entries(since=at(0), cursor=cursor, limit=5)
    uow.journal.entries(kind="charger.status", cursor=cursor, limit=5)
    uow.journal.count(kind="charger.status", cursor=cursor)
    monkeypatch.undo()
    plans = [
        " / ".join(row[3] for row in store.rows("EXPLAIN QUERY PLAN " + sql, params))
        for sql, params in ran
    ]
    assert plans[0].startswith("SEARCH journal USING INDEX journal_evse (evse=? AND at>")
    assert plans[1].startswith("SEARCH journal USING COVERING INDEX journal_evse (evse=?")
    assert plans[2].startswith("SEARCH journal USING INDEX journal_at (at>")
    assert plans[3].startswith("SEARCH journal USING INDEX journal_kind (kind=? AND at>")
    assert plans[4].startswith("SEARCH journal USING COVERING INDEX journal_kind (kind=?")
    assert not any("TEMP B-TREE" in plan for plan in plans), plans


def test_a_cursor_resumes_after_its_entry_among_entries_of_the_same_time(
    uow: UnitOfWork,
) -> None:
    uow.journal.record([NewJournalEntry(at(1), "k", f"m{n}") for n in range(5)])
    first = uow.journal.entries(limit=2)
    cursor = JournalPosition(first[-1].at, first[-1].id).cursor()
    rest = uow.journal.entries(cursor=cursor)
    assert [e.message for e in first + rest] == [f"m{n}" for n in range(5)]
    assert uow.journal.count(cursor=cursor) == 3


def test_a_cursor_not_made_by_a_position_is_refused_naming_what_to_pass() -> None:
    for text in ("", "not-a-cursor", JournalPosition(at(0), 1).cursor()[:-3] + "@@@"):
        with pytest.raises(ValueError, match="pass a page's `next` unchanged"):
            JournalPosition.of_cursor(text)
    position = JournalPosition(at(3), 42)
    assert JournalPosition.of_cursor(position.cursor()) == position


def test_a_cursor_of_a_time_beyond_utc_is_refused_not_an_error() -> None:
    text = base64.urlsafe_b64encode(b"0001-01-01T00:00:00+14:00~1").decode()
    with pytest.raises(ValueError, match="is not one this controller gave"):
        JournalPosition.of_cursor(text)
