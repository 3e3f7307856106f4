"""The compiled electrical tree: what the engine needs of a site, in base units.

Built from a validated site by :func:`depotctl.config.compile_site`.
Powers are in W, currents in A per line, voltages line-to-neutral in V.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property

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

    def chargers_evses(self, charger_id: str) -> list[EvseSpec]:
        """A charger's EVSEs, in site order."""
        return list(self._evses_by_charger.get(charger_id, ()))

    @cached_property
    def _evses_by_charger(self) -> dict[str, tuple[EvseSpec, ...]]:
        by_charger: dict[str, list[EvseSpec]] = {}
        for evse in self.evses.values():
            by_charger.setdefault(evse.charger_id, []).append(evse)
        return {charger: tuple(evses) for charger, evses in by_charger.items()}
