"""Asking an OSCP source's grid operator for more (or other) capacity: an
``AdjustGroupCapacityForecast`` for the source's group, queued in the outbox (the link
delivers it, kept until acknowledged) and journaled. The grid operator answers, if it
does, with a new capacity forecast."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from depotctl.api.adjustments import AdjustmentInput
from depotctl.controller.ports import Depot
from depotctl.controller.services.errors import Conflict, Invalid, NotFound
from depotctl.controller.store import JournalKind, journal_entry
from depotctl.controller.store.oscp import NewOutboxMessage
from depotctl.protocols.oscp.messages import AdjustGroupCapacityForecast


@dataclass(frozen=True, slots=True)
class QueuedAdjustment:
    source: str
    group_id: str
    request_id: str
    at: datetime
    blocks: int


def request_adjustment(depot: Depot, source: str, body: AdjustmentInput) -> QueuedAdjustment:
    """Queue the adjustment for ``source``'s grid operator. :class:`NotFound` for a
    source that is not an OSCP source of the site, :class:`Conflict` before it is
    registered, :class:`Invalid` for a block that ends before it starts."""
    site = depot.require_site()
    declared = {s.id: s for s in site.site.spec.envelope_sources}
    settings = declared[source].oscp if source in declared else None
    if settings is None:
        oscp = sorted(s for s, d in declared.items() if d.oscp is not None)
        raise NotFound(
            f"site {site.topology.site} has no OSCP envelope source {source!r}; "
            f"its OSCP sources: {', '.join(oscp) or 'none'}"
        )
    for index, block in enumerate(body.forecasted_blocks):
        if block.end_time <= block.start_time:
            raise Invalid(f"forecasted_blocks[{index}] ends at or before its start")
    now = depot.clock.now()
    message = AdjustGroupCapacityForecast.model_validate(
        {"group_id": settings.group_id, **body.model_dump(mode="json")}
    )
    queued = NewOutboxMessage.fresh(
        source, message.endpoint, message.model_dump(mode="json", exclude_none=True), now
    )
    with depot.units() as uow:
        if uow.oscp.get(source).registered_at is None:
            raise Conflict(
                f"source {source} is not registered yet: the controller cannot reach its "
                "grid operator; see `depotctl envelopes` for the link's state"
            )
        uow.oscp.queue(queued)
        uow.journal.record(
            [
                journal_entry(
                    JournalKind.OSCP_FORECAST,
                    f"adjustment asked of source {source} (group {settings.group_id}): "
                    f"{body.type} in {len(body.forecasted_blocks)} blocks, request "
                    f"{queued.request_id}",
                    at=now,
                    data={"source": source, "request_id": queued.request_id, "adjustment": True},
                )
            ]
        )
    return QueuedAdjustment(
        source, settings.group_id, queued.request_id, now, len(body.forecasted_blocks)
    )
