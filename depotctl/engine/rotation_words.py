"""What rotation's minimum on and off times did to a paused EVSE, in words: held off
itself, or others of its tier held on at the limit that had no room for it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from depotctl.domain.instants import format_instant
from depotctl.domain.snapshot import Snapshot
from depotctl.engine.priority import duration_text
from depotctl.engine.rotation import HELD_OFF, HELD_ON, hold_of

if TYPE_CHECKING:
    from depotctl.engine.explain import Decision


def rotation_words(decision: Decision, index: int, con: int) -> str:
    """What rotation did to an EVSE paused for want of room at ``con``, as a clause to
    add to its explanation (empty when nothing): held off itself, or others of its
    tier held on there."""
    snapshot, demands = decision.snapshot, decision.demands
    session = demands.sessions.get(index)
    if session is None or not snapshot.admission:
        return ""
    policy = snapshot.policy
    if demands.rank[index] == HELD_OFF:
        hold = hold_of(snapshot, session, snapshot.admission.get(session.evse_id))
        assert hold is not None
        return (
            f"; switched off at {_clock(hold.since, snapshot)}, it comes after the others of "
            f"its tier until {_clock(hold.until, snapshot)} (at least "
            f"{duration_text(policy.min_off_s)} off)"
        )
    structure = decision.structure
    entry_con = structure.entry_con_list
    holds = [
        hold_of(snapshot, other_session, snapshot.admission.get(other_session.evse_id))
        for other, other_session in demands.sessions.items()
        if other != index
        and demands.rank[other] == HELD_ON
        and demands.tier[other] == demands.tier[index]
        and decision.limits[other] > 0
        and any(entry_con[p] == con for p in structure.evse_entries[other])
    ]
    untils = [hold.until for hold in holds if hold is not None]
    if not untils:
        return ""
    there = (
        "1 EVSE of its tier there" if len(untils) == 1 else f"{len(untils)} EVSEs of its tier there"
    )
    keep = "keeps its place until" if len(untils) == 1 else "keep their place, the first until"
    return (
        f"; {there}, switched on less than {duration_text(policy.min_on_s)} ago, {keep} "
        f"{_clock(min(untils), snapshot)}"
    )


def _clock(instant: datetime, snapshot: Snapshot) -> str:
    """The site's time with its offset (docs/times.md)."""
    try:
        local = instant.astimezone(ZoneInfo(snapshot.topology.timezone))
    except (KeyError, ValueError):
        local = instant
    return format_instant(local, local.tzinfo or UTC)
