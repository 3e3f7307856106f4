"""The store's journal on a real file: append-only, queried by time and subject, refusing secrets."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime
from pathlib import Path

import pytest

from depotctl.controller.store import (
    NewJournalEntry,
    UnitOfWork,
)
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
