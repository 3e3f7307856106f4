"""The store's SQLite file: opening it, its migrations, and its transactions.

Durability: WAL with ``synchronous=FULL``. In WAL mode ``NORMAL`` cannot corrupt the
store, but a power cut may lose the last committed transactions; the controller must
not lose an acknowledged apply or a journaled decision, and it commits a handful of
transactions per control cycle, so the extra fsync per commit is cheap. Every write
is one ``BEGIN IMMEDIATE`` transaction (writers queue on the busy timeout instead of
failing on upgrade); a unit of work (:mod:`depotctl.controller.store.units`) groups
several writes into one, e.g. a control cycle's journal, envelope states and charger
states.

Times are ISO 8601 UTC text of fixed width (``2024-05-01T12:00:00.000000Z``), so they
compare as text; quantities are in base units (W, A, Wh). One :class:`Store` is safe
to share between threads (calls are serialized); separate processes or connections
coordinate through SQLite's locks.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from depotctl.controller.migrations import LATEST, migrate
from depotctl.controller.store.errors import StoreError

if TYPE_CHECKING:
    from depotctl.controller.store.sessions import SessionRecord
    from depotctl.domain.chargers import ChargerState

#: How long a writer waits for another connection's write lock before failing.
BUSY_TIMEOUT_S = 10.0


class ReadCache:
    """What every control cycle reads, kept until a write (or a rollback) changes it:
    the charger states and the open sessions."""

    def __init__(self) -> None:
        self.chargers: dict[str, ChargerState] | None = None
        self.open_sessions: list[SessionRecord] | None = None

    def forget(self) -> None:
        self.chargers = self.open_sessions = None


class Store:
    """The SQLite file; open it with :meth:`open` (see the module docstring). The
    repositories read and write through :meth:`rows` and :meth:`write`."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        self.lock = threading.RLock()
        self._depth = 0
        self.cache = ReadCache()

    @classmethod
    def open(cls, path: Path, *, busy_timeout_s: float = BUSY_TIMEOUT_S) -> Store:
        """Open (creating it, mode 0600, if need be) the store at ``path`` and run its
        pending migrations. Raises :class:`StoreVersionError` for a store written by a
        newer depotctl."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        if not path.exists():
            os.close(os.open(path, os.O_CREAT | os.O_WRONLY, 0o600))
        connection = sqlite3.connect(
            path, timeout=busy_timeout_s, isolation_level=None, check_same_thread=False
        )
        try:
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise StoreError(f"cannot use WAL for {path} (journal mode {mode})")
            connection.execute("PRAGMA synchronous = FULL")
            connection.execute("PRAGMA foreign_keys = ON")
            connection.execute(f"PRAGMA busy_timeout = {int(busy_timeout_s * 1000)}")
            migrate(connection, path)
        except BaseException:
            connection.close()
            raise
        return cls(connection, path)

    def close(self) -> None:
        with self.lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self.lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    @staticmethod
    def latest_schema_version() -> int:
        return LATEST

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic write: everything inside commits together or not at all. Nested
        use makes a savepoint (an error inside undoes only the inner part, if caught).
        Holds this store's lock throughout, so other threads wait. A rollback forgets
        the read cache."""
        with self.lock:
            if self._depth:
                name = f"sp{self._depth}"
                self._db.execute(f"SAVEPOINT {name}")
                self._depth += 1
                try:
                    yield
                except BaseException:
                    self.cache.forget()
                    self._db.execute(f"ROLLBACK TO {name}")
                    self._db.execute(f"RELEASE {name}")
                    raise
                else:
                    self._db.execute(f"RELEASE {name}")
                finally:
                    self._depth -= 1
                return
            self._db.execute("BEGIN IMMEDIATE")
            self._depth = 1
            try:
                yield
                self._db.execute("COMMIT")
            except BaseException:
                self.cache.forget()
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0

    def rows(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """The rows of one read."""
        with self.lock:
            cursor = self._db.execute(sql, tuple(params))
            cursor.row_factory = sqlite3.Row
            return list(cursor.fetchall())

    def write(self, sql: str, params: Iterable[Any] = ()) -> sqlite3.Cursor:
        """One write statement, in the caller's transaction (call it inside one)."""
        return self._db.execute(sql, tuple(params))

    def write_many(self, sql: str, params: Iterable[tuple[Any, ...]]) -> sqlite3.Cursor:
        """One write statement per parameter row, in the caller's transaction."""
        return self._db.executemany(sql, params)
