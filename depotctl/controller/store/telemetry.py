"""Telemetry: the latest reading per node, and every node's history folded into
minutes (samples, mean and peak power, peak current per phase)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from depotctl.controller.store.database import Store
from depotctl.controller.store.encoding import iso, parse, to_json
from depotctl.domain.phases import Phase
from depotctl.domain.telemetry import Reading


@dataclass(frozen=True)
class TelemetryMinute:
    """One node's readings within one minute (UTC): how many, mean and peak power, and
    the peak current per phase."""

    node: str
    minute: datetime
    samples: int
    power_w_mean: float | None
    power_w_max: float | None
    current_a_max: dict[Phase, float] | None


_PHASE_COLUMNS = {Phase.L1: "l1_a_max", Phase.L2: "l2_a_max", Phase.L3: "l3_a_max"}

# A reading folded into its minute: a running mean of power over the readings that
# had one, and peaks (a NULL never wins over a value).
_FOLD_READING = """
INSERT INTO telemetry (node, minute, samples, power_samples, power_w_mean, power_w_max,
                       l1_a_max, l2_a_max, l3_a_max)
VALUES (?, ?, 1, ?, ?, ?, ?, ?, ?)
ON CONFLICT (node, minute) DO UPDATE SET
    samples = telemetry.samples + 1,
    power_samples = telemetry.power_samples + excluded.power_samples,
    power_w_mean = CASE
        WHEN excluded.power_w_mean IS NULL THEN telemetry.power_w_mean
        WHEN telemetry.power_w_mean IS NULL THEN excluded.power_w_mean
        ELSE (telemetry.power_w_mean * telemetry.power_samples + excluded.power_w_mean)
             / (telemetry.power_samples + 1) END,
    power_w_max = max(coalesce(telemetry.power_w_max, excluded.power_w_max),
                      coalesce(excluded.power_w_max, telemetry.power_w_max)),
    l1_a_max = max(coalesce(telemetry.l1_a_max, excluded.l1_a_max),
                   coalesce(excluded.l1_a_max, telemetry.l1_a_max)),
    l2_a_max = max(coalesce(telemetry.l2_a_max, excluded.l2_a_max),
                   coalesce(excluded.l2_a_max, telemetry.l2_a_max)),
    l3_a_max = max(coalesce(telemetry.l3_a_max, excluded.l3_a_max),
                   coalesce(excluded.l3_a_max, telemetry.l3_a_max))
"""


class Telemetry:
    """The readings and telemetry history of one store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def put(self, readings: Iterable[Reading]) -> None:
        """Keep the latest reading per node: a reading older than the stored one (late,
        out of order) does not replace it; and fold every reading into its node's
        minute of history (:meth:`history`). One transaction. Raises ValueError,
        storing none, for a value that is not finite or beyond what any depot measures
        (:data:`~depotctl.domain.quantity.BOUNDS`: the minute's mean stays finite)."""
        readings = list(readings)
        for reading in readings:
            _measured(reading)
        with self._store.transaction():
            self._store.write_many(_FOLD_READING, (_history_row(r) for r in readings))
            self._store.write_many(
                "INSERT INTO readings (node, at, power_w, current_a) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (node) DO UPDATE SET at = excluded.at, power_w = excluded.power_w,"
                " current_a = excluded.current_a WHERE excluded.at >= readings.at",
                (
                    (
                        r.node,
                        iso(r.at),
                        r.power_w,
                        to_json({str(p): a for p, a in r.current_a.items()})
                        if r.current_a is not None
                        else None,
                    )
                    for r in readings
                ),
            )

    def latest(self) -> dict[str, Reading]:
        """The latest reading per node id."""
        return {
            r["node"]: Reading(
                node=r["node"],
                at=parse(r["at"]),
                power_w=r["power_w"],
                current_a=(
                    {Phase(p): float(a) for p, a in json.loads(r["current_a"]).items()}
                    if r["current_a"] is not None
                    else None
                ),
            )
            for r in self._store.rows("SELECT * FROM readings ORDER BY node")
        }

    def history(
        self,
        node: str,
        *,
        since: datetime | None = None,
        until: datetime | None = None,
        limit: int = 10_000,
    ) -> list[TelemetryMinute]:
        """A node's history, oldest first: one row per minute it reported in."""
        rows = self._store.rows(
            "SELECT * FROM telemetry WHERE node = ? AND minute >= ? AND minute < ?"
            " ORDER BY minute LIMIT ?",
            (
                node,
                iso(since) if since else "",
                iso(until) if until else "~",
                limit,
            ),
        )
        return [
            TelemetryMinute(
                node=r["node"],
                minute=parse(r["minute"]),
                samples=r["samples"],
                power_w_mean=r["power_w_mean"],
                power_w_max=r["power_w_max"],
                current_a_max={
                    phase: r[column]
                    for phase, column in _PHASE_COLUMNS.items()
                    if r[column] is not None
                }
                or None,
            )
            for r in rows
        ]

    def power_by_minute(
        self, nodes: Iterable[str], *, since: datetime, until: datetime
    ) -> dict[str, dict[datetime, float]]:
        """Each node's mean power (W) by minute in ``[since, until)``, the minutes with
        a power reading only (what the reports integrate: docs/reports.md)."""
        wanted = sorted(set(nodes))
        found: dict[str, dict[datetime, float]] = {node: {} for node in wanted}
        for node in wanted:
            rows = self._store.rows(
                "SELECT minute, power_w_mean FROM telemetry WHERE node = ? AND minute >= ?"
                " AND minute < ? AND power_w_mean IS NOT NULL ORDER BY minute",
                (node, iso(since), iso(until)),
            )
            found[node] = {parse(r["minute"]): r["power_w_mean"] for r in rows}
        return found

    def prune(self, *, before: datetime) -> int:
        """Drop history older than ``before``; the number of minutes dropped."""
        with self._store.transaction():
            cursor = self._store.write("DELETE FROM telemetry WHERE minute < ?", (iso(before),))
        return cursor.rowcount


def _history_row(reading: Reading) -> tuple[Any, ...]:
    minute = reading.at.astimezone(UTC).replace(second=0, microsecond=0)
    current = reading.current_a or {}
    return (
        reading.node,
        iso(minute),
        0 if reading.power_w is None else 1,
        reading.power_w,
        reading.power_w,
        *(current.get(phase) for phase in _PHASE_COLUMNS),
    )


def _measured(reading: Reading) -> None:
    """ValueError for a reading's power or current that no meter of a depot reads."""
    beyond = reading.beyond_bounds()
    if beyond is not None:
        raise ValueError(f"reading of {reading.node} at {iso(reading.at)}: {beyond}")
