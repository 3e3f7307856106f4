"""The planner's state as the API gives it (``planner`` of ``GET /api/v1/state``):
read from the controller's :class:`~depotctl.controller.planning.Planning` at an
instant, not from its journal — but for when a run of failed solves began (the
``planner.failed`` entry, journaled once at its start)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from depotctl.controller.ports import Depot
from depotctl.engine.planner.inputs import block_start


def planner_json(depot: Depot, now: datetime) -> dict[str, Any]:
    """The planner at ``now`` (the controller's clock), as :class:`~depotctl.api.PlannerState`."""
    planning = depot.planning
    if planning is None or not planning.settings.enabled:
        return _state("off")
    latest = planning.latest
    if latest is None:
        return _state("waiting")
    settings = planning.settings
    due = min(block_start(latest.at, settings.block) + settings.block, latest.at + settings.replan)
    timing = {
        "solved_at": latest.at.isoformat(),
        "solve_s": round(latest.seconds, 3),
        "next_by": due.isoformat(),
    }
    if not latest.solved or latest.plan is None:
        return _state("failed", _failing_since(depot, latest.at), error=latest.error, **timing)
    if planning.usable(now) is None:
        blocks = latest.plan.blocks
        went = min(latest.at + settings.replan + blocks.length, blocks.end)
        return _state("stale", went, **timing)
    return _state("following", latest.at, **timing)


def _failing_since(depot: Depot, failed_at: datetime) -> datetime:
    """When the run of failed solves that ``failed_at`` ends began: the newest
    ``planner.failed`` entry's instant (it is journaled once, at the run's start)."""
    from depotctl.controller.planning import PlanningKind

    newest = depot.units().journal.entries(latest=True, kind=PlanningKind.FAILED.value, limit=1)
    return newest[0].at if newest else failed_at


def _state(name: str, since: datetime | None = None, **fields: Any) -> dict[str, Any]:
    empty = {"solved_at": None, "solve_s": None, "next_by": None, "error": None}
    return {"state": name, "since": since.isoformat() if since else None, **empty, **fields}
