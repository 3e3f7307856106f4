"""What the controller knows of each charger: online, whether it holds its fallback,
the limits its EVSEs may be under, and its last command's fate."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum


class CommandOutcome(StrEnum):
    """What became of a command sent to a charger."""

    ACCEPTED = "accepted"
    REJECTED = "rejected"
    TIMEOUT = "timeout"  # sent, never answered: it may have been applied
    OFFLINE = "offline"  # not sent: the charger was not connected


@dataclass(frozen=True, slots=True)
class HeldLimit:
    """A dynamic limit an EVSE may be drawing under: one its charger accepted, or one
    sent and never answered (it may have been applied). ``until`` is when the profile
    lapses back to the fallback (None: it does not lapse)."""

    limit_a: float
    until: datetime | None = None

    def holds_at(self, at: datetime) -> bool:
        return self.until is None or at < self.until


@dataclass(frozen=True, slots=True)
class ChargerState:
    """A charger that is offline, whose last command was not accepted, or that never
    accepted its fallback profile is uncontrollable: an unacknowledged command is never
    assumed applied, and a charger without a fallback may draw its rating.

    ``held`` lists, per EVSE id, the limits that EVSE may be under (see
    :class:`HeldLimit`); the engine assumes an uncontrollable charger's EVSE draws the
    highest of them still valid, never less than its fallback (a new session starts at
    the fallback). ``last_accepted_limit_a`` is the last limit the charger acknowledged
    for any EVSE (amps per line); a state without ``held`` (an old snapshot) holds it on
    every EVSE without end."""

    charger_id: str
    online: bool = True
    last_outcome: CommandOutcome | None = None
    last_accepted_limit_a: float | None = None
    last_command_at: datetime | None = None
    reason: str | None = None
    fallback_accepted: bool = True
    held: Mapping[str, tuple[HeldLimit, ...]] = field(default_factory=dict)

    @property
    def is_controllable(self) -> bool:
        return (
            self.online
            and self.fallback_accepted
            and self.last_outcome in (None, CommandOutcome.ACCEPTED)
        )

    def held_at(self, evse_id: str, at: datetime) -> list[float]:
        """The limits ``evse_id`` may be under at ``at`` (amps per line)."""
        if not self.held:
            return [] if self.last_accepted_limit_a is None else [self.last_accepted_limit_a]
        return [h.limit_a for h in self.held.get(evse_id, ()) if h.holds_at(at)]
