"""A crash drill: ``depotctl serve`` (a real process on a real SQLite file, a simulated
clock, a short tick, ``--shadow``) killed with SIGKILL at random moments while threads,
each with its own HTTP client, apply site revisions, submit and withdraw envelopes, post
telemetry and start, schedule and end sessions; started again on the same state
directory after each kill. After the last restart every write the controller
acknowledged (answered 2xx) is there with its journal entry, and nothing is there
half-written. A write whose answer the kill swallowed may or may not have landed: the
drill never asserts that it is absent, only that it is whole if it is there.

The kill falls after a random number of acknowledged writes, never after a time; waits
are polls whose deadlines only catch a hang. ``DEPOTCTL_DRILL_SEED`` picks the kills
(the seed is printed, so a failed run can be replayed).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import time
from collections import Counter, defaultdict
from collections.abc import Iterator
from contextlib import closing, contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import httpx
import pytest

from depotctl.controller.store import site_hash
from tests.controller.drill_writers import (
    AU_DEPOT,
    HANG_S,
    READ_NODES,
    SITE_TEXTS,
    WRITERS,
    Ledger,
    SimTime,
    Stamps,
    Write,
)
from tests.controller.test_serve import Process, _command

SEED_VARIABLE = "DEPOTCTL_DRILL_SEED"
DEFAULT_SEED = 8
CARBON = "carbon/nsw-daily-profile.csv"
#: A cycle every simulated second at 60×; no chargers (shadow mode).
FLAGS = ("--clock", "sim", "--speed", "60", "--tick", "1s", "--shadow")
#: What an envelope is, as the API lists it (its state moves with the clock).
ENVELOPE_RECORD = ("id", "source", "target", "limit", "start", "end", "mode", "received_at")


# The controller


@contextmanager
def controller(state_dir: Path, *flags: str) -> Iterator[Process]:
    """``depotctl serve`` on ``state_dir``, its log appended to ``serve.log`` (a pipe
    nobody reads could fill and stall it); killed if still running at the end."""
    endpoints = state_dir / "endpoints.json"
    endpoints.unlink(missing_ok=True)
    with open(state_dir.parent / "serve.log", "a") as log:
        process = subprocess.Popen(
            _command(state_dir, *flags),
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
        )
    try:
        deadline = time.monotonic() + HANG_S
        while not endpoints.exists():
            assert process.poll() is None, f"serve exited {process.returncode}: {_log(state_dir)}"
            assert time.monotonic() < deadline, "serve wrote no endpoints.json"
            time.sleep(0.05)
        # written whole (an atomic rename): once it exists, it names the bound ports
        bound = json.loads(endpoints.read_text())
        yield Process(process, state_dir, bound["api"], bound)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait(HANG_S)


def _log(state_dir: Path) -> str:
    return (state_dir.parent / "serve.log").read_text()[-3000:]


def admin_token(state_dir: Path) -> str:
    return (state_dir / "tokens" / "admin.token").read_text().strip()


def sim_time(api: str, token: str) -> SimTime:
    answer = httpx.get(
        api + "/api/v1/clock", headers={"Authorization": f"Bearer {token}"}, timeout=60
    )
    assert answer.status_code == 200, answer.text
    read_at = time.monotonic()
    clock = answer.json()
    return SimTime(datetime.fromisoformat(clock["time"]), float(clock["speed"]), read_at)


def healthy(running: Process) -> dict[str, Any]:
    """``/healthz`` once it answers 200 (polled; the deadline only catches a hang)."""
    deadline = time.monotonic() + HANG_S
    while True:
        assert running.process.poll() is None, _log(running.state_dir)
        try:
            response = httpx.get(running.api + "/healthz", timeout=HANG_S)
            if response.status_code == 200:
                body: dict[str, Any] = response.json()
                return body
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline, f"no healthz within {HANG_S} s"
        time.sleep(0.05)


def lock_pid(state_dir: Path) -> int:
    pid: int = json.loads((state_dir / "serve.lock").read_text())["pid"]
    return pid


@contextmanager
def read_only(state_dir: Path) -> Iterator[sqlite3.Connection]:
    """The store, opened read-only (the WAL a kill left is read, never checkpointed)."""
    uri = f"file:{state_dir / 'depotctl.sqlite'}?mode=ro"
    with closing(sqlite3.connect(uri, uri=True)) as db:
        db.row_factory = sqlite3.Row
        yield db


def integrity(state_dir: Path) -> str:
    with read_only(state_dir) as db:
        return str(db.execute("PRAGMA integrity_check").fetchone()[0])


# The drill


@dataclass(frozen=True)
class Kill:
    """When run ``run``'s kill falls: once every writer has an acknowledged write in
    the run, and ``writer`` has ``count`` of them."""

    run: int
    writer: str
    count: int

    def is_due(self, ledger: Ledger) -> bool:
        return (
            all(ledger.acknowledged_in(self.run, name) for name in WRITERS)
            and ledger.acknowledged_in(self.run, self.writer) >= self.count
        )


#: At most how many of a writer's acknowledged writes in one run a kill waits for.
MOST: dict[str, int] = {"applier": 2, "enveloper": 8, "meterer": 40, "scheduler": 8}


def run_drill(root: Path, kills: int, seed: int) -> None:
    """Start ``serve`` on a fresh state directory under ``root``, write and kill it
    ``kills`` times, start it once more and check everything it was told."""
    print(f"crash drill: {kills} kills, {SEED_VARIABLE}={seed}")
    shuffle = random.Random(seed)
    state_dir = root / "state"
    state_dir.mkdir()
    ledger = Ledger()
    stamps = Stamps()
    flags: tuple[str, ...] = ("--site", str(AU_DEPOT), *FLAGS)
    killed_pid: int | None = None
    for run in range(kills + 1):
        started = time.monotonic()
        with controller(state_dir, *flags) as running:
            flags = FLAGS  # restarts: the store is the truth
            assert lock_pid(state_dir) == running.process.pid != killed_pid, (
                "the lock is taken over by the restarted controller"
            )
            health = healthy(running)
            assert health["status"] == "ok"
            with read_only(state_dir) as db:
                current = db.execute("SELECT max(number) FROM revisions").fetchone()[0]
            assert health["revision"] == current, "the newest revision is in force"
            print(f"run {run}: up after {time.monotonic() - started:.1f} s (wall)")
            if run == kills:
                verify(running, ledger)
                running.process.send_signal(signal.SIGTERM)
                assert running.process.wait(HANG_S) == 0, _log(state_dir)
                break
            token = admin_token(state_dir)
            clock = sim_time(running.api, token)
            writers = [
                WRITERS[name](name, ledger, running.api, token, run, clock, stamps=stamps)
                for name in WRITERS
            ]
            name = shuffle.choice(sorted(MOST))
            kill = Kill(run, name, shuffle.randint(1, MOST[name]))
            print(f"run {run}: kill after {kill.count} acknowledged by the {kill.writer}")
            for writer in writers:
                writer.start()
            ledger.wait_until(
                partial(kill.is_due, ledger),
                what=f"run {run}: every writer acknowledged, the {kill.writer} {kill.count}×",
            )
            print(f"run {run}: killed after {time.monotonic() - started:.1f} s (wall)")
            running.process.send_signal(signal.SIGKILL)
            assert running.process.wait(HANG_S) == -signal.SIGKILL
            killed_pid = running.process.pid
            assert lock_pid(state_dir) == killed_pid, "a stale lock file is left behind"
            for writer in writers:
                writer.stop.set()
            for writer in writers:
                assert writer.thread is not None
                writer.thread.join(HANG_S)
                assert not writer.thread.is_alive(), f"{writer.name} hangs"
            assert not ledger.errors, ledger.errors
            assert not ledger.refusals, ledger.refusals
            assert integrity(state_dir) == "ok", f"the store as the kill left it (run {run})"
    print(ledger.summary())
    with read_only(state_dir) as db:
        verify_files(db, ledger)
        assert db.execute("PRAGMA integrity_check").fetchone()[0] == "ok"


def drill_seed() -> int:
    return int(os.environ.get(SEED_VARIABLE, DEFAULT_SEED))


def test_every_acknowledged_write_survives_kill_9_at_random_moments(tmp_path: Path) -> None:
    run_drill(tmp_path, kills=3, seed=drill_seed())


@pytest.mark.slow
def test_every_acknowledged_write_survives_a_long_drill_of_kill_9s(tmp_path: Path) -> None:
    run_drill(tmp_path, kills=12, seed=drill_seed())


# What the restarted controller has (through its API)


def verify(running: Process, ledger: Ledger) -> None:
    headers = {"Authorization": f"Bearer {admin_token(running.state_dir)}"}
    with httpx.Client(base_url=running.api + "/api/v1", headers=headers, timeout=HANG_S) as api:
        verify_revisions(api, ledger)
        verify_envelopes(api, ledger)
        verify_sessions(api, ledger)
        verify_history(api, ledger)


def _get(api: httpx.Client, path: str, **params: Any) -> Any:
    response = api.get(path, params=params)
    assert response.status_code == 200, response.text
    return response.json()


def verify_revisions(api: httpx.Client, ledger: Ledger) -> None:
    listed = _get(api, "/revisions")
    numbers = [r["number"] for r in listed["revisions"]]
    assert numbers == list(range(len(numbers), 0, -1)), "revisions are 1..N without gaps"
    assert listed["current"] == numbers[0]
    texts = {n: _get(api, f"/revisions/{n}") for n in numbers}
    for number, revision in texts.items():
        assert revision["text"] in SITE_TEXTS, f"revision {number} is a text that was applied"
        assert revision["hash"] == site_hash(revision["text"])
    acknowledged = ledger.of("apply", acknowledged=True)
    assert acknowledged, "the drill acknowledged applies"
    for write in acknowledged:  # every acknowledged apply, with its hash
        number = write.answer["number"]
        assert texts[number]["hash"] == write.answer["hash"] == write.key
    # the others are applies whose answer the kill took (at most one per kill)
    lost = Counter(w.key for w in ledger.of("apply", acknowledged=False))
    landed = Counter(
        texts[n]["hash"]
        for n in numbers[:-1]
        if n not in {w.answer["number"] for w in acknowledged}
    )
    assert landed <= lost, "every revision is an apply that was sent"
    last = max(w.answer["number"] for w in acknowledged)
    site = _get(api, "/site")
    assert site["number"] == numbers[0] >= last, "the last acknowledged apply or a later one"
    assert site["text"] == texts[numbers[0]]["text"]


def verify_envelopes(api: httpx.Client, ledger: Ledger) -> None:
    stored = {e["id"]: e for e in _get(api, "/envelopes")["envelopes"]}
    sent = {w.key: w for w in ledger.of("envelope")}
    assert set(stored) <= set(sent), "every stored envelope was sent"
    acknowledged = ledger.of("envelope", acknowledged=True)
    assert acknowledged, "the drill acknowledged envelopes"
    for write in acknowledged:
        assert write.key in stored, f"acknowledged envelope {write.key} is stored"
        record = stored[write.key]
        assert {k: record[k] for k in ENVELOPE_RECORD} == {
            k: write.answer[k] for k in ENVELOPE_RECORD
        }
    for envelope_id, record in stored.items():  # those whose answer was lost: as sent
        body = sent[envelope_id].body
        assert (record["target"], _time(record["start"]), _time(record["end"])) == (
            body["target"],
            _time(body["start"]),
            _time(body["end"]),
        )
    withdrawals = ledger.of("withdraw", acknowledged=True)
    assert withdrawals, "the drill acknowledged withdrawals"
    for write in withdrawals:
        assert stored[write.key]["withdrawn_at"] == write.answer["withdrawn_at"] is not None
    asked = {w.key for w in ledger.of("withdraw")}
    assert {i for i, e in stored.items() if e["withdrawn_at"]} <= asked


def verify_sessions(api: httpx.Client, ledger: Ledger) -> None:
    stored = {s["id"]: s for s in _get(api, "/sessions", all="true")["sessions"]}
    sent = {w.key: w for w in ledger.of("session")}
    assert set(stored) <= set(sent), "every stored session was sent"
    started = ledger.of("session", acknowledged=True)
    assert started, "the drill acknowledged sessions"
    for write in started:
        assert write.key in stored, f"acknowledged session {write.key} is stored"
        assert stored[write.key]["evse"] == write.body["evse"]
        assert stored[write.key]["started"] == write.answer["started"]
    for write in ledger.of("requirement", acknowledged=True):
        assert stored[write.key]["requirement"] == write.answer["requirement"]
    for write in ledger.of("end", acknowledged=True):
        session = stored[write.key]
        assert (session["open"], session["ended_at"], session["energy_delivered"]) == (
            False,
            write.answer["ended_at"],
            write.answer["energy_delivered"],
        )
    assert ledger.of("end", acknowledged=True), "the drill acknowledged session ends"
    open_evses = Counter(s["evse"] for s in stored.values() if s["open"])
    assert max(open_evses.values(), default=0) <= 1, "one open session per EVSE"


def verify_history(api: httpx.Client, ledger: Ledger) -> None:
    """Each node's per-minute history counts every acknowledged reading, and no more
    than were sent."""
    sent, acknowledged = _readings(ledger)
    assert any(acknowledged.values()), "the drill acknowledged readings"
    for node in READ_NODES:
        minutes = _get(api, f"/telemetry/{node}", limit=10_000)["minutes"]
        stored = {_time(m["minute"]): m for m in minutes}
        sent_minutes = _by_minute(sent[node])
        acknowledged_minutes = _by_minute(acknowledged[node])
        assert set(acknowledged_minutes) <= set(stored) <= set(sent_minutes), node
        for minute, row in stored.items():
            values = acknowledged_minutes.get(minute, [])
            assert len(values) <= row["samples"] <= len(sent_minutes[minute]), (node, minute)
            assert row["power_w_max"] in sent_minutes[minute]
            assert row["power_w_max"] >= max(values, default=row["power_w_max"])


# What the store holds (read-only, after a clean stop)


def verify_files(db: sqlite3.Connection, ledger: Ledger) -> None:
    journal = db.execute("SELECT id, kind, envelope, session, data FROM journal ORDER BY id")
    entries = [dict(row) for row in journal]
    ids = [e["id"] for e in entries]
    assert ids == list(range(1, len(ids) + 1)), "journal ids are contiguous"
    by_kind: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for entry in entries:
        by_kind[entry["kind"]].append(entry)

    # a revision, its journal entry and its files: all or nothing
    revisions = {r["number"]: r["hash"] for r in db.execute("SELECT number, hash FROM revisions")}
    applied = [_data(e) for e in by_kind["revision.applied"]]
    assert sorted(d["revision"] for d in applied) == sorted(revisions)
    assert all(d["hash"] == revisions[d["revision"]] for d in applied)
    carbon = (AU_DEPOT.parent / CARBON).read_text(encoding="utf-8")
    for number in revisions:
        files = dict(
            db.execute(
                "SELECT path, content FROM revision_files WHERE revision = ?", (number,)
            ).fetchall()
        )
        assert files == {CARBON: carbon}, f"revision {number} has its files"

    # an envelope and its journal entries
    envelopes = {
        r["id"]: r["withdrawn_at"] for r in db.execute("SELECT id, withdrawn_at FROM envelopes")
    }
    received = Counter(e["envelope"] for e in by_kind["envelope.received"])
    assert received == Counter(list(envelopes)), "each envelope journaled once as received"
    withdrawn = Counter(e["envelope"] for e in by_kind["envelope.withdrawn"])
    assert withdrawn == Counter(i for i, at in envelopes.items() if at), "withdrawals journaled"

    # a session and its journal entries
    sessions = {
        r["id"]: (r["ended_at"], r["requirement_energy_wh"])
        for r in db.execute("SELECT id, ended_at, requirement_energy_wh FROM sessions")
    }
    assert Counter(e["session"] for e in by_kind["session.started"]) == Counter(list(sessions))
    ended = Counter(e["session"] for e in by_kind["session.ended"])
    assert ended == Counter(i for i, (at, _) in sessions.items() if at), "ends journaled"
    scheduled = Counter(e["session"] for e in by_kind["session.requirement"])
    for session_id, (_, energy_wh) in sessions.items():
        assert energy_wh == (300_000 if scheduled[session_id] == 1 else 250_000), session_id
        assert scheduled[session_id] <= 1

    verify_loop_records(db, by_kind)

    # each writer's acknowledged writes, journaled in the order it made them
    position = {
        ("apply", str(_data(e)["hash"]), _data(e)["revision"]): e["id"]
        for e in by_kind["revision.applied"]
    }
    for writer in WRITERS:
        found = [_journal_id(w, by_kind, position) for w in ledger.writes if w.writer == writer]
        order = [i for i in found if i is not None]
        assert order == sorted(order) and len(set(order)) == len(order), writer

    # the latest reading per node: the newest acknowledged one, or one sent after it
    sent, acknowledged = _readings(ledger)
    latest = {r["node"]: r for r in db.execute("SELECT node, at, power_w FROM readings")}
    for node in READ_NODES:
        newest = max(acknowledged[node])
        row = latest[node]
        kept = (_time(row["at"]), row["power_w"])
        assert kept in sent[node], f"{node}'s latest reading is one that was sent"
        assert kept >= newest, f"{node}'s latest reading is at least the newest acknowledged"


def verify_loop_records(db: sqlite3.Connection, by_kind: dict[str, list[dict[str, Any]]]) -> None:
    """What the control loop stores with its journal entries, whole across the kills:
    each envelope's and source's transitions chain (each starts where the one before
    ended, none journaled twice) up to the state stored; each alert is journaled raised
    once, and cleared once if it has cleared."""
    states = dict(db.execute("SELECT id, state FROM envelopes").fetchall())
    chains: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for entry in by_kind["envelope.state"]:
        data = _data(entry)
        chains[entry["envelope"]].append((data["from"], data["to"]))
    assert set(chains) <= set(states)
    for envelope_id, state in states.items():
        _assert_chain(f"envelope {envelope_id}", "received", chains[envelope_id], state)
    sources = {
        source: "online" if online else "offline"
        for source, online in db.execute("SELECT source, online FROM source_states")
    }
    health: dict[str, list[tuple[str, str]]] = defaultdict(list)
    for entry in sorted(by_kind["source.online"] + by_kind["source.offline"], key=_id):
        data = _data(entry)
        health[data["source"]].append((data["from"], data["to"]))
    assert set(health) == set(sources)
    for source, state in sources.items():
        _assert_chain(f"source {source}", None, health[source], state)
    alerts = dict(db.execute("SELECT id, cleared_at FROM alerts").fetchall())
    raised = Counter(_data(e)["alert"] for e in by_kind["alert.raised"])
    cleared = Counter(_data(e)["alert"] for e in by_kind["alert.cleared"])
    assert raised == Counter(list(alerts)), "each alert journaled once as raised"
    assert cleared == Counter(i for i, at in alerts.items() if at), "clears journaled"


def _assert_chain(what: str, first: str | None, chain: list[tuple[str, str]], stored: str) -> None:
    ends = [first]
    for before, after in chain:
        assert before == ends[-1] != after, f"{what}: {chain} (journaled twice, or skipped)"
        ends.append(after)
    assert ends[-1] == stored, f"{what} is stored {stored}, journaled {ends[-1]}"


def _id(entry: dict[str, Any]) -> int:
    return int(entry["id"])


def _journal_id(
    write: Write,
    by_kind: dict[str, list[dict[str, Any]]],
    revisions: dict[tuple[str, str, int], int],
) -> int | None:
    """The id of the journal entry an acknowledged write made (None for a write that
    journals nothing, or was not acknowledged); fails if it is missing."""
    if not write.acknowledged or write.kind == "telemetry":
        return None
    if write.kind == "apply":
        key = ("apply", write.answer["hash"], write.answer["number"])
        assert key in revisions, f"revision {write.answer['number']} is journaled"
        return revisions[key]
    kind, column = {
        "envelope": ("envelope.received", "envelope"),
        "withdraw": ("envelope.withdrawn", "envelope"),
        "session": ("session.started", "session"),
        "requirement": ("session.requirement", "session"),
        "end": ("session.ended", "session"),
    }[write.kind]
    [entry] = [e for e in by_kind[kind] if e[column] == write.key]
    return int(entry["id"])


def _readings(
    ledger: Ledger,
) -> tuple[dict[str, list[tuple[datetime, float]]], dict[str, list[tuple[datetime, float]]]]:
    """Every reading sent, and every one acknowledged, by node: (time, power in W)."""
    sent: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    acknowledged: dict[str, list[tuple[datetime, float]]] = defaultdict(list)
    for write in ledger.of("telemetry"):
        for reading in write.body["readings"]:
            value = (_time(reading["at"]), float(reading["power"].removesuffix(" W")))
            sent[reading["node"]].append(value)
            if write.acknowledged:
                acknowledged[reading["node"]].append(value)
    return sent, acknowledged


def _by_minute(readings: list[tuple[datetime, float]]) -> dict[datetime, list[float]]:
    minutes: dict[datetime, list[float]] = defaultdict(list)
    for at, value in readings:
        minutes[at.replace(second=0, microsecond=0)].append(value)
    return minutes


def _data(entry: dict[str, Any]) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(entry["data"])
    return data


def _time(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(UTC)
