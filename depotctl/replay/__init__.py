"""Offline replay: recorded charging sessions through the allocator, on a simulated clock.

``sim replay`` takes sessions read by :mod:`depotctl.recordings`, steps a clock of its
own through them calling the allocator (:mod:`steps`), scripts envelopes
(:mod:`script`), checks every node's load independently of the engine (:mod:`loads`),
and reports (:mod:`report`, :mod:`trace`); :mod:`run` composes it all. No sockets, no
controller: the wire simulators are :mod:`depotctl.sim`.
"""

from depotctl.replay.loads import NodeLoad, Violation, node_loads, violations
from depotctl.replay.report import ReplayReport
from depotctl.replay.run import ReplayError, ReplaySettings, run_replay
from depotctl.replay.script import ScriptedEnvelope, scale_top
from depotctl.replay.steps import Allocator, ReplayResult
from depotctl.replay.trace import TraceWriter

__all__ = [
    "Allocator",
    "NodeLoad",
    "ReplayError",
    "ReplayReport",
    "ReplayResult",
    "ReplaySettings",
    "ScriptedEnvelope",
    "TraceWriter",
    "Violation",
    "node_loads",
    "run_replay",
    "scale_top",
    "violations",
]
