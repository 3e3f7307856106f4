"""Meter values, as OCPP carries them, into numbers in base units.

Both versions send a list of ``meterValue`` entries (a timestamp and sampled values);
a sampled value names its measurand, phase, unit and context. OCPP 1.6 sends values
as strings with ``unit``; 2.0.1 as numbers with ``unitOfMeasure`` (unit and a power
of ten). The parser reads either form from either version (a lenient charger mixes
them), skips what it cannot read, and never raises on a bad value.

What is read: ``Power.Active.Import`` (W; the total, or the sum of the phases),
``Current.Import`` per phase (A; and without a phase), the
``Energy.Active.Import.Register`` (Wh) and ``SoC`` (%). Signed data and values
measured in the vehicle (location ``EV``, except the SoC) are skipped.
"""

from __future__ import annotations

import logging
import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from depotctl.domain.charge_points import ChargePoint
from depotctl.domain.phases import Phase
from depotctl.domain.telemetry import Reading

log = logging.getLogger("depotctl.ocpp")

POWER = "Power.Active.Import"
CURRENT = "Current.Import"
ENERGY = "Energy.Active.Import.Register"
SOC = "SoC"
TRANSACTION_BEGIN = "Transaction.Begin"

#: A phase tag's index among the charger's own phases (``L1-N`` is L1 to neutral).
_PHASES = {"l1": 0, "l2": 1, "l3": 2, "l1-n": 0, "l2-n": 1, "l3-n": 2}
#: Unit → factor to the base unit, per measurand (None: the measurand's default).
_UNITS = {
    POWER: {None: 1.0, "w": 1.0, "kw": 1000.0},
    CURRENT: {None: 1.0, "a": 1.0},
    ENERGY: {None: 1.0, "wh": 1.0, "kwh": 1000.0},
    SOC: {None: 1.0, "percent": 1.0, "%": 1.0},
}


@dataclass(frozen=True, slots=True)
class Measured:
    """One ``meterValue`` entry in base units, on the charger's own phases (index 0
    is its L1). ``begins`` marks an energy register read at a transaction's start."""

    at: datetime
    power_w: float | None = None
    current_a: Mapping[int, float] = field(default_factory=dict)
    current_unphased_a: float | None = None
    energy_wh: float | None = None
    soc_percent: float | None = None
    begins: bool = False

    @property
    def is_empty(self) -> bool:
        return (
            self.power_w is None
            and not self.current_a
            and self.current_unphased_a is None
            and self.energy_wh is None
            and self.soc_percent is None
        )


def parse_time(value: Any, default: datetime) -> datetime:
    """An OCPP timestamp as an aware UTC time (a time without an offset is UTC, as
    OCPP requires); ``default`` when it is missing or unreadable."""
    if not isinstance(value, str):
        return default
    try:
        at = datetime.fromisoformat(value.strip())
    except ValueError:
        return default
    if at.tzinfo is None:
        return at.replace(tzinfo=UTC)
    return at.astimezone(UTC)


def format_time(at: datetime) -> str:
    """An aware time as OCPP writes it: UTC, milliseconds, ``Z``."""
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def number(value: Any) -> float | None:
    """A finite number from a JSON number or a numeric string (else None)."""
    if isinstance(value, bool):
        return None
    try:
        result = float(value.strip()) if isinstance(value, str) else float(value)
    except (TypeError, ValueError):
        return None
    return result if math.isfinite(result) else None


def parse_meter_values(entries: Any, now: datetime) -> list[Measured]:
    """Every readable ``meterValue`` entry (keys already snake_case), oldest first."""
    if not isinstance(entries, list):
        return []
    parsed = [_entry(entry, now) for entry in entries if isinstance(entry, Mapping)]
    return sorted((m for m in parsed if not m.is_empty), key=lambda m: m.at)


def _entry(entry: Mapping[str, Any], now: datetime) -> Measured:
    at = parse_time(entry.get("timestamp"), now)
    total_power: float | None = None
    phase_power: dict[int, float] = {}
    current: dict[int, float] = {}
    unphased: float | None = None
    energy: float | None = None
    soc: float | None = None
    begins = False
    values = entry.get("sampled_value")
    for sampled in values if isinstance(values, list) else []:
        if not isinstance(sampled, Mapping) or sampled.get("format") == "SignedData":
            continue
        measurand = sampled.get("measurand") or ENERGY
        location = sampled.get("location")
        if measurand not in _UNITS or (location == "EV" and measurand != SOC):
            continue
        value = _value(sampled, measurand)
        if value is None:
            continue
        phase = sampled.get("phase")
        index = _PHASES.get(phase.lower()) if isinstance(phase, str) else None
        if phase is not None and index is None:
            continue  # neutral, or a line-to-line voltage tag: not a line quantity
        if measurand == POWER:
            if index is None:
                total_power = value
            else:
                phase_power[index] = value
        elif measurand == CURRENT:
            if index is None:
                unphased = value
            else:
                current[index] = value
        elif measurand == ENERGY and index is None:
            energy = value
            begins = sampled.get("context") == TRANSACTION_BEGIN
        elif measurand == SOC:
            soc = value
    if total_power is None and phase_power:
        total_power = sum(phase_power.values())
    return Measured(at, total_power, current, unphased, energy, soc, begins)


#: a 2.0.1 unit multiplier beyond this (a power of ten) is no meter's
_MAX_MULTIPLIER = 30


def _value(sampled: Mapping[str, Any], measurand: str) -> float | None:
    value = number(sampled.get("value"))
    if value is None:
        return None
    unit_of_measure = sampled.get("unit_of_measure")
    multiplier = 0
    if isinstance(unit_of_measure, Mapping):  # 2.0.1
        unit = unit_of_measure.get("unit")
        raw_multiplier = unit_of_measure.get("multiplier", 0)
        multiplier = raw_multiplier if isinstance(raw_multiplier, int) else 0
        if abs(multiplier) > _MAX_MULTIPLIER:  # 10**309 overflows: no meter means that
            return None
    else:  # 1.6
        unit = sampled.get("unit")
    factor = _UNITS[measurand].get(unit.strip().lower() if isinstance(unit, str) else None)
    if factor is None:
        log.debug("skipping %s in unit %r", measurand, unit)
        return None
    value *= factor * 10.0**multiplier
    return value if math.isfinite(value) else None


# One charger's reading from its EVSEs' values


@dataclass
class ChargerMeter:
    """The latest values of each of a charger's EVSEs, summed into the charger's
    :class:`Reading` on the site's phases."""

    charge_point: ChargePoint
    latest: dict[int, Measured] = field(default_factory=dict)

    def record(self, evse_number: int | None, measured: Measured) -> Reading | None:
        """The charger's reading after ``measured`` (for EVSE ``evse_number``; None:
        the charger as a whole); None when it measures neither power nor current."""
        if evse_number is None:
            return self._reading(measured.at, [measured])
        previous = self.latest.get(evse_number)
        if previous is None or previous.at <= measured.at:
            self.latest[evse_number] = measured
        parts = list(self.latest.values())
        return self._reading(min(p.at for p in parts), parts)

    def forget(self, evse_number: int) -> None:
        """An EVSE's session ended: its values no longer count."""
        self.latest.pop(evse_number, None)

    def _reading(self, at: datetime, parts: list[Measured]) -> Reading | None:
        powers = [p.power_w for p in parts]
        power = sum(p for p in powers if p is not None) if None not in powers else None
        currents = [self._site_currents(p) for p in parts]
        current: dict[Phase, float] | None = None
        if None not in currents:
            current = {}
            for part in currents:
                for line, amps in (part or {}).items():
                    current[line] = current.get(line, 0.0) + amps
        if power is None and not current:
            return None
        reading = Reading(
            self.charge_point.charger_id, at, power_w=power, current_a=current or None
        )
        # beyond what any charger draws (docs/quantities.md): a broken meter, not a reading
        return None if reading.beyond_bounds() else reading

    def _site_currents(self, measured: Measured) -> dict[Phase, float] | None:
        """The line currents on the site's phases. A DC charger's currents are on its
        DC side: none. A single-phase charger's one current (phase-tagged L1, or
        untagged) is on its line, on both lines when wired line-to-line, and on every
        phase when its phase is unknown; a three-phase charger's L1..L3 follow its
        phase rotation (an untagged current is ambiguous there and skipped)."""
        if self.charge_point.dc:
            return None
        connection = self.charge_point.connection
        if connection is not None and connection.is_three_phase:
            lines = connection.phases
            currents = {lines[i]: a for i, a in measured.current_a.items() if i < len(lines)}
            return currents or None
        amps = measured.current_a.get(0, measured.current_unphased_a)
        if amps is None:
            return None
        lines = connection.phases if connection is not None else tuple(Phase)
        return dict.fromkeys(lines, amps)
