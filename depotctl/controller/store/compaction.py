"""The store's compaction (docs/retention.md): telemetry minutes older than a cut
folded into quarter hours, and quarter hours and journal entries older than a cut
forgotten — each
bounded per call, so that one call holds the store's lock for a short while only."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from depotctl.controller.store.database import Store
from depotctl.controller.store.encoding import iso, parse
from depotctl.controller.store.telemetry import Telemetry, TelemetryQuarter, newer_peak
from depotctl.controller.store.telemetry_keys import QUARTER_MINUTES, epoch_minute

__all__ = ["QUARTER", "Compactor", "TelemetryQuarter", "quarter_of"]

#: A telemetry minute's quarter hour (epoch minutes; the floor, before 1970 too).
_QUARTER_OF = "minute - ((minute % 15) + 15) % 15"

#: a quarter's peaks merged with those folded into it before
_PEAKS = ",\n    ".join(
    newer_peak("telemetry_quarters", c)
    for c in ("power_mw_max", "l1_ma_max", "l2_ma_max", "l3_ma_max")
)

# The minutes before a cut, each node's quarter in one row: the sum of the minutes'
# mean power over those with a power reading (sum / power_minutes is their mean; the
# sum × a minute the energy they held, exactly), peaks are the minutes' peaks; merged
# into a quarter folded before (a late reading's minute). Read by the minute index:
# without statistics SQLite would scan every minute kept to fold the oldest few.
_FOLD_MINUTES = f"""
INSERT INTO telemetry_quarters (node, start, minutes, samples, power_samples, power_minutes,
                                power_mw_sum, power_mw_max, l1_ma_max, l2_ma_max, l3_ma_max)
SELECT node, {_QUARTER_OF}, count(*), sum(samples), sum(power_samples), count(power_mw_mean),
       sum(power_mw_mean), max(power_mw_max), max(l1_ma_max), max(l2_ma_max), max(l3_ma_max)
FROM telemetry INDEXED BY telemetry_by_minute WHERE minute < ? GROUP BY 1, 2
ON CONFLICT (node, start) DO UPDATE SET
    minutes = telemetry_quarters.minutes + excluded.minutes,
    samples = telemetry_quarters.samples + excluded.samples,
    power_samples = telemetry_quarters.power_samples + excluded.power_samples,
    power_minutes = telemetry_quarters.power_minutes + excluded.power_minutes,
    power_mw_sum = CASE
        WHEN excluded.power_mw_sum IS NULL THEN telemetry_quarters.power_mw_sum
        WHEN telemetry_quarters.power_mw_sum IS NULL THEN excluded.power_mw_sum
        ELSE telemetry_quarters.power_mw_sum + excluded.power_mw_sum END,
    {_PEAKS}
"""

#: What telemetry minutes fold into: the quarter hour, the tariffs' and envelopes' block.
QUARTER = timedelta(minutes=15)

_MOVE_HORIZON = (
    "INSERT INTO journal_horizon (id, cut) VALUES (1, ?)"
    " ON CONFLICT (id) DO UPDATE SET cut = max(cut, excluded.cut)"
)


class Compactor:
    """The compaction of one store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def downsample_telemetry(self, *, before: datetime, max_minutes: int) -> int:
        """Fold the telemetry minutes before ``before`` (a quarter-hour boundary) into
        quarter hours, oldest first and about ``max_minutes`` rows at most (whole
        quarters: at least one); the number of minutes folded."""
        with self._store.transaction():
            cut = self._cut(epoch_minute(before), max_minutes)
            if cut is None:
                return 0
            self._store.write(_FOLD_MINUTES, (cut,))
            return self._store.write("DELETE FROM telemetry WHERE minute < ?", (cut,)).rowcount

    def _cut(self, before: int, max_minutes: int) -> int | None:
        """The end (epoch minutes) of this call's minutes: ``before``, or sooner so that
        about ``max_minutes`` rows fold — a quarter boundary past the oldest minute."""
        oldest = self._store.rows("SELECT min(minute) FROM telemetry WHERE minute < ?", (before,))
        if oldest[0][0] is None:
            return None
        nth = self._store.rows(
            "SELECT minute FROM telemetry WHERE minute < ? ORDER BY minute LIMIT 1 OFFSET ?",
            (before, max(max_minutes, 1)),
        )
        if not nth:
            return before
        at_least = _quarter(oldest[0][0]) + QUARTER_MINUTES
        return min(before, max(_quarter(nth[0][0]), at_least))

    def quarters(
        self, node: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[TelemetryQuarter]:
        """A node's quarter hours in ``[since, until)``, oldest first (the store's
        telemetry's :meth:`~.telemetry.Telemetry.quarters`)."""
        return Telemetry(self._store).quarters(node, since=since, until=until)

    def forget_quarters(self, *, before: datetime, max_quarters: int) -> int:
        """Forget the oldest telemetry quarter hours starting before ``before``,
        ``max_quarters`` at most; how many."""
        with self._store.transaction():
            return self._store.write(
                "DELETE FROM telemetry_quarters WHERE (node, start) IN (SELECT node, start"
                " FROM telemetry_quarters WHERE start < ? ORDER BY start LIMIT ?)",
                (epoch_minute(before), max_quarters),
            ).rowcount

    def forget_journal(self, *, before: datetime, max_entries: int) -> int:
        """Forget the oldest journal entries before ``before``, ``max_entries`` at most;
        how many. The journal's horizon moves to ``before`` first (never back): the
        store refuses to delete an entry at or after it."""
        with self._store.transaction():
            self._store.write(_MOVE_HORIZON, (iso(before),))
            return self._store.write(
                "DELETE FROM journal WHERE id IN (SELECT id FROM journal WHERE at < ?"
                " ORDER BY at, id LIMIT ?)",
                (iso(before), max_entries),
            ).rowcount

    def journal_horizon(self) -> datetime | None:
        """The instant before which the journal has been forgotten; None: never."""
        rows = self._store.rows("SELECT cut FROM journal_horizon WHERE id = 1")
        return parse(rows[0][0]) if rows else None


def quarter_of(at: datetime) -> datetime:
    """The start of the quarter hour (UTC) ``at`` is in."""
    at = at.astimezone(UTC)
    return at.replace(minute=at.minute // 15 * 15, second=0, microsecond=0)


def _quarter(minute: int) -> int:
    """The start (epoch minutes) of the quarter hour epoch minute ``minute`` is in."""
    return minute - minute % QUARTER_MINUTES
