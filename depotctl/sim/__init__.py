"""Simulation: replaying recorded charging sessions through the allocator offline.

``sim replay`` reads ACN-Data sessions (:mod:`acn`), steps a simulated clock through
them calling the allocator (:mod:`replay`), checks every node's load independently
of the engine (:mod:`loads`), and reports (:mod:`report`, :mod:`trace`).
"""

from depotctl.sim.acn import (
    AcnFormatError,
    AcnSession,
    DemandBasis,
    ReplaySession,
    SessionSelection,
    read_sessions,
    select_sessions,
)
from depotctl.sim.loads import NodeLoad, Violation, node_loads, violations
from depotctl.sim.replay import Allocator, ReplayResult
from depotctl.sim.report import ReplayReport
from depotctl.sim.run import ReplaySettings, SiteError, load_site, run_replay
from depotctl.sim.script import ScriptedEnvelope, scale_top

__all__ = [
    "AcnFormatError",
    "AcnSession",
    "Allocator",
    "DemandBasis",
    "NodeLoad",
    "ReplayReport",
    "ReplayResult",
    "ReplaySession",
    "ReplaySettings",
    "ScriptedEnvelope",
    "SessionSelection",
    "SiteError",
    "Violation",
    "load_site",
    "node_loads",
    "read_sessions",
    "run_replay",
    "scale_top",
    "select_sessions",
    "violations",
]
