"""The planning problem as plain values: sessions, node capacities, prices, carbon,
the site's other load and generation, demand charges and batteries.

Units: W for power, Wh for energy, the tariff's currency per kWh for prices, kg CO2e
per kWh for carbon intensity, currency per kg for the carbon price, currency per kW
for demand rates. Every per-block sequence has one value per block of :class:`Blocks`.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from depotctl.domain.sessions import Session
from depotctl.domain.topology import Topology
from depotctl.engine.planner.blocks import Blocks
from depotctl.engine.planner.demand_charge import QUARTER_HOURS, DemandTerm
from depotctl.engine.planner.storage import PlannedStorage

#: The shortfall penalty's floor, currency per kWh: a missed kWh always costs more
#: than any energy, whatever the prices.
SHORTFALL_FLOOR_PER_KWH = 1_000.0
#: The shortfall penalty over the dearest energy: heavy, so the solver misses energy
#: only when no feasible plan delivers it.
SHORTFALL_FACTOR = 1_000.0
#: A battery's missed final energy per kWh, as a share of a vehicle's missed kWh.
STORAGE_SHORTFALL_SHARE = 0.1
#: The charge-early tie-break's most, currency per kWh: a session's kWh in block b
#: costs EARLY_PER_KWH × b / (blocks − 1) more than in block 0 (see
#: :meth:`PlanningProblem.early_per_kwh`).
EARLY_PER_KWH = 1e-3


@dataclass(frozen=True, slots=True)
class PlannedSession:
    """A session as the planner sees it: the energy it still needs by its departure,
    at most ``max_power_w``; present from the first block until its departure."""

    id: str
    evse_id: str
    need_wh: float
    departure: datetime
    max_power_w: float


@dataclass(frozen=True, slots=True)
class NodeCapacity:
    """One constraint row per block: a node's capacity and the sessions it carries
    (every session whose EVSE sits under it).

    ``weights`` is, per session in ``session_ids`` order, the row's units per W of
    that session's power; None means 1 each, the row in W. ``capacity_w`` is per
    block in the row's own units (``math.inf`` for no limit): a current row of the
    allocator's phase model has weights in A/W and its capacity in A. A capacity
    below zero is met by the sessions where weights of both signs allow it; else the
    plan comes as close as it can (see :mod:`~depotctl.engine.planner.program`)."""

    node_id: str
    capacity_w: tuple[float, ...]
    session_ids: tuple[str, ...]
    weights: tuple[float, ...] | None = None

    def weight_of(self) -> tuple[float, ...]:
        """The weights in use: ``weights``, or 1 per session."""
        return self.weights if self.weights is not None else (1.0,) * len(self.session_ids)


@dataclass(frozen=True, slots=True)
class PlanningProblem:
    """One horizon's linear program in plain values.

    ``price_per_kwh`` and ``carbon_kg_per_kwh`` are per block and apply to the site's
    import (what the grid supplies: the sessions, the batteries' net power and
    ``base_load_w``, less ``generation_w``; export earns nothing);
    ``carbon_price_per_kg`` turns emissions into money; ``shortfall_per_kwh`` is the
    penalty per kWh missed (None: :data:`SHORTFALL_FACTOR` × the dearest kWh,
    demand rates included, at least :data:`SHORTFALL_FLOOR_PER_KWH`).
    ``base_load_w`` (the forecast non-EV load at the grid connection) and
    ``generation_w`` (the forecast generation) are per block, None for zeros; they
    enter the import, not the node rows (map them onto node capacities where they
    flow). ``demand`` holds the billing window's demand charges, ``storage`` the
    batteries. ``now`` is the instant the plan starts from, inside the first block
    (None: the first block's start): a session's energy in that block counts from it,
    not from the block's start, which has gone."""

    blocks: Blocks
    sessions: tuple[PlannedSession, ...]
    nodes: tuple[NodeCapacity, ...]
    price_per_kwh: tuple[float, ...]
    carbon_kg_per_kwh: tuple[float, ...]
    carbon_price_per_kg: float = 0.0
    shortfall_per_kwh: float | None = None
    base_load_w: tuple[float, ...] | None = None
    generation_w: tuple[float, ...] | None = None
    demand: tuple[DemandTerm, ...] = ()
    storage: tuple[PlannedStorage, ...] = ()
    now: datetime | None = None

    def __post_init__(self) -> None:
        count = self.blocks.count
        self._check_now()
        for name, series in (
            ("price_per_kwh", self.price_per_kwh),
            ("carbon_kg_per_kwh", self.carbon_kg_per_kwh),
            ("base_load_w", self.base_load()),
            ("generation_w", self.generation()),
        ):
            _check_series(f"planning problem: {name}", series, count, allow_inf=False)
        for position, term in enumerate(self.demand):
            term.check(position, count)
        self._check_storage()
        ids = [session.id for session in self.sessions]
        if len(set(ids)) != len(ids):
            duplicate = next(i for i in ids if ids.count(i) > 1)
            raise ValueError(f"planning problem: session {duplicate!r} is listed twice")
        known = set(ids)
        for session in self.sessions:
            _check_session(session)
        for node in self.nodes:
            _check_series(
                f"planning problem: node {node.node_id!r} capacity_w",
                node.capacity_w,
                count,
                allow_inf=True,
            )
            unknown = sorted(set(node.session_ids) - known)
            if unknown:
                raise ValueError(
                    f"planning problem: node {node.node_id!r} carries unknown session(s) "
                    f"{', '.join(map(repr, unknown))}; list them in sessions or drop them"
                )
            _check_node_sessions(node)

    def energy_cost_per_kwh(self) -> tuple[float, ...]:
        """Per block, the money one kWh costs: energy price + carbon price × intensity."""
        return tuple(
            price + self.carbon_price_per_kg * carbon
            for price, carbon in zip(self.price_per_kwh, self.carbon_kg_per_kwh, strict=True)
        )

    def penalty_per_kwh(self) -> float:
        """The shortfall penalty in use (see the class): the dearest kWh counts every
        demand rate as if that kWh alone set each peak within one block or quarter
        hour, whichever is shorter."""
        if self.shortfall_per_kwh is not None:
            return self.shortfall_per_kwh
        dearest = max((abs(c) for c in self.energy_cost_per_kwh()), default=0.0)
        # a kWh raises a quarter hour's average by at most 1/¼ kW, a block's by 1/h
        per_kwh = 1.0 / min(self.blocks.hours, QUARTER_HOURS)
        dearest += sum(term.rate_per_kw for term in self.demand) * per_kwh
        return max(SHORTFALL_FLOOR_PER_KWH, SHORTFALL_FACTOR * dearest)

    def storage_penalty_per_kwh(self) -> float:
        """A battery's missed final energy per kWh (see :class:`PlannedStorage`)."""
        return STORAGE_SHORTFALL_SHARE * self.penalty_per_kwh()

    def early_per_kwh(self) -> float:
        """The charge-early tie-break's spread: per kWh, the most a session's energy
        costs more in the last block than in the first. With equal prices the
        optimum is not unique; this makes it deliver as early as the limits allow.
        Never more than :data:`EARLY_PER_KWH`, half the smallest difference between
        two blocks' different costs per kWh, or half the smallest demand rate — so it
        never outweighs a real price difference or a peak (and is far below the
        shortfall penalty)."""
        costs = sorted(set(self.energy_cost_per_kwh()))
        steps = [b - a for a, b in itertools.pairwise(costs) if b > a]
        rates = [term.rate_per_kw for term in self.demand if term.rate_per_kw > 0.0]
        return min([EARLY_PER_KWH, *(step / 2 for step in steps), *(r / 2 for r in rates)])

    def base_load(self) -> tuple[float, ...]:
        """``base_load_w``, zeros when None."""
        zeros = (0.0,) * self.blocks.count
        return zeros if self.base_load_w is None else self.base_load_w

    def generation(self) -> tuple[float, ...]:
        """``generation_w``, zeros when None."""
        zeros = (0.0,) * self.blocks.count
        return zeros if self.generation_w is None else self.generation_w

    def _check_now(self) -> None:
        now, start = self.now, self.blocks.start
        if now is None:
            return
        if now.tzinfo is None:
            raise ValueError(f"planning problem: now {now.isoformat()} has no time zone; give it")
        if not start <= now < start + self.blocks.length:
            raise ValueError(
                f"planning problem: now {now.isoformat()} is outside the first block "
                f"(from {start.isoformat()}); start the blocks on the block holding it"
            )

    def _check_storage(self) -> None:
        ids = [battery.id for battery in self.storage]
        if len(set(ids)) != len(ids):
            twice = next(i for i in ids if ids.count(i) > 1)
            raise ValueError(f"planning problem: storage {twice!r} is listed twice")
        nodes = {node.node_id for node in self.nodes}
        for battery in self.storage:
            unknown = sorted(set(battery.node_ids) - nodes)
            if unknown:
                raise ValueError(
                    f"planning problem: storage {battery.id!r} loads unknown node(s) "
                    f"{', '.join(map(repr, unknown))}; give their rows in nodes or drop them"
                )


def sessions_under(
    topology: Topology, sessions: Sequence[Session]
) -> Mapping[str, tuple[str, ...]]:
    """Per node of ``topology``, the ids of the sessions whose EVSE sits under it (the
    EVSE's path: its charger and every ancestor up to the grid connection)."""
    under: dict[str, list[str]] = {node_id: [] for node_id in topology.nodes}
    for session in sessions:
        evse = topology.evses.get(session.evse_id)
        if evse is None:
            raise ValueError(
                f"planner: session {session.id!r} is on EVSE {session.evse_id!r}, "
                f"which site {topology.site!r} does not have"
            )
        for node_id in evse.path:
            under.setdefault(node_id, []).append(session.id)
    return {node_id: tuple(ids) for node_id, ids in under.items()}


def _check_node_sessions(node: NodeCapacity) -> None:
    where = f"planning problem: node {node.node_id!r}"
    if len(set(node.session_ids)) != len(node.session_ids):
        twice = next(i for i in node.session_ids if node.session_ids.count(i) > 1)
        raise ValueError(f"{where} lists session {twice!r} twice; list each session once")
    if node.weights is None:
        return
    if len(node.weights) != len(node.session_ids):
        raise ValueError(
            f"{where} has {len(node.weights)} weights for {len(node.session_ids)} sessions; "
            "give one per session, in session_ids order"
        )
    for session_id, weight in zip(node.session_ids, node.weights, strict=True):
        if not math.isfinite(weight):
            raise ValueError(
                f"{where}: the weight of session {session_id!r} is {weight}; "
                "give a finite number (row units per W)"
            )


def _check_session(session: PlannedSession) -> None:
    where = f"planning problem: session {session.id!r}"
    if not (math.isfinite(session.need_wh) and session.need_wh >= 0.0):
        raise ValueError(f"{where}: need_wh {session.need_wh} must be finite and ≥ 0")
    if not (math.isfinite(session.max_power_w) and session.max_power_w >= 0.0):
        raise ValueError(f"{where}: max_power_w {session.max_power_w} must be finite and ≥ 0")
    if session.departure.tzinfo is None:
        raise ValueError(f"{where}: departure has no time zone; pass an aware datetime in UTC")


def _check_series(where: str, series: Sequence[float], count: int, *, allow_inf: bool) -> None:
    if len(series) != count:
        raise ValueError(f"{where} has {len(series)} values for {count} blocks; give one per block")
    if all(map(math.isfinite, series)):  # the usual series, checked without a Python loop
        return
    for index, value in enumerate(series):
        if math.isnan(value) or (not allow_inf and math.isinf(value)):
            raise ValueError(f"{where}[{index}] is {value}; give a finite number")
