"""Generated depots for the benchmarks: the same instance for depotctl and for acnportal.

A site (three-phase, 230 V line-to-neutral) → circuits (4–10 groups each) → charger
groups (6–16 EVSEs each) → one single-EVSE charger per EVSE. Every EVSE is occupied.
Wiring is mixed per EVSE: three-phase in any rotation (50 %), single-phase on L1, L2
or L3 (30 %), line-to-line across L1-L2, L2-L3 or L3-L1 (20 %); EVSE ratings 16 or
32 A per line. Every site, circuit and group has a current limit per phase of 40–60 %
of its connected rating (the sum of the ratings of the EVSEs on its most loaded
phase; a line-to-line EVSE counts on both its lines); each charger is limited to its
own rating. Seeded and deterministic: the same size and seed give the same instance.

Sessions: plugged in 0–4 h ago; departure 30 min to 12 h ahead on the 5-minute grid
(so that acnportal's whole-period deadlines are the same instants); 10–80 kWh asked,
0–50 % of it delivered so far, at least 4 kWh still needed (more than one 5-minute
period at full rate, so acnportal's one-period energy cap never binds); a quarter of
the vehicles take at most 16 A. The policy is depotctl's default with no safety
margin, so both sides see the same limits.

acnportal's equivalent (:func:`acnportal_network`, :func:`acnportal_sessions`): one
linear constraint row per node and phase, coefficient 1 for every EVSE that loads
that phase, with the node's limit as its magnitude (the charger limits are the
EVSEs' ``max_rate``); the same remaining demand, deadline and maximum rate per
session. Three-phase EVSEs have no single phase angle, so only acnportal's linear
feasibility (``|A|·x ≤ limit``) states the same constraints; the angles given are
nominal. acnportal is imported only by the functions that build its side.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import numpy as np

from depotctl.domain.phases import Phase, PhaseConnection
from depotctl.domain.policy import Policy
from depotctl.domain.sessions import EnergyRequirement, RequirementSource, Session
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.topology import (
    EvseSpec,
    NodeKind,
    NodeLimits,
    Topology,
    TopologyNode,
)

SIZES = (54, 500, 2_000, 10_000)
SEED = 2019
VOLTS_LN = 230.0
PERIOD_MIN = 5.0
AT = datetime(2024, 1, 15, 17, 0, tzinfo=UTC)
POLICY = Policy(safety_margin=0.0)

_WIRINGS = (
    (0.50, ("L1-L2-L3", "L2-L3-L1", "L3-L1-L2")),
    (0.30, ("L1", "L2", "L3")),
    (0.20, ("L1-L2", "L2-L3", "L3-L1")),
)
#: nominal phase angles (degrees) for acnportal; only its exact check would use them
_ANGLES = {"L1": 0.0, "L2": -120.0, "L3": 120.0, "L1-L2": 30.0, "L2-L3": -90.0, "L3-L1": 150.0}


@dataclass(frozen=True)
class Row:
    """One node's current on one phase: its limit and the EVSEs (indices) it carries."""

    node_id: str
    phase: Phase
    limit_a: float
    members: tuple[int, ...]

    @property
    def name(self) -> str:
        return f"{self.node_id} {self.phase.value}"


@dataclass(frozen=True)
class Instance:
    """One generated depot: our snapshot, and what acnportal needs to state the same."""

    size: int
    seed: int
    snapshot: Snapshot
    evse_ids: tuple[str, ...]  # sorted, the order of every per-EVSE array here
    rows: tuple[Row, ...]
    nodes: int

    @property
    def topology(self) -> Topology:
        return self.snapshot.topology

    def evse(self, index: int) -> EvseSpec:
        return self.topology.evses[self.evse_ids[index]]


def generate(size: int, seed: int = SEED) -> Instance:
    """A depot with ``size`` occupied EVSEs."""
    rng = random.Random(seed * 1_000_003 + size)
    nodes: dict[str, TopologyNode] = {}
    evses: dict[str, EvseSpec] = {}
    site = "site"
    loads: dict[str, dict[Phase, float]] = {site: _zero()}
    placed: list[tuple[str, str, str]] = []  # (evse id, group, circuit)
    count = 0
    circuit_no = 0
    while count < size:
        circuit = f"c{circuit_no:03d}"
        circuit_no += 1
        loads[circuit] = _zero()
        for group_no in range(rng.randint(4, 10)):
            if count >= size:
                break
            group = f"{circuit}-g{group_no:02d}"
            loads[group] = _zero()
            for _ in range(min(rng.randint(6, 16), size - count)):
                evse_id = f"ch{count:05d}/1"
                count += 1
                connection = PhaseConnection.parse(_wiring(rng))
                rating = float(rng.choice((16, 32)))
                charger = evse_id.split("/")[0]
                evses[evse_id] = EvseSpec(
                    id=evse_id,
                    charger_id=charger,
                    external_id=evse_id,
                    supply=group,
                    connection=connection,
                    voltage_ln=VOLTS_LN,
                    max_current_a=rating,
                    min_current_a=POLICY.min_current_a,
                    fallback_a=POLICY.min_current_a,
                    path=(charger, group, circuit, site),
                )
                for node in (group, circuit, site):
                    for phase in connection.lines:
                        loads[node][phase] += rating
                placed.append((evse_id, group, circuit))

    def limited(node_id: str) -> NodeLimits:
        connected = max(loads[node_id].values())
        return NodeLimits(current_a=round(connected * rng.uniform(0.40, 0.60), 1))

    nodes[site] = TopologyNode(site, NodeKind.GRID_CONNECTION, None, 0, 3, VOLTS_LN, limited(site))
    for circuit in sorted({c for _, _, c in placed}):
        nodes[circuit] = TopologyNode(
            circuit, NodeKind.CIRCUIT, site, 1, 3, VOLTS_LN, limited(circuit)
        )
    for group, circuit in sorted({(g, c) for _, g, c in placed}):
        nodes[group] = TopologyNode(
            group, NodeKind.CHARGER_GROUP, circuit, 2, 3, VOLTS_LN, limited(group)
        )
    for evse_id, group, _ in placed:
        evse = evses[evse_id]
        assert evse.connection is not None
        nodes[evse.charger_id] = TopologyNode(
            evse.charger_id,
            NodeKind.CHARGER,
            group,
            3,
            len(evse.connection.phases),
            VOLTS_LN,
            NodeLimits(current_a=evse.max_current_a),
        )
    topology = Topology(site=f"generated-{size}", timezone="UTC", nodes=nodes, evses=evses)
    evse_ids = tuple(sorted(evses))
    sessions = tuple(_session(rng, evses[evse_id]) for evse_id in evse_ids)
    snapshot = Snapshot(at=AT, topology=topology, policy=POLICY, sessions=sessions)
    return Instance(
        size=size,
        seed=seed,
        snapshot=snapshot,
        evse_ids=evse_ids,
        rows=_rows(topology, evse_ids),
        nodes=len(nodes),
    )


def _zero() -> dict[Phase, float]:
    return {phase: 0.0 for phase in Phase}


def _wiring(rng: random.Random) -> str:
    draw = rng.random()
    for share, options in _WIRINGS:
        if draw < share:
            return rng.choice(options)
        draw -= share
    return rng.choice(_WIRINGS[-1][1])


def _session(rng: random.Random, evse: EvseSpec) -> Session:
    asked_wh = rng.uniform(10_000.0, 80_000.0)
    delivered_wh = min(asked_wh * rng.uniform(0.0, 0.5), asked_wh - 4_000.0)
    departure = AT + timedelta(minutes=PERIOD_MIN * rng.randint(6, 144))
    vehicle = 16.0 if rng.random() < 0.25 else None
    return Session(
        id=f"s-{evse.id}",
        evse_id=evse.id,
        started=AT - timedelta(minutes=rng.randint(0, 240)),
        energy_delivered_wh=delivered_wh,
        requirement=EnergyRequirement(asked_wh, departure, RequirementSource.SCHEDULE),
        vehicle_max_current_a=vehicle,
    )


def _rows(topology: Topology, evse_ids: Sequence[str]) -> tuple[Row, ...]:
    """Every (site, circuit, group) × phase constraint with its members."""
    members: dict[tuple[str, Phase], list[int]] = {}
    for index, evse_id in enumerate(evse_ids):
        evse = topology.evses[evse_id]
        assert evse.connection is not None
        for node_id in evse.path[1:]:
            for phase in sorted(evse.connection.lines):
                members.setdefault((node_id, phase), []).append(index)
    rows = []
    for node_id, node in topology.nodes.items():
        if node.kind is NodeKind.CHARGER or node.limits.current_a is None:
            continue
        for phase in Phase:
            if (node_id, phase) in members:
                rows.append(
                    Row(node_id, phase, node.limits.current_a, tuple(members[node_id, phase]))
                )
    return tuple(rows)


# --- acnportal's side -------------------------------------------------------------


def constraint_matrix(instance: Instance) -> np.ndarray:
    """The rows as a dense matrix (constraints × EVSEs), as acnportal stores them."""
    matrix = np.zeros((len(instance.rows), instance.size))
    for r, row in enumerate(instance.rows):
        matrix[r, list(row.members)] = 1.0
    return matrix


def acnportal_network(instance: Instance) -> Any:
    """The equivalent acnportal ``ChargingNetwork``.

    EVSEs and constraints are set in one go: ``register_evse`` and ``add_constraint``
    rebuild the network's tables on every call (a pandas frame per constraint), which
    takes minutes at 10,000 EVSEs; the resulting attributes are the same."""
    from collections import OrderedDict

    from acnportal.acnsim.models.evse import EVSE
    from acnportal.acnsim.network import ChargingNetwork

    network = ChargingNetwork()
    network._EVSEs = OrderedDict(
        (evse_id, EVSE(evse_id, max_rate=instance.evse(i).max_current_a, min_rate=0))
        for i, evse_id in enumerate(instance.evse_ids)
    )
    network._voltages = np.array(
        [instance.evse(i).watts_per_amp for i in range(instance.size)], dtype=float
    )
    network._phase_angles = np.array(
        [_angle(instance.evse(i)) for i in range(instance.size)], dtype=float
    )
    network._update_info_store()
    network.constraint_matrix = constraint_matrix(instance)
    network.magnitudes = np.array([row.limit_a for row in instance.rows])
    network.constraint_index = [row.name for row in instance.rows]
    return network


def _angle(evse: EvseSpec) -> float:
    assert evse.connection is not None
    return _ANGLES.get(str(evse.connection), 0.0)


def infrastructure_info(network: Any) -> Any:
    """acnportal's ``InfrastructureInfo`` of ``network``, as its ``Interface`` builds it."""
    from acnportal.acnsim.interface import InfrastructureInfo

    return InfrastructureInfo(
        network.constraint_matrix,
        network.magnitudes,
        network._phase_angles,
        network._voltages,
        network.constraint_index,
        network.station_ids,
        network.max_pilot_signals,
        network.min_pilot_signals,
        network.allowable_rates,
        network.is_continuous,
    )


def acnportal_sessions(instance: Instance) -> list[dict[str, Any]]:
    """``SessionInfo`` keyword arguments of every session, times in 5-minute periods
    from the snapshot's instant (period 0); energies in kWh."""
    period_s = PERIOD_MIN * 60.0
    at = instance.snapshot.at
    out = []
    for session in instance.snapshot.sessions:
        assert session.requirement is not None
        departure = round((session.requirement.departure - at).total_seconds() / period_s)
        arrival = int((session.started - at).total_seconds() // period_s)
        vehicle = session.vehicle_max_current_a
        out.append(
            {
                "station_id": session.evse_id,
                "session_id": session.id,
                "requested_energy": session.requirement.energy_wh / 1000.0,
                "energy_delivered": session.energy_delivered_wh / 1000.0,
                "arrival": arrival,
                "departure": departure,
                "estimated_departure": departure,
                "min_rates": 0.0,
                "max_rates": vehicle if vehicle is not None else float("inf"),
            }
        )
    return out
