"""The compaction job (docs/retention.md): at most once an hour of the controller's
clock, off the event loop, one bounded pass over the store — telemetry minutes past
their retention folded into quarter hours, the journal and the quarter hours past the
decisions' retention forgotten, the cycle inputs past theirs dropped — journaled once with its counts when
it changed anything."""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from depotctl.controller.retention import Retention
from depotctl.controller.store import NewJournalEntry, UnitOfWork, journal_entry
from depotctl.controller.store.compaction import Compactor, quarter_of

log = logging.getLogger("depotctl.controller")

#: the journal's kind of a compaction pass
COMPACTED = "store.compacted"


@dataclass(frozen=True, slots=True)
class CompactionCounts:
    """What one pass did: telemetry minutes folded, journal entries forgotten, cycle
    input rows dropped, telemetry quarter hours forgotten."""

    minutes_folded: int = 0
    entries_forgotten: int = 0
    inputs_dropped: int = 0
    quarters_forgotten: int = 0

    def __bool__(self) -> bool:
        return any(
            (
                self.minutes_folded,
                self.entries_forgotten,
                self.inputs_dropped,
                self.quarters_forgotten,
            )
        )


@dataclass
class Compaction:
    """Passes over the store of ``units`` by ``retention``."""

    units: Callable[[], UnitOfWork]
    retention: Retention = field(default_factory=Retention)
    #: the least time (of the controller's clock) between two passes
    every: timedelta = timedelta(hours=1)
    #: a pass's bounds: telemetry minutes folded, journal entries and quarter hours
    #: forgotten
    max_minutes: int = 200_000
    max_entries: int = 50_000
    max_quarters: int = 50_000
    _last: datetime | None = None
    _busy: threading.Lock = field(default_factory=threading.Lock)

    def due(self, now: datetime) -> bool:
        """Whether a pass is due at ``now`` (and none is running)."""
        return not self._busy.locked() and (self._last is None or now - self._last >= self.every)

    def claim(self, now: datetime) -> bool:
        """Take the pass due at ``now`` (then :meth:`run` it, on any thread); False:
        none is due."""
        if not self.due(now):
            return False
        self._last = now
        return True

    def run(self, now: datetime) -> CompactionCounts:
        """One bounded pass as of ``now``; journaled once when it changed anything."""
        with self._busy:
            compactor = Compactor(self.units().store)
            counts = CompactionCounts(
                minutes_folded=compactor.downsample_telemetry(
                    before=quarter_of(now - self.retention.raw_telemetry),
                    max_minutes=self.max_minutes,
                ),
                entries_forgotten=compactor.forget_journal(
                    before=now - self.retention.decisions, max_entries=self.max_entries
                ),
                inputs_dropped=self.units().cycle_inputs.prune(now - self.retention.inputs),
                quarters_forgotten=compactor.forget_quarters(
                    before=now - self.retention.decisions, max_quarters=self.max_quarters
                ),
            )
            if counts:
                self.units().journal.record([_entry(now, self.retention, counts)])
            return counts

    def run_logged(self, now: datetime) -> None:
        """:meth:`run`, its failure logged (what a worker thread runs)."""
        try:
            counts = self.run(now)
        except Exception:
            log.exception("store compaction failed; the next pass tries again")
            self._last = None
            return
        if counts:
            log.info("store compacted", extra={"compaction": _figures(counts)})


def _figures(counts: CompactionCounts) -> dict[str, int]:
    return {
        "minutes_folded": counts.minutes_folded,
        "entries_forgotten": counts.entries_forgotten,
        "inputs_dropped": counts.inputs_dropped,
        "quarters_forgotten": counts.quarters_forgotten,
    }


def _entry(now: datetime, retention: Retention, counts: CompactionCounts) -> NewJournalEntry:
    return journal_entry(
        COMPACTED,
        f"store compacted: {counts.minutes_folded:,} telemetry minutes older than "
        f"{retention.raw_telemetry.days} days folded into quarter hours, "
        f"{counts.entries_forgotten:,} journal entries and {counts.quarters_forgotten:,} "
        f"telemetry quarter hours older than {retention.decisions.days} days forgotten, "
        f"{counts.inputs_dropped:,} cycle inputs older than "
        f"{retention.inputs.days} days dropped",
        at=now,
        data={
            **_figures(counts),
            "raw_telemetry_days": retention.raw_telemetry.days,
            "decisions_days": retention.decisions.days,
            "inputs_days": retention.inputs.days,
        },
    )
