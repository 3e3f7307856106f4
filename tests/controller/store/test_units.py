"""The unit of work: every repository over one transaction, on a real file."""

from __future__ import annotations

from pathlib import Path

import pytest

from depotctl.controller.store import (
    JournalKind,
    Store,
    UnitOfWork,
    Units,
    journal_entry,
)
from tests.controller.store.records import at, envelope, session


def received(envelope_id: str) -> object:
    return journal_entry(
        JournalKind.ENVELOPE_RECEIVED, f"envelope {envelope_id}", at=at(0), envelope=envelope_id
    )


def test_a_unit_commits_a_repository_write_and_its_journal_entry_together(
    store: Store, db: Path
) -> None:
    units = Units(store)
    with units() as uow:
        uow.envelopes.put(envelope("env-1"))
        uow.journal.record([received("env-1")])  # type: ignore[list-item]
    with Store.open(db) as fresh:  # another connection sees both
        other = UnitOfWork(fresh)
        assert other.envelopes.get("env-1") == envelope("env-1")
        assert [e.envelope for e in other.journal.entries()] == ["env-1"]


def test_an_error_rolls_back_the_write_and_its_journal_entry(store: Store) -> None:
    units = Units(store)
    with pytest.raises(RuntimeError, match="after both"), units() as uow:
        uow.envelopes.put(envelope("env-1"))
        uow.journal.record([received("env-1")])  # type: ignore[list-item]
        raise RuntimeError("after both")
    uow = units()
    assert uow.envelopes.get("env-1") is None
    assert uow.journal.entries() == []


def test_a_refused_journal_entry_rolls_back_the_write_before_it(store: Store) -> None:
    units = Units(store)
    with pytest.raises(ValueError, match="secret"), units() as uow:
        uow.sessions.put(session("s-1"))
        uow.journal.record(
            [journal_entry("session.started", "s-1", at=at(0), data={"api_token": "x"})]
        )
    assert units().sessions.all() == []
    assert units().sessions.all(open_only=True) == []  # the read cache forgot it too


def test_a_unit_inside_another_is_undone_alone_when_its_error_is_caught(store: Store) -> None:
    units = Units(store)
    with units() as outer:
        outer.journal.record([journal_entry("kept", "outer", at=at(0))])
        with pytest.raises(RuntimeError), units() as inner:
            inner.journal.record([journal_entry("undone", "inner", at=at(0))])
            raise RuntimeError("inner only")
    assert [e.kind for e in units().journal.entries()] == ["kept"]


def test_one_unit_may_be_entered_again_and_nested(store: Store) -> None:
    uow = UnitOfWork(store)
    with uow:
        uow.journal.record([journal_entry("first", "one", at=at(0))])
        with uow:
            uow.journal.record([journal_entry("second", "two", at=at(1))])
    with uow:
        uow.journal.record([journal_entry("third", "three", at=at(2))])
    assert [e.kind for e in uow.journal.entries()] == ["first", "second", "third"]


def test_journal_entry_names_its_subjects_and_copies_its_data() -> None:
    data = {"limit_a": 16.0}
    entry = journal_entry(
        JournalKind.OVERRIDE_SET, "capped", at=at(0), evse="chg-01/1", session="s-1", data=data
    )
    data["limit_a"] = 0.0
    assert (entry.kind, entry.evse, entry.envelope, entry.session) == (
        "override.set",
        "chg-01/1",
        None,
        "s-1",
    )
    assert entry.data == {"limit_a": 16.0}
    assert journal_entry("cycle.failed", "m", at=at(0)).data == {}
