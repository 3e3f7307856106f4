"""Store migration 13 on a real file: a store written by the previous schema (ISO text
minutes, node names, floats) converts in place and reads back the same values."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from depotctl.controller import migrations
from depotctl.controller.store import Store, TelemetryMinute, TelemetryQuarter, UnitOfWork
from depotctl.controller.store.encoding import iso
from depotctl.domain.phases import Phase
from depotctl.domain.telemetry import Reading

T0 = datetime(2026, 3, 2, 14, 7, tzinfo=UTC)
BEFORE_1970 = datetime(1969, 12, 31, 23, 59, tzinfo=UTC)
COMPACT = 13

#: rows of the previous schema: node, minute, samples, power_samples, mean, max, L1-L3
OLD_MINUTES = [
    ("grid", T0, 3, 2, 120_000.125, 140_000.5, 250.001, 210.5, None),
    ("grid", T0 + timedelta(minutes=1), 1, 0, None, None, 12.25, None, None),
    ("chg-7", T0, 1, 1, -7_360.5, -7_360.5, None, None, 32.0),
    ("chg-7", BEFORE_1970, 1, 1, 1.0, 1.0, None, None, None),
]
#: node, start, minutes, samples, power_samples, power_minutes, mean, max, L1-L3
OLD_QUARTERS = [
    (
        "grid",
        T0 - timedelta(days=40, minutes=7),
        15,
        30,
        28,
        14,
        5_000.25,
        9_000.0,
        40.5,
        41.0,
        39.0,
    ),
    ("pv", T0 - timedelta(days=40, minutes=7), 2, 2, 0, 0, None, None, None, None, None),
]


def previous_schema(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """A store at the schema before migration 13, holding the old rows."""
    with monkeypatch.context() as patched:
        before = tuple(m for m in migrations.MIGRATIONS if m.version < COMPACT)
        patched.setattr(migrations, "MIGRATIONS", before)
        patched.setattr(migrations, "LATEST", before[-1].version)
        with Store.open(path) as store, store.transaction():
            assert store.schema_version == COMPACT - 1
            store.write_many(
                "INSERT INTO telemetry VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ((row[0], iso(row[1]), *row[2:]) for row in OLD_MINUTES),
            )
            store.write_many(
                "INSERT INTO telemetry_quarters VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                ((row[0], iso(row[1]), *row[2:]) for row in OLD_QUARTERS),
            )


def currents(*amps: float | None) -> dict[Phase, float] | None:
    return {p: a for p, a in zip(Phase, amps, strict=False) if a is not None} or None


def test_the_previous_schemas_rows_read_back_equal_after_the_migration(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    path = tmp_path / "depotctl.sqlite"
    previous_schema(monkeypatch, path)
    with Store.open(path) as store:
        assert store.schema_version == migrations.LATEST >= COMPACT
        telemetry = UnitOfWork(store).telemetry
        for node in ("grid", "chg-7"):
            assert telemetry.history(node) == [
                TelemetryMinute(node, minute, samples, mean, peak, currents(*amps))
                for name, minute, samples, _, mean, peak, *amps in sorted(
                    OLD_MINUTES, key=lambda row: row[1]
                )
                if name == node
            ]
        for node in ("grid", "pv"):
            assert telemetry.quarters(node) == [
                TelemetryQuarter(node, start, n, samples, power_n, mean, peak, currents(*amps))
                for name, start, n, samples, _, power_n, mean, peak, *amps in OLD_QUARTERS
                if name == node
            ]
        # a converted minute keeps folding: a new reading joins its mean and peaks
        telemetry.put([Reading("grid", T0 + timedelta(seconds=30), power_w=160_000.0)])
        folded = telemetry.history("grid", until=T0 + timedelta(minutes=1))[0]
        assert (folded.samples, folded.power_w_max) == (4, 160_000.0)
        assert folded.power_w_mean == pytest.approx((2 * 120_000.125 + 160_000.0) / 3, abs=1e-3)
        columns = {r["name"] for r in store.rows("PRAGMA table_info(telemetry)")}
        assert {"node", "minute", "power_mw_mean"} <= columns and "power_w_mean" not in columns


def test_a_store_at_the_latest_schema_keeps_no_text_key_in_its_telemetry(
    tmp_path: Path,
) -> None:
    with Store.open(tmp_path / "depotctl.sqlite") as store:
        indexes = {
            r["name"]: r["sql"]
            for r in store.rows("SELECT name, sql FROM sqlite_master WHERE type = 'index'")
            if r["name"].startswith("telemetry")
        }
        assert indexes == {
            "telemetry_by_minute": "CREATE INDEX telemetry_by_minute ON telemetry (minute)",
            "telemetry_quarters_by_start": (
                "CREATE INDEX telemetry_quarters_by_start ON telemetry_quarters (start)"
            ),
        }
        types = {r["name"]: r["type"] for r in store.rows("PRAGMA table_info(telemetry)")}
        assert types["node"] == types["minute"] == "INTEGER"
