"""OSCP peers: each OSCP source's registration and handshake, the request ids it sent
(so a repeated request is answered and not handled twice), the outbox of messages to
it, kept until the peer acknowledges them (a restart or an outage loses none), and
what goes out besides answers: where each source's measurements stand, the forecast
block behind each envelope, the compliance errors reported. The tokens are secrets:
they live in the state directory's token files
(:class:`~depotctl.api.state_dir.StateDir`), never here."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterable
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
class NewOutboxMessage:
    """A message to a peer's endpoint ``message`` (``register``, ``heartbeat``…), queued
    at ``at``, sent with the peer's token, or with the source's initial token
    (``initial_token``: the first ``register``, before the peer gave one)."""

    source: str
    message: str
    request_id: str
    body: dict[str, Any]
    at: datetime
    correlation_id: str | None = None
    initial_token: bool = False

    @classmethod
    def fresh(
        cls,
        source: str,
        endpoint: str,
        body: dict[str, Any],
        at: datetime,
        correlation_id: str | None = None,
    ) -> NewOutboxMessage:
        """A message to ``endpoint`` of the peer of ``source``, with a new request id."""
        return cls(source, endpoint, str(uuid.uuid4()), body, at, correlation_id)


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A queued message (``queued``) the peer has not acknowledged yet: the attempts
    made so far, when the next is due, and why the last one failed."""

    id: int
    queued: NewOutboxMessage
    attempts: int
    next_attempt_at: datetime
    last_error: str | None = None


@dataclass(frozen=True, slots=True)
class MeasuredPeriods:
    """Where a source's measurements stand: every period up to ``period_end`` is
    queued (or was skipped, journaled), and the energy measured from ``since`` on
    (a ``CONTINUOUS`` peer's cumulative totals)."""

    source: str
    since: datetime
    period_end: datetime
    import_wh: float = 0.0
    export_wh: float = 0.0


@dataclass(frozen=True, slots=True)
class ForecastBlockRecord:
    """The forecast block behind an OSCP envelope: the request that carried it and the
    block as the peer sent it (its JSON)."""

    envelope_id: str
    source: str
    request_id: str
    block: dict[str, Any]


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

    def drop_initial(self, source: str) -> int:
        """Drop the messages to ``source`` still waiting to go with its initial token
        (a registration the peer's own has overtaken); how many."""
        with self._store.transaction():
            return self._store.write(
                "DELETE FROM oscp_outbox WHERE source = ? AND initial_token = 1", (source,)
            ).rowcount

    def drop_outbox(self, source: str) -> int:
        """Drop every queued message to ``source`` (it unregistered); how many."""
        with self._store.transaction():
            return self._store.write("DELETE FROM oscp_outbox WHERE source = ?", (source,)).rowcount

    # what goes out besides the answers: measurements and compliance errors

    def measured(self, source: str) -> MeasuredPeriods | None:
        """Where the measurements of ``source`` stand; None before its first period."""
        for row in self._store.rows("SELECT * FROM oscp_measured WHERE source = ?", (source,)):
            since, period_end = parse(row["since"]), parse(row["period_end"])
            return MeasuredPeriods(source, since, period_end, row["import_wh"], row["export_wh"])
        return None

    def put_measured(self, measured: MeasuredPeriods) -> None:
        """Record where the measurements of a source stand."""
        since, period_end = iso(measured.since), iso(measured.period_end)
        row = (measured.source, since, period_end, measured.import_wh, measured.export_wh)
        with self._store.transaction():
            self._store.write(
                "INSERT OR REPLACE INTO oscp_measured"
                " (source, since, period_end, import_wh, export_wh) VALUES (?, ?, ?, ?, ?)",
                row,
            )

    def remember_blocks(self, blocks: Iterable[tuple[ForecastBlockRecord, datetime]]) -> None:
        """Keep the block behind each envelope (with the block's end), replacing any."""
        with self._store.transaction():
            self._store.write_many(
                "INSERT OR REPLACE INTO oscp_forecast_blocks"
                " (envelope_id, source, request_id, block, block_end) VALUES (?, ?, ?, ?, ?)",
                (
                    (
                        record.envelope_id,
                        record.source,
                        record.request_id,
                        json.dumps(record.block, sort_keys=True),
                        iso(end),
                    )
                    for record, end in blocks
                ),
            )

    def forecast_block(self, envelope_id: str) -> ForecastBlockRecord | None:
        """The block behind an envelope, if an OSCP forecast made it."""
        sql = "SELECT source, request_id, block FROM oscp_forecast_blocks WHERE envelope_id = ?"
        for row in self._store.rows(sql, (envelope_id,)):
            block = json.loads(row["block"])
            return ForecastBlockRecord(envelope_id, row["source"], row["request_id"], block)
        return None

    def forget_blocks(self, ended_before: datetime) -> int:
        """Forget the blocks that ended before ``ended_before`` (and what was reported
        of them); how many."""
        with self._store.transaction():
            self._store.write(
                "DELETE FROM oscp_compliance WHERE envelope_id IN (SELECT envelope_id FROM"
                " oscp_forecast_blocks WHERE block_end < ?)",
                (iso(ended_before),),
            )
            return self._store.write(
                "DELETE FROM oscp_forecast_blocks WHERE block_end < ?", (iso(ended_before),)
            ).rowcount

    def first_report(self, source: str, envelope_id: str, cause: str, at: datetime) -> bool:
        """Record that ``envelope_id`` cannot be complied with for ``cause``; False when
        that was recorded before (a block and cause is reported once)."""
        with self._store.transaction():
            cursor = self._store.write(
                "INSERT INTO oscp_compliance (envelope_id, cause, source, since)"
                " VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                (envelope_id, cause, source, iso(at)),
            )
        return cursor.rowcount == 1

    def reported_since(self, envelope_id: str, cause: str) -> datetime | None:
        """When ``envelope_id`` was first found not complied with for ``cause``."""
        rows = self._store.rows(
            "SELECT since FROM oscp_compliance WHERE envelope_id = ? AND cause = ?",
            (envelope_id, cause),
        )
        return parse(rows[0]["since"]) if rows else None


def _outbox_message(row: Any) -> OutboxMessage:
    queued = NewOutboxMessage(
        row["source"],
        row["message"],
        row["request_id"],
        json.loads(row["body"]),
        parse(row["created_at"]),
        row["correlation_id"],
        bool(row["initial_token"]),
    )
    return OutboxMessage(
        row["id"], queued, row["attempts"], parse(row["next_attempt_at"]), row["last_error"]
    )
