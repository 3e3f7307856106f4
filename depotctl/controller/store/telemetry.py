"""Telemetry: the latest reading per node, and every node's history folded into
minutes (samples, mean and peak power, peak current per phase) — and, past the raw
retention, into quarter hours (:mod:`.compaction`). Kept compactly: see
:mod:`.telemetry_keys`; every read goes by node (the primary key)."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from depotctl.controller.store.database import Store
from depotctl.controller.store.encoding import iso, parse, to_json
from depotctl.controller.store.telemetry_keys import (
    EARLIEST,
    LATEST,
    NODE_ID,
    QUARTER_MINUTES,
    add_nodes,
    base,
    bound,
    epoch_minute,
    milli,
    minute_at,
)
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


@dataclass(frozen=True)
class TelemetryTotal:
    """Several nodes' telemetry of one minute or quarter hour (UTC), added up: their
    mean power summed over the nodes with a power reading, and per phase their peak
    currents summed over the nodes with one (None where none had one)."""

    start: datetime
    power_w: float | None
    current_a: dict[Phase, float] | None


_PHASE_COLUMNS = {Phase.L1: "l1_ma_max", Phase.L2: "l2_ma_max", Phase.L3: "l3_ma_max"}


def newer_peak(table: str, column: str) -> str:
    """An upsert's peak of ``column``: the greater of the stored and the new (a NULL
    never wins over a value)."""
    return (
        f"{column} = max(coalesce({table}.{column}, excluded.{column}),"
        f" coalesce(excluded.{column}, {table}.{column}))"
    )


_PEAKS = ",\n    ".join(
    newer_peak("telemetry", c) for c in ("power_mw_max", "l1_ma_max", "l2_ma_max", "l3_ma_max")
)

# A reading folded into its minute: a running mean of power over the readings that
# had one (rounded to the milliwatt), and peaks.
_FOLD_READING = f"""
INSERT INTO telemetry (node, minute, samples, power_samples, power_mw_mean, power_mw_max,
                       l1_ma_max, l2_ma_max, l3_ma_max)
VALUES ({NODE_ID}, ?, 1, ?, ?, ?, ?, ?, ?)
ON CONFLICT (node, minute) DO UPDATE SET
    samples = telemetry.samples + 1,
    power_samples = telemetry.power_samples + excluded.power_samples,
    power_mw_mean = CASE
        WHEN excluded.power_mw_mean IS NULL THEN telemetry.power_mw_mean
        WHEN telemetry.power_mw_mean IS NULL THEN excluded.power_mw_mean
        ELSE CAST(round((telemetry.power_mw_mean * 1.0 * telemetry.power_samples
                         + excluded.power_mw_mean) / (telemetry.power_samples + 1)) AS INTEGER)
        END,
    {_PEAKS}
"""

# Several nodes' rows added up by minute or quarter hour in ``[?, ?)``: the nodes by
# name as one JSON array (any number), each read by its primary-key range.
_TOTALS = """
SELECT {key} AS start, sum({power}) AS power_mw, sum(l1_ma_max) AS l1_ma_max,
       sum(l2_ma_max) AS l2_ma_max, sum(l3_ma_max) AS l3_ma_max
FROM {table}
WHERE node IN (SELECT id FROM telemetry_nodes WHERE name IN (SELECT value FROM json_each(?)))
  AND {key} >= ? AND {key} < ?
GROUP BY {key} ORDER BY {key}
"""
#: a quarter hour's mean power (mW) over its minutes with one
_QUARTER_MEAN = "power_mw_sum * 1.0 / nullif(power_minutes, 0)"

_READ = f"WHERE node = {NODE_ID} AND {{key}} >= ? AND {{key}} < ? ORDER BY {{key}}"


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
            add_nodes(self._store, (r.node for r in readings))
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
        """A node's history, oldest first: one row per minute it reported in, those
        starting in ``[since, until)``."""
        rows = self._store.rows(
            "SELECT * FROM telemetry " + _READ.format(key="minute") + " LIMIT ?",
            (node, bound(since, EARLIEST), bound(until, LATEST), limit),
        )
        return [
            TelemetryMinute(
                node,
                minute_at(r["minute"]),
                r["samples"],
                base(r["power_mw_mean"]),
                base(r["power_mw_max"]),
                _currents(r),
            )
            for r in rows
        ]

    def quarters(
        self, node: str, *, since: datetime | None = None, until: datetime | None = None
    ) -> list[TelemetryQuarter]:
        """A node's quarter hours (minutes past the raw retention, folded) starting in
        ``[since, until)``, oldest first."""
        rows = self._store.rows(
            "SELECT * FROM telemetry_quarters " + _READ.format(key="start"),
            (node, bound(since, EARLIEST), bound(until, LATEST)),
        )
        return [
            TelemetryQuarter(
                node,
                minute_at(r["start"]),
                r["minutes"],
                r["samples"],
                r["power_minutes"],
                _mean(r["power_mw_sum"], r["power_minutes"]),
                base(r["power_mw_max"]),
                _currents(r),
            )
            for r in rows
        ]

    def minute_totals(
        self, nodes: Iterable[str], *, since: datetime, until: datetime
    ) -> list[TelemetryTotal]:
        """The minutes starting in ``[since, until)`` that any of ``nodes`` reported
        in, each with their readings added up (:class:`TelemetryTotal`), oldest first:
        one query, summed in SQL."""
        return self._totals("telemetry", "minute", "power_mw_mean", nodes, since, until)

    def quarter_totals(
        self, nodes: Iterable[str], *, since: datetime, until: datetime
    ) -> list[TelemetryTotal]:
        """The quarter hours (:meth:`quarters`) starting in ``[since, until)`` that any
        of ``nodes`` has, each with their mean power and peak currents added up,
        oldest first."""
        return self._totals("telemetry_quarters", "start", _QUARTER_MEAN, nodes, since, until)

    def _totals(
        self,
        table: str,
        key: str,
        power: str,
        nodes: Iterable[str],
        since: datetime,
        until: datetime,
    ) -> list[TelemetryTotal]:
        rows = self._store.rows(
            _TOTALS.format(table=table, key=key, power=power),
            (json.dumps(sorted(set(nodes))), epoch_minute(since), epoch_minute(until)),
        )
        return [
            TelemetryTotal(minute_at(r["start"]), base(r["power_mw"]), _currents(r)) for r in rows
        ]

    def power_by_minute(
        self, nodes: Iterable[str], *, since: datetime, until: datetime
    ) -> dict[str, dict[datetime, float]]:
        """Each node's mean power (W) by minute in ``[since, until)``, the minutes with
        a power reading only (what the reports integrate: docs/reports.md). Where the
        minutes were folded into quarter hours (past the raw retention), each minute of
        a quarter with a power reading holds an even share of its energy: the quarter's
        energy is exact, where in it the power was drawn is not kept."""
        first, end = epoch_minute(since), epoch_minute(until)
        found: dict[str, dict[datetime, float]] = {}
        for node in sorted(set(nodes)):
            power: dict[datetime, float] = {}
            quarters = self._store.rows(
                "SELECT start, power_mw_sum FROM telemetry_quarters " + _READ.format(key="start"),
                (node, first - QUARTER_MINUTES + 1, end),
            )
            for q in quarters:
                if q["power_mw_sum"] is not None:
                    share = q["power_mw_sum"] / QUARTER_MINUTES / 1000
                    for minute in range(
                        max(q["start"], first), min(q["start"] + QUARTER_MINUTES, end)
                    ):
                        power[minute_at(minute)] = share
            minutes = self._store.rows(
                "SELECT minute, power_mw_mean FROM telemetry " + _READ.format(key="minute"),
                (node, first, end),
            )
            power.update(
                (minute_at(r["minute"]), r["power_mw_mean"] / 1000)
                for r in minutes
                if r["power_mw_mean"] is not None
            )
            found[node] = power
        return found

    def prune(self, *, before: datetime) -> int:
        """Drop history older than ``before``; the number of minutes dropped."""
        with self._store.transaction():
            cursor = self._store.write(
                "DELETE FROM telemetry WHERE minute < ?", (epoch_minute(before),)
            )
        return cursor.rowcount


def _mean(mw_sum: int | None, minutes: int) -> float | None:
    return None if mw_sum is None or not minutes else mw_sum / minutes / 1000


def _currents(row: Any) -> dict[Phase, float] | None:
    return {p: row[c] / 1000 for p, c in _PHASE_COLUMNS.items() if row[c] is not None} or None


def _history_row(reading: Reading) -> tuple[Any, ...]:
    current = reading.current_a or {}
    return (
        reading.node,
        epoch_minute(reading.at.astimezone(UTC).replace(second=0, microsecond=0)),
        0 if reading.power_w is None else 1,
        milli(reading.power_w),
        milli(reading.power_w),
        *(milli(current.get(phase)) for phase in _PHASE_COLUMNS),
    )


def _measured(reading: Reading) -> None:
    """ValueError for a reading's power or current that no meter of a depot reads."""
    beyond = reading.beyond_bounds()
    if beyond is not None:
        raise ValueError(f"reading of {reading.node} at {iso(reading.at)}: {beyond}")
