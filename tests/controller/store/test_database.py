"""The store's database on a real file: opening it, migrations, transactions, crash safety, the read cache."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
import textwrap
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from depotctl.controller import migrations
from depotctl.controller.store import (
    EvseOverride,
    NewJournalEntry,
    Store,
    StoreVersionError,
    UnitOfWork,
)
from depotctl.domain.chargers import ChargerState
from depotctl.domain.sessions import Session
from depotctl.domain.telemetry import Reading
from tests.controller.store.records import ROOT, SITE_A, T0, at, envelope, raw, session


def test_open_creates_a_private_wal_store_at_the_latest_schema(db: Path) -> None:
    with Store.open(db) as store:
        assert store.schema_version == migrations.LATEST
        assert store.latest_schema_version() == migrations.LATEST
        pragmas = {
            name: store._db.execute(f"PRAGMA {name}").fetchone()[0]
            for name in ("journal_mode", "synchronous", "foreign_keys", "busy_timeout")
        }
    assert pragmas == {
        "journal_mode": "wal",
        "synchronous": 2,
        "foreign_keys": 1,
        "busy_timeout": 10000,
    }
    assert stat.S_IMODE(db.stat().st_mode) == 0o600
    with raw(db) as connection:
        assert (
            connection.execute("PRAGMA application_id").fetchone()[0] == migrations.APPLICATION_ID
        )


def test_reopening_keeps_the_data_and_runs_no_migration_twice(db: Path) -> None:
    with Store.open(db) as store:
        UnitOfWork(store).revisions.add(
            SITE_A, author="ops", message="seed", at=at(0), expected_current=None
        )
    with Store.open(db) as store:
        assert store.schema_version == migrations.LATEST
        current = UnitOfWork(store).revisions.current()
        assert current is not None and current.site_text == SITE_A


def test_a_store_from_a_newer_depotctl_is_refused_clearly(db: Path) -> None:
    Store.open(db).close()
    with raw(db) as connection:
        connection.execute(f"PRAGMA user_version = {migrations.LATEST + 1}")
    with pytest.raises(StoreVersionError, match=r"newer than this depotctl knows.*upgrade"):
        Store.open(db)


def test_another_applications_database_is_refused(db: Path) -> None:
    db.parent.mkdir(parents=True)
    with raw(db) as connection:
        connection.execute("PRAGMA application_id = 42")
    with pytest.raises(StoreVersionError, match="not a depotctl store"):
        Store.open(db)


def test_a_failing_migration_leaves_the_previous_version_whole(
    db: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    Store.open(db).close()
    broken = migrations.Migration(
        migrations.LATEST + 1,
        "half a migration",
        ("CREATE TABLE half_done (x INTEGER)", "CREATE TABLE broken ("),
    )
    monkeypatch.setattr(migrations, "MIGRATIONS", (*migrations.MIGRATIONS, broken))
    monkeypatch.setattr(migrations, "LATEST", broken.version)
    with pytest.raises(sqlite3.OperationalError):
        Store.open(db)
    monkeypatch.undo()
    with Store.open(db) as store:
        assert store.schema_version == migrations.LATEST
        tables = {r[0] for r in store._db.execute("SELECT name FROM sqlite_master")}
    assert "half_done" not in tables


def test_a_transaction_commits_all_or_nothing(uow: UnitOfWork) -> None:
    with pytest.raises(RuntimeError), uow:
        uow.revisions.add(SITE_A, author="a", message="seed", at=at(0), expected_current=None)
        uow.journal.record([NewJournalEntry(at(0), "revision.applied", "applied 1")])
        raise RuntimeError("crash mid-apply")
    assert uow.revisions.current() is None
    assert uow.journal.entries() == []
    with uow:
        uow.revisions.add(SITE_A, author="a", message="seed", at=at(0), expected_current=None)
        uow.journal.record([NewJournalEntry(at(0), "revision.applied", "applied 1")])
    assert uow.revisions.current() is not None
    assert [e.message for e in uow.journal.entries()] == ["applied 1"]


def test_a_caught_error_inside_a_transaction_undoes_only_its_part(uow: UnitOfWork) -> None:
    with uow:
        uow.journal.record([NewJournalEntry(at(0), "a", "kept")])
        with pytest.raises(ValueError):
            uow.journal.record(
                [NewJournalEntry(at(0), "b", "undone"), NewJournalEntry(at(0), "", "no kind")]
            )
    assert [e.message for e in uow.journal.entries()] == ["kept"]


KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    from pathlib import Path
    from depotctl.controller.store import NewJournalEntry, Store, UnitOfWork

    path, mode = Path(sys.argv[1]), sys.argv[2]
    at = datetime(2024, 5, 1, tzinfo=UTC)
    store = Store.open(path)
    UnitOfWork(store).revisions.add("site: 1\\n", author="a", message="seed", at=at, expected_current=None)
    UnitOfWork(store).journal.record(NewJournalEntry(at, "baseline", f"row {i}") for i in range(10))

    def bulk():
        for i in range(6000):
            if mode == "mid" and i == 5000:
                print("mid-write", flush=True)
                time.sleep(60)
            yield NewJournalEntry(at, "bulk", f"row {i}", data={"pad": "x" * 1000})

    if mode == "apply":
        with store.transaction():
            UnitOfWork(store).revisions.add("site: 2\\n", author="a", message="m", at=at, expected_current=1)
            UnitOfWork(store).journal.record(bulk())
            print("mid-write", flush=True)
            time.sleep(60)
    else:
        UnitOfWork(store).journal.record(bulk())
    print("committed", flush=True)
    time.sleep(60)
    """
)


def run_and_kill(tmp_path: Path, db: Path, mode: str, wait_for: str) -> int:
    """Run the script, SIGKILL it once it prints ``wait_for``; the WAL's size then."""
    script = tmp_path / "writer.py"
    script.write_text(KILL_SCRIPT)
    process = subprocess.Popen(
        [sys.executable, str(script), str(db), mode],
        stdout=subprocess.PIPE,
        text=True,
        cwd=ROOT,
    )
    try:
        assert process.stdout is not None
        line = process.stdout.readline().strip()
        assert line == wait_for, f"writer said {line!r}"
        wal = Path(f"{db}-wal")
        wal_size = wal.stat().st_size if wal.exists() else 0
        process.kill()
    finally:
        process.wait(timeout=10)
    assert process.returncode == -9
    return wal_size


def assert_consistent(db: Path) -> None:
    with raw(db) as connection:
        assert connection.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def test_killed_mid_write_keeps_none_of_the_transaction(tmp_path: Path, db: Path) -> None:
    wal_size = run_and_kill(tmp_path, db, "mid", "mid-write")
    # 5000 rows of 1 kB were written (uncommitted) to the file before the kill
    assert wal_size > 2_000_000
    assert_consistent(db)
    with Store.open(db) as store:
        kinds = [e.kind for e in UnitOfWork(store).journal.entries(limit=10_000)]
        assert kinds == ["baseline"] * 10
        UnitOfWork(store).journal.record([NewJournalEntry(at(0), "after", "still writable")])
        assert len(UnitOfWork(store).journal.entries(limit=10_000)) == 11


def test_killed_after_commit_keeps_all_of_the_transaction(tmp_path: Path, db: Path) -> None:
    run_and_kill(tmp_path, db, "all", "committed")
    assert_consistent(db)
    with Store.open(db) as store:
        bulk = UnitOfWork(store).journal.entries(kind="bulk", limit=10_000)
        assert [e.message for e in bulk] == [f"row {i}" for i in range(6000)]


def test_killed_mid_apply_keeps_the_previous_revision(tmp_path: Path, db: Path) -> None:
    run_and_kill(tmp_path, db, "apply", "mid-write")
    assert_consistent(db)
    with Store.open(db) as store:
        current = UnitOfWork(store).revisions.current()
        assert current is not None and (current.number, current.site_text) == (1, "site: 1\n")
        assert UnitOfWork(store).journal.entries(kind="bulk") == []
        assert (
            UnitOfWork(store)
            .revisions.add("site: 2\n", author="a", message="m", at=at(1), expected_current=1)
            .number
            == 2
        )


def test_everything_survives_a_restart(db: Path) -> None:
    with Store.open(db) as store:
        UnitOfWork(store).revisions.add(
            SITE_A, author="a", message="seed", at=at(0), expected_current=None
        )
        UnitOfWork(store).envelopes.put(envelope())
        UnitOfWork(store).sources.heard_from("dso", at(1))
        UnitOfWork(store).sessions.put(session())
        UnitOfWork(store).chargers.put([ChargerState("chg-01", online=False)])
        UnitOfWork(store).telemetry.put([Reading("grid", at(1), power_w=5.0)])
        UnitOfWork(store).overrides.put(EvseOverride("chg-01/1", True, None, at(0), "ops"))
        UnitOfWork(store).journal.record([NewJournalEntry(at(1), "k", "m")])
    with Store.open(db) as store:
        assert UnitOfWork(store).revisions.current() is not None
        assert UnitOfWork(store).envelopes.all() == [envelope()]
        assert UnitOfWork(store).sources.last_heard() == {"dso": at(1)}
        assert [r.session for r in UnitOfWork(store).sessions.all(open_only=True)] == [session()]
        assert UnitOfWork(store).chargers.states() == {
            "chg-01": ChargerState("chg-01", online=False)
        }
        assert set(UnitOfWork(store).telemetry.latest()) == {"grid"}
        assert set(UnitOfWork(store).overrides.all()) == {"chg-01/1"}
        assert [e.message for e in UnitOfWork(store).journal.entries()] == ["m"]


def test_times_in_other_zones_are_stored_as_utc(uow: UnitOfWork) -> None:
    cest = datetime(2024, 5, 1, 8, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    uow.journal.record([NewJournalEntry(cest, "k", "m")])
    (entry,) = uow.journal.entries(since=T0, until=T0 + timedelta(seconds=1))
    assert entry.at == T0 and entry.at.utcoffset() == timedelta(0)


def test_what_every_cycle_reads_is_kept_until_a_write_and_a_rollback_undoes_it(
    uow: UnitOfWork, db: Path
) -> None:
    """Charger states and open sessions are read from memory between writes; a write
    that rolls back leaves nothing of itself in what is read, and what is read is
    always what a fresh store on the same file reads."""
    uow.chargers.put([ChargerState("chg-01", online=True)])
    uow.sessions.put(Session("S-1", "chg-01/1", T0))
    assert uow.chargers.states()["chg-01"].online
    assert [r.session.id for r in uow.sessions.all(open_only=True)] == ["S-1"]
    with pytest.raises(RuntimeError), uow:
        uow.chargers.put([ChargerState("chg-01", online=False)])
        uow.sessions.put(Session("S-2", "chg-02/1", T0))
        assert not uow.chargers.states()["chg-01"].online  # seen inside it
        raise RuntimeError("undone")
    assert uow.chargers.states()["chg-01"].online
    assert [r.session.id for r in uow.sessions.all(open_only=True)] == ["S-1"]
    uow.sessions.end("S-1", at=T0 + timedelta(hours=1), energy_delivered_wh=5_000.0)
    assert uow.sessions.all(open_only=True) == []
    uow.chargers.states()["chg-01"] = ChargerState("chg-99")  # a copy: no harm done
    with Store.open(db) as fresh:
        assert UnitOfWork(fresh).chargers.states() == uow.chargers.states()
        assert UnitOfWork(fresh).sessions.all(open_only=True) == uow.sessions.all(open_only=True)
