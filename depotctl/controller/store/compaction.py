"""The store's compaction (docs/retention.md): telemetry minutes older than a cut
folded into quarter hours, and journal entries older than a cut forgotten — each
bounded per call, so that one call holds the store's lock for a short while only."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from depotctl.controller.store.database import Store
from depotctl.controller.store.encoding import iso, parse
from depotctl.domain.phases import Phase

#: A telemetry minute's quarter hour, as stored text ("…T12:07:00.000000Z" → "…T12:00:…").
_QUARTER_OF = (
    "substr(minute, 1, 14) || printf('%02d', CAST(substr(minute, 15, 2) AS INTEGER) / 15 * 15)"
    " || ':00.000000Z'"
)

#: a quarter's peaks merged with those folded into it before (a NULL never wins)
_PEAKS = ",\n    ".join(
    f"{c} = max(coalesce(telemetry_quarters.{c}, excluded.{c}),"
    f" coalesce(excluded.{c}, telemetry_quarters.{c}))"
    for c in ("power_w_max", "l1_a_max", "l2_a_max", "l3_a_max")
)

# The minutes before a cut, each node's quarter in one row: the mean is over the
# minutes with a power reading (so mean × power_minutes is the energy the minutes
# held), peaks are the minutes' peaks; merged into a quarter folded before (a late
# reading's minute), weighted by its minutes.
_FOLD_MINUTES = f"""
INSERT INTO telemetry_quarters (node, start, minutes, samples, power_samples, power_minutes,
                                power_w_mean, power_w_max, l1_a_max, l2_a_max, l3_a_max)
SELECT node, {_QUARTER_OF}, count(*), sum(samples), sum(power_samples), count(power_w_mean),
       avg(power_w_mean), max(power_w_max), max(l1_a_max), max(l2_a_max), max(l3_a_max)
FROM telemetry WHERE minute < ? GROUP BY 1, 2
ON CONFLICT (node, start) DO UPDATE SET
    minutes = telemetry_quarters.minutes + excluded.minutes,
    samples = telemetry_quarters.samples + excluded.samples,
    power_samples = telemetry_quarters.power_samples + excluded.power_samples,
    power_minutes = telemetry_quarters.power_minutes + excluded.power_minutes,
    power_w_mean = CASE
        WHEN excluded.power_w_mean IS NULL THEN telemetry_quarters.power_w_mean
        WHEN telemetry_quarters.power_w_mean IS NULL THEN excluded.power_w_mean
        ELSE (telemetry_quarters.power_w_mean * telemetry_quarters.power_minutes
              + excluded.power_w_mean * excluded.power_minutes)
             / (telemetry_quarters.power_minutes + excluded.power_minutes) END,
    {_PEAKS}
"""

#: What telemetry minutes fold into: the quarter hour, the tariffs' and envelopes' block.
QUARTER = timedelta(minutes=15)

_MOVE_HORIZON = (
    "INSERT INTO journal_horizon (id, cut) VALUES (1, ?)"
    " ON CONFLICT (id) DO UPDATE SET cut = max(cut, excluded.cut)"
)

_PHASE_COLUMNS = {Phase.L1: "l1_a_max", Phase.L2: "l2_a_max", Phase.L3: "l3_a_max"}


@dataclass(frozen=True)
class TelemetryQuarter:
    """One node's telemetry minutes of one quarter hour (UTC), folded: how many minutes
    and readings, the mean power over the minutes with one (``power_minutes``), the
    peak power and the peak current per phase."""

    node: str
    start: datetime
    minutes: int
    samples: int
    power_minutes: int
    power_w_mean: float | None
    power_w_max: float | None
    current_a_max: dict[Phase, float] | None


class Compactor:
    """The compaction of one store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def downsample_telemetry(self, *, before: datetime, max_minutes: int) -> int:
        """Fold the telemetry minutes before ``before`` (a quarter-hour boundary) into
        quarter hours, oldest first and about ``max_minutes`` rows at most (whole
        quarters: at least one); the number of minutes folded."""
        with self._store.transaction():
            cut = self._cut(iso(before), max_minutes)
            if cut is None:
                return 0
            self._store.write(_FOLD_MINUTES, (cut,))
            return self._store.write("DELETE FROM telemetry WHERE minute < ?", (cut,)).rowcount

    def _cut(self, before: str, max_minutes: int) -> str | None:
        """The end of this call's minutes: ``before``, or sooner so that about
        ``max_minutes`` rows fold — a quarter boundary past the oldest minute."""
        oldest = self._store.rows("SELECT min(minute) FROM telemetry WHERE minute < ?", (before,))
        if oldest[0][0] is None:
            return None
        nth = self._store.rows(
            "SELECT minute FROM telemetry WHERE minute < ? ORDER BY minute LIMIT 1 OFFSET ?",
            (before, max(max_minutes, 1)),
        )
        if not nth:
            return before
        at_least = iso(quarter_of(parse(oldest[0][0])) + QUARTER)
        return min(before, max(iso(quarter_of(parse(nth[0][0]))), at_least))

    def quarters(
        self, node: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[TelemetryQuarter]:
        """A node's quarter hours in ``[since, until)``, oldest first."""
        rows = self._store.rows(
            "SELECT * FROM telemetry_quarters WHERE node = ? AND start >= ? AND start < ?"
            " ORDER BY start",
            (node, iso(since) if since else "", iso(until) if until else "~"),
        )
        return [
            TelemetryQuarter(
                r["node"],
                parse(r["start"]),
                r["minutes"],
                r["samples"],
                r["power_minutes"],
                r["power_w_mean"],
                r["power_w_max"],
                {p: r[c] for p, c in _PHASE_COLUMNS.items() if r[c] is not None} or None,
            )
            for r in rows
        ]

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
