"""The dispatcher contract: ``dispatch(commands) -> outcomes``, one outcome per command.

The control loop hands it the limits that changed, decreases first; the OCPP
adapter is one implementation (a later issue), :class:`RecordingDispatcher` serves
tests and a controller with no chargers connected yet. An outcome other than
``accepted`` makes the charger uncontrollable for the engine: an unacknowledged
command is never assumed applied.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

from depotctl.domain.chargers import CommandOutcome


@dataclass(frozen=True, slots=True)
class LimitCommand:
    """Set ``evse_id``'s limit to ``limit_a`` amps per line (``previous_a`` is the
    limit in force, None when none was sent yet). ``path`` is the EVSE's charger and
    every node above it (an increase waits for the decreases that share a node)."""

    evse_id: str
    charger_id: str
    limit_a: float
    previous_a: float | None
    at: datetime
    path: tuple[str, ...] = ()

    @property
    def is_decrease(self) -> bool:
        return self.previous_a is None or self.limit_a < self.previous_a


@dataclass(frozen=True, slots=True)
class Outcome:
    command: LimitCommand
    result: CommandOutcome
    reason: str | None = None


class Dispatcher(Protocol):
    async def dispatch(self, commands: Sequence[LimitCommand]) -> list[Outcome]:
        """Send ``commands`` (decreases first); one outcome per command."""
        ...

    async def renew(self, in_force: Mapping[str, float]) -> list[Outcome]:
        """Renew the limits in force (by EVSE) whose bounded validity runs out soon;
        an outcome per renewal sent. Called once a cycle, after ``dispatch``."""
        ...


def in_safe_order(commands: Sequence[LimitCommand]) -> list[LimitCommand]:
    """Decreases before increases, so no transient ever overloads a node; within each,
    by EVSE id (deterministic)."""
    return sorted(commands, key=lambda c: (not c.is_decrease, c.evse_id))


@dataclass
class RecordingDispatcher:
    """Records what it is asked to send and answers with ``answer`` (accepted unless
    told otherwise): for tests, and until chargers are connected over OCPP."""

    answer: Callable[[LimitCommand], CommandOutcome] = lambda _: CommandOutcome.ACCEPTED
    sent: list[list[LimitCommand]] = field(default_factory=list)

    async def dispatch(self, commands: Sequence[LimitCommand]) -> list[Outcome]:
        self.sent.append(list(commands))
        return [Outcome(command, self.answer(command)) for command in commands]

    async def renew(self, in_force: Mapping[str, float]) -> list[Outcome]:
        return []  # what it records never lapses


class ShadowDispatcher:
    """``serve --shadow``: sends nothing. Each limit counts as in force (so the journal
    reads as the controller would run) and its outcome says it was not sent."""

    async def dispatch(self, commands: Sequence[LimitCommand]) -> list[Outcome]:
        return [Outcome(c, CommandOutcome.ACCEPTED, "shadow mode: not sent") for c in commands]

    async def renew(self, in_force: Mapping[str, float]) -> list[Outcome]:
        return []
