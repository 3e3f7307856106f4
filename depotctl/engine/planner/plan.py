"""The planner's answer: each session's power per block and its shortfall, each
battery's setpoint, the site's import, the demand peaks, the cost split, the solve."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import TYPE_CHECKING

from depotctl.engine.planner.blocks import Blocks

if TYPE_CHECKING:  # the solver's side; a plan is read without it
    from depotctl.engine.planner.warm import WarmStart


class PlanStatus(enum.Enum):
    """``optimal``: the plan is the program's optimum; ``failed``: the solver gave
    none (the plan is empty and must not be followed)."""

    OPTIMAL = "optimal"
    FAILED = "failed"


@dataclass(frozen=True, slots=True)
class SessionPlan:
    """One session's planned power per block (W) and the energy it will miss (Wh)."""

    session_id: str
    power_w: tuple[float, ...]
    shortfall_wh: float


@dataclass(frozen=True, slots=True)
class StoragePlan:
    """One battery's planned setpoint per block (W at its terminals, charge +,
    discharge −) and the energy it holds at each block's end (Wh)."""

    storage_id: str
    setpoint_w: tuple[float, ...]
    energy_wh: tuple[float, ...]


@dataclass(frozen=True, slots=True)
class PlanCosts:
    """What the plan costs, split (the tariff's currency): ``energy`` (the price of
    the site's import), ``demand`` (each term's rate × its peak, the peak so far
    included), ``carbon`` (the carbon price × the import's emissions; ``carbon_kg``
    the emissions) and ``shortfall`` (the penalty of the energy missed, the
    batteries' final energy and any overload of a row already past its limit
    included: not money, the program's weight)."""

    energy: float
    demand: float
    carbon: float
    shortfall: float
    carbon_kg: float


@dataclass(frozen=True, slots=True)
class Plan:
    """A solved horizon. ``detail`` says why a solve failed (the solver's status).
    ``storage`` is per battery, ``import_w`` the site's planned import per block
    (its average power), ``demand_peak_w`` the planned peak per demand term (in the
    problem's order), ``costs`` the cost split; ``warm`` is what a later solve starts
    from (:func:`~depotctl.engine.planner.solve.solve`'s ``warm``), ``iterations``
    the simplex iterations this solve took."""

    blocks: Blocks
    sessions: Mapping[str, SessionPlan]
    departures: Mapping[str, datetime]
    status: PlanStatus
    solve_seconds: float
    objective: float | None = None
    detail: str = ""
    storage: Mapping[str, StoragePlan] = field(default_factory=dict)
    import_w: tuple[float, ...] = ()
    demand_peak_w: tuple[float, ...] = ()
    costs: PlanCosts | None = None
    warm: WarmStart | None = field(default=None, compare=False, repr=False)
    iterations: int = 0

    def rate_at(self, session_id: str, instant: datetime) -> float | None:
        """The planned power (W) of ``session_id`` at ``instant``: 0 from its departure
        on; None when the plan has no answer (failed, an unknown session, or an
        instant outside the horizon)."""
        planned = self.sessions.get(session_id)
        block = self.blocks.index(instant)
        if self.status is not PlanStatus.OPTIMAL or planned is None or block is None:
            return None
        if instant >= self.departures[session_id]:
            return 0.0
        return planned.power_w[block]

    def setpoint_at(self, storage_id: str, instant: datetime) -> float | None:
        """The planned setpoint (W, charge +) of battery ``storage_id`` at ``instant``;
        None when the plan has no answer (failed, an unknown battery, or an instant
        outside the horizon)."""
        planned = self.storage.get(storage_id)
        block = self.blocks.index(instant)
        if self.status is not PlanStatus.OPTIMAL or planned is None or block is None:
            return None
        return planned.setpoint_w[block]
