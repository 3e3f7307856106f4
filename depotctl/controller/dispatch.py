"""The dispatcher contract: ``send(commands, report)`` queues the limits and returns
at once; each command's outcome goes to ``report`` when it is known. Commands and
outcomes are the domain's (:mod:`depotctl.domain.commands`), the same on both sides
of this boundary: a dispatcher reports the outcome it is given, never a copy.

The control loop hands it the limits that changed; the OCPP adapter
(:class:`depotctl.protocols.ocpp.dispatcher.OcppDispatcher`) is one implementation,
:class:`RecordingDispatcher` serves tests, :class:`ShadowDispatcher` ``serve
--shadow``. An outcome other than ``accepted`` makes the charger uncontrollable for
the engine: an unacknowledged command is never assumed applied.

Which commands may go out together is decided here, by :func:`going_now`: every
decrease at once, and an increase only when no decrease of the same cycle shares a
node with it. An increase computed while a neighbour's decrease is *still out* (from
an earlier cycle) goes at once: the allocation counted that neighbour at the higher
of its two limits, so the node is safe whether the decrease lands or not.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Protocol

from depotctl.domain.chargers import CommandOutcome
from depotctl.domain.commands import Delivery, LimitCommand, Outcome, shares_a_node

__all__ = [
    "Dispatcher",
    "OutcomeSink",
    "RecordingDispatcher",
    "ShadowDispatcher",
    "going_now",
    "in_safe_order",
]

#: Where outcomes go; called on the event loop.
OutcomeSink = Callable[[Outcome], None]


class Dispatcher(Protocol):
    """Sends limit commands to chargers (the OCPP adapter), or pretends to."""

    def send(self, commands: Sequence[LimitCommand], report: OutcomeSink) -> None:
        """Queue ``commands`` (decreases first, at most one per EVSE); never blocks."""
        ...

    def renew(self, in_force: Mapping[str, float], report: OutcomeSink) -> int:
        """Renew the limits in force (by EVSE) whose bounded validity runs out soon;
        how many renewals were queued. Called once a cycle."""
        ...

    async def close(self) -> None: ...


def in_safe_order(commands: Sequence[LimitCommand]) -> list[LimitCommand]:
    """Decreases before increases, so no transient ever overloads a node; within each,
    by EVSE id (deterministic)."""
    return sorted(commands, key=lambda c: (not c.is_decrease, c.evse_id))


def going_now(
    commands: Sequence[LimitCommand],
) -> tuple[list[LimitCommand], list[LimitCommand]]:
    """The commands that may go out now — every decrease, and every increase that
    shares no node with a decrease among ``commands`` (one cycle's) — in safe order,
    and the increases that must wait: they were computed as if those decreases had
    landed, so the next cycle, run once they are answered, decides them again."""
    decreases = [c for c in commands if c.is_decrease]
    freed = [c.nodes() for c in decreases]
    now: list[LimitCommand] = list(decreases)
    later: list[LimitCommand] = []
    for command in commands:
        if command.is_decrease:
            continue
        nodes = command.nodes()
        (later if any(shares_a_node(nodes, other) for other in freed) else now).append(command)
    return in_safe_order(now), in_safe_order(later)


@dataclass
class RecordingDispatcher:
    """Records what it is asked to send and answers at once with ``answer`` (accepted
    unless told otherwise): for tests."""

    answer: Callable[[LimitCommand], CommandOutcome] = lambda _: CommandOutcome.ACCEPTED
    validity_s: float = 30.0
    sent: list[list[LimitCommand]] = field(default_factory=list)

    def send(self, commands: Sequence[LimitCommand], report: OutcomeSink) -> None:
        self.sent.append(list(commands))
        for command in commands:
            result = self.answer(command)
            until = command.at + timedelta(seconds=self.validity_s)
            if result is CommandOutcome.ACCEPTED:
                report(Outcome(command, result, None, Delivery.ANSWERED, until))
            elif result is CommandOutcome.TIMEOUT:
                report(Outcome(command, result, "no answer", Delivery.UNANSWERED, until))
            else:
                report(Outcome(command, result, f"recorded {result.value}"))

    def renew(self, in_force: Mapping[str, float], report: OutcomeSink) -> int:
        return 0  # what it records never lapses

    async def close(self) -> None:
        return None


class ShadowDispatcher:
    """``serve --shadow``: sends nothing. Each limit counts as in force (so the journal
    reads as the controller would run) and its outcome says it was not sent."""

    def send(self, commands: Sequence[LimitCommand], report: OutcomeSink) -> None:
        for command in commands:
            report(Outcome(command, CommandOutcome.ACCEPTED, "shadow mode: not sent"))

    def renew(self, in_force: Mapping[str, float], report: OutcomeSink) -> int:
        return 0

    async def close(self) -> None:
        return None
