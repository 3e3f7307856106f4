"""What the controller knows of each charger: online, and its last command's fate."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum


class CommandOutcome(StrEnum):
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    TIMEOUT = "timeout"
    OFFLINE = "offline"


@dataclass(frozen=True, slots=True)
class ChargerState:
    """``last_accepted_limit_a`` is the last limit the charger acknowledged (amps per
    line), if any. A charger that is offline, or whose last command was not accepted,
    is uncontrollable: an unacknowledged command is never assumed applied."""

    charger_id: str
    online: bool = True
    last_outcome: CommandOutcome | None = None
    last_accepted_limit_a: float | None = None
    last_command_at: datetime | None = None
    reason: str | None = None

    @property
    def is_controllable(self) -> bool:
        return self.online and self.last_outcome in (None, CommandOutcome.ACCEPTED)
