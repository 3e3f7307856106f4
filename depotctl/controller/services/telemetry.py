"""Telemetry of meters that are not chargers: take a batch of readings, and read a
node's history (one row per minute)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from depotctl.api.inputs import TelemetryInput
from depotctl.config import Charger
from depotctl.controller.ports import Depot
from depotctl.controller.services.errors import Invalid, NotFound, Unprocessable
from depotctl.controller.services.lookups import site_in_force, unknown
from depotctl.controller.store import TelemetryMinute
from depotctl.domain.phases import Phase
from depotctl.domain.telemetry import Reading

#: how far ahead of the controller's clock a reading may be stamped (clock skew)
FUTURE_READING_TOLERANCE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class TelemetryTaken:
    """How many readings were stored, and of which nodes (sorted)."""

    accepted: int
    nodes: tuple[str, ...]


def take_telemetry(depot: Depot, body: TelemetryInput) -> TelemetryTaken:
    """Store readings of nodes and meters of the site in force (the latest per node is
    kept; every one folds into its minute of history); a cycle runs at once. Refuses
    a reading stamped in the future, of a charger (they report over OCPP), or of an
    unknown node."""
    site = site_in_force(depot)
    nodes = {node.id: node for node in site.site.spec.nodes}
    meters = [meter.id for meter in site.site.spec.meters]
    now = depot.clock.now()
    for reading in body.readings:
        if reading.at - now > FUTURE_READING_TOLERANCE:
            # kept, it would hold back every true reading until its time came
            raise Unprocessable(
                f"reading of {reading.node} is stamped {reading.at.isoformat()}, after "
                f"the controller's time {now.isoformat()}: check the meter's clock",
                node=reading.node,
            )
        node = nodes.get(reading.node)
        if isinstance(node, Charger):
            raise Invalid(
                f'"{reading.node}" is a charger: its readings come from the charger '
                "over OCPP, not from this endpoint",
                node=reading.node,
            )
        if node is None and reading.node not in meters:
            raise unknown(
                "node",
                reading.node,
                f'telemetry for "{reading.node}", which is neither a node nor a meter '
                f"of site {site.topology.site}",
                [*nodes, *meters],
            )
    readings = [
        Reading(
            node=reading.node,
            at=reading.at.astimezone(UTC),
            power_w=reading.power.base if reading.power is not None else None,
            current_a=(
                {Phase(name): amps.amps for name, amps in reading.current.items()}
                if reading.current
                else None
            ),
        )
        for reading in body.readings
    ]
    with depot.units() as uow:
        uow.telemetry.put(readings)
    nodes_read = tuple(sorted({reading.node for reading in readings}))
    depot.changed("telemetry from " + ", ".join(nodes_read))
    return TelemetryTaken(len(readings), nodes_read)


def telemetry_history(
    depot: Depot,
    node: str,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 1440,
) -> list[TelemetryMinute]:
    """A node's (or meter's, or charger's) minutes in ``[since, until)``, oldest
    first; :class:`NotFound` for one the site in force lacks."""
    site = site_in_force(depot)
    known = {n.id for n in site.site.spec.nodes} | {m.id for m in site.site.spec.meters}
    if node not in known:
        raise NotFound(f'site has no node or meter "{node}"', node=node)
    for name, instant in (("since", since), ("until", until)):
        if instant is not None and instant.utcoffset() is None:
            raise Unprocessable(f"{name}: give a time zone (e.g. 2026-11-26T15:00:00Z)")
    return depot.units().telemetry.history(node, since=since, until=until, limit=limit)
