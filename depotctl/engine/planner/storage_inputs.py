"""The site's batteries in the planning problem: which are planned, what the rows
count without them, and the rows their power loads.

A battery is planned when the controller knows what it holds now (``storage_wh``, from
its adapter) and its reading is fresh; its net power is then the plan's to decide, so
the rows' reservations count it at 0 W (:func:`unplanned`). A stale battery is not
planned: it stays reserved at its maximum charging power, as the allocator counts it.

A planned battery loads the import-power row of every node on its path (W per W);
a node without such a row (none of its sessions could fill it) gains one, with no
sessions. Current rows are left to the allocator: what a battery feeds frees no line
current (its phasor's angle is unknown), and what it draws is clamped live to the
room the allocator leaves (``controller/storage.py``). It should end the horizon
holding what it holds now (soft): the plan moves energy in time, it does not spend
the battery.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

import numpy as np

from depotctl.domain.snapshot import Snapshot
from depotctl.domain.telemetry import Reading
from depotctl.domain.topology import StorageSpec, Topology
from depotctl.engine.allocation import LimitKind
from depotctl.engine.asset_draw import fresh_reading
from depotctl.engine.planner.problem import NodeCapacity
from depotctl.engine.planner.storage import PlannedStorage
from depotctl.engine.structure import Structure


def planned_batteries(
    snapshot: Snapshot, storage_wh: Mapping[str, float] | None
) -> tuple[StorageSpec, ...]:
    """The batteries the plan decides: known energy, fresh reading with a power."""
    if not storage_wh:
        return ()
    planned = []
    for battery in snapshot.topology.storage.values():
        reading = fresh_reading(snapshot, battery)
        if battery.id in storage_wh and reading is not None and reading.power_w is not None:
            planned.append(battery)
    return tuple(planned)


def unplanned(snapshot: Snapshot, batteries: Sequence[StorageSpec]) -> Snapshot:
    """``snapshot`` with each of ``batteries`` read at 0 W now: the rows' reservations
    without them."""
    if not batteries:
        return snapshot
    telemetry = dict(snapshot.telemetry)
    for battery in batteries:
        telemetry[battery.id] = Reading(battery.id, snapshot.at, power_w=0.0)
    return replace(snapshot, telemetry=telemetry)


def storage_rows(
    structure: Structure, topology: Topology, batteries: Sequence[StorageSpec]
) -> frozenset[int]:
    """The import-power constraints the ``batteries`` load: kept as rows with their
    sessions, whether or not the sessions alone could fill them."""
    return frozenset(
        structure.constraint(node_id, LimitKind.IMPORT_POWER)
        for battery in batteries
        for node_id in topology.path_up(battery.parent)
    )


def with_storage(
    rows: tuple[NodeCapacity, ...],
    batteries: Sequence[StorageSpec],
    storage_wh: Mapping[str, float],
    structure: Structure,
    room: np.ndarray,
    topology: Topology,
) -> tuple[tuple[NodeCapacity, ...], tuple[PlannedStorage, ...]]:
    """``rows`` with every import-power row the ``batteries`` load that carries no
    session (``room``: per block and constraint, effective less reserved), and the
    batteries as the plan sees them."""
    by_name = {row.node_id: row for row in rows}
    added: list[NodeCapacity] = []
    planned = []
    for battery in batteries:
        names = []
        for node_id in topology.path_up(battery.parent):
            name = f"{node_id} {LimitKind.IMPORT_POWER.value}"
            if name not in by_name:
                capacity = room[:, structure.constraint(node_id, LimitKind.IMPORT_POWER)]
                if not np.isfinite(capacity).any():
                    continue  # no power limit here, in any block
                by_name[name] = NodeCapacity(name, tuple(capacity.tolist()), (), ())
                added.append(by_name[name])
            names.append(name)
        planned.append(planned_storage(battery, storage_wh[battery.id], tuple(names)))
    return rows + tuple(added), tuple(planned)


def planned_storage(
    battery: StorageSpec, energy_wh: float, node_ids: tuple[str, ...]
) -> PlannedStorage:
    """``battery`` holding ``energy_wh`` now (clamped to its capacity), loading
    ``node_ids``, to end the horizon with what it holds now."""
    energy = min(max(energy_wh, 0.0), battery.capacity_wh)
    return PlannedStorage(
        id=battery.id,
        node_ids=node_ids,
        energy_wh=energy,
        capacity_wh=battery.capacity_wh,
        min_soc=battery.min_soc,
        max_soc=battery.max_soc,
        max_charge_w=battery.max_charge_w,
        max_discharge_w=battery.max_discharge_w,
        charge_efficiency=battery.charge_efficiency,
        discharge_efficiency=battery.discharge_efficiency,
        final_energy_wh=energy,
    )
