"""A validated site → the engine's compiled topology and policy (base units), and the
planner's settings.

Storage and generation compile to their own specs: the engine counts them at their
metered net import when fresh; stale, a battery as charging at its ``max_charge`` and
a generator as producing nothing (``depotctl.engine.asset_draw``). Forecast files are
read here, relative to the site file.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from depotctl.config.checks.context import SiteContext
from depotctl.config.checks.loading import connection_of
from depotctl.config.power_files import read_power_series
from depotctl.config.schema import (
    Charger,
    ChargerGroup,
    Circuit,
    Generation,
    GridConnection,
    Site,
    SiteLoad,
    Storage,
    Transformer,
)
from depotctl.config.schema.forecast import DayTypeProfile, GenerationForecast, LoadForecast
from depotctl.config.schema.nodes import Limits
from depotctl.config.schema.sources import EnvelopeFallback
from depotctl.domain import Current, Power, Ratio
from depotctl.domain.forecast import HourlyProfile, PowerForecast
from depotctl.domain.phases import PhaseConnection, load_current
from depotctl.domain.planning import PlannerSettings
from depotctl.domain.policy import Policy, StaleLoad, UncontrollableAssumption
from depotctl.domain.topology import (
    EvseSpec,
    GenerationSpec,
    NodeKind,
    NodeLimits,
    SiteLoadSpec,
    SourceSpec,
    StorageSpec,
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
    storage: dict[str, StorageSpec] = {}
    generation: dict[str, GenerationSpec] = {}
    for node in ctx.node_list:
        if isinstance(node, Charger):
            for spec in _evses(ctx, node, policy):
                evses[spec.id] = spec
        elif isinstance(node, SiteLoad) and node.parent is not None:
            loads[node.id] = _site_load(ctx, node)
        elif isinstance(node, Storage) and node.parent is not None:
            storage[node.id] = _storage(ctx, node)
        elif isinstance(node, Generation) and node.parent is not None:
            generation[node.id] = _generation(ctx, node)
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
        storage=storage,
        generation=generation,
    )
    return topology, policy


def compile_planner(site: Site) -> PlannerSettings:
    """The planner's settings of a rule-clean site (``spec.planner``, the carbon price)."""
    planner = site.spec.planner
    carbon = site.spec.carbon
    return PlannerSettings(
        enabled=planner.enabled,
        horizon=timedelta(seconds=planner.horizon.seconds),
        block=timedelta(seconds=planner.block.seconds),
        replan=timedelta(seconds=planner.replan.seconds),
        carbon_price=carbon.price if carbon is not None else None,
    )


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


def _placed(
    ctx: SiteContext, node: SiteLoad | Storage | Generation
) -> tuple[str, str, PhaseConnection | None, float]:
    """A leaf's id, parent, the phases it draws from and its voltage: the first fields of
    every leaf's spec."""
    assert node.parent is not None
    return node.id, node.parent, connection_of(ctx, node), ctx.voltage_of(node).volts


def _site_load(ctx: SiteContext, node: SiteLoad) -> SiteLoadSpec:
    placed = _placed(ctx, node)
    fallback = _amps(node.fallback, placed[2], placed[3])
    assert fallback is not None
    return SiteLoadSpec(
        *placed, fallback_a=fallback, meter=node.meter, forecast=_forecast(ctx, node.forecast)
    )


def _storage(ctx: SiteContext, node: Storage) -> StorageSpec:
    rated = node.rating.power
    return StorageSpec(
        *_placed(ctx, node),
        capacity_wh=node.capacity.base,
        max_charge_w=(node.max_charge or rated).base,
        max_discharge_w=(node.max_discharge or rated).base,
        charge_efficiency=node.efficiency.charge.fraction,
        discharge_efficiency=node.efficiency.discharge.fraction,
        min_soc=node.soc.min.fraction,
        max_soc=node.soc.max.fraction,
        initial_soc=node.adapter.initial_soc.fraction,
        adapter=node.adapter.type,
        meter=node.meter,
    )


def _generation(ctx: SiteContext, node: Generation) -> GenerationSpec:
    return GenerationSpec(
        *_placed(ctx, node),
        peak_w=node.rating.base,
        kind=node.kind,
        meter=node.meter,
        forecast=_forecast(ctx, node.forecast, node.rating.base),
    )


def _forecast(
    ctx: SiteContext, forecast: LoadForecast | GenerationForecast | None, peak_w: float = 0.0
) -> PowerForecast | None:
    """A forecast in watts: a profile's shares of the peak (``60 %``) made powers; a
    series read from its file."""
    if forecast is None:
        return None
    if forecast.series is not None:
        return read_power_series(ctx.resolve(forecast.series))
    profile = forecast.profile
    if isinstance(profile, DayTypeProfile):
        return HourlyProfile(_watts(profile.weekdays, peak_w), _watts(profile.weekends, peak_w))
    assert profile is not None
    return HourlyProfile.every_day(_watts(profile, peak_w))


def _watts(values: Sequence[Power | Ratio], peak_w: float) -> tuple[float, ...]:
    return tuple(v.base if isinstance(v, Power) else v.fraction * peak_w for v in values)
