"""A battery as the planner sees it: its energy now, its bounds and efficiencies, and
the node rows its power loads."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class PlannedStorage:
    """One battery. Its net power (charge +, discharge −, W at its terminals) loads every
    row of ``node_ids`` (its path: the nodes above it), weighted like a session's:
    ``weights`` per node in ``node_ids`` order, the row's units per W (None: 1 each).

    ``energy_wh`` is what it holds now; the plan keeps it within ``min_soc`` ×
    ``capacity_wh`` … ``max_soc`` × ``capacity_wh`` (fractions), except that a battery
    outside those bounds now is only kept from going further out. Charging stores
    ``charge_efficiency`` of the energy drawn; discharging delivers
    ``discharge_efficiency`` of the energy taken out. ``final_energy_wh``, when set, is
    what it should hold at the horizon's end (soft: a miss costs a tenth of a
    vehicle's missed kWh, so vehicles come first)."""

    id: str
    node_ids: tuple[str, ...]
    energy_wh: float
    capacity_wh: float
    min_soc: float
    max_soc: float
    max_charge_w: float
    max_discharge_w: float
    charge_efficiency: float = 1.0
    discharge_efficiency: float = 1.0
    final_energy_wh: float | None = None
    weights: tuple[float, ...] | None = None

    def __post_init__(self) -> None:
        where = f"planning problem: storage {self.id!r}"
        _check_range(where, "capacity_wh", self.capacity_wh, low=0.0, open_low=True)
        _check_range(where, "energy_wh", self.energy_wh, low=0.0)
        _check_range(where, "min_soc", self.min_soc, low=0.0, high=1.0)
        _check_range(where, "max_soc", self.max_soc, low=self.min_soc, high=1.0)
        _check_range(where, "max_charge_w", self.max_charge_w, low=0.0)
        _check_range(where, "max_discharge_w", self.max_discharge_w, low=0.0)
        for name in ("charge_efficiency", "discharge_efficiency"):
            _check_range(where, name, getattr(self, name), low=0.0, high=1.0, open_low=True)
        if self.final_energy_wh is not None:
            _check_range(
                where, "final_energy_wh", self.final_energy_wh, low=0.0, high=self.capacity_wh
            )
        if len(set(self.node_ids)) != len(self.node_ids):
            raise ValueError(f"{where}: node_ids lists a node twice; list each node once")
        if self.weights is not None and len(self.weights) != len(self.node_ids):
            raise ValueError(
                f"{where} has {len(self.weights)} weights for {len(self.node_ids)} nodes; "
                "give one per node, in node_ids order"
            )
        if self.weights is not None and not all(math.isfinite(w) for w in self.weights):
            raise ValueError(f"{where}: weights must be finite (row units per W)")

    def weight_of(self) -> tuple[float, ...]:
        """The weights in use: ``weights``, or 1 per node."""
        return self.weights if self.weights is not None else (1.0,) * len(self.node_ids)

    def energy_bounds_wh(self) -> tuple[float, float]:
        """The least and most it may hold at a block's end (see the class)."""
        low = self.min_soc * self.capacity_wh
        high = self.max_soc * self.capacity_wh
        return min(low, self.energy_wh), max(high, self.energy_wh)


def _check_range(
    where: str,
    name: str,
    value: float,
    *,
    low: float,
    high: float = math.inf,
    open_low: bool = False,
) -> None:
    below = value <= low if open_low else value < low
    if math.isnan(value) or math.isinf(value) or below or value > high:
        bound = f"> {low}" if open_low else f"≥ {low}"
        limit = "" if math.isinf(high) else f" and ≤ {high}"
        raise ValueError(f"{where}: {name} {value} must be finite, {bound}{limit}")
