"""The horizon planner's state as the API gives it (``planner`` of ``GET
/api/v1/state``): whether the allocator follows a plan now, since when, and the last
solve's time and duration. Times in UTC."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from depotctl.api.base import ApiModel, Instant

#: off: the site does not plan; waiting: no plan yet (the first solve is due or
#: running); following: the allocator follows the plan; failed: the last solve
#: failed; stale: the plan is older than its replan interval and a block, or past its
#: horizon (failed and stale: the allocator alone decides)
PlannerStateName = Literal["off", "waiting", "following", "failed", "stale"]


class PlannerState(ApiModel):
    """The planner now."""

    state: PlannerStateName = Field(
        description="off, waiting (no plan yet), following, failed or stale (the last "
        "two: the allocator alone decides)."
    )
    since: Instant | None = Field(
        description="When this state began (following: the plan's solve; failed: the "
        "first failed solve in a row; stale: when the plan went stale); null when off "
        "or waiting."
    )
    solved_at: Instant | None = Field(
        description="The instant (the controller's clock) the last solve planned for; "
        "null before the first."
    )
    solve_s: float | None = Field(
        description="Wall seconds the last solve took to build and solve its problem."
    )
    next_by: Instant | None = Field(
        description="The latest instant the next solve is due (the next block boundary "
        "or the replan interval, whichever comes first; an event replans sooner)."
    )
    error: str | None = Field(None, description="Why the last solve failed (failed only).")
