"""Figures from the controller written for people, the same in the CLI and the console:
an amount with its unit (``31.8 A``, ``1,204.5 kW``), energy from Wh in kWh, a time as
the API wrote it; a dash where there is none."""

from __future__ import annotations

from datetime import datetime

DASH = "—"


def amount(value: float | None, unit: str, digits: int = 1) -> str:
    """``1,204.5 kW``; a dash for none."""
    return DASH if value is None else f"{value:,.{digits}f} {unit}"


def kwh(wh: float | None) -> str:
    """Watt-hours as ``152.5 kWh``; a dash for none."""
    return amount(None if wh is None else wh / 1000.0, "kWh")


def iso_text(at: datetime | None, missing: str = DASH) -> str:
    """``2026-03-02T14:00:00+00:00``, as the API writes times; ``missing`` for none."""
    return missing if at is None else at.isoformat()
