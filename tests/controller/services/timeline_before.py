"""A timeline's load as the service summed it before the store did (up to 58725c7:
each meter's minutes and quarter hours read apart and added up in Python), kept as the
oracle the store's sums are compared against (tests/controller/services/
test_timeline.py, benchmarks/timeline_query.py)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from depotctl.controller.ports import Depot
from depotctl.controller.services.timeline import MINUTE, Sample
from depotctl.controller.store.compaction import QUARTER
from depotctl.domain.phases import Phase


def load_samples_before(
    depot: Depot, meters: Sequence[str], since: datetime, until: datetime, unit: str, wpa: float
) -> list[Sample]:
    """The meters' summed load per minute (and per quarter hour where the minutes are
    folded): power in W, or the highest line current in A (from power over ``wpa``,
    watts per amp, where a meter reads no current)."""
    uow = depot.units()
    minutes: dict[datetime, dict[str, float]] = {}
    quarters: dict[datetime, dict[str, float]] = {}
    whole = (since - QUARTER).replace(second=0, microsecond=0)
    for meter in meters:
        for minute in uow.telemetry.history(meter, since=since, until=until, limit=10**7):
            _add(minutes, minute.minute, minute.power_w_mean, minute.current_a_max)
        for quarter in uow.telemetry.quarters(meter, since=whole, until=until):
            _add(quarters, quarter.start, quarter.power_w_mean, quarter.current_a_max)
    samples = []
    for folded, length in ((minutes, MINUTE), (quarters, QUARTER)):
        for start, by_line in sorted(folded.items()):
            value = _load_value(by_line, unit, wpa)
            if value is not None:
                samples.append(Sample(start, start + length, value))
    return samples


def _add(
    into: dict[datetime, dict[str, float]],
    at: datetime,
    power_w: float | None,
    current_a: Mapping[Phase, float] | None,
) -> None:
    """Add one meter's reading of ``at`` to the others' (per line, and power)."""
    held = into.setdefault(at, {})
    if power_w is not None:
        held["W"] = held.get("W", 0.0) + power_w
    for line, amps in (current_a or {}).items():
        held[str(line)] = held.get(str(line), 0.0) + amps


def _load_value(by_line: dict[str, float], unit: str, watts_per_amp: float) -> float | None:
    if unit == "W":
        return by_line.get("W")
    lines = [amps for line, amps in by_line.items() if line != "W"]
    if lines:
        return max(lines)
    power = by_line.get("W")
    return power / watts_per_amp if power is not None and watts_per_amp > 0 else None
