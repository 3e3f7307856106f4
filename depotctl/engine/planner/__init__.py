"""The horizon planner's core: one linear program over blocks of a horizon, solved by
HiGHS — each session's power per block at the least energy and carbon cost, its
energy by its departure (a heavy shortfall penalty, never infeasible), every node's
capacity per block respected. Pure: plain values in, a :class:`Plan` out.

Not yet here (see :mod:`depotctl.engine.planner.program` for where each goes):
demand charges, storage, solar, the forecast non-EV load, the delta-wye polygon,
warm-started replanning, the wiring into the controller.
"""

from depotctl.engine.planner.blocks import BLOCK, HORIZON, Blocks, plan_blocks
from depotctl.engine.planner.capacities import node_capacities
from depotctl.engine.planner.plan import Plan, PlanStatus, SessionPlan
from depotctl.engine.planner.problem import (
    NodeCapacity,
    PlannedSession,
    PlanningProblem,
    sessions_under,
)
from depotctl.engine.planner.solve import solve

__all__ = [
    "BLOCK",
    "HORIZON",
    "Blocks",
    "NodeCapacity",
    "Plan",
    "PlanStatus",
    "PlannedSession",
    "PlanningProblem",
    "SessionPlan",
    "node_capacities",
    "plan_blocks",
    "sessions_under",
    "solve",
]
