"""The cost part of a replay's report: the bill of the energy every session drew
(:func:`depotctl.domain.bill.bill`: energy per tariff period or at a dynamic price
series, each demand charge on its peak, fixed charges) over the replay's period as
one billing window, as text (site time) and JSON (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from depotctl.domain.bill import Bill, BillingWindow, Interval, LoadProfile, bill
from depotctl.domain.instants import format_instant
from depotctl.domain.price_series import PriceSeries
from depotctl.domain.tariff import Tariff


def replay_bill(
    site_wh: tuple[float, ...],
    start: datetime,
    step_s: float,
    zone: ZoneInfo,
    tariff: Tariff | None,
    prices: PriceSeries | None = None,
) -> Bill:
    """The bill of ``site_wh`` (Wh per step from ``start``, each drawn evenly over its
    step) over the replay's steps as one billing window."""
    step = timedelta(seconds=step_s)
    intervals = tuple(
        Interval(start + step * k, start + step * (k + 1), wh / 1000.0)
        for k, wh in enumerate(site_wh)
    )
    end = start + step * max(1, len(site_wh))
    return bill(LoadProfile(intervals), tariff, BillingWindow(start, end, zone), prices=prices)


def bill_json(found: Bill | None) -> dict[str, Any] | None:
    """The report's ``cost`` object; None without a tariff or price series."""
    if found is None:
        return None
    return {
        "currency": found.currency,
        "energy": float(found.energy_amount),
        "demand_charge": float(found.demand_amount),
        "fixed": float(found.fixed_amount),
        "total": float(found.total),
        "energy_kwh": round(sum(line.energy for line in found.energy), 6),
        "energy_lines": [
            {
                "season": line.season,
                "period": line.period,
                "energy_kwh": round(line.energy, 6),
                "price_per_kwh": line.price,
                "amount": float(line.amount),
            }
            for line in found.energy
        ],
        "demand_lines": [
            {
                "charge": line.charge.label,
                "peak_kw": round(line.peak, 6),
                "peak_start": _iso(line.peak_start),
                "price_per_kw": line.charge.price,
                "amount": float(line.amount),
            }
            for line in found.demand
        ],
    }


def bill_text(found: Bill, zone: ZoneInfo) -> list[str]:
    """The report's lines on cost."""
    currency = found.currency
    energy_kwh = sum(line.energy for line in found.energy)
    out = [f"Cost ({currency}; the replay's period as one billing window):"]
    average = float(found.energy_amount) / energy_kwh if energy_kwh > 0 else 0.0
    out.append(
        f"  energy         {found.energy_amount:>10,} for {energy_kwh:,.1f} kWh "
        f"({average:.4f} /kWh on average)"
    )
    out.append(f"  demand charge  {found.demand_amount:>10,}")
    for line in found.demand:
        out.append(
            f"    {line.charge.label}: peak {line.peak:,.1f} kW from "
            f"{format_instant(line.peak_start, zone)} × {line.charge.price:g} /kW"
        )
    if found.fixed:
        out.append(f"  fixed          {found.fixed_amount:>10,}")
    out.append(f"  total          {found.total:>10,}")
    return out


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


__all__ = ["bill_json", "bill_text", "replay_bill"]
