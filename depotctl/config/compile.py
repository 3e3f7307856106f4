"""A validated site → the engine's compiled topology and policy (base units).

Generation is not counted as relief on any limit: it can stop at any moment, so
the engine never spends it in advance. Storage counts as a load at its rating
when its reading is stale.
"""

from __future__ import annotations

from datetime import time
from pathlib import Path
from zoneinfo import ZoneInfo

from depotctl.config.checks.context import SiteContext
from depotctl.config.checks.loading import connection_of
from depotctl.config.schema import (
    Charger,
    ChargerGroup,
    Circuit,
    GridConnection,
    Site,
    SiteLoad,
    Storage,
    Transformer,
)
from depotctl.config.schema.nodes import Limits
from depotctl.config.schema.sources import EnvelopeFallback
from depotctl.domain import THREE_PHASE, Current, Power
from depotctl.domain.phases import PhaseConnection, load_current
from depotctl.domain.policy import Policy, StaleLoad, UncontrollableAssumption
from depotctl.domain.topology import (
    EvseSpec,
    NodeKind,
    NodeLimits,
    SiteLoadSpec,
    SourceSpec,
    Topology,
    TopologyNode,
)

_LIMITED = (GridConnection, Transformer, Circuit, ChargerGroup, Charger)


def compile_site(site: Site, base_dir: Path | None = None) -> tuple[Topology, Policy]:
    """The engine's view of a schema-valid, rule-clean site."""
    ctx = SiteContext(site, base_dir or Path("."))
    policy = compile_policy(site)
    nodes: dict[str, TopologyNode] = {}
    ordered = sorted(
        (n for n in ctx.node_list if isinstance(n, _LIMITED)), key=lambda n: len(ctx.ancestors(n))
    )
    for limited in ordered:
        nodes[limited.id] = _node(ctx, limited)
    evses: dict[str, EvseSpec] = {}
    loads: dict[str, SiteLoadSpec] = {}
    for node in ctx.node_list:
        if isinstance(node, Charger):
            for spec in _evses(ctx, node, policy):
                evses[spec.id] = spec
        elif isinstance(node, SiteLoad | Storage) and node.parent is not None:
            loads[node.id] = _site_load(ctx, node)
    sources = {
        source.id: SourceSpec(
            id=source.id,
            offline_after_s=source.offline_after.seconds if source.offline_after else None,
            fallback=_limits(source.fallback),
            targets=tuple(
                n.id for n in ctx.node_list if getattr(n, "envelope_source", None) == source.id
            ),
        )
        for source in site.spec.envelope_sources
    }
    topology = Topology(
        site=site.metadata.name,
        timezone=site.metadata.timezone,
        nodes=nodes,
        evses=evses,
        site_loads=loads,
        sources=sources,
    )
    return topology, policy


def compile_policy(site: Site) -> Policy:
    policies = site.spec.policies
    departure = policies.default_requirement.departure
    hours, minutes = (int(part) for part in departure.split(":"))
    return Policy(
        min_current_a=policies.charging.min_current.amps,
        safety_margin=policies.charging.safety_margin.fraction,
        urgency_threshold_s=policies.charging.urgency_threshold.seconds,
        hysteresis_a=policies.charging.hysteresis.amps,
        stale_after_s=policies.telemetry.stale_after.seconds,
        stale_site_load=StaleLoad(policies.telemetry.stale_site_load),
        stale_margin=policies.telemetry.stale_margin.fraction,
        default_departure=time(hours % 24, minutes, tzinfo=ZoneInfo(site.metadata.timezone)),
        default_energy_wh=policies.default_requirement.energy.base,
        uncontrollable=UncontrollableAssumption(policies.uncontrollable_charger.assume),
        priority=policies.charging.priority,
        min_on_s=policies.charging.rotation.min_on.seconds,
        min_off_s=policies.charging.rotation.min_off.seconds,
    )


def _node(
    ctx: SiteContext, node: GridConnection | Transformer | Circuit | ChargerGroup | Charger
) -> TopologyNode:
    depth = len(ctx.ancestors(node))
    if isinstance(node, Charger):
        limits = NodeLimits(
            import_w=node.rating.power.base if node.rating.power else None,
            current_a=node.rating.current.amps if node.rating.current else None,
        )
        envelope_source = None
        meter = None
    else:
        limits = _limits(node.limits)
        envelope_source = node.envelope_source
        meter = node.meter
    ratio = 1.0
    if isinstance(node, Transformer):
        ratio = node.secondary.volts / node.primary.volts
        limits = NodeLimits(
            import_w=min(
                node.rating.base,
                limits.import_w if limits.import_w is not None else node.rating.base,
            ),
            export_w=limits.export_w,
            current_a=limits.current_a,
        )
    return TopologyNode(
        id=node.id,
        kind=NodeKind(node.type),
        parent=node.parent,
        depth=depth,
        phases=ctx.phases_of(node),
        voltage_ln=ctx.voltage_of(node).volts,
        limits=limits,
        envelope_source=envelope_source,
        meter=meter,
        current_ratio=ratio,
        winding=node.winding if isinstance(node, Transformer) else None,
    )


def _limits(limits: Limits | EnvelopeFallback | None) -> NodeLimits:
    """A node's static limits, or an envelope source's fallback (the same three)."""
    if limits is None:
        return NodeLimits()
    return NodeLimits(
        import_w=limits.import_.base if limits.import_ else None,
        export_w=limits.export.base if limits.export else None,
        current_a=limits.current.amps if limits.current else None,
    )


def _amps(
    value: Current | Power | None, connection: PhaseConnection | None, volts: float
) -> float | None:
    if value is None:
        return None
    if isinstance(value, Current):
        return value.amps
    return load_current(value.base, connection, volts)


def _evses(ctx: SiteContext, charger: Charger, policy: Policy) -> list[EvseSpec]:
    connection = connection_of(ctx, charger)
    volts = ctx.voltage_of(charger).volts
    charger_caps = [
        cap
        for cap in (
            _amps(charger.rating.current, connection, volts),
            _amps(charger.rating.power, connection, volts),
        )
        if cap is not None
    ]
    fallback = _amps(charger.fallback, connection, volts)
    path = (charger.id, *(a.id for a in ctx.ancestors(charger)))
    specs = []
    for evse in charger.evses:
        caps = list(charger_caps)
        for own in (
            _amps(evse.max_current, connection, volts),
            _amps(evse.max_power, connection, volts),
        ):
            if own is not None:
                caps.append(own)
        connector_caps = [
            min(
                c
                for c in (
                    _amps(connector.max_current, connection, volts),
                    _amps(connector.max_power, connection, volts),
                )
                if c is not None
            )
            for connector in evse.connectors
            if connector.max_current is not None or connector.max_power is not None
        ]
        if connector_caps and len(connector_caps) == len(evse.connectors):
            caps.append(max(connector_caps))
        max_current = min(caps)
        specs.append(
            EvseSpec(
                id=f"{charger.id}/{evse.id}",
                charger_id=charger.id,
                external_id=evse.external_id,
                supply=charger.supply,
                connection=connection,
                voltage_ln=volts,
                max_current_a=max_current,
                min_current_a=charger.min_current.amps
                if charger.min_current
                else policy.min_current_a,
                fallback_a=fallback if fallback is not None else max_current,
                path=path,
            )
        )
    return specs


def _site_load(ctx: SiteContext, node: SiteLoad | Storage) -> SiteLoadSpec:
    assert node.parent is not None
    if isinstance(node, SiteLoad):
        connection = connection_of(ctx, node)
        volts = ctx.voltage_of(node).volts
        fallback = _amps(node.fallback, connection, volts)
    else:
        connection = connection_of_storage(ctx, node)
        volts = ctx.voltage_of(node).volts
        fallback = _amps(node.rating.power, connection, volts)
    assert fallback is not None
    return SiteLoadSpec(
        id=node.id,
        parent=node.parent,
        connection=connection,
        voltage_ln=volts,
        fallback_a=fallback,
        meter=node.meter,
    )


def connection_of_storage(ctx: SiteContext, node: Storage) -> PhaseConnection | None:
    return THREE_PHASE if ctx.phases_of(node) == 3 else None
