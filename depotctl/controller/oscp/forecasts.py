"""A capacity forecast taken: its blocks become envelopes on the source's nodes
(:func:`~depotctl.protocols.oscp.forecasts.forecast_intake`), the stored ones it
replaces are withdrawn, the source is heard from, and one journal entry names them
all (each envelope's own entries follow from the control loop: pending, active…) —
in the caller's unit of work. ``OPTIMUM`` forecasts are advice for the planner: they
are journaled, and limit nothing."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime, timedelta

from depotctl.api.encoding import utc_text
from depotctl.controller.oscp.compliance import remember_blocks
from depotctl.controller.oscp.peers import OscpPeer
from depotctl.controller.services.envelopes import limit_words
from depotctl.controller.store import JournalKind, NewJournalEntry, UnitOfWork, journal_entry
from depotctl.domain.envelopes import Envelope
from depotctl.protocols.oscp.events import Inbound, OscpRefused
from depotctl.protocols.oscp.forecasts import (
    ForecastIntake,
    ForecastRefused,
    forecast_intake,
    replacements,
)
from depotctl.protocols.oscp.messages import UpdateGroupCapacityForecast


def take_forecast(
    uow: UnitOfWork, peer: OscpPeer, message: UpdateGroupCapacityForecast, inbound: Inbound
) -> str:
    """Store ``message``'s envelopes; what changed, in words (for the control loop).
    :class:`OscpRefused` (400, storing nothing) for a forecast that cannot be taken."""
    if not peer.targets:
        raise OscpRefused(
            409,
            f"source {peer.source} limits no node of the site: give the grid connection "
            f"`envelope_source: {peer.source}` in the site file, then apply it",
        )
    stored = uow.envelopes.all(open_at=inbound.at, source=peer.source)
    try:
        intake = forecast_intake(
            message,
            source=peer.source,
            targets=peer.targets,
            request_id=inbound.request_id,
            received_at=_arrival(inbound.at, stored),
        )
    except ForecastRefused as refused:
        raise OscpRefused(400, str(refused)) from None
    replaced = replacements(stored, intake.envelopes)
    uow.envelopes.withdraw_many(replaced)
    uow.envelopes.add_new(intake.envelopes)
    entries = [_forecast_entry(peer, message, intake, inbound, replaced)]
    remember_blocks(uow, peer, message, inbound.request_id)
    uow.sources.heard_from(peer.source, inbound.at)
    uow.journal.record(entries)
    return f"source {peer.source} sent a {message.type} forecast"


def _arrival(at: datetime, stored: Sequence[Envelope]) -> datetime:
    """When a forecast counts as received: ``at``, or a microsecond after the source's
    latest one if that was taken at the same instant (a paused simulated clock), so
    that the later of two forecasts is the newer and replaces the earlier."""
    latest = max((envelope.received_at for envelope in stored), default=None)
    if latest is not None and latest >= at:
        return latest + timedelta(microseconds=1)
    return at


def _forecast_entry(
    peer: OscpPeer,
    message: UpdateGroupCapacityForecast,
    intake: ForecastIntake,
    inbound: Inbound,
    replaced: Mapping[str, datetime],
) -> NewJournalEntry:
    blocks = message.forecasted_blocks
    start = min(block.start_time for block in blocks)
    end = max(block.end_time for block in blocks)
    if intake.envelopes:
        lowest = min(intake.envelopes, key=lambda e: (e.unit, e.limit))
        what = (
            f"{len(intake.envelopes)} envelopes on {', '.join(peer.targets)}, the lowest "
            f"{limit_words(lowest)}; {len(replaced)} replaced"
        )
    else:
        what = f"{len(intake.optima)} advised levels (OPTIMUM: the planner's, never a limit)"
    return journal_entry(
        JournalKind.OSCP_FORECAST,
        f"source {peer.source} sent a {message.type} forecast for group {message.group_id}: "
        f"{len(blocks)} blocks from {utc_text(start)} until {utc_text(end)}; {what}",
        at=inbound.at,
        data={
            "source": peer.source,
            "group_id": message.group_id,
            "type": str(message.type),
            "request_id": inbound.request_id,
            "blocks": len(blocks),
            "envelopes": [e.id for e in intake.envelopes],
            "replaced": sorted(replaced),
        },
    )
