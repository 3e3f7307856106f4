"""The append-only journal, and the one function that makes an entry of it
(:func:`journal_entry`)."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any, Unpack

from depotctl.api.journal import JournalFilters, JournalPosition, JournalSubjects
from depotctl.controller.store.database import Store
from depotctl.controller.store.encoding import iso, parse, to_json


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
    OSCP_REGISTERED = "oscp.registered"  # an OSCP peer registered, or ended it
    OSCP_HANDSHAKE = "oscp.handshake"  # required behaviour exchanged
    OSCP_FORECAST = "oscp.forecast"  # a capacity forecast taken, with its envelopes
    OSCP_DELIVERY = "oscp.delivery"  # a message to a peer refused or undeliverable
    OSCP_MEASUREMENTS = "oscp.measurements"  # a period's measurements queued, or skipped
    OSCP_COMPLIANCE = "oscp.compliance"  # an envelope not complied with, reported


@dataclass(frozen=True)
class NewJournalEntry:
    """An entry to append; ``data`` must be JSON-serializable and hold no secrets.
    Make one with :func:`journal_entry`."""

    at: datetime
    kind: str  #: a JournalKind where one fits
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


def journal_entry(
    kind: str,
    message: str,
    *,
    at: datetime,
    data: Mapping[str, Any] | None = None,
    **subjects: Unpack[JournalSubjects],
) -> NewJournalEntry:
    """A journal entry: what happened (``kind``, one of :class:`JournalKind` where one
    fits), in words (``message``), when (the controller's clock), to which EVSE,
    envelope and session (``subjects``, the journal's filters), and its figures
    (``data``)."""
    return NewJournalEntry(at, str(kind), message, data=dict(data or {}), **subjects)


class Journal:
    """The journal of one store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def record(self, entries: Iterable[NewJournalEntry]) -> None:
        """Append entries, all in one transaction (all or none of them are stored).
        Raises ValueError for a naive time, an empty kind, data that is not JSON, or
        data with a key that names a secret (``token``, ``password``, ...)."""
        with self._store.transaction():
            self._store.write_many(
                "INSERT INTO journal (at, kind, evse, envelope, session, message, data)"
                " VALUES (?, ?, ?, ?, ?, ?, ?)",
                (_journal_row(entry) for entry in entries),
            )

    def entries(
        self,
        *,
        latest: bool = False,
        scope: NodeScope | None = None,
        **filters: Unpack[JournalFilters],
    ) -> list[JournalEntry]:
        """Entries in ``[since, until)`` matching every filter given, oldest first (by
        time, then id). ``after_id`` returns only entries appended after that one (to
        follow the journal), ``cursor`` only those after the position it names. A
        ``node`` filter needs its ``scope`` (what is under the node). At most ``limit``
        entries (1,000 unless given): the oldest ones, or with ``latest`` the newest
        ones (still returned oldest first)."""
        limit = filters.pop("limit", 1000)
        if limit < 0:
            raise ValueError(f"limit must be 0 or more, not {limit}")
        where, params = _where(filters, scope)
        order = "DESC" if latest else "ASC"
        sql = f"SELECT * FROM journal{where} ORDER BY at {order}, id {order} LIMIT ?"
        entries = [_journal_entry(r) for r in self._store.rows(sql, [*params, limit])]
        return entries[::-1] if latest else entries

    def count(self, *, scope: NodeScope | None = None, **filters: Unpack[JournalFilters]) -> int:
        """How many entries match every filter given (``limit`` aside), as
        :meth:`entries` reads them."""
        filters.pop("limit", None)
        where, params = _where(filters, scope)
        return int(self._store.rows(f"SELECT count(*) FROM journal{where}", params)[0][0])


@dataclass(frozen=True, slots=True)
class NodeScope:
    """What the ``node`` filter reaches: the node, and the EVSEs and chargers at or
    below it in the site in force (:data:`depotctl.api.journal.NODE_SCOPE`)."""

    node: str
    evses: frozenset[str]
    chargers: frozenset[str]


#: Each plain filter of :class:`JournalFilters` as its SQL condition.
_CONDITIONS = {
    "since": "at >= ?",
    "until": "at < ?",
    "evse": "evse = ?",
    "envelope": "envelope = ?",
    "session": "session = ?",
    "vehicle": "session IN (SELECT id FROM sessions WHERE vehicle_id = lower(?))",
    "kind": "kind = ?",
    "after_id": "id > ?",
}


def _where(filters: JournalFilters, scope: NodeScope | None) -> tuple[str, list[Any]]:
    """`` WHERE …`` and its parameters for ``filters`` (empty for none)."""
    where: list[str] = []
    params: list[Any] = []
    for name, value in filters.items():
        if value is None:
            continue
        if name == "cursor":
            position = JournalPosition.of_cursor(str(value))
            # ``at >= ?`` first: the range an index on (…, at) reads
            where.append("at >= ? AND (at > ? OR id > ?)")
            params += [iso(position.at), iso(position.at), position.id]
        elif name == "node":
            if scope is None or scope.node != value:
                raise ValueError(f"the node filter {value!r} needs its scope")
            condition, scoped = _node_condition(scope)
            where.append(condition)
            params += scoped
        else:
            where.append(_CONDITIONS[name])
            params.append(iso(value) if isinstance(value, datetime) else value)
    return (" WHERE " + " AND ".join(where) if where else ""), params


def _node_condition(scope: NodeScope) -> tuple[str, list[Any]]:
    evses, chargers = sorted(scope.evses), sorted(scope.chargers)
    subjects = [scope.node, *chargers]
    condition = (
        f"(evse IN ({_marks(evses)})"
        f" OR json_extract(data, '$.charger') IN ({_marks(chargers)})"
        " OR json_extract(data, '$.target') = ?"
        " OR (json_extract(data, '$.subject.kind') IN ('node', 'charger')"
        f" AND json_extract(data, '$.subject.id') IN ({_marks(subjects)})))"
    )
    return condition, [*evses, *chargers, scope.node, *subjects]


def _marks(values: list[str]) -> str:
    """``?, ?, ?`` for ``values``; ``NULL`` for none (``x IN (NULL)`` matches nothing)."""
    return ", ".join("?" * len(values)) or "NULL"


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
        data = to_json(entry.data)
    except (TypeError, ValueError) as error:
        raise ValueError(f"journal data for {entry.kind} is not JSON: {error}") from error
    return (
        iso(entry.at),
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
        at=parse(row["at"]),
        kind=row["kind"],
        evse=row["evse"],
        envelope=row["envelope"],
        session=row["session"],
        message=row["message"],
        data=json.loads(row["data"]),
    )
