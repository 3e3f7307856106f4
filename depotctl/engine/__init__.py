"""Computations over domain values: effective capacity, allocation with explanations.

Pure functions: a snapshot in, an allocation out; no I/O, no clock, no globals.
"""

from depotctl.engine.allocate import allocate
from depotctl.engine.allocation import (
    Allocation,
    Binding,
    BindingKind,
    EvseAllocation,
    EvseState,
    LimitKind,
    LimitSource,
    NodeConstraint,
)
from depotctl.engine.explain import Candidate
from depotctl.engine.outlook import SessionOutlook, session_outlooks

__all__ = [
    "Allocation",
    "Binding",
    "BindingKind",
    "Candidate",
    "EvseAllocation",
    "EvseState",
    "LimitKind",
    "LimitSource",
    "NodeConstraint",
    "SessionOutlook",
    "allocate",
    "session_outlooks",
]
