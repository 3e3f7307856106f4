"""The state directory's lock: exclusive while its holder lives, named in the file,
untouched by a refused taker, and taken over once a killed holder is gone."""

from __future__ import annotations

import json
import os
import signal
import stat
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from depotctl.api.state_dir import StateDir
from depotctl.controller.state_lock import (
    LockHolder,
    StateDirInUse,
    StateLock,
    read_holder,
)

STARTED = datetime(2026, 3, 2, 18, 0, 3, tzinfo=UTC)

#: a process that takes the lock, says so, and holds it until killed
HOLDER = """
import sys
from pathlib import Path
from depotctl.controller.state_lock import StateLock
lock = StateLock.acquire(Path(sys.argv[1]))
print("held", flush=True)
sys.stdin.read()
"""


def test_the_lock_file_names_its_holder_with_mode_0600(tmp_path: Path) -> None:
    with StateLock.acquire(tmp_path, started_at=STARTED) as lock:
        path = StateDir(tmp_path).lock
        assert lock.path == path and lock.is_held
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert json.loads(path.read_text()) == {
            "pid": os.getpid(),
            "started_at": "2026-03-02T18:00:03+00:00",
        }
        assert read_holder(path) == LockHolder(os.getpid(), STARTED)
    assert not lock.is_held


def test_a_second_taker_is_refused_with_the_holder_and_changes_nothing(tmp_path: Path) -> None:
    with StateLock.acquire(tmp_path, started_at=STARTED):
        path = StateDir(tmp_path).lock
        before = (path.read_bytes(), path.stat().st_mtime_ns)
        # a separate open file description conflicts, even in the same process
        with pytest.raises(StateDirInUse) as refused:
            StateLock.acquire(tmp_path, started_at=datetime(2026, 3, 3, tzinfo=UTC))
        assert refused.value.holder == LockHolder(os.getpid(), STARTED)
        assert str(refused.value) == (
            f"state directory {tmp_path} in use by pid {os.getpid()} (started 2026-03-02T18:00:03Z)"
        )
        assert (path.read_bytes(), path.stat().st_mtime_ns) == before
        assert sorted(p.name for p in tmp_path.iterdir()) == [StateDir(tmp_path).lock.name]


def test_a_released_lock_can_be_taken_again_and_names_the_new_holder(tmp_path: Path) -> None:
    first = StateLock.acquire(tmp_path, started_at=STARTED)
    first.release()
    first.release()  # idempotent
    later = datetime(2026, 3, 2, 19, 0, tzinfo=UTC)
    with StateLock.acquire(tmp_path, started_at=later):
        assert read_holder(StateDir(tmp_path).lock).started_at == later


def test_a_lock_left_by_a_killed_process_is_taken_over(tmp_path: Path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLDER, str(tmp_path)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"  # blocks until it holds the lock
        with pytest.raises(StateDirInUse) as refused:
            StateLock.acquire(tmp_path)
        assert refused.value.holder.pid == holder.pid
        holder.send_signal(signal.SIGKILL)
        holder.wait(timeout=30)
        # the stale file still names the dead holder; the kernel released its lock
        assert read_holder(StateDir(tmp_path).lock).pid == holder.pid
        with StateLock.acquire(tmp_path) as lock:
            assert read_holder(StateDir(tmp_path).lock).pid == os.getpid()
            assert lock.holder.pid == os.getpid()
    finally:
        if holder.poll() is None:
            holder.kill()
        holder.communicate(timeout=30)


def test_a_longer_stale_record_is_replaced_whole(tmp_path: Path) -> None:
    (StateDir(tmp_path).lock).write_text(json.dumps({"pid": 1, "started_at": "x" * 200}) + "\n")
    with StateLock.acquire(tmp_path, started_at=STARTED):
        assert read_holder(StateDir(tmp_path).lock) == LockHolder(os.getpid(), STARTED)


@pytest.mark.parametrize(
    "content",
    ["", "not json", "[1, 2]", '{"pid": "12", "started_at": "2026-03-02T18:00:03"}'],
    ids=["empty", "not-json", "not-an-object", "wrong-types"],
)
def test_an_unreadable_record_names_an_unknown_holder(tmp_path: Path, content: str) -> None:
    path = StateDir(tmp_path).lock
    path.write_text(content)
    holder = read_holder(path)
    assert holder == LockHolder(None, None)
    assert str(holder) == "another process"


def test_a_missing_state_directory_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        StateLock.acquire(tmp_path / "missing")
