"""Effective capacity per node and phase at an instant, each value with its source.

A constraint's effective limit is the minimum of its static limit and every
envelope limit in force (fresh, the source's own fallback, or the site's fallback
for an offline source — never unlimited), less the safety margin. Reserved
against it: non-EV load (measured when fresh; the policy's fallback when stale,
never zero), the assumed draw of uncontrollable chargers, and EVSEs whose last
command is still unanswered at the higher of their two limits.

A line bounded by facets (:mod:`.phasors`) is limited on its slot like any other;
then each facet takes the line's limit, source and site load (no angle: in full),
its slot none of them, and the uncontrollable draws count at each facet's
coefficients (:meth:`Structure.to_rows`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from depotctl.domain.chargers import ChargerState
from depotctl.domain.envelopes import Direction, LimitUnit, applicable_limits
from depotctl.domain.phases import Phase, load_current, load_power
from depotctl.domain.policy import StaleLoad, UncontrollableAssumption
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.topology import EvseSpec, NodeKind, SiteLoadSpec, Topology
from depotctl.engine.allocation import LimitSource
from depotctl.engine.asset_draw import Draw, Leaf, asset_draws
from depotctl.engine.structure import POWER, Structure, primary_currents
from depotctl.engine.waterfill import Floats, usage

STATIC = LimitSource("static")


@dataclass(frozen=True)
class Capacity:
    """Per constraint: effective limit (inf: none), its source, what is reserved,
    and which reservations rest on stale telemetry."""

    effective: Floats
    sources: dict[int, LimitSource]
    reserved: Floats
    stale: frozenset[int]
    uncontrollable: Floats
    assumed: Floats
    #: per EVSE: not decided by this allocation (its charger cannot be commanded, or
    #: its command is unanswered); its assumed draw is reserved instead
    uncontrolled: NDArray[np.bool_]
    #: per EVSE: of those, the ones only waiting for the answer to a command
    waiting: NDArray[np.bool_]

    @property
    def room(self) -> Floats:
        return self.effective - self.reserved


def effective_capacity(snapshot: Snapshot, structure: Structure) -> Capacity:
    topology, policy = snapshot.topology, snapshot.policy
    size = structure.constraints.size
    limit = structure.static_limit.copy()
    sources: dict[int, LimitSource] = _StaticSources()

    def tighten(con: int, value: float, source: LimitSource) -> None:
        if value < limit[con]:
            limit[con] = value
            sources[con] = source

    for applied in applicable_limits(
        snapshot.envelopes,
        snapshot.sources,
        topology.sources,
        snapshot.at,
        lead=snapshot.envelope_lead,
    ):
        node = topology.nodes.get(applied.target)
        if node is None or applied.direction is not Direction.IMPORT:
            continue
        origin = applied.origin
        source = (
            LimitSource("envelope", origin.envelope_id, origin.fresh, origin.starts)
            if origin.envelope_id is not None
            else LimitSource("fallback", origin.source, False)
        )
        base = structure.node_index[node.id] * 4
        if applied.unit is LimitUnit.W:
            tighten(base + POWER, applied.limit, source)
        else:
            phases = applied.phases or frozenset(Phase)
            for k in _current_kinds(node.phases):
                if node.phases == 1 or Phase(f"L{k + 1}") in phases:
                    tighten(base + k, applied.limit, source)
    # every limit of a line holds on each of its facets
    limit = structure.to_rows(limit, faceted=np.inf)
    _spread_sources(sources, structure)
    # the margin keeps the site's infrastructure clear of its limits; a charger's own
    # rating is the charger's to enforce, so it gets none
    margin = np.where(structure.is_charger_constraint, 0.0, policy.safety_margin)
    effective = np.where(np.isfinite(limit), limit * (1.0 - margin), np.inf)

    reserved = np.zeros(size)
    stale: set[int] = set()
    draws: list[Draw] = [(x, *_site_load_draw(snapshot, x)) for x in topology.site_loads.values()]
    for load, per_phase, watts, is_stale in draws + asset_draws(snapshot):  # storage, generation
        for con, amount in _site_load_entries(topology, structure, load, per_phase, watts):
            reserved[con] += amount
            if is_stale:
                stale.add(con)
    # a site load's angle is unknown: its magnitude counts in full on every facet
    reserved = structure.to_rows(reserved, faceted=0.0)
    stale.update(
        f for line in stale & structure.line_facets.keys() for f in structure.line_facets[line]
    )
    assumed, uncontrolled, waiting = _uncontrollable_draw(snapshot, structure)
    uncontrollable = usage(assumed, structure.constraints) if uncontrolled.any() else np.zeros(size)
    return Capacity(
        effective=effective,
        sources=sources,
        reserved=reserved + uncontrollable,
        stale=frozenset(stale),
        uncontrollable=uncontrollable,
        assumed=assumed,
        uncontrolled=uncontrolled,
        waiting=waiting,
    )


def _spread_sources(sources: dict[int, LimitSource], structure: Structure) -> None:
    """Each facet's limit comes from where its line's does."""
    faceted = structure.line_facets
    for line in [con for con in sources if con in faceted]:  # few: the envelopes' targets
        sources.update(dict.fromkeys(faceted[line], sources[line]))


class _StaticSources(dict[int, LimitSource]):
    """Sources by constraint: what no envelope tightened is the site file's limit."""

    def __missing__(self, con: int) -> LimitSource:
        return STATIC


def _current_kinds(phases: int) -> tuple[int, ...]:
    return (0,) if phases == 1 else (0, 1, 2)


def _site_load_entries(
    topology: Topology,
    structure: Structure,
    load: Leaf,
    per_phase: dict[Phase, float],
    watts: float,
) -> list[tuple[int, float]]:
    """(constraint, amps or watts) a site load puts on each node up its path. Its own
    amps per line are carried across each transformer by ratio and winding: a delta-wye
    spreads a line's current over two primary lines, so one amp per line scaled by
    the load's reading on the *primary* phase would miss what it adds elsewhere."""
    lines = {phase: per_phase.get(phase, 0.0) for phase in Phase}
    balanced = len(per_phase) == 3 and len(set(per_phase.values())) == 1
    entries: list[tuple[int, float]] = []
    node = topology.nodes.get(load.parent)
    while node is not None:
        if node.kind is NodeKind.TRANSFORMER:
            lines = primary_currents(lines, node.current_ratio, node.winding, balanced)
        base = structure.node_index[node.id] * 4
        if node.phases == 1:
            entries.append((base, max(lines.values())))  # its one conductor
        else:
            entries.extend((base + k, amps) for k, amps in enumerate(lines.values()) if amps > 0)
        entries.append((base + POWER, watts))
        node = topology.nodes.get(node.parent) if node.parent is not None else None
    return entries


def _site_load_draw(
    snapshot: Snapshot, load: SiteLoadSpec
) -> tuple[dict[Phase, float], float, bool]:
    """Amps per phase and watts a site load counts as, and whether that is the stale
    fallback. A reading is looked up by the load's id, then its meter's; one that
    measures neither the current on every line of the load nor its power counts as
    stale."""
    policy = snapshot.policy
    lines = load.connection.lines if load.connection is not None else frozenset(Phase)
    reading = snapshot.telemetry.get(load.id) or (
        snapshot.telemetry.get(load.meter) if load.meter else None
    )
    fresh = reading is not None and not reading.is_stale(snapshot.at, policy.stale_after_s)
    if reading is not None and fresh:
        # currents count only when measured on every line the load draws from: an
        # unmeasured line is not an idle one
        if reading.current_a is not None and lines <= reading.current_a.keys():
            per_phase = {p: max(0.0, a) for p, a in reading.current_a.items() if p in lines}
            watts = (
                max(0.0, reading.power_w)
                if reading.power_w is not None
                else sum(per_phase.values()) * load.voltage_ln
            )
            return per_phase, watts, False
        if reading.power_w is not None:
            amps = load_current(max(0.0, reading.power_w), load.connection, load.voltage_ln)
            return dict.fromkeys(lines, amps), max(0.0, reading.power_w), False
    amps = load.fallback_a
    if (
        reading is not None
        and policy.stale_site_load is StaleLoad.LAST_KNOWN_PLUS_MARGIN
        and reading.power_w is not None
    ):
        last = load_current(max(0.0, reading.power_w), load.connection, load.voltage_ln)
        # never below the fallback: a stale reading of an idle load is not zero load
        amps = max(amps, last * (1.0 + policy.stale_margin))
    watts = load_power(amps, load.connection, load.voltage_ln)
    return dict.fromkeys(lines, amps), watts, True


def _uncontrollable_draw(
    snapshot: Snapshot, structure: Structure
) -> tuple[Floats, NDArray[np.bool_], NDArray[np.bool_]]:
    """Amps each EVSE the allocator does not decide is assumed to draw, which EVSEs
    those are, and which of them are only waiting for an answer.

    An uncontrollable charger's EVSE (:func:`assumed_draw_a`) counts at the highest
    limit it may still be under, never below its fallback, or at its rating. An EVSE
    of a controllable charger with a command out (``snapshot.pending``) keeps that
    command: it counts at the higher of the limit in force and the one sent (its
    fallback when none is known), whichever lands."""
    n = len(structure.evse_ids)
    assumed = np.zeros(n)
    uncontrolled = np.zeros(n, dtype=bool)
    waiting = np.zeros(n, dtype=bool)
    topology = snapshot.topology
    for charger_id, state in snapshot.chargers.items():
        if state.is_controllable:
            continue
        for evse in topology.chargers_evses(charger_id):
            at = structure.evse_index[evse.id]
            assumed[at] = assumed_draw_a(snapshot, state, evse)
            uncontrolled[at] = True
    for evse_id, sent_a in snapshot.pending.items():
        index = structure.evse_index.get(evse_id)
        if index is None or uncontrolled[index]:
            continue
        evse = topology.evses[evse_id]
        in_force = snapshot.previous_limits.get(evse_id, evse.fallback_a)
        assumed[index] = min(max(in_force, sent_a), evse.max_current_a)
        uncontrolled[index] = waiting[index] = True
    return assumed, uncontrolled, waiting


def assumed_draw_a(snapshot: Snapshot, state: ChargerState, evse: EvseSpec) -> float:
    """What an EVSE of an uncontrollable charger is assumed to draw: its rating when
    the policy says so or its charger never accepted its fallback profile; else the
    highest limit it may still be under (accepted, or sent and unanswered, and not yet
    lapsed), never less than its fallback — a session may end and another start at the
    fallback while nobody can tell it otherwise."""
    if (
        snapshot.policy.uncontrollable is UncontrollableAssumption.RATING
        or not state.fallback_accepted
    ):
        return evse.max_current_a
    held = state.held_at(evse.id, snapshot.at)
    return min(max([evse.fallback_a, *held]), evse.max_current_a)
