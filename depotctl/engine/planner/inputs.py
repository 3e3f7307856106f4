"""A snapshot and the site's prices → the planning problem the controller solves.

The blocks start at the block grid's instant at or before the snapshot's (quarter
hours by default: the tariff's and the market's periods fall on them), so the block
now has already begun; the program counts it from now (the problem's ``now``): the
time before has gone, and a plan that counted it would promise energy no session can
take, which the readiness forecast would read as a shortfall.

Sessions: every open session of a charger the controller can command (one per
EVSE, as the allocator takes them), with the energy it still needs by its
departure — its requirement's, else the site's default requirement's — at most its
EVSE's and vehicle's rate and an operator's cap (nothing while paused).

Rows: the allocator's own constraints (:mod:`depotctl.engine.structure`), so a plan
is checked against the same safe model the allocator keeps (those its sessions at
their maximum power cannot fill in any block left out: they change no plan); per
constraint, each
session's weight is its EVSE's entry (amps at the node per amp, or W per amp)
divided by the EVSE's watts per amp, in the row's units per W; per block, the
room is the constraint's effective limit at the block's start — the envelopes
known for it, pending and lead included, the sources' health held as it is now
(:func:`~depotctl.engine.planner.capacities.held_health`) — less what is reserved
against it now (the site's non-EV load and the chargers the allocator does not
decide), held over the horizon — except a site load or a generator with a forecast,
counted at it in each block (:func:`reserved_per_block`). What the site imports
besides the sessions (the reserved power at its grid connections) is the problem's
base load, or generation where it exports: the demand charges' peaks and the energy
cost count it.

Prices per block: the dynamic price series when the site has one (its last price
held past its end), else the tariff's energy price, each the mean over the block's
minutes in the site's zone (DST-correct: every instant is converted, never a wall
clock added to); no price, no tariff: 0. Carbon per block: the mean intensity over
the block (0 without a signal, or when the carbon price is 0 and the signal does
not cover the horizon).

Demand charges: each of the tariff's, as a term on the blocks it holds in, from the
billing window's peak so far and the energy already drawn in the quarter hour under way
(:mod:`~depotctl.engine.planner.billing_peaks`); where that energy is not known, the
time of the quarter before now counts as drawn at the peak so far (the rest of the
quarter may then average at most the peak: never a new peak for want of a reading).

Batteries: each one whose energy now the controller knows and whose reading is fresh,
on the power rows of its path, its metered power no longer reserved
(:mod:`~depotctl.engine.planner.storage_inputs`); a stale one stays reserved at its
maximum charge.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np

from depotctl.domain.bill import EPOCH
from depotctl.domain.carbon import Intensity, UncoveredError
from depotctl.domain.envelopes import SourceHealth, applicable_limits
from depotctl.domain.forecast import PowerForecast
from depotctl.domain.planning import PlannerSettings
from depotctl.domain.price_series import PriceSeries, PriceSeriesGapError
from depotctl.domain.sessions import Session
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.tariff import DemandCharge, Tariff
from depotctl.domain.telemetry import Reading
from depotctl.domain.topology import NodeKind
from depotctl.engine.allocation import LimitKind
from depotctl.engine.capacity import Capacity, effective_capacity
from depotctl.engine.demand import default_departure
from depotctl.engine.planner.billing_peaks import month_start
from depotctl.engine.planner.blocks import Blocks, plan_blocks
from depotctl.engine.planner.capacities import held_health
from depotctl.engine.planner.demand_charge import QUARTER, DemandTerm
from depotctl.engine.planner.problem import NodeCapacity, PlannedSession, PlanningProblem
from depotctl.engine.planner.storage_inputs import (
    planned_batteries,
    storage_rows,
    unplanned,
    with_storage,
)
from depotctl.engine.structure import Structure, structure_of
from depotctl.engine.waterfill import Floats, usage

#: the smallest step of time: what separates a block's end from the next one's start
_INSTANT = timedelta(microseconds=1)
_MINUTE = timedelta(minutes=1)


class PlanningInputError(ValueError):
    """The site's signals cannot price the horizon (a tariff with a gap, a price series
    that starts after now, a carbon series that does not cover it while carbon has a
    price)."""


@dataclass(frozen=True, slots=True)
class CostSignals:
    """What energy costs at each instant: the site's tariff, its dynamic price series
    (which takes precedence for energy), its carbon intensity and carbon price."""

    tariff: Tariff | None = None
    prices: PriceSeries | None = None
    carbon: Intensity | None = None
    carbon_price_per_kg: float = 0.0


def planning_problem(
    snapshot: Snapshot,
    signals: CostSignals,
    settings: PlannerSettings,
    peaks_w: Mapping[DemandCharge, float] | None = None,
    storage_wh: Mapping[str, float] | None = None,
    so_far_wh: Mapping[DemandCharge, float] | None = None,
) -> PlanningProblem:
    """The horizon's problem as the snapshot and the site's signals state it (see the
    module), with the tariff's demand charges as demand terms from ``peaks_w``, the
    billing window's peaks so far (none: 0), and ``so_far_wh``, the energy each charge
    counts in the quarter hour under way before now (none: at the peak so far; see
    :func:`demand_terms`), and the batteries whose energy now ``storage_wh`` gives (:mod:`~depotctl.engine.planner.storage_inputs`); raises
    :class:`PlanningInputError` when the signals cannot price it."""
    blocks = plan_blocks(block_start(snapshot.at, settings.block), settings.horizon, settings.block)
    structure = structure_of(snapshot.topology)
    batteries = planned_batteries(snapshot, storage_wh)
    snapshot = unplanned(snapshot, batteries)  # the plan decides their power
    now = effective_capacity(snapshot, structure)
    planned = _planned_sessions(snapshot, structure, now)
    zone = ZoneInfo(snapshot.topology.timezone)
    tariff = signals.tariff
    reserved = reserved_per_block(snapshot, structure, now, blocks)
    site = _site_import_w(snapshot, structure, reserved)
    effective = _effective_per_block(snapshot, structure, blocks)
    rows, storage = with_storage(
        _rows(
            structure,
            reserved,
            effective,
            planned,
            storage_rows(structure, snapshot.topology, batteries),
        ),
        batteries,
        storage_wh or {},
        structure,
        effective - reserved,
        snapshot.topology,
    )
    return PlanningProblem(
        blocks=blocks,
        now=snapshot.at,
        sessions=tuple(session for session, _ in planned),
        nodes=rows,
        storage=storage,
        price_per_kwh=block_prices(blocks, signals, zone),
        carbon_kg_per_kwh=block_carbon(blocks, signals),
        carbon_price_per_kg=signals.carbon_price_per_kg,
        base_load_w=tuple(max(0.0, w) for w in site),
        generation_w=tuple(max(0.0, -w) for w in site),
        demand=()
        if tariff is None
        else demand_terms(tariff, blocks, zone, peaks_w or {}, so_far_wh, snapshot.at),
    )


def demand_terms(
    tariff: Tariff,
    blocks: Blocks,
    zone: ZoneInfo,
    peaks_w: Mapping[DemandCharge, float],
    so_far_wh: Mapping[DemandCharge, float] | None = None,
    now: datetime | None = None,
) -> tuple[DemandTerm, ...]:
    """Each demand charge of ``tariff`` as a term on the blocks it holds in (at each
    block's start, local), per billing window (the local calendar month): the window of
    the horizon's start from its peak so far (``peaks_w``) and the energy it counts in
    the quarter hour holding ``now`` (None: the blocks' start) before ``now``
    (``so_far_wh``; a charge it does not give: as if drawn at the peak so far since the
    quarter began), a later one from nothing."""
    starts = blocks.starts()
    first = month_start(blocks.start, zone)
    at = blocks.start if now is None else now
    elapsed_h = ((at - EPOCH) % QUARTER).total_seconds() / 3600.0
    terms = []
    for charge in tariff.demand_charges:
        by_window: dict[datetime, list[int]] = {}
        for b, start in enumerate(starts):
            if charge in tariff.at(start.astimezone(zone)).demand:
                by_window.setdefault(month_start(start, zone), []).append(b)
        for window, held in by_window.items():
            if window != first:
                terms.append(DemandTerm(charge.price, tuple(held)))
                continue
            peak = peaks_w.get(charge, 0.0)
            known = (so_far_wh or {}).get(charge)
            so_far = peak * elapsed_h if known is None else known
            terms.append(DemandTerm(charge.price, tuple(held), peak, so_far))
    return tuple(terms)


def block_start(instant: datetime, block: timedelta) -> datetime:
    """The start of the block of the grid (multiples of ``block`` from the Unix epoch,
    UTC) that holds ``instant``."""
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return epoch + ((instant.astimezone(UTC) - epoch) // block) * block


def session_need(snapshot: Snapshot, session: Session) -> tuple[float, datetime]:
    """The energy (Wh, ≥ 0) ``session`` still needs and by when: its requirement's, else
    the site's default requirement's (as the allocator counts it)."""
    if session.requirement is not None:
        need = session.requirement.energy_wh - session.energy_delivered_wh
        return max(need, 0.0), session.requirement.departure
    need = snapshot.policy.default_energy_wh - session.energy_delivered_wh
    return max(need, 0.0), default_departure(snapshot, session.started).astimezone(UTC)


def _planned_sessions(
    snapshot: Snapshot, structure: Structure, now: Capacity
) -> list[tuple[PlannedSession, int]]:
    """Each session the allocator decides, as the planner sees it, with its EVSE's
    index in ``structure``."""
    planned: list[tuple[PlannedSession, int]] = []
    taken: set[int] = set()
    for session in sorted(snapshot.sessions, key=lambda s: (s.evse_id, s.id)):
        index = structure.evse_index.get(session.evse_id)
        if index is None or index in taken:
            continue
        if now.uncontrolled[index] and not now.waiting[index]:
            continue  # its charger cannot be commanded: its draw is reserved instead
        taken.add(index)
        evse = snapshot.topology.evses[session.evse_id]
        amps = evse.max_current_a
        if session.vehicle_max_current_a is not None:
            amps = min(amps, session.vehicle_max_current_a)
        override = snapshot.overrides.get(session.evse_id)
        if override is not None:
            amps = 0.0 if override.paused else min(amps, override.max_current_a)
        need, departure = session_need(snapshot, session)
        planned.append(
            (
                PlannedSession(
                    id=session.id,
                    evse_id=session.evse_id,
                    need_wh=need,
                    departure=departure,
                    max_power_w=max(amps, 0.0) * evse.watts_per_amp,
                ),
                index,
            )
        )
    return planned


def reserved_per_block(
    snapshot: Snapshot, structure: Structure, now: Capacity, blocks: Blocks
) -> np.ndarray:
    """Per block (rows) and constraint (columns), what is reserved against it: what is
    reserved now (the site's other load, batteries and generation as metered, the
    chargers the allocator does not decide; the sessions planned here are not), except
    that a site load or a generator with a forecast counts at it (a load at the most
    it forecasts over the block, a generator at the least, as a fresh reading would;
    where a forecast says nothing, as now)."""
    waiting = usage(np.where(now.waiting, now.assumed, 0.0), structure.constraints)
    base = now.reserved - waiting
    topology = snapshot.topology
    forecast: list[tuple[str, PowerForecast, float]] = [
        (load.id, load.forecast, 1.0) for load in topology.site_loads.values() if load.forecast
    ]
    forecast += [(g.id, g.forecast, -1.0) for g in topology.generation.values() if g.forecast]
    if not forecast:
        return np.broadcast_to(base, (blocks.count, base.size))
    zone = ZoneInfo(topology.timezone)
    last = blocks.length - _INSTANT
    by_readings: dict[tuple[tuple[str, float], ...], np.ndarray] = {}
    rows = []
    for start in blocks.starts():
        readings: dict[str, float] = {}
        for leaf_id, series, sign in forecast:
            ends = [series.watts_at(start, zone), series.watts_at(start + last, zone)]
            known = [w for w in ends if w is not None]
            if known:  # a load at its most, a generator at its least output
                readings[leaf_id] = max(known) if sign > 0 else -min(known)
        key = tuple(sorted(readings.items()))
        if key not in by_readings:
            telemetry = dict(snapshot.telemetry)
            for leaf_id, watts in key:
                telemetry[leaf_id] = Reading(leaf_id, snapshot.at, power_w=watts)
            moved = replace(snapshot, telemetry=telemetry)
            by_readings[key] = effective_capacity(moved, structure).reserved - waiting
        rows.append(by_readings[key])
    return np.vstack(rows)


def _site_import_w(snapshot: Snapshot, structure: Structure, reserved: np.ndarray) -> Floats:
    """Per block, what the site imports besides the planned sessions: the reserved
    power at its grid connections (below zero: it exports)."""
    grid = [
        structure.constraint(node.id, LimitKind.IMPORT_POWER)
        for node in snapshot.topology.nodes.values()
        if node.kind is NodeKind.GRID_CONNECTION
    ]
    return reserved[:, grid].sum(axis=1) if grid else np.zeros(reserved.shape[0])


def _rows(
    structure: Structure,
    reserved: np.ndarray,
    effective: np.ndarray,
    planned: Sequence[tuple[PlannedSession, int]],
    kept: frozenset[int] = frozenset(),
) -> tuple[NodeCapacity, ...]:
    """One row per constraint of the allocator's that carries a planned session and
    could bind in some block: one its sessions at their maximum power cannot fill in
    any block is left out (it changes no plan, and costs the solver a row per block),
    unless ``kept`` (a planned battery loads it). The constraints' entries are taken
    as arrays, in their order (by constraint)."""
    constraints = structure.constraints
    position = np.full(structure.evse_watts_per_amp.size, -1, dtype=np.intp)
    for i, (_, index) in enumerate(planned):
        position[index] = i
    of_entry = position[constraints.entry_evse]
    used = np.flatnonzero((of_entry >= 0) & (constraints.entry_w != 0.0))
    used = used[np.argsort(constraints.entry_con[used], kind="stable")]  # by constraint
    con = constraints.entry_con[used]
    session = of_entry[used]
    per_w = constraints.entry_w[used] / structure.evse_watts_per_amp[constraints.entry_evse[used]]
    max_power = np.array([s.max_power_w for s, _ in planned], dtype=np.float64)
    # summed entry by entry in their order, as the rows' sums always were
    most = np.bincount(
        con, weights=np.maximum(per_w, 0.0) * max_power[session], minlength=constraints.size
    )
    room = effective - reserved
    could_bind = room.min(axis=0) < most * (1.0 + 1e-9)
    could_bind[list(kept)] = True  # a battery's
    carried = np.zeros(constraints.size, dtype=bool)
    carried[con] = True
    chosen = carried & could_bind & np.isfinite(room).any(axis=0)
    ids = [s.id for s, _ in planned]
    cons = np.flatnonzero(chosen)
    firsts = np.searchsorted(con, cons, side="left").tolist()
    lasts = np.searchsorted(con, cons, side="right").tolist()
    rows: list[NodeCapacity] = []
    for c, first, last in zip(cons.tolist(), firsts, lasts, strict=True):
        node_id, kind = structure.describe(c)
        rows.append(
            NodeCapacity(
                node_id=f"{node_id} {kind.value}",
                capacity_w=tuple(room[:, c].tolist()),
                session_ids=tuple(ids[i] for i in session[first:last].tolist()),
                weights=tuple(per_w[first:last].tolist()),
            )
        )
    return tuple(rows)


def _effective_per_block(snapshot: Snapshot, structure: Structure, blocks: Blocks) -> np.ndarray:
    """Per block (rows) and constraint (columns), the effective limit at the block's
    start as known now: an envelope starting within the block, or within the lead
    after it, binds the whole block. The limits in force are taken per block; the
    effective limits once per distinct set of them (blocks alike share them)."""
    held = held_health(snapshot)
    lead = blocks.length + snapshot.envelope_lead - _INSTANT
    by_limits: dict[Hashable, int] = {}
    distinct: list[Floats] = []
    of_block = []
    for start in blocks.starts():
        key = _limits_in_force(snapshot, held, start, lead)
        if key not in by_limits:
            by_limits[key] = len(distinct)
            moved = replace(snapshot, at=start, sources=held, envelope_lead=lead)
            distinct.append(effective_capacity(moved, structure).effective)
        of_block.append(by_limits[key])
    return np.vstack(distinct)[of_block]


def _limits_in_force(
    snapshot: Snapshot, held: Mapping[str, SourceHealth], at: datetime, lead: timedelta
) -> Hashable:
    """What the effective limits at ``at`` depend on (the instant itself only through
    it): every limit in force (:func:`applicable_limits`); without envelopes, which
    sources are online (an offline one's site fallback is all that applies)."""
    sources = snapshot.topology.sources
    if not snapshot.envelopes:
        return tuple(
            spec.id
            for spec in sources.values()
            if (health := held.get(spec.id)) is not None and health.is_online(at)
        )
    return applicable_limits(snapshot.envelopes, held, sources, at, lead=lead)


def block_prices(blocks: Blocks, signals: CostSignals, zone: ZoneInfo) -> tuple[float, ...]:
    """Per block, the mean energy price per kWh over its minutes (see the module)."""
    series, tariff = signals.prices, signals.tariff
    if series is not None:
        return _per_block(blocks, _series_price(series))
    if tariff is not None:
        return _per_block(blocks, _tariff_price(tariff, zone))
    return (0.0,) * blocks.count


def _series_price(series: PriceSeries) -> Callable[[datetime], float]:
    def price(instant: datetime) -> float:
        if instant >= series.end:
            return series.prices[-1]  # the last price known holds
        try:
            return series.price_at(instant)
        except PriceSeriesGapError as error:
            raise PlanningInputError(f"planner: {error}; give prices from now on") from None

    return price


def _tariff_price(tariff: Tariff, zone: ZoneInfo) -> Callable[[datetime], float]:
    def price(instant: datetime) -> float:
        local = instant.astimezone(zone)
        try:
            return tariff.at(local).period.price
        except ValueError as error:
            raise PlanningInputError(
                f"planner: the tariff prices no energy at {local.isoformat()}: {error}; "
                "give every local time of the year an energy period (depotctl validate)"
            ) from None

    return price


def _per_block(blocks: Blocks, price: Callable[[datetime], float]) -> tuple[float, ...]:
    minutes = max(1, blocks.length // _MINUTE)
    step = blocks.length / minutes
    means = []
    for start in blocks.starts():
        samples = [price(start + step * m) for m in range(minutes)]
        same = min(samples) == max(samples)  # the usual block: its price exactly
        means.append(samples[0] if same else math.fsum(samples) / minutes)
    return tuple(means)


def block_carbon(blocks: Blocks, signals: CostSignals) -> tuple[float, ...]:
    """Per block, the mean carbon intensity (kg/kWh) over it (see the module)."""
    intensity = signals.carbon
    if intensity is None:
        return (0.0,) * blocks.count
    seconds = blocks.length.total_seconds()
    try:
        return tuple(
            math.fsum(
                (end - begin).total_seconds() * kg
                for begin, end, kg in intensity.pieces(start, start + blocks.length)
            )
            / seconds
            for start in blocks.starts()
        )
    except UncoveredError as error:
        if signals.carbon_price_per_kg == 0.0:
            return (0.0,) * blocks.count
        raise PlanningInputError(f"planner: {error}") from None
