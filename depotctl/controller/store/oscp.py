"""OSCP peers: each OSCP source's registration and handshake, the request ids it sent
(so a repeated request is answered and not handled twice), and the outbox of
messages to it, kept until the peer acknowledges them (a restart or an outage loses
none). The tokens are secrets: they live in the state directory's token files
(:class:`~depotctl.api.state_dir.StateDir`), never here."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from depotctl.controller.store.database import Store
from depotctl.controller.store.encoding import iso, iso_or_none, parse, parse_or_none


@dataclass(frozen=True, slots=True)
class PeerRecord:
    """What is known of one OSCP source's peer (the Capacity Provider).

    ``awaiting_register``: this controller sent its ``register`` and waits for the
    peer's own; ``heartbeat_interval_s`` and ``measurement_configuration`` are the
    peer's required behaviour from its handshake; ``offline_mode_at`` is the deadline
    its last heartbeat gave."""

    source: str
    base_url: str | None = None
    registered_at: datetime | None = None
    awaiting_register: bool = False
    handshake_at: datetime | None = None
    heartbeat_interval_s: float | None = None
    measurement_configuration: tuple[str, ...] = ()
    offline_mode_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A message to a peer's endpoint ``message`` (``register``, ``heartbeat``…), sent
    with the peer's token, or with the source's initial token (``initial_token``: the
    first ``register``, before the peer gave one)."""

    id: int
    source: str
    message: str
    request_id: str
    correlation_id: str | None
    body: dict[str, Any]
    initial_token: bool
    created_at: datetime
    attempts: int
    next_attempt_at: datetime
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class NewOutboxMessage:
    """A message to queue (see :class:`OutboxMessage`)."""

    source: str
    message: str
    request_id: str
    body: dict[str, Any]
    at: datetime
    correlation_id: str | None = None
    initial_token: bool = False


class OscpPeers:
    """The OSCP peers of one store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def get(self, source: str) -> PeerRecord:
        """The peer of ``source`` (a blank record when nothing is known yet)."""
        rows = self._store.rows("SELECT * FROM oscp_peers WHERE source = ?", (source,))
        if not rows:
            return PeerRecord(source)
        row = rows[0]
        return PeerRecord(
            source=row["source"],
            base_url=row["base_url"],
            registered_at=parse_or_none(row["registered_at"]),
            awaiting_register=bool(row["awaiting_register"]),
            handshake_at=parse_or_none(row["handshake_at"]),
            heartbeat_interval_s=row["heartbeat_interval_s"],
            measurement_configuration=tuple(json.loads(row["measurement_configuration"])),
            offline_mode_at=parse_or_none(row["offline_mode_at"]),
        )

    def put(self, peer: PeerRecord) -> None:
        """Record ``peer`` as it is now."""
        with self._store.transaction():
            self._store.write(
                "INSERT INTO oscp_peers (source, base_url, registered_at, awaiting_register,"
                " handshake_at, heartbeat_interval_s, measurement_configuration,"
                " offline_mode_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                " ON CONFLICT (source) DO UPDATE SET base_url = excluded.base_url,"
                " registered_at = excluded.registered_at,"
                " awaiting_register = excluded.awaiting_register,"
                " handshake_at = excluded.handshake_at,"
                " heartbeat_interval_s = excluded.heartbeat_interval_s,"
                " measurement_configuration = excluded.measurement_configuration,"
                " offline_mode_at = excluded.offline_mode_at",
                (
                    peer.source,
                    peer.base_url,
                    iso_or_none(peer.registered_at),
                    int(peer.awaiting_register),
                    iso_or_none(peer.handshake_at),
                    peer.heartbeat_interval_s,
                    json.dumps(list(peer.measurement_configuration)),
                    iso_or_none(peer.offline_mode_at),
                ),
            )

    def deadlines(self) -> dict[str, datetime]:
        """Each peer's ``offline_mode_at``, by source, where it gave one."""
        return {
            row["source"]: parse(row["offline_mode_at"])
            for row in self._store.rows(
                "SELECT source, offline_mode_at FROM oscp_peers WHERE offline_mode_at IS NOT NULL"
            )
        }

    def first_time(self, source: str, request_id: str, at: datetime) -> bool:
        """Record that ``source`` sent ``request_id``; False when it had been seen."""
        with self._store.transaction():
            cursor = self._store.write(
                "INSERT INTO oscp_requests (source, request_id, at) VALUES (?, ?, ?)"
                " ON CONFLICT DO NOTHING",
                (source, request_id, iso(at)),
            )
        return cursor.rowcount == 1

    def seen(self, source: str, request_id: str) -> bool:
        """Whether ``source`` sent ``request_id`` before."""
        return bool(
            self._store.rows(
                "SELECT 1 FROM oscp_requests WHERE source = ? AND request_id = ?",
                (source, request_id),
            )
        )

    def forget_requests(self, before: datetime) -> int:
        """Forget the request ids received before ``before``; how many."""
        with self._store.transaction():
            return self._store.write(
                "DELETE FROM oscp_requests WHERE at < ?", (iso(before),)
            ).rowcount

    def queue(self, message: NewOutboxMessage) -> None:
        """Queue a message for its peer, due at once."""
        with self._store.transaction():
            self._store.write(
                "INSERT INTO oscp_outbox (source, message, request_id, correlation_id, body,"
                " initial_token, created_at, next_attempt_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    message.source,
                    message.message,
                    message.request_id,
                    message.correlation_id,
                    json.dumps(message.body, sort_keys=True),
                    int(message.initial_token),
                    iso(message.at),
                    iso(message.at),
                ),
            )

    def outbox(self, source: str | None = None) -> list[OutboxMessage]:
        """The messages not yet acknowledged, oldest first (of ``source`` only)."""
        sql = "SELECT * FROM oscp_outbox"
        params: tuple[Any, ...] = ()
        if source is not None:
            sql, params = sql + " WHERE source = ?", (source,)
        return [_outbox_message(row) for row in self._store.rows(sql + " ORDER BY id", params)]

    def delivered(self, message_id: int) -> None:
        """The peer acknowledged the message: drop it."""
        with self._store.transaction():
            self._store.write("DELETE FROM oscp_outbox WHERE id = ?", (message_id,))

    def failed(self, message_id: int, error: str, retry_at: datetime) -> None:
        """A delivery failed with ``error``; try again at ``retry_at``."""
        with self._store.transaction():
            self._store.write(
                "UPDATE oscp_outbox SET attempts = attempts + 1, last_error = ?,"
                " next_attempt_at = ? WHERE id = ?",
                (error, iso(retry_at), message_id),
            )

    def drop_outbox(self, source: str) -> int:
        """Drop every queued message to ``source`` (it unregistered); how many."""
        with self._store.transaction():
            return self._store.write("DELETE FROM oscp_outbox WHERE source = ?", (source,)).rowcount


def _outbox_message(row: Any) -> OutboxMessage:
    return OutboxMessage(
        id=row["id"],
        source=row["source"],
        message=row["message"],
        request_id=row["request_id"],
        correlation_id=row["correlation_id"],
        body=json.loads(row["body"]),
        initial_token=bool(row["initial_token"]),
        created_at=parse(row["created_at"]),
        attempts=row["attempts"],
        next_attempt_at=parse(row["next_attempt_at"]),
        last_error=row["last_error"],
    )
