"""The horizon planner's core: one linear program over blocks of a horizon, solved by
HiGHS — each session's power and each battery's setpoint per block at the least
energy, demand-charge and carbon cost of the site's import (its other load and
generation included), each session's energy by its departure (a heavy shortfall
penalty, never infeasible), every node's capacity row per block respected (power
rows, or the allocator's weighted current rows). Pure: plain values in, a
:class:`Plan` out; a replan starts from the previous plan (``solve(problem, warm=plan)``).
"""

from depotctl.engine.planner.behind import behind_plan, released_behind
from depotctl.engine.planner.blocks import BLOCK, HORIZON, Blocks, plan_blocks
from depotctl.engine.planner.capacities import node_capacities
from depotctl.engine.planner.demand_charge import DemandTerm
from depotctl.engine.planner.hold_back import held_back
from depotctl.engine.planner.plan import Plan, PlanCosts, PlanStatus, SessionPlan, StoragePlan
from depotctl.engine.planner.problem import (
    NodeCapacity,
    PlannedSession,
    PlanningProblem,
    sessions_under,
)
from depotctl.engine.planner.solve import solve
from depotctl.engine.planner.storage import PlannedStorage

__all__ = [
    "BLOCK",
    "HORIZON",
    "Blocks",
    "DemandTerm",
    "NodeCapacity",
    "Plan",
    "PlanCosts",
    "PlanStatus",
    "PlannedSession",
    "PlannedStorage",
    "PlanningProblem",
    "SessionPlan",
    "StoragePlan",
    "behind_plan",
    "held_back",
    "node_capacities",
    "plan_blocks",
    "released_behind",
    "sessions_under",
    "solve",
]
