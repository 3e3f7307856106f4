"""The planner's state in words, for ``status`` and the console: whether the allocator
follows a plan, since when, and the last solve's time and duration."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING

from depotctl.client.figures import instant_text

if TYPE_CHECKING:
    from depotctl.api import PlannerState

#: how the allocator decides while the planner is not followed
ALONE = "the allocator alone"


def plan_text(
    planner: PlannerState, zone: tzinfo, when: Callable[[datetime], str] | None = None
) -> str:
    """``following, solved 2026-03-02 18:07:12+11:00 in 0.21 s, next by …``,
    ``failed since …: the allocator alone (RuntimeError: …)``, ``planner off``: the
    planner's state, its times in ``zone`` (``when`` writes them; whole with their
    offset unless given)."""
    said = when or (lambda at: instant_text(at, zone))
    state = planner.state
    if state == "off":
        return "planner off"
    if state == "waiting":
        return "waiting for its first solve"
    if state == "following":
        solved = f"solved {said(planner.solved_at)}" if planner.solved_at else "solved"
        took = f" in {planner.solve_s:.2f} s" if planner.solve_s is not None else ""
        due = f", next by {said(planner.next_by)}" if planner.next_by else ""
        return f"following, {solved}{took}{due}"
    since = f" since {said(planner.since)}" if planner.since else ""
    why = f" ({planner.error})" if state == "failed" and planner.error else ""
    return f"{state}{since}: {ALONE}{why}"
