"""Shipping a store's backlog into the history database: at least once, never twice.

Each stream (site revisions, journal, ended sessions, telemetry minutes and quarter
hours) has a cursor in the history
database, per depot: the key of the last row shipped. A batch's upserts and its cursor
commit in one PostgreSQL transaction, so the cursor moves only with the rows; a
shipper killed mid-batch, or a database gone mid-batch, leaves the cursor where the
last commit put it and the store keeps the backlog. Every upsert is keyed by (depot,
the row's id in the store), so rows shipped again are never doubled: the journal's
are kept (it is append-only), sessions' and minutes' are updated when they differ.

What still changes after it is shipped is shipped again (:mod:`.streams`).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, NamedTuple

import psycopg
from psycopg.types.json import Jsonb

from depotctl.domain.refusal import Refusal
from depotctl.history.backlog import Row, StoreBacklog
from depotctl.history.schema import migrate
from depotctl.history.streams import (
    JOURNAL,
    QUARTERS,
    REVISIONS,
    TELEMETRY,
    Stream,
    ended_sessions,
    open_sessions,
    session_upsert,
)
from depotctl.history.target import CONNECT_TIMEOUT_S, HistoryTarget

#: Rows per batch (one transaction each).
BATCH = 2000

Connection = psycopg.Connection[tuple[Any, ...]]


class Shipped(NamedTuple):
    """What one round sent: rows per stream (``sessions`` counts open ones too), not
    counting those read again unchanged."""

    journal: int = 0
    sessions: int = 0
    telemetry: int = 0
    quarters: int = 0
    revisions: int = 0


#: Called inside a batch's transaction after its upserts, before its cursor moves,
#: with the stream's name and the batch's rows (tests make it fail there).
BatchHook = Callable[[str, int], None]


class HistoryUnavailable(Exception):
    """The history database cannot be reached or failed mid-round; the backlog waits."""


class Shipper:
    """Ships one depot's store into one history database (:meth:`ship_round`)."""

    def __init__(
        self,
        backlog: StoreBacklog,
        target: HistoryTarget,
        depot: str,
        *,
        batch: int = BATCH,
        before_commit: BatchHook | None = None,
    ) -> None:
        if not depot:
            raise Refusal("the depot's name is empty; give --depot NAME", 2)
        self.backlog = backlog
        self.target = target
        self.depot = depot
        self.batch = batch
        self._before_commit = before_commit
        self._connection: Connection | None = None
        #: The rows this connection sent that a round reads again (its grace, the
        #: open sessions), by stream and key: an unchanged one is not sent again.
        self._sent: dict[str, dict[tuple[Any, ...], Row]] = {}
        columns = backlog.session_columns()
        self._streams = (REVISIONS, JOURNAL, ended_sessions(columns), TELEMETRY, QUARTERS)
        self._open_sessions = open_sessions(columns), session_upsert(columns)

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None

    def ship_round(self) -> Shipped:
        """Ship everything the store holds now, batch by batch, and every open session;
        :class:`HistoryUnavailable` when the database fails (rows committed so far stay
        shipped, the rest waits for the next round)."""
        try:
            connection = self._connect()
            self._check_same_store(connection)
            counts = {stream.name: self._drain(connection, stream) for stream in self._streams}
            counts["sessions"] += self._ship_open_sessions(connection)
        except psycopg.OperationalError as error:
            self.close()
            raise HistoryUnavailable(_reason(error)) from None
        return Shipped(**counts)

    def _connect(self) -> Connection:
        if self._connection is None or self._connection.closed:
            self._connection = psycopg.connect(
                self.target.url,
                password=self.target.password,
                connect_timeout=CONNECT_TIMEOUT_S,
                application_name="depotctl history ship",
                autocommit=True,
            )
            migrate(self._connection)
            self._sent = {}  # a new connection sends what it reads again
        return self._connection

    def _cursor(self, connection: Connection, stream: Stream) -> tuple[Any, ...]:
        row = connection.execute(
            "SELECT position FROM history_cursors WHERE depot = %s AND stream = %s",
            (self.depot, stream.name),
        ).fetchone()
        return tuple(row[0]) if row else stream.start

    def _check_same_store(self, connection: Connection) -> None:
        shipped = self._cursor(connection, JOURNAL)[0]
        here = self.backlog.last_journal_id()
        if shipped > here:
            raise Refusal(
                f"the history database holds depot {self.depot}'s journal up to entry"
                f" {shipped}, but {self.backlog.path} ends at entry {here}: another store"
                " ships under this name; give this one its own --depot NAME",
                4,
            )

    def _drain(self, connection: Connection, stream: Stream) -> int:
        """Ship a stream's rows from its round start, a batch per transaction with its
        cursor; the rows sent (those read again unchanged are not)."""
        cursor = self._cursor(connection, stream)
        after = stream.round_start(cursor)
        sent = self._sent.setdefault(stream.name, {})
        for key in [key for key in sent if key <= after]:
            del sent[key]
        shipped = 0
        while True:
            rows = self.backlog.rows(stream.select, (*after, self.batch))
            if not rows:
                return shipped
            last = stream.key(rows[-1])
            fresh = [row for row in rows if sent.get(stream.key(row)) != row]
            with connection.transaction():
                if fresh:
                    with connection.cursor() as cur:
                        cur.executemany(
                            stream.upsert.encode(), [stream.values(self.depot, r) for r in fresh]
                        )
                if self._before_commit is not None:
                    self._before_commit(stream.name, len(fresh))
                if last > cursor:
                    cursor = last
                    connection.execute(
                        "INSERT INTO history_cursors (depot, stream, position)"
                        " VALUES (%s, %s, %s) ON CONFLICT (depot, stream)"
                        " DO UPDATE SET position = excluded.position, moved_at = now()",
                        (self.depot, stream.name, Jsonb(list(cursor))),
                    )
            if stream.grace is not None:
                sent.update((stream.key(row), row) for row in fresh)
            shipped += len(fresh)
            if len(rows) < self.batch:
                return shipped
            after = last

    def _ship_open_sessions(self, connection: Connection) -> int:
        select, upsert = self._open_sessions
        rows = self.backlog.rows(select, ())
        sent = self._sent.get("open sessions", {})
        fresh = [row for row in rows if sent.get((row[0],)) != row]
        if fresh:
            with connection.transaction(), connection.cursor() as cur:
                cur.executemany(upsert.encode(), [(self.depot, *row) for row in fresh])
        self._sent["open sessions"] = {(row[0],): row for row in rows}
        return len(fresh)


def _reason(error: psycopg.OperationalError) -> str:
    """The driver's first line, which names the server and never the password."""
    return (str(error).strip().splitlines() or [type(error).__name__])[0]
