"""What the controller drew against what the provider forecast: the energy of each
measured period must stay within the forecast's capacity × duration over it.

The forecast in force is the ``CONSUMPTION`` forecasts acknowledged, in the order
sent, each replacing the one before from its first block on (OSCP's rule). The
measurements are accumulating meter readings (``update_group_measurements``) of
imported (or net) total energy on all phases: readings sharing a start
(``initial_measure_time``) make a series whose steps are the periods; a reading with
its own start is one period from it. A period the forecast does not cover whole is
not checked.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime

from depotctl.protocols.oscp import messages as oscp
from depotctl.protocols.oscp.messages import (
    EnergyMeasurement,
    ForecastedBlock,
    ForecastedBlockUnit,
    UpdateGroupCapacityForecast,
)

#: Measured energy may exceed the allowed by this share (meters round).
TOLERANCE = 0.001
_ALL_PHASES = (oscp.PhaseIndicator.ALL, oscp.PhaseIndicator.UNKNOWN)


@dataclass(frozen=True, slots=True)
class Period:
    """A measured period: the energy drawn over ``[start, end)`` and what the forecast
    allowed (None: not covered by the forecast whole), both in Wh."""

    start: datetime
    end: datetime
    energy_wh: float
    allowed_wh: float | None

    @property
    def exceeded(self) -> bool:
        return (
            self.allowed_wh is not None
            and self.energy_wh > self.allowed_wh * (1 + TOLERANCE) + 1e-6
        )


def forecast_in_force(forecasts: Iterable[UpdateGroupCapacityForecast]) -> list[ForecastedBlock]:
    """The ``CONSUMPTION`` blocks in force after ``forecasts`` (in the order sent),
    a later forecast replacing the earlier from its first block on."""
    blocks: list[ForecastedBlock] = []
    for forecast in forecasts:
        if forecast.type is not oscp.CapacityForecastType.CONSUMPTION:
            continue
        first = min(b.start_time for b in forecast.forecasted_blocks)
        kept = [b for b in blocks if b.start_time < first]
        blocks = [
            b if b.end_time <= first else b.model_copy(update={"end_time": first}) for b in kept
        ]
        blocks += forecast.forecasted_blocks
    return sorted(blocks, key=lambda b: b.start_time)


def block_power_w(block: ForecastedBlock, voltage_v: float, phases: int) -> float:
    """A block's capacity as power: a current is per phase, on every phase of the site
    (``ALL``) or on the one it names."""
    if block.unit is ForecastedBlockUnit.KW:
        return block.capacity * 1e3
    if block.unit is ForecastedBlockUnit.W:
        return block.capacity
    if block.unit is ForecastedBlockUnit.A:
        on = phases if block.phase in _ALL_PHASES else 1
        return block.capacity * voltage_v * on
    raise ValueError(f"a block in {block.unit} is energy, not a capacity")


def allowed_wh(
    blocks: Sequence[ForecastedBlock], start: datetime, end: datetime, voltage_v: float, phases: int
) -> float | None:
    """The energy the blocks allow over ``[start, end)``; None unless they cover it."""
    covered = 0.0
    energy = 0.0
    for block in blocks:
        low, high = max(start, block.start_time), min(end, block.end_time)
        seconds = (high - low).total_seconds()
        if seconds <= 0:
            continue
        covered += seconds
        energy += block_power_w(block, voltage_v, phases) * seconds / 3600
    if covered + 1e-6 < (end - start).total_seconds():
        return None
    return energy


def measured_periods(
    measurements: Iterable[EnergyMeasurement],
) -> list[tuple[datetime, datetime, float]]:
    """Each period's start, end and energy (Wh) from the readings (see the module)."""
    series: dict[datetime | None, dict[datetime, float]] = {}
    for reading in measurements:
        if reading.direction is oscp.EnergyFlowDirection.EXPORT or reading.phase not in _ALL_PHASES:
            continue
        if reading.energy_type not in (None, oscp.EnergyType.TOTAL):
            continue
        wh = reading.value * (1e3 if reading.unit is oscp.EnergyMeasurementUnit.KWH else 1.0)
        series.setdefault(reading.initial_measure_time, {})[reading.measure_time] = wh
    periods: list[tuple[datetime, datetime, float]] = []
    for began, readings in series.items():
        previous: tuple[datetime, float] | None = (began, 0.0) if began is not None else None
        for at in sorted(readings):
            if previous is not None and at > previous[0]:
                periods.append((previous[0], at, readings[at] - previous[1]))
            previous = (at, readings[at])
    return sorted(periods)


def checked_periods(
    forecasts: Iterable[UpdateGroupCapacityForecast],
    measurements: Iterable[EnergyMeasurement],
    *,
    voltage_v: float,
    phases: int,
) -> list[Period]:
    """Every measured period against the forecast in force."""
    blocks = forecast_in_force(forecasts)
    return [
        Period(start, end, energy, allowed_wh(blocks, start, end, voltage_v, phases))
        for start, end, energy in measured_periods(measurements)
    ]
