"""Compliance errors: the depot cannot keep to an OSCP source's envelope.

An envelope cannot be complied with when the draws the controller cannot command —
non-EV load, chargers that do not accept commands (counted at their last accepted
limit or their rating), EVSEs whose commands are unanswered — alone exceed its limit
on its node (:func:`~depotctl.engine.alerts.envelope_breaches`; the limit itself, not
the limit less the safety margin). The control loop calls :func:`oscp_compliance`
every cycle inside its unit of work; for each such envelope made by an OSCP forecast:

- the first time its block breaks for a cause (the limit kind: import power, or a
  phase's current) it is reported once: a ``GroupCapacityComplianceError`` naming
  the block as the peer sent it, with ``X-Correlation-ID`` the request id of the
  forecast that carried it, queued in the outbox (kept until acknowledged) and
  journaled — not again while it holds, nor when it comes back;
- while any holds, the source has an ``oscp_compliance`` alert (critical), since the
  first of them was found.

A forecast's blocks are remembered as it is taken (:func:`remember_blocks`), so that
the error names each block as sent and correlates to its request.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta
from typing import Any

from depotctl.api.encoding import utc_text
from depotctl.controller.oscp.peers import OscpPeer
from depotctl.controller.service import LiveState
from depotctl.controller.store import JournalKind, NewJournalEntry, UnitOfWork, journal_entry
from depotctl.controller.store.oscp import ForecastBlockRecord, NewOutboxMessage
from depotctl.domain.alerts import AlertCondition, AlertKind, Subject, SubjectKind
from depotctl.engine.alerts import EnvelopeBreach, envelope_breaches
from depotctl.engine.allocation import LimitKind
from depotctl.protocols.oscp.forecasts import envelope_id
from depotctl.protocols.oscp.messages import (
    ForecastedBlock,
    GroupCapacityComplianceError,
    UpdateGroupCapacityForecast,
)

log = logging.getLogger("depotctl.oscp")

#: How long a block's record is kept after it ended.
KEEP_BLOCKS = timedelta(days=7)


def remember_blocks(
    uow: UnitOfWork, peer: OscpPeer, message: UpdateGroupCapacityForecast, request_id: str
) -> None:
    """Keep each block of a forecast taken, by the envelope it made on each target,
    with the request that carried it; forget those ended :data:`KEEP_BLOCKS` ago."""
    records = [
        (
            ForecastBlockRecord(
                envelope_id(peer.source, request_id, index, target),
                peer.source,
                request_id,
                block.model_dump(mode="json", exclude_none=True),
            ),
            block.end_time,
        )
        for index, block in enumerate(message.forecasted_blocks)
        for target in peer.targets
    ]
    uow.oscp.remember_blocks(records)
    if records:
        uow.oscp.forget_blocks(min(end for _, end in records) - KEEP_BLOCKS)


def oscp_compliance(uow: UnitOfWork, live: LiveState) -> list[AlertCondition]:
    """Report the blocks of OSCP forecasts not complied with that are new (see the
    module docstring), in ``uow``; the alert conditions that hold, one per source. A
    failure here is logged and undone, never the control cycle's."""
    try:
        with uow:  # a savepoint: a failure leaves nothing half reported
            return _report(uow, live)
    except Exception:
        log.exception("OSCP compliance check failed; the control cycle goes on")
        return []


def _report(uow: UnitOfWork, live: LiveState) -> list[AlertCondition]:
    at = live.snapshot.at
    found: dict[str, list[tuple[EnvelopeBreach, ForecastBlockRecord, datetime]]] = {}
    entries: list[NewJournalEntry] = []
    for breach in envelope_breaches(live.snapshot, live.allocation):
        record = uow.oscp.forecast_block(breach.envelope.id)
        if record is None:  # not an OSCP forecast's envelope
            continue
        cause = breach.kind.value
        if uow.oscp.first_report(record.source, record.envelope_id, cause, at):
            uow.oscp.queue(_error_message(record, breach, at))
            entries.append(_reported_entry(record, breach, at))
        since = uow.oscp.reported_since(record.envelope_id, cause) or at
        found.setdefault(record.source, []).append((breach, record, since))
    if entries:
        uow.journal.record(entries)
    return [_condition(source, held) for source, held in sorted(found.items())]


def _error_message(
    record: ForecastBlockRecord, breach: EnvelopeBreach, at: datetime
) -> NewOutboxMessage:
    message = GroupCapacityComplianceError(
        message=_why(breach),
        forecasted_blocks=[ForecastedBlock.model_validate(record.block)],
    )
    body = message.to_wire()
    return NewOutboxMessage.fresh(record.source, message.endpoint, body, at, record.request_id)


def _why(breach: EnvelopeBreach) -> str:
    """What the depot cannot do, in one sentence for the Capacity Provider."""
    envelope = breach.envelope
    if breach.kind is LimitKind.IMPORT_POWER:
        what = "import power"
        reserved, limit = f"{breach.reserved / 1000:.1f} kW", f"{breach.limit / 1000:g} kW"
    else:
        what = f"current on {breach.kind.value.removeprefix('current_')}"
        reserved, limit = f"{breach.reserved:.1f} A", f"{breach.limit:g} A"
    return (
        f"{envelope.target}: the draws the depot cannot command (site loads, chargers that "
        f"do not accept commands) alone are {reserved} of {what}, over the {limit} of the "
        f"block from {utc_text(envelope.start)}"
    )


def _reported_entry(
    record: ForecastBlockRecord, breach: EnvelopeBreach, at: datetime
) -> NewJournalEntry:
    figures = {"reserved": breach.reserved, "limit": breach.limit, "cause": breach.kind.value}
    said = (
        f"source {record.source}: cannot comply with envelope {record.envelope_id} of "
        f"forecast {record.request_id}: {_why(breach)}; a compliance error is queued"
    )
    return journal_entry(
        JournalKind.OSCP_COMPLIANCE,
        said,
        at=at,
        envelope=record.envelope_id,
        data={"source": record.source, "request_id": record.request_id, **figures},
    )


def _condition(
    source: str, held: list[tuple[EnvelopeBreach, ForecastBlockRecord, datetime]]
) -> AlertCondition:
    first = min(since for _, _, since in held)
    breach, record, _ = held[0]
    more = f"; {len(held) - 1} more" if len(held) > 1 else ""
    return AlertCondition(
        AlertKind.OSCP_COMPLIANCE,
        Subject(SubjectKind.SOURCE, source),
        f"since {utc_text(first)}: {_why(breach)} (envelope {record.envelope_id}, "
        f"forecast {record.request_id}; reported to the provider){more}",
        {
            "source": source,
            "since": utc_text(first),
            "envelopes": [_held_json(b, r, s) for b, r, s in held],
        },
    )


def _held_json(breach: EnvelopeBreach, record: ForecastBlockRecord, since: datetime) -> Any:
    return {
        "envelope": record.envelope_id,
        "request_id": record.request_id,
        "cause": breach.kind.value,
        "reserved": round(breach.reserved, 3),
        "limit": breach.limit,
        "since": utc_text(since),
    }
