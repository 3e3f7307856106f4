"""Measurements against the forecast: the forecast in force (a later one replacing the
earlier from its first block on), readings into periods (a continuous series and
intermittent reports), and each period's energy against capacity × duration."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from depotctl.protocols.oscp import (
    EnergyMeasurement,
    ForecastedBlock,
    UpdateGroupCapacityForecast,
)
from depotctl.sim.derms import ledger

T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)


def _at(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def _forecast(
    start_min: float, capacities_kw: list[float], kind: str = "CONSUMPTION"
) -> UpdateGroupCapacityForecast:
    blocks = [
        ForecastedBlock(
            capacity=kw,
            phase="ALL",
            unit="KW",
            start_time=_at(start_min + 15 * i),
            end_time=_at(start_min + 15 * (i + 1)),
        )
        for i, kw in enumerate(capacities_kw)
    ]
    return UpdateGroupCapacityForecast(group_id="G", type=kind, forecasted_blocks=blocks)


def _reading(
    kwh: float, at_min: float, began_min: float | None = None, **fields: str
) -> EnergyMeasurement:
    return EnergyMeasurement(
        value=kwh,
        phase=fields.get("phase", "ALL"),
        unit="KWH",
        direction=fields.get("direction", "IMPORT"),
        measure_time=_at(at_min),
        initial_measure_time=_at(began_min) if began_min is not None else None,
    )


def test_a_later_forecast_replaces_the_earlier_from_its_first_block_on() -> None:
    first = _forecast(0, [600, 600, 600, 600])
    later = _forecast(20, [300, 300])  # from 07:20, cutting the second block short
    generation = _forecast(0, [1], kind="GENERATION")  # another type: no part of it
    blocks = ledger.forecast_in_force([first, later, generation])
    assert [(b.start_time, b.end_time, b.capacity) for b in blocks] == [
        (_at(0), _at(15), 600),
        (_at(15), _at(20), 600),
        (_at(20), _at(35), 300),
        (_at(35), _at(50), 300),
    ]


def test_a_current_is_per_phase_on_the_phases_it_names() -> None:
    three = ForecastedBlock(capacity=100, phase="ALL", unit="A", start_time=T0, end_time=_at(15))
    one = three.model_copy(update={"phase": "TWO"})
    assert ledger.block_power_w(three, 230, 3) == pytest.approx(69_000)
    assert ledger.block_power_w(one, 230, 3) == pytest.approx(23_000)


def test_only_a_period_the_forecast_covers_whole_is_checked() -> None:
    blocks = ledger.forecast_in_force([_forecast(0, [600, 400])])
    assert ledger.allowed_wh(blocks, _at(0), _at(30), 230, 3) == pytest.approx(250_000)
    assert ledger.allowed_wh(blocks, _at(10), _at(20), 230, 3) == pytest.approx(50_000 + 33_333.33)
    assert ledger.allowed_wh(blocks, _at(20), _at(40), 230, 3) is None


def test_a_continuous_series_steps_and_intermittent_reports_are_periods() -> None:
    continuous = [_reading(v, m, began_min=-60) for v, m in [(500, 0), (650, 15), (760, 30)]]
    intermittent = [_reading(90, 45, began_min=30), _reading(80, 60, began_min=45)]
    without_start = [_reading(10, 0), _reading(25, 15)]
    exported = [_reading(99, 0, began_min=-15, direction="EXPORT")]
    per_phase = [_reading(99, 0, began_min=-15, phase="ONE")]
    periods = ledger.measured_periods(
        continuous + intermittent + without_start + exported + per_phase
    )
    assert periods == sorted(
        [
            (_at(-60), _at(0), 500_000.0),
            (_at(0), _at(15), 150_000.0),
            (_at(15), _at(30), 110_000.0),
            (_at(30), _at(45), 90_000.0),
            (_at(45), _at(60), 80_000.0),
            (_at(0), _at(15), 15_000.0),
        ]
    )


def test_a_period_over_capacity_times_duration_is_exceeded() -> None:
    forecast = _forecast(0, [600, 400, 400, 400])  # 150, 100, 100, 100 kWh a block
    readings = [_reading(150, 15, 0), _reading(100.05, 30, 15), _reading(130, 45, 30)]
    periods = ledger.checked_periods([forecast], readings, voltage_v=230, phases=3)
    assert [(p.start, p.exceeded) for p in periods] == [
        (_at(0), False),  # exactly the capacity
        (_at(15), False),  # within the meters' rounding
        (_at(30), True),
    ]
    assert periods[2].allowed_wh == pytest.approx(100_000)
