"""What the simulated chargers did: the live one-line summary and the final report
(text and JSON)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import Any

from depotctl.domain.instants import format_day_clock, format_instant
from depotctl.sim.chargers.charger import SimulatedCharger
from depotctl.sim.chargers.draw_record import encode
from depotctl.sim.chargers.fleet import Fleet, Visit
from depotctl.sim.chargers.station import ChargingState

#: 2: each charger's ``draw``, its total draw over time (draw_record.py)
SCHEMA_VERSION = 2


def live_line(fleet: Fleet) -> str:
    """``2026-12-07 18:03:40+11:00 ×60 · 28/30 online · 12 charging · 845.2 kW · 1,234.5 kWh · profiles 120 accepted, 2 rejected``"""
    now = fleet.advance()
    chargers = fleet.chargers
    online = sum(1 for c in chargers if c.online)
    charging = sum(
        1 for c in chargers for n in c.station.evses if c.station.state(n) is ChargingState.CHARGING
    )
    power_kw = sum(c.station.total_w() for c in chargers) / 1000
    accepted = sum(c.stats.profiles_accepted for c in chargers)
    rejected = sum(c.stats.profiles_rejected for c in chargers)
    speed = f" ×{fleet.time.speed:g}" if fleet.time.speed != 1 else ""
    return (
        f"{format_instant(now, fleet.zone)}{speed} · {online}/{len(chargers)} online · "
        f"{charging} charging · {power_kw:,.1f} kW · {_energy_kwh(fleet):,.1f} kWh · "
        f"profiles {accepted} accepted, {rejected} rejected"
    )


def _energy_kwh(fleet: Fleet) -> float:
    return sum(e.register_wh for c in fleet.chargers for e in c.station.evses.values()) / 1000


def to_json(fleet: Fleet, *, site: str, url: str) -> dict[str, Any]:
    """The final report (a versioned contract: docs/sim-chargers.md)."""
    fleet.advance()
    visits = fleet.visits
    return {
        "version": SCHEMA_VERSION,
        "site": site,
        "controller": url,
        "clock": {"kind": fleet.time.kind, "speed": fleet.time.speed},
        "from": fleet.started_at.isoformat(),
        "to": (fleet.stopped_at or fleet.time.now()).isoformat(),
        "energy_wh": round(_energy_kwh(fleet) * 1000, 1),
        "round_trips": round_trips(fleet.chargers),
        "chargers": [_charger(c, fleet.started_at) for c in fleet.chargers],
        "vehicles": [_visit(v) for v in visits],
        "outcomes": dict(sorted(Counter(v.outcome for v in visits).items())),
    }


def round_trips(chargers: Sequence[SimulatedCharger]) -> dict[str, Any]:
    """How long (wall) the controller took to answer the chargers' calls: how many were
    kept (each charger's latest), the median, the 95th percentile and the longest."""
    kept = sorted(seconds for charger in chargers for seconds in charger.round_trips)
    if not kept:
        return {"calls": 0, "p50_s": None, "p95_s": None, "max_s": None}
    return {
        "calls": len(kept),
        "p50_s": round(kept[len(kept) // 2], 4),
        "p95_s": round(kept[min(len(kept) - 1, int(0.95 * len(kept)))], 4),
        "max_s": round(kept[-1], 4),
    }


def _charger(charger: SimulatedCharger, origin: datetime) -> dict[str, Any]:
    stats = charger.stats
    return {
        "id": charger.charge_point.charger_id,
        "ocpp_id": charger.ocpp_id,
        "protocol": charger.charge_point.version.value,
        "online": charger.online,
        "connections": stats.connects,
        "boots": stats.boots,
        "disconnects": stats.disconnects,
        "misbehaviour": list(charger.misbehaviour.modes),
        "profiles": {
            "received": stats.profiles_received,
            "accepted": stats.profiles_accepted,
            "rejected": stats.profiles_rejected,
            "ignored": stats.profiles_ignored,
            "cleared": stats.profiles_cleared,
            "installed": len(charger.stack.profiles),
        },
        "requests_unanswered": stats.requests_unanswered,
        "requests_before_boot": stats.requests_before_boot,
        "reboots": stats.reboots,
        "meter_values_sent": stats.meter_values_sent,
        "meter_values_coalesced": stats.meter_values_coalesced,
        "messages_refused": stats.messages_refused,
        "messages_unanswered": stats.messages_unanswered,
        "energy_wh": round(sum(e.register_wh for e in charger.station.evses.values()), 1),
        "last_error": stats.last_error,
        "last_rejection": stats.last_rejection,
        "draw": encode(charger.station.drawn.changes, origin),
    }


def _visit(visit: Visit) -> dict[str, Any]:
    vehicle = visit.vehicle
    need = vehicle.energy_wh
    delivered = visit.delivered_wh
    return {
        "id": vehicle.id,
        "evse": visit.evse_id,
        "arrival": vehicle.arrival.isoformat(),
        "departure": vehicle.departure.isoformat() if vehicle.departure else None,
        "energy_needed_wh": None if need is None else round(need, 1),
        "energy_delivered_wh": round(delivered, 1),
        "met": None if need is None else delivered >= need - 0.5,
        "outcome": visit.outcome,
    }


def to_text(fleet: Fleet, *, site: str, url: str) -> str:
    report = to_json(fleet, site=site, url=url)
    chargers = report["chargers"]
    vehicles = report["vehicles"]
    clock = report["clock"]
    speed = f", ×{clock['speed']:g}" if clock["speed"] != 1 else ""
    zone, start = fleet.zone, datetime.fromisoformat(report["from"])
    end = datetime.fromisoformat(report["to"])
    lines = [
        f"Simulated {len(chargers)} chargers of {site} against {url}",
        f"  time       {format_instant(start, zone)} → {format_instant(end, zone)} "
        f"(the controller's clock, {clock['kind']}{speed})",
    ]
    connected = sum(1 for c in chargers if c["boots"])
    lost = sum(c["disconnects"] for c in chargers)
    reboots = sum(c["reboots"] for c in chargers)
    lines.append(
        f"  chargers   {connected} of {len(chargers)} booted, "
        f"{sum(c['connections'] for c in chargers)} connections, {lost} closed or lost"
        + (f", {reboots} reboot{'s' if reboots != 1 else ''}" if reboots else "")
    )
    total = Counter[str]()
    for charger in chargers:
        total.update(charger["profiles"])
    unanswered = sum(c["requests_unanswered"] for c in chargers)
    early = sum(c["requests_before_boot"] for c in chargers)
    lines.append(
        f"  profiles   {total['received']} received: {total['accepted']} accepted "
        f"({total['ignored']} ignored), {total['rejected']} rejected, {total['cleared']} cleared; "
        f"{unanswered} requests left unanswered" + (f" ({early} before boot)" if early else "")
    )
    lines.append(
        f"  meter      {sum(c['meter_values_sent'] for c in chargers):,} meter values sent, "
        f"{sum(c['messages_refused'] for c in chargers)} messages refused, "
        f"{sum(c['messages_unanswered'] for c in chargers)} unanswered"
    )
    outcomes = ", ".join(f"{count} {outcome}" for outcome, count in report["outcomes"].items())
    lines.append(
        f"  vehicles   {len(vehicles)} in the scenario" + (f": {outcomes}" if outcomes else "")
    )
    needed = sum(v["energy_needed_wh"] or 0 for v in vehicles if v["evse"])
    lines.append(
        f"  energy     {report['energy_wh'] / 1000:,.1f} kWh delivered"
        + (f", {needed / 1000:,.1f} kWh needed by the vehicles that came" if needed else "")
    )
    arrived = [v for v in vehicles if v["evse"]]
    if arrived:
        day, offset = format_instant(start, zone).split(" ")[0], format_instant(start, zone)[-6:]
        lines += ["", f"Vehicles (site time: {day}, {offset}; +1d the next day)"]
        rows: list[tuple[str, ...]] = [
            ("id", "evse", "arrival", "departure", "needed", "delivered", "")
        ]
        for v in arrived:
            rows.append(
                (
                    v["id"],
                    v["evse"],
                    _clock(v["arrival"], zone, start),
                    _clock(v["departure"], zone, start) if v["departure"] else "—",
                    _kwh(v["energy_needed_wh"]),
                    _kwh(v["energy_delivered_wh"]),
                    "met" if v["met"] else v["outcome"],
                )
            )
        lines += _table(rows)
    trouble = [
        c
        for c in chargers
        if c["misbehaviour"] or c["profiles"]["rejected"] or c["last_error"] or not c["boots"]
    ]
    if trouble:
        lines += ["", "Chargers to look at"]
        for c in trouble:
            notes = []
            if c["misbehaviour"]:
                notes.append("misbehaving: " + ", ".join(c["misbehaviour"]))
            if c["profiles"]["rejected"]:
                notes.append(
                    f"{c['profiles']['rejected']} profiles rejected ({c['last_rejection']})"
                )
            if not c["boots"]:
                notes.append("never booted")
            if c["last_error"]:
                notes.append(f"last error: {c['last_error']}")
            lines.append(f"  {c['ocpp_id']:<12} " + "; ".join(notes))
    return "\n".join(lines) + "\n"


def _clock(iso: str, zone: tzinfo, start: datetime) -> str:
    """``18:30``, ``06:05 +1d``: the table's heading states the date and offset."""
    return format_day_clock(datetime.fromisoformat(iso), zone, start, "%H:%M")


def _kwh(wh: float | None) -> str:
    return "—" if wh is None else f"{wh / 1000:,.1f} kWh"


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return [
        "  " + "  ".join(cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in rows
    ]
