"""The compiled electrical tree: what the engine needs of a site, in base units.

Built from a validated site by :func:`depotctl.config.compile_site`.
Powers are in W, currents in A per line, voltages line-to-neutral in V.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

from depotctl.domain.forecast import PowerForecast
from depotctl.domain.phases import PhaseConnection, load_power


class NodeKind(StrEnum):
    GRID_CONNECTION = "grid_connection"
    TRANSFORMER = "transformer"
    CIRCUIT = "circuit"
    CHARGER_GROUP = "charger_group"
    CHARGER = "charger"
    SITE_LOAD = "site_load"
    STORAGE = "storage"
    GENERATION = "generation"


@dataclass(frozen=True, slots=True)
class NodeLimits:
    """A node's static limits; None where it has none. ``current_a`` is per phase."""

    import_w: float | None = None
    export_w: float | None = None
    current_a: float | None = None


@dataclass(frozen=True, slots=True)
class TopologyNode:
    """A node that can carry a limit: grid connection, transformer, circuit, group or
    charger. ``current_ratio`` converts an amp drawn below this node into amps at its
    parent (secondary/primary for a transformer, 1 otherwise); a transformer's
    ``winding`` (``delta-wye``, ``wye-wye``, or None: unknown) decides which primary
    lines carry it. ``depth`` is 0 at a grid connection."""

    id: str
    kind: NodeKind
    parent: str | None
    depth: int
    phases: int
    voltage_ln: float
    limits: NodeLimits = NodeLimits()
    envelope_source: str | None = None
    meter: str | None = None
    current_ratio: float = 1.0
    winding: str | None = None


@dataclass(frozen=True, slots=True)
class EvseSpec:
    """One EVSE as the engine sees it: where it hangs, how it is wired, its caps.

    ``connection`` None is a single-phase EVSE whose phase is unknown: it counts on
    every phase. ``path`` is its charger first, then every ancestor up to the grid
    connection. ``max_current_a`` is the tightest of its charger's, its own and its
    connectors' ratings, in amps per line at its supply."""

    id: str
    charger_id: str
    external_id: str | None
    supply: str
    connection: PhaseConnection | None
    voltage_ln: float
    max_current_a: float
    min_current_a: float
    fallback_a: float
    path: tuple[str, ...]

    @property
    def watts_per_amp(self) -> float:
        """Watts drawn per amp per line."""
        return load_power(1.0, self.connection, self.voltage_ln)


@dataclass(frozen=True, slots=True)
class SiteLoadSpec:
    """Load that is not EV charging, with what it counts as when its reading is stale."""

    id: str
    parent: str
    connection: PhaseConnection | None
    voltage_ln: float
    fallback_a: float
    meter: str | None
    #: what it will draw (W) over the coming hours, if the site says
    forecast: PowerForecast | None = None


@dataclass(frozen=True, slots=True)
class StorageSpec:
    """A battery beside the chargers. Its reading's power is its net import (W: above
    zero charging, below discharging); stale, it counts as charging at ``max_charge_w``.

    ``capacity_wh`` is its usable nameplate energy; ``min_soc``/``max_soc`` the state of
    charge it is kept within and ``initial_soc`` the simulated adapter's start (fractions
    of capacity); efficiencies are fractions per direction (stored = drawn × charge;
    delivered = stored × discharge)."""

    id: str
    parent: str
    connection: PhaseConnection | None
    voltage_ln: float
    capacity_wh: float
    max_charge_w: float
    max_discharge_w: float
    charge_efficiency: float = 1.0
    discharge_efficiency: float = 1.0
    min_soc: float = 0.0
    max_soc: float = 1.0
    initial_soc: float = 0.5
    adapter: str = "simulated"
    meter: str | None = None


@dataclass(frozen=True, slots=True)
class GenerationSpec:
    """Generation beside the chargers (solar, …). Its reading's power is its net import
    (W: below zero while it produces); stale, it counts as producing nothing.
    ``forecast`` is its output (W, zero up to ``peak_w``), if the site says."""

    id: str
    parent: str
    connection: PhaseConnection | None
    voltage_ln: float
    peak_w: float
    kind: str = "solar"
    meter: str | None = None
    forecast: PowerForecast | None = None


@dataclass(frozen=True, slots=True)
class SourceSpec:
    """An envelope source's configuration: how long before it counts as offline, and
    the site's fallback limits while it is offline and sent none of its own."""

    id: str
    offline_after_s: float | None
    fallback: NodeLimits
    targets: tuple[str, ...]


@dataclass(frozen=True, eq=False)
class Topology:
    """The whole tree. ``nodes`` is ordered parents before children. Compared by
    identity, so that the engine can cache what it derives from it."""

    site: str
    timezone: str
    nodes: Mapping[str, TopologyNode]
    evses: Mapping[str, EvseSpec]
    site_loads: Mapping[str, SiteLoadSpec] = field(default_factory=dict)
    sources: Mapping[str, SourceSpec] = field(default_factory=dict)
    storage: Mapping[str, StorageSpec] = field(default_factory=dict)
    generation: Mapping[str, GenerationSpec] = field(default_factory=dict)

    def path_up(self, node_id: str) -> tuple[str, ...]:
        """``node_id`` and every node above it, up to its grid connection."""
        path: list[str] = []
        at: str | None = node_id
        while at is not None and at in self.nodes:
            path.append(at)
            at = self.nodes[at].parent
        return tuple(path)

    def chargers_evses(self, charger_id: str) -> list[EvseSpec]:
        """A charger's EVSEs, in site order."""
        return list(self._evses_by_charger.get(charger_id, ()))

    @cached_property
    def _evses_by_charger(self) -> dict[str, tuple[EvseSpec, ...]]:
        by_charger: dict[str, list[EvseSpec]] = {}
        for evse in self.evses.values():
            by_charger.setdefault(evse.charger_id, []).append(evse)
        return {charger: tuple(evses) for charger, evses in by_charger.items()}
