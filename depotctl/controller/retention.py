"""How long the store keeps each kind of history (``depotctl serve --keep-*``;
docs/retention.md). Standard library only: ``serve`` parses it before any server
import."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta


@dataclass(frozen=True, slots=True)
class Retention:
    """How long each kind of history is kept, of the controller's clock."""

    #: the journal (every decision, command, envelope and session event), and the
    #: telemetry's quarter-hour aggregates
    decisions: timedelta = timedelta(days=400)
    #: telemetry per minute, before it is downsampled into quarter hours
    raw_telemetry: timedelta = timedelta(days=30)
    #: the control cycles' recorded inputs (time travel: ``explain --at`` recomputed)
    inputs: timedelta = timedelta(days=35)

    def __post_init__(self) -> None:
        for name in ("raw_telemetry", "inputs"):
            kept: timedelta = getattr(self, name)
            if kept <= timedelta(0) or kept > self.decisions:
                raise ValueError(
                    f"retention: {name.replace('_', ' ')} kept {kept.days} days must be more "
                    f"than 0 and at most the decisions' {self.decisions.days} days; keep the "
                    "decisions longer, or this shorter"
                )
