"""A charger's requested faults on the controller's clock: the outages it sits out
(``offline=``) and the moments it reboots (``reboot``), from its misbehaviour and
the instant the simulator started. No I/O: the charger asks what is next."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from depotctl.sim.chargers.misbehaviour import Misbehaviour


class Fault(StrEnum):
    OUTAGE = "outage"  # the connection drops; the charger keeps charging
    REBOOT = "reboot"  # the charger restarts: see SimulatedCharger.reboot


@dataclass(frozen=True, slots=True)
class Timeline:
    """``misbehaviour``'s faults from ``started_at``."""

    misbehaviour: Misbehaviour
    started_at: datetime

    def outages(self) -> list[tuple[datetime, datetime]]:
        """Every requested outage as (start, end)."""
        return [
            (self._at(o.after_s), self._at(o.after_s + o.duration_s))
            for o in self.misbehaviour.outages
        ]

    def outage_end(self, now: datetime) -> datetime | None:
        """The end of the outage in force at ``now`` (chained outages: the last end)."""
        end = None
        for start, stop in sorted(self.outages()):
            if start <= (end or now) < stop:
                end = max(end or stop, stop)
        return end

    def next_after(self, after: datetime | None) -> tuple[datetime, frozenset[Fault]] | None:
        """The first fault strictly after ``after`` (None: from the start on, the start
        included) and what happens then."""
        after_s = -1.0 if after is None else (after - self.started_at).total_seconds()
        found: dict[float, set[Fault]] = {}
        for outage in self.misbehaviour.outages:
            if outage.after_s > after_s:
                found.setdefault(outage.after_s, set()).add(Fault.OUTAGE)
        reboot = self.misbehaviour.reboots.next_after(after_s)
        if reboot is not None:
            found.setdefault(reboot, set()).add(Fault.REBOOT)
        if not found:
            return None
        first = min(found)
        return self._at(first), frozenset(found[first])

    def _at(self, seconds: float) -> datetime:
        return self.started_at + timedelta(seconds=seconds)
