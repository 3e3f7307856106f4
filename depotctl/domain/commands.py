"""What the controller asks of a charger, and what came of it: one limit command and
one outcome type on both sides of the dispatch boundary."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from depotctl.domain.chargers import CommandOutcome


class CommandPurpose(StrEnum):
    """Why a command was sent: a limit the allocation changed, the same limit again
    before its validity runs out, or a retry of one that failed (with a safe probe)."""

    CHANGE = "change"
    RENEWAL = "renewal"
    RETRY = "retry"


@dataclass(frozen=True, slots=True)
class LimitCommand:
    """Hold ``evse_id`` at ``limit_a`` amps per line — what a running session may draw,
    and what a vehicle plugging in may start at. ``previous_a`` is the limit in force
    (None: not known); ``path`` is the EVSE's charger and every node above it."""

    evse_id: str
    charger_id: str
    limit_a: float
    previous_a: float | None
    at: datetime
    path: tuple[str, ...] = ()
    purpose: CommandPurpose = CommandPurpose.CHANGE

    @property
    def is_decrease(self) -> bool:
        """Lowers the limit, or sets one over an unknown one (failing safe)."""
        return self.previous_a is None or self.limit_a < self.previous_a

    def nodes(self) -> frozenset[str] | None:
        """The charger and every node above it; None when the path is unknown (it
        shares every node: failing safe)."""
        return frozenset(self.path) | {self.charger_id} if self.path else None


class Delivery(StrEnum):
    """How far a command got: answered (accepted or refused), sent without an answer
    (it may have been applied), or never sent."""

    ANSWERED = "answered"
    UNANSWERED = "unanswered"
    NOT_SENT = "not_sent"


@dataclass(frozen=True, slots=True)
class Outcome:
    """What came of one command. ``held_until`` is set when the limit holds, or may
    hold, on the charger — accepted, sent and never answered, or accepted in part —
    and says when its profile lapses; None when it certainly does not hold, or holds
    without a profile of the controller's to lapse (an idle EVSE at its fallback).
    ``result`` None: the command was not sent and says nothing about the charger
    (superseded by a newer one for the same EVSE)."""

    command: LimitCommand
    result: CommandOutcome | None
    reason: str | None = None
    delivery: Delivery = Delivery.ANSWERED
    held_until: datetime | None = None

    @property
    def accepted(self) -> bool:
        return self.result is CommandOutcome.ACCEPTED

    @property
    def may_hold(self) -> bool:
        """The limit holds, or may hold, under a profile that lapses at
        ``held_until``."""
        return self.held_until is not None


def shares_a_node(a: frozenset[str] | None, b: frozenset[str] | None) -> bool:
    """Whether two commands' paths meet (an unknown path meets every other)."""
    return a is None or b is None or not a.isdisjoint(b)
