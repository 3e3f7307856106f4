"""Why the horizon planner chose a session's rate, in words, from the plan note its
snapshot carries (:mod:`depotctl.engine.planner.follow` builds it; nothing is
recomputed here)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from depotctl.domain.quantity import format_number
from depotctl.domain.snapshot import Snapshot

if TYPE_CHECKING:
    from depotctl.engine.explain import Decision


def plan_words(decision: Decision, index: int) -> str:
    """A clause to add to a plan's rate (empty without a note): ``; deferred: 0.21 /kWh
    now vs 0.06 /kWh from 23:00; departs 06:10, 9.4 h of slack`` (the site's time; the
    date too when it is not within a day). A session held at 0 with no cheaper block
    waits at the same price: the room now goes to others (or the demand peak)."""
    session = decision.demands.sessions.get(index)
    snapshot = decision.snapshot
    note = snapshot.plan_notes.get(session.id) if session is not None else None
    if note is None:
        return ""
    now = f"{_price(note.price_now)} /kWh now"
    if note.cheaper_price is not None and note.cheaper_from is not None:
        why = (
            f"deferred: {now} vs {_price(note.cheaper_price)} /kWh "
            f"from {_when(note.cheaper_from, snapshot)}"
            + (" on forecast solar" if note.cheaper_solar else "")
        )
    elif note.grid_price_now is not None:
        why = (
            f"charges now on forecast solar: {_price(note.price_now)} /kWh vs "
            f"{_price(note.grid_price_now)} /kWh from the grid"
        )
    elif session is not None and (session.planned_rate_a or 0.0) <= 0.0:
        # held with no cheaper block: the price is not why; the room now is (the plan
        # charges sessions that depart sooner first) or the demand peak
        why = (
            f"waits at the same price: {now}, no cheaper block before it departs; the "
            "plan gives the room now to sessions that depart sooner, or keeps the "
            "demand peak down"
        )
    else:
        why = f"planned: {now}, no cheaper block it charges in before it departs"
    return f"; {why}; departs {_when(note.departure, snapshot)}, {note.slack_h:.1f} h of slack"


def _price(per_kwh: float) -> str:
    return format_number(round(per_kwh, 4))


def _when(instant: datetime, snapshot: Snapshot) -> str:
    try:
        local = instant.astimezone(ZoneInfo(snapshot.topology.timezone))
    except (KeyError, ValueError):
        local = instant
    within_a_day = abs((instant - snapshot.at).total_seconds()) < 86_400
    return local.strftime("%H:%M" if within_a_day else "%Y-%m-%d %H:%M")
