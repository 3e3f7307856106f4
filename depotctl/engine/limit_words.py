"""A node's limit kinds in words: their display order, unit, amount in that unit and
name — shared by the alerts the engine words and the views that render allocations."""

from __future__ import annotations

from depotctl.engine.allocation import LimitKind

#: Display order of a node's limits.
KIND_ORDER = {
    LimitKind.IMPORT_POWER: 0,
    LimitKind.CURRENT_L1: 1,
    LimitKind.CURRENT_L2: 2,
    LimitKind.CURRENT_L3: 3,
}


def is_power(kind: LimitKind) -> bool:
    return kind is LimitKind.IMPORT_POWER


def unit_of(kind: LimitKind) -> str:
    return "kW" if is_power(kind) else "A"


def amount(kind: LimitKind, value: float) -> float:
    """A constraint's value in its display unit (kW for power, A for current)."""
    return value / 1000.0 if is_power(kind) else value


def kind_text(kind: LimitKind) -> str:
    return "import power" if is_power(kind) else f"current {kind.value.removeprefix('current_')}"
