"""The store's revisions on a real file: numbered, hashed, never rewritten, applied by one writer at a time."""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from pathlib import Path

import pytest

from depotctl.controller.store import (
    RevisionConflict,
    Store,
    UnitOfWork,
    UnknownRevision,
    site_hash,
)
from tests.controller.store.records import SITE_A, SITE_B, at, raw


def test_revisions_are_numbered_hashed_and_listed_newest_first(uow: UnitOfWork) -> None:
    assert uow.revisions.current() is None
    first = uow.revisions.add(SITE_A, author="ana", message="seed", at=at(0), expected_current=None)
    second = uow.revisions.add(SITE_B, author="bo", message="more", at=at(1), expected_current=1)
    assert (first.number, second.number) == (1, 2)
    assert first.hash == site_hash(SITE_A) == hashlib.sha256(SITE_A.encode()).hexdigest()
    assert uow.revisions.current() == second
    assert uow.revisions.all() == [second, first]
    assert uow.revisions.get(1) == first
    assert uow.revisions.get(3) is None
    assert second.created_at == at(1) and second.author == "bo" and second.message == "more"


def test_add_revision_against_a_stale_revision_conflicts_and_stores_nothing(
    uow: UnitOfWork,
) -> None:
    uow.revisions.add(SITE_A, author="a", message="seed", at=at(0), expected_current=None)
    with pytest.raises(RevisionConflict) as conflict:
        uow.revisions.add(SITE_B, author="b", message="stale", at=at(1), expected_current=None)
    assert (conflict.value.expected, conflict.value.current) == (None, 1)
    with pytest.raises(RevisionConflict, match="expected revision 7"):
        uow.revisions.add(SITE_B, author="b", message="stale", at=at(1), expected_current=7)
    assert [r.number for r in uow.revisions.all()] == [1]


def test_rollback_adds_a_new_revision_with_the_old_text(uow: UnitOfWork) -> None:
    uow.revisions.add(SITE_A, author="a", message="seed", at=at(0), expected_current=None)
    uow.revisions.add(SITE_B, author="a", message="change", at=at(1), expected_current=1)
    back = uow.revisions.rollback_to(1, author="ops", at=at(2))
    assert (back.number, back.site_text, back.hash, back.rollback_of) == (
        3,
        SITE_A,
        site_hash(SITE_A),
        1,
    )
    assert back.message == "rollback to revision 1"
    assert [r.number for r in uow.revisions.all()] == [3, 2, 1]
    assert uow.revisions.get(2) is not None and uow.revisions.get(2).site_text == SITE_B  # type: ignore[union-attr]
    with pytest.raises(UnknownRevision):
        uow.revisions.rollback_to(9, author="ops", at=at(3))


def test_revisions_cannot_be_rewritten_even_by_hand(db: Path, uow: UnitOfWork) -> None:
    uow.revisions.add(SITE_A, author="a", message="seed", at=at(0), expected_current=None)
    with raw(db) as connection:
        with pytest.raises(sqlite3.IntegrityError, match="never rewritten"):
            connection.execute("UPDATE revisions SET site_text = 'x'")
        with pytest.raises(sqlite3.IntegrityError, match="never rewritten"):
            connection.execute("DELETE FROM revisions")


def race(stores: list[Store], round_: int) -> list[object]:
    """Both stores apply on top of revision ``round_`` at once; what each got."""
    barrier = threading.Barrier(len(stores))
    results: list[object] = [None] * len(stores)

    def apply(i: int) -> None:
        barrier.wait()
        try:
            results[i] = UnitOfWork(stores[i]).revisions.add(
                f"{SITE_B}# round {round_} by {i}\n",
                author=f"writer-{i}",
                message=f"round {round_}",
                at=at(round_),
                expected_current=round_,
            )
        except RevisionConflict as conflict:
            results[i] = conflict

    threads = [threading.Thread(target=apply, args=(i,)) for i in range(len(stores))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return results


def test_two_concurrent_applies_on_the_same_revision_one_wins(db: Path) -> None:
    """Two connections (as two API requests or two processes) race to apply on top of
    the same revision: exactly one wins, the other conflicts, nothing is lost."""
    seed = Store.open(db)
    UnitOfWork(seed).revisions.add(
        SITE_A, author="a", message="seed", at=at(0), expected_current=None
    )
    seed.close()
    stores = [Store.open(db), Store.open(db)]
    try:
        for round_ in range(1, 21):
            results = race(stores, round_)
            winners = [r for r in results if not isinstance(r, RevisionConflict)]
            losers = [r for r in results if isinstance(r, RevisionConflict)]
            assert len(winners) == 1 and len(losers) == 1, results
            assert losers[0].current == round_ + 1
        revisions = UnitOfWork(stores[0]).revisions.all()
        assert [r.number for r in revisions] == list(range(21, 0, -1))
        assert all(r.site_text.endswith(f"by {r.author[-1]}\n") for r in revisions[:-1])
    finally:
        for opened in stores:
            opened.close()


def test_one_store_shared_by_threads_serializes_applies(uow: UnitOfWork) -> None:
    uow.revisions.add(SITE_A, author="a", message="seed", at=at(0), expected_current=None)
    outcomes: list[str] = []

    def apply(i: int) -> None:
        try:
            uow.revisions.add(SITE_B, author=str(i), message="m", at=at(1), expected_current=1)
            outcomes.append("won")
        except RevisionConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=apply, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * 7 + ["won"]
    assert [r.number for r in uow.revisions.all()] == [2, 1]
