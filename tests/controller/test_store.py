"""The controller's SQLite store, on a real file: durability, concurrency, records."""

from __future__ import annotations

import hashlib
import math
import sqlite3
import stat
import subprocess
import sys
import textwrap
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from depotctl.controller import migrations
from depotctl.controller.store import (
    EnvelopeConflict,
    EvseOverride,
    NewJournalEntry,
    RevisionConflict,
    SessionConflict,
    Store,
    StoreVersionError,
    UnknownEnvelope,
    UnknownRevision,
    UnknownSession,
    site_hash,
)
from depotctl.domain.chargers import ChargerState, CommandOutcome
from depotctl.domain.envelopes import (
    Direction,
    Envelope,
    EnvelopeMode,
    EnvelopeState,
    EnvelopeStatus,
    LimitUnit,
)
from depotctl.domain.phases import Phase
from depotctl.domain.sessions import EnergyRequirement, RequirementSource, Session
from depotctl.domain.telemetry import Reading

ROOT = Path(__file__).resolve().parents[2]
T0 = datetime(2024, 5, 1, 6, 0, tzinfo=UTC)
SITE_A = "apiVersion: depotctl/v1\nkind: Site\nmetadata: {name: a}\n"
SITE_B = SITE_A.replace("name: a", "name: b")


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "depotctl.db"


@pytest.fixture
def store(db: Path) -> Iterator[Store]:
    with Store.open(db) as opened:
        yield opened


def raw(db: Path) -> sqlite3.Connection:
    return sqlite3.connect(db, isolation_level=None)


def at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def envelope(envelope_id: str = "env-1", **changes: object) -> Envelope:
    fields: dict[str, object] = {
        "id": envelope_id,
        "source": "dso",
        "target": "grid",
        "direction": Direction.IMPORT,
        "limit": 400_000.0,
        "unit": LimitUnit.W,
        "start": at(0),
        "end": at(60),
        "received_at": at(-5),
    }
    fields.update(changes)
    return Envelope(**fields)  # type: ignore[arg-type]


# Opening, pragmas, migrations


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
        store.add_revision(SITE_A, author="ops", message="seed", at=at(0), expected_current=None)
    with Store.open(db) as store:
        assert store.schema_version == migrations.LATEST
        current = store.current_revision()
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


# Revisions


def test_revisions_are_numbered_hashed_and_listed_newest_first(store: Store) -> None:
    assert store.current_revision() is None
    first = store.add_revision(
        SITE_A, author="ana", message="seed", at=at(0), expected_current=None
    )
    second = store.add_revision(SITE_B, author="bo", message="more", at=at(1), expected_current=1)
    assert (first.number, second.number) == (1, 2)
    assert first.hash == site_hash(SITE_A) == hashlib.sha256(SITE_A.encode()).hexdigest()
    assert store.current_revision() == second
    assert store.revisions() == [second, first]
    assert store.revision(1) == first
    assert store.revision(3) is None
    assert second.created_at == at(1) and second.author == "bo" and second.message == "more"


def test_add_revision_against_a_stale_revision_conflicts_and_stores_nothing(store: Store) -> None:
    store.add_revision(SITE_A, author="a", message="seed", at=at(0), expected_current=None)
    with pytest.raises(RevisionConflict) as conflict:
        store.add_revision(SITE_B, author="b", message="stale", at=at(1), expected_current=None)
    assert (conflict.value.expected, conflict.value.current) == (None, 1)
    with pytest.raises(RevisionConflict, match="expected revision 7"):
        store.add_revision(SITE_B, author="b", message="stale", at=at(1), expected_current=7)
    assert [r.number for r in store.revisions()] == [1]


def test_rollback_adds_a_new_revision_with_the_old_text(store: Store) -> None:
    store.add_revision(SITE_A, author="a", message="seed", at=at(0), expected_current=None)
    store.add_revision(SITE_B, author="a", message="change", at=at(1), expected_current=1)
    back = store.rollback_to(1, author="ops", at=at(2))
    assert (back.number, back.site_text, back.hash, back.rollback_of) == (
        3,
        SITE_A,
        site_hash(SITE_A),
        1,
    )
    assert back.message == "rollback to revision 1"
    assert [r.number for r in store.revisions()] == [3, 2, 1]
    assert store.revision(2) is not None and store.revision(2).site_text == SITE_B  # type: ignore[union-attr]
    with pytest.raises(UnknownRevision):
        store.rollback_to(9, author="ops", at=at(3))


def test_revisions_cannot_be_rewritten_even_by_hand(db: Path, store: Store) -> None:
    store.add_revision(SITE_A, author="a", message="seed", at=at(0), expected_current=None)
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
            results[i] = stores[i].add_revision(
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
    seed.add_revision(SITE_A, author="a", message="seed", at=at(0), expected_current=None)
    seed.close()
    stores = [Store.open(db), Store.open(db)]
    try:
        for round_ in range(1, 21):
            results = race(stores, round_)
            winners = [r for r in results if not isinstance(r, RevisionConflict)]
            losers = [r for r in results if isinstance(r, RevisionConflict)]
            assert len(winners) == 1 and len(losers) == 1, results
            assert losers[0].current == round_ + 1
        revisions = stores[0].revisions()
        assert [r.number for r in revisions] == list(range(21, 0, -1))
        assert all(r.site_text.endswith(f"by {r.author[-1]}\n") for r in revisions[:-1])
    finally:
        for opened in stores:
            opened.close()


def test_one_store_shared_by_threads_serializes_applies(store: Store) -> None:
    store.add_revision(SITE_A, author="a", message="seed", at=at(0), expected_current=None)
    outcomes: list[str] = []

    def apply(i: int) -> None:
        try:
            store.add_revision(SITE_B, author=str(i), message="m", at=at(1), expected_current=1)
            outcomes.append("won")
        except RevisionConflict:
            outcomes.append("conflict")

    threads = [threading.Thread(target=apply, args=(i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["conflict"] * 7 + ["won"]
    assert [r.number for r in store.revisions()] == [2, 1]


# Transactions


def test_a_transaction_commits_all_or_nothing(store: Store) -> None:
    with pytest.raises(RuntimeError), store.transaction():
        store.add_revision(SITE_A, author="a", message="seed", at=at(0), expected_current=None)
        store.append_journal([NewJournalEntry(at(0), "revision.applied", "applied 1")])
        raise RuntimeError("crash mid-apply")
    assert store.current_revision() is None
    assert store.journal() == []
    with store.transaction():
        store.add_revision(SITE_A, author="a", message="seed", at=at(0), expected_current=None)
        store.append_journal([NewJournalEntry(at(0), "revision.applied", "applied 1")])
    assert store.current_revision() is not None
    assert [e.message for e in store.journal()] == ["applied 1"]


def test_a_caught_error_inside_a_transaction_undoes_only_its_part(store: Store) -> None:
    with store.transaction():
        store.append_journal([NewJournalEntry(at(0), "a", "kept")])
        with pytest.raises(ValueError):
            store.append_journal(
                [NewJournalEntry(at(0), "b", "undone"), NewJournalEntry(at(0), "", "no kind")]
            )
    assert [e.message for e in store.journal()] == ["kept"]


# Crash safety: a real process, SIGKILLed


KILL_SCRIPT = textwrap.dedent(
    """
    import sys, time
    from datetime import UTC, datetime
    from pathlib import Path
    from depotctl.controller.store import NewJournalEntry, Store

    path, mode = Path(sys.argv[1]), sys.argv[2]
    at = datetime(2024, 5, 1, tzinfo=UTC)
    store = Store.open(path)
    store.add_revision("site: 1\\n", author="a", message="seed", at=at, expected_current=None)
    store.append_journal(NewJournalEntry(at, "baseline", f"row {i}") for i in range(10))

    def bulk():
        for i in range(6000):
            if mode == "mid" and i == 5000:
                print("mid-write", flush=True)
                time.sleep(60)
            yield NewJournalEntry(at, "bulk", f"row {i}", data={"pad": "x" * 1000})

    if mode == "apply":
        with store.transaction():
            store.add_revision("site: 2\\n", author="a", message="m", at=at, expected_current=1)
            store.append_journal(bulk())
            print("mid-write", flush=True)
            time.sleep(60)
    else:
        store.append_journal(bulk())
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
        kinds = [e.kind for e in store.journal(limit=10_000)]
        assert kinds == ["baseline"] * 10
        store.append_journal([NewJournalEntry(at(0), "after", "still writable")])
        assert len(store.journal(limit=10_000)) == 11


def test_killed_after_commit_keeps_all_of_the_transaction(tmp_path: Path, db: Path) -> None:
    run_and_kill(tmp_path, db, "all", "committed")
    assert_consistent(db)
    with Store.open(db) as store:
        bulk = store.journal(kind="bulk", limit=10_000)
        assert [e.message for e in bulk] == [f"row {i}" for i in range(6000)]


def test_killed_mid_apply_keeps_the_previous_revision(tmp_path: Path, db: Path) -> None:
    run_and_kill(tmp_path, db, "apply", "mid-write")
    assert_consistent(db)
    with Store.open(db) as store:
        current = store.current_revision()
        assert current is not None and (current.number, current.site_text) == (1, "site: 1\n")
        assert store.journal(kind="bulk") == []
        assert (
            store.add_revision(
                "site: 2\n", author="a", message="m", at=at(1), expected_current=1
            ).number
            == 2
        )


# Journal


def test_journal_round_trips_entries_oldest_first(store: Store) -> None:
    store.append_journal(
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
    entries = store.journal()
    assert [e.kind for e in entries] == ["envelope.received", "allocation.changed"]
    changed = entries[1]
    assert changed.at == at(2) and changed.at.tzinfo is not None
    assert (changed.evse, changed.envelope, changed.session) == ("chg-01/1", "env-1", None)
    assert changed.data == {"before_a": 32.0, "after_a": 16.0, "causes": ["grid"]}
    assert entries[0].id > 0 and entries[1].id == entries[0].id - 1


def test_journal_queries_by_time_evse_envelope_session_and_follow(store: Store) -> None:
    store.append_journal(
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
        return [e.message for e in store.journal(**query)]  # type: ignore[arg-type]

    assert messages(since=at(2), until=at(4)) == ["m2", "m3"]
    assert messages(evse="chg-01/1") == ["m1", "m3", "m5"]
    assert messages(envelope="env-1", evse="chg-00/1") == ["m0", "m2"]
    assert messages(session="s-9") == ["m4"]
    assert messages(limit=2) == ["m0", "m1"]
    assert messages(limit=2, latest=True) == ["m4", "m5"]
    third = store.journal()[2]
    assert messages(after_id=third.id) == ["m3", "m4", "m5"]
    assert messages(since=at(10)) == []


def test_times_before_the_year_1000_round_trip_in_time_order(store: Store) -> None:
    # found by the API fuzz (test_fuzz.py): strftime("%Y") wrote year 1 as "1-01-01",
    # which fromisoformat refused on every later read of the envelopes
    year = [datetime(y, 1, 1, tzinfo=UTC) for y in (1, 5, 10, 999)]
    ancient = envelope("env-ancient", start=year[0], end=year[3], received_at=year[0])
    assert store.put_envelope(ancient) is True
    assert store.envelope("env-ancient") == ancient
    assert store.envelopes() == [ancient]
    store.append_journal(NewJournalEntry(y, "k", f"year {y.year}") for y in year)
    since_year_6 = store.journal(since=datetime(6, 1, 1, tzinfo=UTC))
    assert [entry.message for entry in since_year_6] == ["year 10", "year 999"]
    assert [entry.at for entry in store.journal()] == year


def test_journal_refuses_secrets_naive_times_and_non_json_and_stores_none(store: Store) -> None:
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
            store.append_journal([good, bad])
    assert store.journal() == []


def test_journal_is_append_only_even_by_hand(db: Path, store: Store) -> None:
    store.append_journal([NewJournalEntry(at(0), "k", "m")])
    with raw(db) as connection:
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("UPDATE journal SET message = 'edited'")
        with pytest.raises(sqlite3.IntegrityError, match="append-only"):
            connection.execute("DELETE FROM journal")


def test_journal_limit_must_not_be_negative(store: Store) -> None:
    with pytest.raises(ValueError, match="limit"):
        store.journal(limit=-1)


# Envelopes and sources


def test_envelopes_round_trip_and_resubmission_is_idempotent(store: Store) -> None:
    per_phase = envelope(
        "env-2",
        unit=LimitUnit.A,
        limit=63.0,
        phases=frozenset({Phase.L1, Phase.L3}),
        mode=EnvelopeMode.FALLBACK,
        end=None,
        priority=3,
        direction=Direction.EXPORT,
    )
    assert store.put_envelope(envelope()) is True
    assert store.put_envelope(per_phase) is True
    assert store.put_envelope(envelope()) is False
    assert store.envelope("env-2") == per_phase
    assert store.envelopes() == [envelope(), per_phase]
    with pytest.raises(EnvelopeConflict, match="env-1"):
        store.put_envelope(envelope(limit=100.0))
    assert store.envelope("env-1") == envelope()
    assert store.envelope("nope") is None


def test_an_envelope_ending_before_it_starts_is_refused(store: Store) -> None:
    with pytest.raises(ValueError, match=r"ends .* before it starts"):
        store.put_envelope(envelope(end=at(-1)))
    with pytest.raises(ValueError, match="finite"):
        store.put_envelope(envelope(limit=float("nan")))
    assert store.envelopes() == []


def test_open_envelopes_leave_out_ended_and_withdrawn_ones(store: Store) -> None:
    store.put_envelope(envelope("ended", end=at(10)))
    store.put_envelope(envelope("open", end=None))
    store.put_envelope(envelope("later", end=at(60)))
    store.put_envelope(envelope("pulled", end=at(60)))
    withdrawn = store.withdraw_envelope("pulled", at=at(5))
    assert withdrawn.withdrawn_at == at(5)
    assert store.withdraw_envelope("pulled", at=at(8)).withdrawn_at == at(5)
    assert [e.id for e in store.envelopes(open_at=at(10))] == ["later", "open"]
    assert [e.id for e in store.envelopes(open_at=at(4))] == ["ended", "later", "open", "pulled"]
    with pytest.raises(UnknownEnvelope):
        store.withdraw_envelope("nope", at=at(1))


def test_envelope_states_start_received_and_survive_reopening(db: Path) -> None:
    with Store.open(db) as store:
        store.put_envelope(envelope("env-1"))
        store.put_envelope(envelope("env-2"))
        assert store.envelope_states()["env-1"].state is EnvelopeState.RECEIVED
        store.set_envelope_states({"env-1": EnvelopeStatus(EnvelopeState.ACTIVE, "in window")})
        with pytest.raises(UnknownEnvelope):
            store.set_envelope_states(
                {
                    "env-2": EnvelopeStatus(EnvelopeState.PENDING, "later"),
                    "ghost": EnvelopeStatus(EnvelopeState.ACTIVE, "?"),
                }
            )
    with Store.open(db) as store:
        assert store.envelope_states() == {
            "env-1": EnvelopeStatus(EnvelopeState.ACTIVE, "in window"),
            "env-2": EnvelopeStatus(EnvelopeState.RECEIVED, ""),
        }


def test_a_source_keeps_its_latest_last_heard(store: Store) -> None:
    store.heard_from("dso", at(5))
    store.heard_from("dso", at(3))
    store.heard_from("cpo", at(1))
    assert store.last_heard() == {"cpo": at(1), "dso": at(5)}


# Sessions


def session(session_id: str = "s-1", evse: str = "chg-01/1", **changes: object) -> Session:
    fields: dict[str, object] = {"id": session_id, "evse_id": evse, "started": at(0)}
    fields.update(changes)
    return Session(**fields)  # type: ignore[arg-type]


def test_sessions_start_update_and_end_with_energy_delivered(store: Store) -> None:
    need = EnergyRequirement(40_000.0, at(480), RequirementSource.VEHICLE)
    assert store.put_session(session(requirement=need, vehicle_max_current_a=32.0)) is True
    assert store.put_session(session(energy_delivered_wh=1500.0, requirement=need)) is False
    record = store.session("s-1")
    assert record is not None and record.is_open
    assert record.session == session(energy_delivered_wh=1500.0, requirement=need)
    ended = store.end_session("s-1", at=at(90), energy_delivered_wh=21_000.0)
    assert ended.ended_at == at(90) and ended.session.energy_delivered_wh == 21_000.0
    assert not ended.is_open
    with pytest.raises(SessionConflict, match="already ended"):
        store.end_session("s-1", at=at(91), energy_delivered_wh=1.0)
    with pytest.raises(SessionConflict, match="ended"):
        store.put_session(session(energy_delivered_wh=9.0))
    with pytest.raises(UnknownSession):
        store.end_session("nope", at=at(1), energy_delivered_wh=0.0)


def test_an_evse_has_at_most_one_open_session(store: Store) -> None:
    store.put_session(session("s-1"))
    with pytest.raises(SessionConflict, match="chg-01/1 already has an open session"):
        store.put_session(session("s-2"))
    with pytest.raises(SessionConflict, match="cannot change"):
        store.put_session(session("s-1", evse="chg-02/1"))
    store.end_session("s-1", at=at(30), energy_delivered_wh=5000.0)
    store.put_session(session("s-2", started=at(31)))
    store.put_session(session("s-3", evse="chg-02/1", started=at(5)))
    assert [r.session.id for r in store.sessions()] == ["s-1", "s-3", "s-2"]
    assert [r.session.id for r in store.sessions(open_only=True)] == ["s-3", "s-2"]


# Chargers, telemetry, overrides


def test_charger_states_round_trip_and_replace(store: Store) -> None:
    rejected = ChargerState(
        "chg-01", True, CommandOutcome.REJECTED, 16.0, at(1), "profile rejected"
    )
    store.put_charger_states([ChargerState("chg-01"), ChargerState("chg-02", online=False)])
    store.put_charger_states([rejected])
    states = store.charger_states()
    assert states == {"chg-01": rejected, "chg-02": ChargerState("chg-02", online=False)}
    assert not states["chg-01"].is_controllable


def test_the_latest_reading_per_node_wins_even_out_of_order(store: Store) -> None:
    store.put_readings(
        [
            Reading("grid", at(1), power_w=250_000.0, current_a={Phase.L1: 300.0, Phase.L2: 290.5}),
            Reading("pv", at(1), power_w=-12_000.0),
        ]
    )
    store.put_readings([Reading("grid", at(0), power_w=1.0), Reading("pv", at(2), power_w=-9.0)])
    assert store.readings() == {
        "grid": Reading("grid", at(1), 250_000.0, {Phase.L1: 300.0, Phase.L2: 290.5}),
        "pv": Reading("pv", at(2), power_w=-9.0),
    }


@pytest.mark.parametrize(
    "reading",
    [
        Reading("grid", at(1), power_w=math.inf),
        Reading("grid", at(1), power_w=math.nan),
        Reading("grid", at(1), power_w=-1e300),
        Reading("grid", at(1), power_w=1.000001e9),
        Reading("grid", at(1), current_a={Phase.L2: math.inf}),
        Reading("grid", at(1), current_a={Phase.L1: 5.0, Phase.L3: 100_001.0}),
    ],
    ids=["inf", "nan", "huge-export", "beyond-1000-MW", "inf-current", "beyond-100-kA"],
)
def test_a_reading_no_meter_of_a_depot_reads_is_refused_with_its_batch(
    store: Store, reading: Reading
) -> None:
    with pytest.raises(ValueError, match="grid"):
        store.put_readings([Reading("pv", at(1), power_w=-9.0), reading])
    assert store.readings() == {}
    assert store.telemetry("pv") == [] and store.telemetry("grid") == []


def test_readings_at_the_bounds_keep_the_minute_finite(store: Store) -> None:
    """Issue 11: an infinite reading made the minute's mean and peak null."""
    store.put_readings([Reading("grid", at(1), power_w=1e9, current_a={Phase.L1: 1e5})])
    store.put_readings([Reading("grid", at(1.5), power_w=1e9, current_a={Phase.L1: 1e5})])
    store.put_readings([Reading("grid", at(1.7), power_w=-1e9)])
    (minute,) = store.telemetry("grid")
    assert minute.samples == 3
    assert minute.power_w_mean == pytest.approx(1e9 / 3)
    assert minute.power_w_max == 1e9
    assert minute.current_a_max == {Phase.L1: 1e5}


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        (
            {"requirement": EnergyRequirement(math.inf, at(480), RequirementSource.VEHICLE)},
            "required",
        ),
        ({"vehicle_max_current_a": math.nan}, "vehicle"),
        ({"planned_rate_a": math.inf}, "planned rate"),
        ({"energy_delivered_wh": math.inf}, "energy delivered"),
    ],
    ids=["requirement", "vehicle-current", "planned-rate", "energy-delivered"],
)
def test_a_session_with_a_value_that_is_not_finite_is_refused(
    store: Store, changes: dict[str, object], words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        store.put_session(session(**changes))
    assert store.sessions() == []


def test_a_charger_state_with_an_accepted_limit_that_is_not_finite_is_refused(
    store: Store,
) -> None:
    with pytest.raises(ValueError, match="chg-02"):
        store.put_charger_states(
            [
                ChargerState("chg-01"),
                ChargerState("chg-02", True, CommandOutcome.ACCEPTED, math.inf),
            ]
        )
    assert store.charger_states() == {}


def test_overrides_pause_or_cap_and_clear(store: Store) -> None:
    pause = EvseOverride("chg-01/1", True, None, at(0), "ops", "cable damaged")
    cap = EvseOverride("chg-02/1", False, 10.0, at(1), "ops")
    store.put_override(pause)
    store.put_override(cap)
    assert store.overrides() == {"chg-01/1": pause, "chg-02/1": cap}
    with pytest.raises(ValueError, match="pause it or cap it"):
        store.put_override(EvseOverride("chg-03/1", False, None, at(2), "ops"))
    with pytest.raises(ValueError, match="0 A or more"):
        store.put_override(EvseOverride("chg-03/1", False, -1.0, at(2), "ops"))
    assert store.clear_override("chg-01/1") is True
    assert store.clear_override("chg-01/1") is False
    assert list(store.overrides()) == ["chg-02/1"]


def test_everything_survives_a_restart(db: Path) -> None:
    with Store.open(db) as store:
        store.add_revision(SITE_A, author="a", message="seed", at=at(0), expected_current=None)
        store.put_envelope(envelope())
        store.heard_from("dso", at(1))
        store.put_session(session())
        store.put_charger_states([ChargerState("chg-01", online=False)])
        store.put_readings([Reading("grid", at(1), power_w=5.0)])
        store.put_override(EvseOverride("chg-01/1", True, None, at(0), "ops"))
        store.append_journal([NewJournalEntry(at(1), "k", "m")])
    with Store.open(db) as store:
        assert store.current_revision() is not None
        assert store.envelopes() == [envelope()]
        assert store.last_heard() == {"dso": at(1)}
        assert [r.session for r in store.sessions(open_only=True)] == [session()]
        assert store.charger_states() == {"chg-01": ChargerState("chg-01", online=False)}
        assert set(store.readings()) == {"grid"}
        assert set(store.overrides()) == {"chg-01/1"}
        assert [e.message for e in store.journal()] == ["m"]


def test_times_in_other_zones_are_stored_as_utc(store: Store) -> None:
    cest = datetime(2024, 5, 1, 8, 0, tzinfo=ZoneInfo("Europe/Berlin"))
    store.append_journal([NewJournalEntry(cest, "k", "m")])
    (entry,) = store.journal(since=T0, until=T0 + timedelta(seconds=1))
    assert entry.at == T0 and entry.at.utcoffset() == timedelta(0)


def test_what_every_cycle_reads_is_kept_until_a_write_and_a_rollback_undoes_it(
    store: Store, db: Path
) -> None:
    """Charger states and open sessions are read from memory between writes; a write
    that rolls back leaves nothing of itself in what is read, and what is read is
    always what a fresh store on the same file reads."""
    store.put_charger_states([ChargerState("chg-01", online=True)])
    store.put_session(Session("S-1", "chg-01/1", T0))
    assert store.charger_states()["chg-01"].online
    assert [r.session.id for r in store.sessions(open_only=True)] == ["S-1"]
    with pytest.raises(RuntimeError), store.transaction():
        store.put_charger_states([ChargerState("chg-01", online=False)])
        store.put_session(Session("S-2", "chg-02/1", T0))
        assert not store.charger_states()["chg-01"].online  # seen inside it
        raise RuntimeError("undone")
    assert store.charger_states()["chg-01"].online
    assert [r.session.id for r in store.sessions(open_only=True)] == ["S-1"]
    store.end_session("S-1", at=T0 + timedelta(hours=1), energy_delivered_wh=5_000.0)
    assert store.sessions(open_only=True) == []
    store.charger_states()["chg-01"] = ChargerState("chg-99")  # a copy: no harm done
    with Store.open(db) as fresh:
        assert fresh.charger_states() == store.charger_states()
        assert fresh.sessions(open_only=True) == store.sessions(open_only=True)
