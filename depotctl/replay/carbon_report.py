"""The carbon part of a replay's report: kg CO2e in all, per local day and the
sessions that emitted most, as text (site time) and JSON (UTC)."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from depotctl.domain.instants import format_instant
from depotctl.replay.carbon import CarbonAccount, CarbonTally

#: Sessions listed in the text report, the highest emissions first (all are in the JSON).
TEXT_SESSIONS = 5


def kg_figure(kg: float | None) -> float | None:
    """kg CO2e as the JSON gives it (None: not covered)."""
    return None if kg is None else round(kg, 6)


def carbon_json(tally: CarbonTally | None) -> dict[str, Any] | None:
    """The report's ``carbon`` object; None for a site without ``carbon:``."""
    if tally is None:
        return None
    return {
        "intensity": tally.intensity,
        **_account_json(tally.total),
        "uncovered": [{"start": _iso(a), "end": _iso(b)} for a, b in tally.uncovered],
        "covers": None
        if tally.covers is None
        else {"start": _iso(tally.covers[0]), "end": _iso(tally.covers[1])},
        "by_day": [
            {"date": day.isoformat(), **_account_json(account)}
            for day, account in tally.by_day.items()
        ],
    }


def carbon_text(tally: CarbonTally, zone: ZoneInfo) -> list[str]:
    """The report's lines on carbon."""
    out = [f"Carbon ({tally.intensity}):"]
    out.append(f"  total          {_kg_text(tally.total)}")
    for day, account in tally.by_day.items():
        out.append(f"  {day.isoformat()}     {_kg_text(account)}")
    ranked = sorted(
        ((sid, a) for sid, a in tally.by_session.items() if a.kg is not None and a.energy_wh),
        key=lambda item: (-(item[1].kg or 0.0), item[0]),
    )
    if ranked:
        out.append(f"  top sessions   {len(ranked)} with known emissions; the highest:")
        width = max(len(sid) for sid, _ in ranked[:TEXT_SESSIONS])
        for session_id, account in ranked[:TEXT_SESSIONS]:
            out.append(f"    {session_id:<{width}}  {_kg_text(account)}")
    if tally.uncovered:
        windows = ", ".join(
            f"{format_instant(a, zone)} to {format_instant(b, zone)}" for a, b in tally.uncovered
        )
        covers = ""
        if tally.covers is not None:
            start, end = (format_instant(at, zone) for at in tally.covers)
            covers = f" (it covers {start} to {end})"
        out.append(
            f"  ✗ not covered  {tally.total.uncovered_wh / 1000:,.1f} kWh drawn {windows} has "
            f"no carbon intensity{covers}: its figures are unknown; give a carbon file that "
            "covers it (sim replay --carbon FILE) or replay a period within it"
        )
    return out


def _account_json(account: CarbonAccount) -> dict[str, Any]:
    return {
        "kg_co2e": kg_figure(account.kg),
        "covered_kg_co2e": kg_figure(account.covered_kg),
        "energy_kwh": round(account.energy_wh / 1000.0, 6),
        "uncovered_kwh": round(account.uncovered_wh / 1000.0, 6),
    }


def _kg_text(account: CarbonAccount) -> str:
    energy = f"{account.energy_wh / 1000:,.1f} kWh"
    if account.kg is None:
        uncovered = f"unknown: {account.uncovered_wh / 1000:,.1f} of {energy} not covered"
        if account.uncovered_wh < account.energy_wh:
            uncovered += f" ({account.covered_kg:,.2f} kg CO2e for the rest)"
        return uncovered
    per_kwh = account.kg / (account.energy_wh / 1000) if account.energy_wh > 0 else 0.0
    return f"{account.kg:,.2f} kg CO2e for {energy} ({per_kwh:.3f} kg/kWh on average)"


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).isoformat().replace("+00:00", "Z")


__all__ = ["TEXT_SESSIONS", "carbon_json", "carbon_text", "kg_figure"]
