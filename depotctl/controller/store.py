"""The controller's durable state: one SQLite file in the state directory.

It holds the site revisions, the append-only journal, envelopes (with their last
evaluated state), when each envelope source was last heard from, sessions, charger
states, the latest reading per node, and operator overrides. Secrets never go in
here (the journal refuses data keys that name one).

Durability: WAL with ``synchronous=FULL``. In WAL mode ``NORMAL`` cannot corrupt the
store, but a power cut may lose the last committed transactions; the controller must
not lose an acknowledged apply or a journaled decision, and it commits a handful of
transactions per control cycle, so the extra fsync per commit is cheap. Every write
is one ``BEGIN IMMEDIATE`` transaction (writers queue on the busy timeout instead of
failing on upgrade); :meth:`Store.transaction` groups several writes into one, e.g.
a control cycle's journal, envelope states and charger states.

Times are ISO 8601 UTC text of fixed width (``2024-05-01T12:00:00.000000Z``), so they
compare as text; quantities are in base units (W, A, Wh). One :class:`Store` is safe
to share between threads (calls are serialized); separate processes or connections
coordinate through SQLite's locks.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import sqlite3
import threading
from collections.abc import Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from types import TracebackType
from typing import Any

from depotctl.controller.migrations import LATEST, StoreVersionError, migrate
from depotctl.domain.chargers import ChargerState, CommandOutcome, HeldLimit
from depotctl.domain.envelopes import (
    Direction,
    Envelope,
    EnvelopeMode,
    EnvelopeState,
    EnvelopeStatus,
    LimitUnit,
)
from depotctl.domain.overrides import EvseOverride
from depotctl.domain.phases import Phase
from depotctl.domain.sessions import EnergyRequirement, RequirementSource, Session
from depotctl.domain.telemetry import Reading

__all__ = [
    "EnvelopeConflict",
    "EvseOverride",
    "JournalEntry",
    "JournalKind",
    "NewJournalEntry",
    "Revision",
    "RevisionConflict",
    "SessionConflict",
    "SessionRecord",
    "Store",
    "StoreError",
    "StoreVersionError",
    "UnknownEnvelope",
    "UnknownRevision",
    "UnknownSession",
    "site_hash",
]

#: How long a writer waits for another connection's write lock before failing.
BUSY_TIMEOUT_S = 10.0


# Errors


class StoreError(Exception):
    """A request the store's state refuses (the message says why, in the site's terms)."""


class RevisionConflict(StoreError):
    """The current revision moved since the caller read it (a stale plan, or a
    concurrent apply)."""

    def __init__(self, expected: int | None, current: int | None) -> None:
        self.expected = expected
        self.current = current
        want = f"revision {expected}" if expected is not None else "no revision yet"
        have = f"revision {current}" if current is not None else "no revision"
        super().__init__(f"expected {want} to be current, but the store has {have}")


class UnknownRevision(StoreError, LookupError):
    pass


class EnvelopeConflict(StoreError):
    """An envelope id is already stored with different content."""


class UnknownEnvelope(StoreError, LookupError):
    pass


class SessionConflict(StoreError):
    """A session cannot start or change: its id is taken, its EVSE already has an open
    session, or it has ended."""


class UnknownSession(StoreError, LookupError):
    pass


# Records


def site_hash(site_text: str) -> str:
    """The revision hash: SHA-256 (hex) of the site text as UTF-8."""
    return hashlib.sha256(site_text.encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class Revision:
    """An applied site. ``rollback_of`` is the revision whose text a rollback re-applied."""

    number: int
    hash: str
    created_at: datetime
    author: str
    message: str
    site_text: str
    rollback_of: int | None = None


class JournalKind(StrEnum):
    """The journal's vocabulary (``kind`` is free text; use these where they fit)."""

    REVISION_APPLIED = "revision.applied"
    REVISION_ROLLED_BACK = "revision.rolled_back"
    ENVELOPE_RECEIVED = "envelope.received"
    ENVELOPE_STATE = "envelope.state"  # activated, expired, fallback, ... in data
    ENVELOPE_WITHDRAWN = "envelope.withdrawn"
    SOURCE_ONLINE = "source.online"
    SOURCE_OFFLINE = "source.offline"
    ALLOCATION_CHANGED = "allocation.changed"
    COMMAND_SENT = "command.sent"
    COMMAND_OUTCOME = "command.outcome"  # accepted / rejected / timeout / offline
    CHARGER_OFFLINE = "charger.offline"
    CHARGER_ONLINE = "charger.online"
    CHARGER_BOOTED = "charger.booted"  # OCPP BootNotification
    CHARGER_STATUS = "charger.status"  # OCPP StatusNotification, when it changes
    CHARGER_REFUSED = "charger.refused"  # an OCPP connection refused, with the reason
    SESSION_STARTED = "session.started"
    SESSION_ENDED = "session.ended"
    SESSION_REQUIREMENT = "session.requirement"
    OVERRIDE_SET = "override.set"
    OVERRIDE_CLEARED = "override.cleared"
    CYCLE_FAILED = "cycle.failed"
    ALERT_RAISED = "alert.raised"  # controller/alerts.py
    ALERT_CLEARED = "alert.cleared"


@dataclass(frozen=True)
class NewJournalEntry:
    """An entry to append; ``data`` must be JSON-serializable and hold no secrets."""

    at: datetime
    kind: str
    message: str
    evse: str | None = None
    envelope: str | None = None
    session: str | None = None
    data: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class JournalEntry:
    id: int
    at: datetime
    kind: str
    evse: str | None
    envelope: str | None
    session: str | None
    message: str
    data: dict[str, Any]


@dataclass(frozen=True)
class SessionRecord:
    """A stored session: the domain session (its energy delivered so far, or in all
    once ended) and when it ended (None while the vehicle is charging)."""

    session: Session
    ended_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.ended_at is None


@dataclass(frozen=True)
class TelemetryMinute:
    """One node's readings within one minute (UTC): how many, mean and peak power, and
    the peak current per phase."""

    node: str
    minute: datetime
    samples: int
    power_w_mean: float | None
    power_w_max: float | None
    current_a_max: dict[Phase, float] | None


_PHASE_COLUMNS = {Phase.L1: "l1_a_max", Phase.L2: "l2_a_max", Phase.L3: "l3_a_max"}

# A reading folded into its minute: a running mean of power over the readings that
# had one, and peaks (a NULL never wins over a value).
_FOLD_READING = """
INSERT INTO telemetry (node, minute, samples, power_samples, power_w_mean, power_w_max,
                       l1_a_max, l2_a_max, l3_a_max)
VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)
ON CONFLICT (node, minute) DO UPDATE SET
    samples = telemetry.samples + 1,
    power_samples = telemetry.power_samples + excluded.power_samples,
    power_w_mean = CASE
        WHEN excluded.power_w_mean IS NULL THEN telemetry.power_w_mean
        WHEN telemetry.power_w_mean IS NULL THEN excluded.power_w_mean
        ELSE (telemetry.power_w_mean * telemetry.power_samples + excluded.power_w_mean)
             / (telemetry.power_samples + 1) END,
    power_w_max = max(coalesce(telemetry.power_w_max, excluded.power_w_max),
                      coalesce(excluded.power_w_max, telemetry.power_w_max)),
    l1_a_max = max(coalesce(telemetry.l1_a_max, excluded.l1_a_max),
                   coalesce(excluded.l1_a_max, telemetry.l1_a_max)),
    l2_a_max = max(coalesce(telemetry.l2_a_max, excluded.l2_a_max),
                   coalesce(excluded.l2_a_max, telemetry.l2_a_max)),
    l3_a_max = max(coalesce(telemetry.l3_a_max, excluded.l3_a_max),
                   coalesce(excluded.l3_a_max, telemetry.l3_a_max))
"""


def _history_row(reading: Reading) -> tuple[Any, ...]:
    minute = reading.at.astimezone(UTC).replace(second=0, microsecond=0)
    current = reading.current_a or {}
    return (
        reading.node,
        _iso(minute),
        0 if reading.power_w is None else 1,
        reading.power_w,
        reading.power_w,
        *(current.get(phase) for phase in _PHASE_COLUMNS),
    )


# The store


class Store:
    """The SQLite store; open it with :meth:`open` (see the module docstring)."""

    def __init__(self, connection: sqlite3.Connection, path: Path) -> None:
        self._db = connection
        self.path = path
        self._lock = threading.RLock()
        self._depth = 0
        # what every control cycle reads, kept until a write (or a rollback) changes it
        self._charger_cache: dict[str, ChargerState] | None = None
        self._open_sessions_cache: list[SessionRecord] | None = None

    def _forget_cached(self) -> None:
        self._charger_cache = self._open_sessions_cache = None

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
        with self._lock:
            self._db.close()

    def __enter__(self) -> Store:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.close()

    @property
    def schema_version(self) -> int:
        with self._lock:
            return int(self._db.execute("PRAGMA user_version").fetchone()[0])

    @staticmethod
    def latest_schema_version() -> int:
        return LATEST

    @contextmanager
    def transaction(self) -> Iterator[None]:
        """One atomic write: everything inside commits together or not at all. Nested
        use makes a savepoint (an error inside undoes only the inner part, if caught).
        Holds this store's lock throughout, so other threads wait."""
        with self._lock:
            if self._depth:
                name = f"sp{self._depth}"
                self._db.execute(f"SAVEPOINT {name}")
                self._depth += 1
                try:
                    yield
                except BaseException:
                    self._forget_cached()
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
                self._forget_cached()
                if self._db.in_transaction:
                    self._db.execute("ROLLBACK")
                raise
            finally:
                self._depth = 0

    def _rows(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        with self._lock:
            cursor = self._db.execute(sql, tuple(params))
            cursor.row_factory = sqlite3.Row
            return list(cursor.fetchall())

    # Tables kept by modules beside the store (the alerts: controller/alerts.py)

    def select(self, sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        """The rows of one read. A time parameter is encoded as the store keeps times
        (fixed-width UTC text); a mapping or list as JSON text."""
        return self._rows(sql, [_param(p) for p in params])

    def execute(self, sql: str, params: Iterable[Any] = ()) -> int:
        """One write statement, in its own transaction or the caller's; the number of
        rows it changed. Parameters are encoded as in :meth:`select`."""
        with self.transaction():
            return int(self._db.execute(sql, tuple(_param(p) for p in params)).rowcount)

    # Revisions

    def current_revision(self) -> Revision | None:
        rows = self._rows("SELECT * FROM revisions ORDER BY number DESC LIMIT 1")
        return _revision(rows[0]) if rows else None

    def revisions(self) -> list[Revision]:
        """Every revision, newest first."""
        return [_revision(r) for r in self._rows("SELECT * FROM revisions ORDER BY number DESC")]

    def revision(self, number: int) -> Revision | None:
        rows = self._rows("SELECT * FROM revisions WHERE number = ?", (number,))
        return _revision(rows[0]) if rows else None

    def add_revision(
        self,
        site_text: str,
        *,
        author: str,
        message: str,
        at: datetime,
        expected_current: int | None,
    ) -> Revision:
        """Store ``site_text`` as the next revision, atomically, if the current revision
        is still ``expected_current`` (None: the store has none yet); otherwise raise
        :class:`RevisionConflict` and store nothing."""
        return self._add_revision(site_text, author, message, at, expected_current, None)

    def rollback_to(
        self, number: int, *, author: str, at: datetime, message: str | None = None
    ) -> Revision:
        """A new revision with revision ``number``'s site text and files (history is
        never rewritten). Raises :class:`UnknownRevision`."""
        with self.transaction():
            target = self.revision(number)
            if target is None:
                raise UnknownRevision(f"there is no revision {number}")
            current = self.current_revision()
            revision = self._add_revision(
                target.site_text,
                author,
                message or f"rollback to revision {number}",
                at,
                current.number if current else None,
                number,
            )
            self.put_revision_files(revision.number, self.revision_files(number))
            return revision

    def put_revision_files(self, number: int, files: Mapping[str, str]) -> None:
        """Keep the files revision ``number`` refers to (name relative to the site file
        → text); written once, with the revision."""
        with self.transaction():
            self._db.executemany(
                "INSERT INTO revision_files (revision, path, content) VALUES (?, ?, ?)",
                ((number, name, text) for name, text in sorted(files.items())),
            )

    def revision_files(self, number: int) -> dict[str, str]:
        """The files bundled with revision ``number`` (empty for one applied without)."""
        return {
            r["path"]: r["content"]
            for r in self._rows(
                "SELECT path, content FROM revision_files WHERE revision = ? ORDER BY path",
                (number,),
            )
        }

    def _add_revision(
        self,
        site_text: str,
        author: str,
        message: str,
        at: datetime,
        expected_current: int | None,
        rollback_of: int | None,
    ) -> Revision:
        with self.transaction():
            rows = self._rows("SELECT max(number) AS number FROM revisions")
            current: int | None = rows[0]["number"]
            if current != expected_current:
                raise RevisionConflict(expected_current, current)
            revision = Revision(
                number=(current or 0) + 1,
                hash=site_hash(site_text),
                created_at=_utc(at),
                author=author,
                message=message,
                site_text=site_text,
                rollback_of=rollback_of,
            )
            self._db.execute(
                "INSERT INTO revisions (number, hash, created_at, author, message, site_text,"
                " rollback_of) VALUES (?, ?, ?, ?, ?, ?, ?)",
                (
                    revision.number,
                    revision.hash,
                    _iso(at),
                    author,
                    message,
                    site_text,
                    rollback_of,
                ),
            )
            return revision

    # Journal

    def append_journal(self, entries: Iterable[NewJournalEntry]) -> None:
        """Append entries, all in one transaction (all or none of them are stored).
        Raises ValueError for a naive time, an empty kind, data that is not JSON, or
        data with a key that names a secret (``token``, ``password``, ...)."""
        with self.transaction():
            self._db.executemany(
                "INSERT INTO journal (at, kind, evse, envelope, session, message, data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (_journal_row(entry) for entry in entries),
            )

    def journal(
        self,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        evse: str | None = None,
        envelope: str | None = None,
        session: str | None = None,
        kind: str | None = None,
        after_id: int | None = None,
        limit: int = 1000,
        latest: bool = False,
    ) -> list[JournalEntry]:
        """Entries in ``[since, until)`` matching every filter given, oldest first (by
        time, then id). ``after_id`` returns only entries appended after that one (to
        follow the journal). At most ``limit`` entries: the oldest ones, or with
        ``latest`` the newest ones (still returned oldest first)."""
        if limit < 0:
            raise ValueError(f"limit must be 0 or more, not {limit}")
        where: list[str] = []
        params: list[Any] = []
        for column, value in (
            ("at >= ?", _iso(since) if since else None),
            ("at < ?", _iso(until) if until else None),
            ("evse = ?", evse),
            ("envelope = ?", envelope),
            ("session = ?", session),
            ("kind = ?", kind),
            ("id > ?", after_id),
        ):
            if value is not None:
                where.append(column)
                params.append(value)
        order = "DESC" if latest else "ASC"
        sql = (
            "SELECT * FROM journal"
            + (" WHERE " + " AND ".join(where) if where else "")
            + f" ORDER BY at {order}, id {order} LIMIT ?"
        )
        entries = [_journal_entry(r) for r in self._rows(sql, [*params, limit])]
        return entries[::-1] if latest else entries

    # Envelopes

    def put_envelope(self, envelope: Envelope) -> bool:
        """Store a received envelope: True if new, False if the very same envelope was
        already stored (a resubmission). Raises :class:`EnvelopeConflict` when its id is
        taken by a different envelope, ValueError when it ends before it starts."""
        if envelope.end is not None and envelope.end <= envelope.start:
            raise ValueError(
                f"envelope {envelope.id} ends ({_iso(envelope.end)}) "
                f"before it starts ({_iso(envelope.start)})"
            )
        _finite(envelope.limit, f"envelope {envelope.id}'s limit")
        with self.transaction():
            existing = self.envelope(envelope.id)
            if existing is not None:
                if existing == _normalized(envelope):
                    return False
                raise EnvelopeConflict(
                    f"envelope {envelope.id} is already stored with different content"
                )
            self._db.execute(
                "INSERT INTO envelopes (id, source, target, direction, limit_value, unit,"
                " start_at, end_at, received_at, mode, phases, priority, withdrawn_at)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    envelope.id,
                    envelope.source,
                    envelope.target,
                    envelope.direction.value,
                    envelope.limit,
                    envelope.unit.value,
                    _iso(envelope.start),
                    _iso_or_none(envelope.end),
                    _iso(envelope.received_at),
                    envelope.mode.value,
                    ",".join(sorted(envelope.phases)) if envelope.phases is not None else None,
                    envelope.priority,
                    _iso_or_none(envelope.withdrawn_at),
                ),
            )
            return True

    def envelope(self, envelope_id: str) -> Envelope | None:
        rows = self._rows("SELECT * FROM envelopes WHERE id = ?", (envelope_id,))
        return _envelope(rows[0]) if rows else None

    def envelopes(self, *, open_at: datetime | None = None) -> list[Envelope]:
        """Stored envelopes, by receipt then id. With ``open_at``, only those neither
        ended nor withdrawn by then (what a control cycle at that time needs)."""
        sql = "SELECT * FROM envelopes"
        params: list[Any] = []
        if open_at is not None:
            at = _iso(open_at)
            sql += (
                " WHERE (end_at IS NULL OR end_at > ?)"
                " AND (withdrawn_at IS NULL OR withdrawn_at > ?)"
            )
            params = [at, at]
        return [_envelope(r) for r in self._rows(sql + " ORDER BY received_at, id", params)]

    def withdraw_envelope(self, envelope_id: str, *, at: datetime) -> Envelope:
        """Mark an envelope withdrawn from ``at``; withdrawing it again keeps the first
        withdrawal. Raises :class:`UnknownEnvelope`."""
        with self.transaction():
            self._db.execute(
                "UPDATE envelopes SET withdrawn_at = ? WHERE id = ? AND withdrawn_at IS NULL",
                (_iso(at), envelope_id),
            )
            envelope = self.envelope(envelope_id)
            if envelope is None:
                raise UnknownEnvelope(f"there is no envelope {envelope_id}")
            return envelope

    def envelope_states(self) -> dict[str, EnvelopeStatus]:
        """Each envelope's last evaluated state (``received`` until the first), by id:
        the ``before`` of :func:`depotctl.domain.envelopes.transitions` after a restart."""
        return {
            r["id"]: EnvelopeStatus(EnvelopeState(r["state"]), r["state_reason"] or "")
            for r in self._rows("SELECT id, state, state_reason FROM envelopes ORDER BY id")
        }

    def set_envelope_states(self, states: Mapping[str, EnvelopeStatus]) -> None:
        """Record envelopes' evaluated states (the caller journals the transitions).
        Raises :class:`UnknownEnvelope` (and records none) for an id not stored."""
        with self.transaction():
            for envelope_id, status in states.items():
                cursor = self._db.execute(
                    "UPDATE envelopes SET state = ?, state_reason = ? WHERE id = ?",
                    (status.state.value, status.reason, envelope_id),
                )
                if cursor.rowcount == 0:
                    raise UnknownEnvelope(f"there is no envelope {envelope_id}")

    # Envelope sources

    def heard_from(self, source: str, at: datetime) -> None:
        """Record that an envelope source was heard from at ``at`` (a later time wins)."""
        with self.transaction():
            self._db.execute(
                "INSERT INTO sources (source, last_heard) VALUES (?, ?)"
                " ON CONFLICT (source) DO UPDATE SET last_heard = max(last_heard, excluded.last_heard)",
                (source, _iso(at)),
            )

    def last_heard(self) -> dict[str, datetime]:
        """When each source was last heard from, by source id."""
        return {
            r["source"]: _parse(r["last_heard"])
            for r in self._rows("SELECT * FROM sources ORDER BY source")
        }

    # Sessions

    def put_session(self, session: Session) -> bool:
        """Start a session (True) or update an open one (False): its energy delivered,
        requirement, vehicle limit, planned rate and priority class. Raises
        :class:`SessionConflict` if its EVSE already has another open session, or it
        has ended, or its EVSE or start differ from the stored ones."""
        _finite(session.energy_delivered_wh, f"session {session.id}'s energy delivered")
        requirement = session.requirement
        for value, what in (
            (requirement.energy_wh if requirement else None, "required energy"),
            (session.vehicle_max_current_a, "vehicle's maximum current"),
            (session.planned_rate_a, "planned rate"),
        ):
            if value is not None:
                _finite(value, f"session {session.id}'s {what}")
        values = (
            session.energy_delivered_wh,
            requirement.energy_wh if requirement else None,
            _iso(requirement.departure) if requirement else None,
            requirement.source.value if requirement else None,
            session.vehicle_max_current_a,
            session.planned_rate_a,
            session.priority_class,
        )
        with self.transaction():
            self._forget_cached()
            existing = self.session(session.id)
            if existing is None:
                try:
                    self._db.execute(
                        "INSERT INTO sessions (id, evse_id, started_at, energy_delivered_wh,"
                        " requirement_energy_wh, requirement_departure, requirement_source,"
                        " vehicle_max_current_a, planned_rate_a, priority_class)"
                        " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                        (session.id, session.evse_id, _iso(session.started), *values),
                    )
                except sqlite3.IntegrityError as error:
                    raise SessionConflict(
                        f"EVSE {session.evse_id} already has an open session"
                    ) from error
                return True
            if existing.ended_at is not None:
                raise SessionConflict(
                    f"session {session.id} ended at {_iso(existing.ended_at)}; it cannot change"
                )
            if (existing.session.evse_id, existing.session.started) != (
                session.evse_id,
                _utc(session.started),
            ):
                raise SessionConflict(
                    f"session {session.id} is on EVSE {existing.session.evse_id} since "
                    f"{_iso(existing.session.started)}; its EVSE and start cannot change"
                )
            self._db.execute(
                "UPDATE sessions SET energy_delivered_wh = ?, requirement_energy_wh = ?,"
                " requirement_departure = ?, requirement_source = ?, vehicle_max_current_a = ?,"
                " planned_rate_a = ?, priority_class = ? WHERE id = ?",
                (*values, session.id),
            )
            return False

    def end_session(
        self, session_id: str, *, at: datetime, energy_delivered_wh: float
    ) -> SessionRecord:
        """End an open session with the energy it delivered in all. Raises
        :class:`UnknownSession`, or :class:`SessionConflict` if it already ended."""
        _finite(energy_delivered_wh, f"session {session_id}'s energy delivered")
        with self.transaction():
            self._forget_cached()
            existing = self.session(session_id)
            if existing is None:
                raise UnknownSession(f"there is no session {session_id}")
            if existing.ended_at is not None:
                raise SessionConflict(
                    f"session {session_id} already ended at {_iso(existing.ended_at)}"
                )
            self._db.execute(
                "UPDATE sessions SET ended_at = ?, energy_delivered_wh = ? WHERE id = ?",
                (_iso(at), energy_delivered_wh, session_id),
            )
            ended = self.session(session_id)
            assert ended is not None
            return ended

    def raise_session_energy(self, session_id: str, energy_wh: float) -> bool:
        """Raise an ended session's energy to ``energy_wh`` when that is more than it
        recorded (a charger's late word on a session closed by inference); whether it
        changed."""
        _finite(energy_wh, f"session {session_id}'s energy delivered")
        with self.transaction():
            self._forget_cached()
            cursor = self._db.execute(
                "UPDATE sessions SET energy_delivered_wh = ? WHERE id = ?"
                " AND ended_at IS NOT NULL AND energy_delivered_wh < ?",
                (energy_wh, session_id, energy_wh),
            )
            return cursor.rowcount > 0

    def session(self, session_id: str) -> SessionRecord | None:
        rows = self._rows("SELECT * FROM sessions WHERE id = ?", (session_id,))
        return _session(rows[0]) if rows else None

    def sessions(self, *, open_only: bool = False) -> list[SessionRecord]:
        """Sessions by start then id; ``open_only`` keeps those still charging."""
        with self._lock:
            if open_only and self._open_sessions_cache is not None:
                return list(self._open_sessions_cache)
            where = " WHERE ended_at IS NULL" if open_only else ""
            found = [
                _session(r)
                for r in self._rows(f"SELECT * FROM sessions{where} ORDER BY started_at, id")
            ]
            if open_only:
                self._open_sessions_cache = found
            return list(found)

    def put_charger_states(self, states: Iterable[ChargerState]) -> None:
        """Record chargers' states (replacing each one's previous state), in one
        transaction."""
        states = list(states)
        for state in states:
            if state.last_accepted_limit_a is not None:
                _finite(state.last_accepted_limit_a, f"charger {state.charger_id}'s accepted limit")
        with self.transaction():
            self._forget_cached()
            self._db.executemany(
                "INSERT OR REPLACE INTO charger_states (charger_id, online, last_outcome,"
                " last_accepted_limit_a, last_command_at, reason, fallback_accepted, held)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        s.charger_id,
                        int(s.online),
                        s.last_outcome.value if s.last_outcome is not None else None,
                        s.last_accepted_limit_a,
                        _iso_or_none(s.last_command_at),
                        s.reason,
                        int(s.fallback_accepted),
                        _json(_held_json(s.held)),
                    )
                    for s in states
                ),
            )

    def charger_states(self) -> dict[str, ChargerState]:
        with self._lock:
            if self._charger_cache is None:
                self._charger_cache = {
                    r["charger_id"]: ChargerState(
                        charger_id=r["charger_id"],
                        online=bool(r["online"]),
                        last_outcome=(
                            CommandOutcome(r["last_outcome"]) if r["last_outcome"] else None
                        ),
                        last_accepted_limit_a=r["last_accepted_limit_a"],
                        last_command_at=_parse_or_none(r["last_command_at"]),
                        reason=r["reason"],
                        fallback_accepted=bool(r["fallback_accepted"]),
                        held=_held(json.loads(r["held"])),
                    )
                    for r in self._rows("SELECT * FROM charger_states ORDER BY charger_id")
                }
            return dict(self._charger_cache)

    # Telemetry

    def put_readings(self, readings: Iterable[Reading]) -> None:
        """Keep the latest reading per node: a reading older than the stored one (late,
        out of order) does not replace it; and fold every reading into its node's
        minute of history (:meth:`telemetry`). One transaction. Raises ValueError,
        storing none, for a value that is not finite or beyond what any depot measures
        (:data:`~depotctl.domain.quantity.BOUNDS`: the minute's mean stays finite)."""
        readings = list(readings)
        for reading in readings:
            _measured(reading)
        with self.transaction():
            self._db.executemany(_FOLD_READING, (_history_row(r) for r in readings))
            self._db.executemany(
                "INSERT INTO readings (node, at, power_w, current_a) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (node) DO UPDATE SET at = excluded.at, power_w = excluded.power_w,"
                " current_a = excluded.current_a WHERE excluded.at >= readings.at",
                (
                    (
                        r.node,
                        _iso(r.at),
                        r.power_w,
                        _json({str(p): a for p, a in r.current_a.items()})
                        if r.current_a is not None
                        else None,
                    )
                    for r in readings
                ),
            )

    def telemetry(
        self,
        node: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 10_000,
    ) -> list[TelemetryMinute]:
        """A node's history, oldest first: one row per minute it reported in."""
        rows = self._rows(
            "SELECT * FROM telemetry WHERE node = ? AND minute >= ? AND minute < ?"
            " ORDER BY minute LIMIT ?",
            (
                node,
                _iso(since) if since else "",
                _iso(until) if until else "~",
                limit,
            ),
        )
        return [
            TelemetryMinute(
                node=r["node"],
                minute=_parse(r["minute"]),
                samples=r["samples"],
                power_w_mean=r["power_w_mean"],
                power_w_max=r["power_w_max"],
                current_a_max={
                    phase: r[column]
                    for phase, column in _PHASE_COLUMNS.items()
                    if r[column] is not None
                }
                or None,
            )
            for r in rows
        ]

    def prune_telemetry(self, *, before: datetime) -> int:
        """Drop history older than ``before``; the number of minutes dropped."""
        with self.transaction():
            cursor = self._db.execute("DELETE FROM telemetry WHERE minute < ?", (_iso(before),))
        return cursor.rowcount

    def readings(self) -> dict[str, Reading]:
        """The latest reading per node id."""
        return {
            r["node"]: Reading(
                node=r["node"],
                at=_parse(r["at"]),
                power_w=r["power_w"],
                current_a=(
                    {Phase(p): float(a) for p, a in json.loads(r["current_a"]).items()}
                    if r["current_a"] is not None
                    else None
                ),
            )
            for r in self._rows("SELECT * FROM readings ORDER BY node")
        }

    # Operator overrides

    def put_override(self, override: EvseOverride) -> None:
        """Set (or replace) an EVSE's override. Raises ValueError for one that neither
        pauses nor caps, or a cap that is negative or not a number."""
        if not override.paused and override.cap_a is None:
            raise ValueError(
                f"an override on {override.evse_id} must pause it or cap it; "
                "to resume, clear the override"
            )
        if override.cap_a is not None and not (
            math.isfinite(override.cap_a) and override.cap_a >= 0
        ):
            raise ValueError(f"cap on {override.evse_id} must be 0 A or more, not {override.cap_a}")
        with self.transaction():
            self._db.execute(
                "INSERT OR REPLACE INTO overrides (evse_id, paused, cap_a, set_at, author,"
                " reason) VALUES (?, ?, ?, ?, ?, ?)",
                (
                    override.evse_id,
                    int(override.paused),
                    override.cap_a,
                    _iso(override.set_at),
                    override.author,
                    override.reason,
                ),
            )

    def clear_override(self, evse_id: str) -> bool:
        """Remove an EVSE's override (resume it, uncapped); False if it had none."""
        with self.transaction():
            cursor = self._db.execute("DELETE FROM overrides WHERE evse_id = ?", (evse_id,))
            return cursor.rowcount > 0

    def overrides(self) -> dict[str, EvseOverride]:
        return {
            r["evse_id"]: EvseOverride(
                evse_id=r["evse_id"],
                paused=bool(r["paused"]),
                cap_a=r["cap_a"],
                set_at=_parse(r["set_at"]),
                author=r["author"],
                reason=r["reason"],
            )
            for r in self._rows("SELECT * FROM overrides ORDER BY evse_id")
        }


# Encoding


def _held_json(held: Mapping[str, tuple[HeldLimit, ...]]) -> dict[str, list[list[Any]]]:
    return {
        evse_id: [[h.limit_a, _iso_or_none(h.until)] for h in limits]
        for evse_id, limits in sorted(held.items())
    }


def _held(stored: Mapping[str, list[list[Any]]]) -> dict[str, tuple[HeldLimit, ...]]:
    return {
        evse_id: tuple(HeldLimit(float(limit), _parse_or_none(until)) for limit, until in limits)
        for evse_id, limits in stored.items()
    }


def _iso(at: datetime) -> str:
    """Fixed-width ISO 8601 UTC text; a naive time is refused (its zone is unknown)."""
    if at.tzinfo is None or at.utcoffset() is None:
        raise ValueError(f"time {at} has no time zone; the store keeps aware UTC times")
    # isoformat, not strftime: "%Y" drops the leading zeros of a year before 1000
    # ("1-01-01"), which breaks both the fixed width (text order is time order) and
    # fromisoformat when the row is read back.
    return at.astimezone(UTC).replace(tzinfo=None).isoformat(timespec="microseconds") + "Z"


def _iso_or_none(at: datetime | None) -> str | None:
    return _iso(at) if at is not None else None


def _parse(text: str) -> datetime:
    return datetime.fromisoformat(text)


def _parse_or_none(text: str | None) -> datetime | None:
    return _parse(text) if text is not None else None


def _utc(at: datetime) -> datetime:
    return _parse(_iso(at))


def _finite(value: float, what: str) -> None:
    if not math.isfinite(value):
        raise ValueError(f"{what} must be a finite number, not {value}")


def _measured(reading: Reading) -> None:
    """ValueError for a reading's power or current that no meter of a depot reads."""
    beyond = reading.beyond_bounds()
    if beyond is not None:
        raise ValueError(f"reading of {reading.node} at {_iso(reading.at)}: {beyond}")


def _json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), allow_nan=False)


def _param(value: Any) -> Any:
    if isinstance(value, datetime):
        return _iso(value)
    if isinstance(value, Mapping):
        return _json(dict(value))
    if isinstance(value, list | tuple):
        return _json(value)
    return value


#: Data keys the journal refuses: secrets never go in the store.
_SECRET_WORDS = ("token", "password", "passwd", "secret", "authorization", "api_key", "apikey")


def _check_no_secrets(value: Any, where: str) -> None:
    if isinstance(value, Mapping):
        for key, item in value.items():
            lowered = str(key).lower()
            if any(word in lowered for word in _SECRET_WORDS):
                raise ValueError(
                    f"journal data key {where}{key!r} looks like a secret; "
                    "secrets never go in the journal"
                )
            _check_no_secrets(item, f"{where}{key}.")
    elif isinstance(value, list | tuple):
        for item in value:
            _check_no_secrets(item, where)


def _journal_row(entry: NewJournalEntry) -> tuple[Any, ...]:
    if not entry.kind:
        raise ValueError("a journal entry needs a kind")
    _check_no_secrets(entry.data, "")
    try:
        data = _json(entry.data)
    except (TypeError, ValueError) as error:
        raise ValueError(f"journal data for {entry.kind} is not JSON: {error}") from error
    return (
        _iso(entry.at),
        entry.kind,
        entry.evse,
        entry.envelope,
        entry.session,
        entry.message,
        data,
    )


def _journal_entry(row: sqlite3.Row) -> JournalEntry:
    return JournalEntry(
        id=row["id"],
        at=_parse(row["at"]),
        kind=row["kind"],
        evse=row["evse"],
        envelope=row["envelope"],
        session=row["session"],
        message=row["message"],
        data=json.loads(row["data"]),
    )


def _revision(row: sqlite3.Row) -> Revision:
    return Revision(
        number=row["number"],
        hash=row["hash"],
        created_at=_parse(row["created_at"]),
        author=row["author"],
        message=row["message"],
        site_text=row["site_text"],
        rollback_of=row["rollback_of"],
    )


def _envelope(row: sqlite3.Row) -> Envelope:
    phases = row["phases"]
    return Envelope(
        id=row["id"],
        source=row["source"],
        target=row["target"],
        direction=Direction(row["direction"]),
        limit=row["limit_value"],
        unit=LimitUnit(row["unit"]),
        start=_parse(row["start_at"]),
        end=_parse_or_none(row["end_at"]),
        received_at=_parse(row["received_at"]),
        mode=EnvelopeMode(row["mode"]),
        phases=frozenset(Phase(p) for p in phases.split(",")) if phases is not None else None,
        priority=row["priority"],
        withdrawn_at=_parse_or_none(row["withdrawn_at"]),
    )


def _normalized(envelope: Envelope) -> Envelope:
    """The envelope as it reads back from the store (times in UTC, microseconds)."""
    return Envelope(
        id=envelope.id,
        source=envelope.source,
        target=envelope.target,
        direction=Direction(envelope.direction),
        limit=float(envelope.limit),
        unit=LimitUnit(envelope.unit),
        start=_utc(envelope.start),
        end=_utc(envelope.end) if envelope.end is not None else None,
        received_at=_utc(envelope.received_at),
        mode=EnvelopeMode(envelope.mode),
        phases=envelope.phases,
        priority=envelope.priority,
        withdrawn_at=_utc(envelope.withdrawn_at) if envelope.withdrawn_at is not None else None,
    )


def _session(row: sqlite3.Row) -> SessionRecord:
    requirement = None
    if row["requirement_energy_wh"] is not None:
        requirement = EnergyRequirement(
            energy_wh=row["requirement_energy_wh"],
            departure=_parse(row["requirement_departure"]),
            source=RequirementSource(row["requirement_source"] or RequirementSource.SCHEDULE),
        )
    return SessionRecord(
        session=Session(
            id=row["id"],
            evse_id=row["evse_id"],
            started=_parse(row["started_at"]),
            energy_delivered_wh=row["energy_delivered_wh"],
            requirement=requirement,
            vehicle_max_current_a=row["vehicle_max_current_a"],
            planned_rate_a=row["planned_rate_a"],
            priority_class=row["priority_class"],
        ),
        ended_at=_parse_or_none(row["ended_at"]),
    )
