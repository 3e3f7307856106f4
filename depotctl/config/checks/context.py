"""What a semantic check sees: the validated site, indexes over its tree, and where
its files are. Checks return findings with data paths; positions come later."""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path as FsPath
from typing import Any, TypeVar

from depotctl.config.rules import Finding, Path
from depotctl.config.schema import Charger, Node, Site, TariffSpec, Transformer
from depotctl.domain import SQRT3, Voltage

Remembered = TypeVar("Remembered")


def _remembered(
    store: dict[str, Remembered], node: Node, compute: Callable[[Node], Remembered]
) -> Remembered:
    """What ``store`` holds for ``node``, computed the first time it is asked for."""
    found = store.get(node.id)
    if found is None:
        found = store[node.id] = compute(node)
    return found


@dataclass(slots=True)
class TariffContext:
    """A tariff to check, and the data path it sits at in its document."""

    tariff: TariffSpec
    path: Path


@dataclass
class SiteContext:
    """A schema-valid site, with the indexes most checks need."""

    site: Site
    base_dir: FsPath
    file: FsPath | None = None
    _ancestors: dict[str, tuple[Node, ...]] = field(default_factory=dict, repr=False)
    _phases: dict[str, int] = field(default_factory=dict, repr=False)
    _voltages: dict[str, Voltage] = field(default_factory=dict, repr=False)

    @property
    def node_list(self) -> list[Node]:
        return self.site.spec.nodes

    @cached_property
    def index(self) -> dict[str, int]:
        """Node id → position in ``spec.nodes`` (its first occurrence)."""
        positions: dict[str, int] = {}
        for i, node in enumerate(self.node_list):
            positions.setdefault(node.id, i)
        return positions

    @cached_property
    def nodes(self) -> dict[str, Node]:
        return {node_id: self.node_list[i] for node_id, i in self.index.items()}

    @cached_property
    def children(self) -> dict[str, list[Node]]:
        kids: dict[str, list[Node]] = {}
        for node in self.node_list:
            if node.parent is not None:
                kids.setdefault(node.parent, []).append(node)
        return kids

    def path(self, node: Node | str, *rest: str | int) -> Path:
        """The data path of a node (or of a field in it)."""
        node_id = node if isinstance(node, str) else node.id
        return ("spec", "nodes", self.index[node_id], *rest)

    def ancestors(self, node: Node) -> tuple[Node, ...]:
        """Parent, grandparent, … up to the root; stops early at an unknown parent or
        a cycle (those are the topology rules' business)."""
        return _remembered(self._ancestors, node, self._ancestors_of)

    def _ancestors_of(self, node: Node) -> tuple[Node, ...]:
        chain: list[Node] = []
        seen = {node.id}
        current = node
        while current.parent is not None and current.parent in self.nodes:
            parent = self.nodes[current.parent]
            if parent.id in seen:
                break
            chain.append(parent)
            seen.add(parent.id)
            current = parent
        return tuple(chain)

    def descendants(self, node: Node) -> Iterable[Node]:
        """Every node below ``node`` (cycle-safe)."""
        stack = list(self.children.get(node.id, ()))
        seen = {node.id}
        while stack:
            child = stack.pop()
            if child.id in seen:
                continue
            seen.add(child.id)
            yield child
            stack.extend(self.children.get(child.id, ()))

    def phases_of(self, node: Node) -> int:
        """Phase count of a node: its own, else its nearest ancestor's, else the site's."""
        return _remembered(self._phases, node, self._own_or_inherited_phases)

    def _own_or_inherited_phases(self, node: Node) -> int:
        for candidate in (node, *self.ancestors(node)):
            phases = getattr(candidate, "phases", None)
            if phases is not None:
                return int(phases)
        return int(self.site.spec.electrical.phases)

    def voltage_of(self, node: Node) -> Voltage:
        """Nominal line-to-neutral voltage at a node: its own, else below the nearest
        transformer (secondary / √3 for three phases), else the site's default."""
        return _remembered(self._voltages, node, self._own_or_inherited_voltage)

    def _own_or_inherited_voltage(self, node: Node) -> Voltage:
        for candidate in (node, *self.ancestors(node)):
            voltage = getattr(candidate, "voltage", None)
            if isinstance(voltage, Voltage):
                return voltage
            if isinstance(candidate, Transformer) and candidate is not node:
                secondary = candidate.secondary.volts
                ln = secondary / SQRT3 if self.phases_of(candidate) == 3 else secondary
                return Voltage(ln, "V")
        return self.site.spec.electrical.voltage

    @cached_property
    def chargers(self) -> list[Charger]:
        return [node for node in self.node_list if isinstance(node, Charger)]

    def resolve(self, reference: str) -> FsPath:
        """A file named in the site, relative to the site file."""
        return (self.base_dir / reference).resolve()


SiteCheck = Callable[[SiteContext], Iterable[Finding]]
TariffCheck = Callable[[TariffContext], Iterable[Finding]]

SITE_CHECKS: list[SiteCheck] = []
TARIFF_CHECKS: list[TariffCheck] = []


def site_check(function: SiteCheck) -> SiteCheck:
    """Register a check that runs on every schema-valid site."""
    SITE_CHECKS.append(function)
    return function


def tariff_check(function: TariffCheck) -> TariffCheck:
    """Register a check that runs on every tariff (inline in a site, or its own file)."""
    TARIFF_CHECKS.append(function)
    return function


def closest(name: str, known: Iterable[str]) -> str | None:
    """The known name most like ``name`` (a likely typo), or None when none is close."""
    matches = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return matches[0] if matches else None


def describe(node: Any) -> str:
    """``circuit "db-1"``: how messages name a node."""
    return f'{str(node.type).replace("_", " ")} "{node.id}"'
