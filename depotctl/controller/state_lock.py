"""One controller per state directory: an exclusive ``flock`` on ``STATE_DIR/serve.lock``.

``depotctl serve`` takes the lock before it touches anything else in the directory
and holds it for its life. The file (mode 0600) names the holder: its pid and when it
started. The kernel drops the lock when the holder dies, however it dies (kill -9
included), so a lock file left behind by a crash is simply taken over and rewritten;
only a live holder refuses. A refused :meth:`StateLock.acquire` leaves the file as it
was.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from depotctl.api.state_dir import StateDir


@dataclass(frozen=True, slots=True)
class LockHolder:
    """Who holds a state directory: a process id, and when it started (None when the
    file could not be read, e.g. the holder is still writing it)."""

    pid: int | None
    started_at: datetime | None

    def __str__(self) -> str:
        who = f"pid {self.pid}" if self.pid is not None else "another process"
        if self.started_at is None:
            return who
        started = self.started_at.astimezone(UTC).isoformat(timespec="seconds")
        return f"{who} (started {started.replace('+00:00', 'Z')})"


class StateDirInUse(Exception):
    """Another live process holds the state directory's lock."""

    def __init__(self, state_dir: Path, holder: LockHolder) -> None:
        self.state_dir = state_dir
        self.holder = holder
        super().__init__(f"state directory {state_dir} in use by {holder}")


class StateLock:
    """The held lock on a state directory; release it with :meth:`release` (or use it
    as a context manager). Acquire it with :meth:`acquire`."""

    def __init__(self, path: Path, descriptor: int, holder: LockHolder) -> None:
        self.path = path
        self.holder = holder
        self._descriptor: int | None = descriptor

    @classmethod
    def acquire(cls, state_dir: Path, *, started_at: datetime | None = None) -> StateLock:
        """Lock ``state_dir`` (which must exist) for this process, without waiting, and
        write the holder (this process's pid; ``started_at``, default now) into the lock
        file. Raises :class:`StateDirInUse` when a live process holds it
        (the file is left untouched), OSError when the file cannot be opened."""
        path = StateDir(Path(state_dir)).lock
        descriptor = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        try:
            fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(descriptor)
            if error.errno in (errno.EWOULDBLOCK, errno.EAGAIN, errno.EACCES):
                raise StateDirInUse(Path(state_dir), read_holder(path)) from None
            raise
        holder = LockHolder(os.getpid(), (started_at or datetime.now(UTC)).astimezone(UTC))
        try:
            os.fchmod(descriptor, 0o600)
            _write_holder(descriptor, holder)
        except BaseException:
            os.close(descriptor)  # closing the descriptor releases the lock
            raise
        return cls(path, descriptor, holder)

    @property
    def is_held(self) -> bool:
        return self._descriptor is not None

    def release(self) -> None:
        """Give the lock up (the file stays, naming its last holder); idempotent."""
        descriptor, self._descriptor = self._descriptor, None
        if descriptor is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(descriptor, fcntl.LOCK_UN)
            os.close(descriptor)

    def __enter__(self) -> StateLock:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()


def read_holder(path: Path) -> LockHolder:
    """The holder a lock file names; unknown fields are None (a file being written, or
    not depotctl's)."""
    try:
        record = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return LockHolder(None, None)
    if not isinstance(record, dict):
        return LockHolder(None, None)
    pid = record.get("pid")
    started = record.get("started_at")
    started_at: datetime | None = None
    if isinstance(started, str):
        with contextlib.suppress(ValueError):
            started_at = datetime.fromisoformat(started)
    if started_at is not None and started_at.tzinfo is None:
        started_at = None
    return LockHolder(
        pid if isinstance(pid, int) and not isinstance(pid, bool) else None, started_at
    )


def _write_holder(descriptor: int, holder: LockHolder) -> None:
    """Replace the file's content with the holder, in place (the lock is on this file)."""
    started = holder.started_at.isoformat() if holder.started_at is not None else None
    content = json.dumps({"pid": holder.pid, "started_at": started}) + "\n"
    os.ftruncate(descriptor, 0)
    os.pwrite(descriptor, content.encode("utf-8"), 0)
    os.fsync(descriptor)
