"""The headless demo's summary: energy delivered (total and per vehicle against its
need, and per vehicle the controller's record of it against the charger's meter),
deadlines met, peak load against the limits of each grid connection, and
violations — what the chargers drew, exactly (their draw records in the simulator's
report: draw_check.py), plus the site's other load, against every node's import limit
and envelope themselves, and the controller's allocation against every effective
limit it showed. The measured check compares with the limits, not the controller's
effective limits: their safety margin is the controller's own buffer. A simulator
report without draw records falls back to the telemetry's minutes (each charger's
highest reading in the minute) against the effective limits; the summary says which
check ran."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from depotctl.demo.draw_check import Checked, Closest, NoDraws, Peak, Spell, check
from depotctl.demo.night_account import NightRecord, account, account_lines
from depotctl.demo.other_load import other_load_w
from depotctl.demo.scenario import Cut
from depotctl.demo.script import LimitSample
from depotctl.domain.instants import format_day_clock, format_instant
from depotctl.domain.quantity import Energy
from depotctl.domain.topology import Topology

VERSION = 2
MINUTE = timedelta(minutes=1)
#: a load this much over a limit counts (rounding of reported figures)
TOLERANCE = 1e-3
#: the controller's record of a vehicle's energy agrees with its meter within this:
#: OCPP 1.6 meterStart and meterStop are whole watt-hours, and the API writes an
#: energy with six significant digits
METER_RESOLUTION_WH = 1.0
RECORD_DIGITS_REL = 5e-6


@dataclass(frozen=True, slots=True)
class Inputs:
    """What the summary is made from."""

    topology: Topology
    start: datetime
    end: datetime
    speed: float
    chargers: dict[str, Any] | None  # the simulator's JSON report
    sessions: list[dict[str, Any]]  # the controller's, ended ones too
    telemetry: dict[str, list[dict[str, Any]]]  # charger → its minutes
    samples: list[LimitSample]
    cuts: list[tuple[Cut, datetime]]  # posted or received, with when
    #: cuts an OSCP source should have sent by the end, that the controller never had
    unreceived: tuple[Cut, ...] = ()
    #: each ``sim derms``'s JSON summary (docs/sim-derms.md)
    grid_operators: tuple[dict[str, Any], ...] = ()
    #: the controller's reports and journal of the night (None: not read)
    night: NightRecord | None = None
    #: a plan note's slack under this is an urgent session's (night_account.py)
    surely_urgent_s: float = 0.0
    #: each battery's and generator's meter (or its id) → its minutes (other_load.py;
    #: none: each counts at its worst case)
    assets: dict[str, list[dict[str, Any]]] = field(default_factory=dict)


def summarise(inputs: Inputs) -> dict[str, Any]:
    topology = inputs.topology
    vehicles = _vehicles(inputs)
    due = [v for v in vehicles if v["due"]]
    missed = [v for v in due if not v["met"]]
    controller_wh = sum(_wh(s.get("energy_delivered")) for s in inputs.sessions)
    recorded = [v for v in vehicles if v["evse"]]
    disagree = [v for v in recorded if not v["recorded"]["agrees"]]
    measured = _measured_load(inputs)
    drawn = _drawn(inputs)
    violations = (
        [_spell(s) for s in drawn.spells]
        if isinstance(drawn, Checked)
        else _measured_violations(inputs, measured)
    ) + _allocation_violations(inputs)
    return {
        "version": VERSION,
        "site": topology.site,
        "timezone": topology.timezone,
        "from": inputs.start.isoformat(),
        "to": inputs.end.isoformat(),
        "speed": inputs.speed,
        "energy": {
            "delivered_wh": round(sum(v["delivered_wh"] for v in vehicles), 1),
            "needed_wh": round(sum(v["needed_wh"] or 0.0 for v in vehicles), 1),
            "controller_sessions": len(inputs.sessions),
            "controller_delivered_wh": round(controller_wh, 1),
            "controller_sessions_open": sum(1 for s in inputs.sessions if s.get("open")),
            "vehicles_recorded": len(recorded),
            "vehicles_agreeing": len(recorded) - len(disagree),
            "disagreements": [
                {
                    "id": v["id"],
                    "evse": v["evse"],
                    "delivered_wh": v["delivered_wh"],
                    **v["recorded"],
                }
                for v in disagree
            ],
        },
        "deadlines": {
            "due": len(due),
            "met": len(due) - len(missed),
            "missed": [
                {"id": v["id"], "evse": v["evse"], "shortfall_wh": v["shortfall_wh"]}
                for v in missed
            ],
            "not_yet_due": len(vehicles) - len(due),
        },
        "vehicles": vehicles,
        "envelopes": [
            {
                "id": cut.id,
                "target": cut.target,
                "limit_w": cut.limit_w,
                "static_w": cut.static_w,
                "source": cut.source,
                "posted_at": at.isoformat(),
                "start": cut.start.isoformat(),
                "end": cut.end.isoformat(),
                "ahead": at < cut.start,
            }
            for cut, at in inputs.cuts
        ],
        "envelopes_not_received": [
            {"source": cut.source, "target": cut.target, "start": cut.start.isoformat()}
            for cut in inputs.unreceived
        ],
        "grid_operators": [_grid_operator(report) for report in inputs.grid_operators],
        **({} if inputs.night is None else account(inputs.night, inputs.surely_urgent_s)),
        "grid_connections": [
            {**gc, "closest": _closest(drawn, gc["id"])} for gc in _peaks(inputs, measured, drawn)
        ],
        "violations": violations,
        "checked": {
            "measured": "draws" if isinstance(drawn, Checked) else "telemetry minutes",
            "no_draws": None if isinstance(drawn, Checked) else drawn,
            "draw_changes": drawn.changes if isinstance(drawn, Checked) else 0,
            "nodes": len(drawn.closest) if isinstance(drawn, Checked) else 0,
            "state_samples": len({s.at for s in inputs.samples}),
            "telemetry_minutes": len({m for per in measured.values() for m in per}),
        },
    }


def _grid_operator(report: dict[str, Any]) -> dict[str, Any]:
    """What a simulated grid operator saw of the depot, counted."""
    periods = report.get("periods") or []
    return {
        "source": report.get("source"),
        "forecasts_sent": len(report.get("forecasts_sent") or []),
        "forecasts_refused": [r.get("reason") for r in report.get("forecasts_refused") or []],
        "heartbeats_sent": report.get("heartbeats_sent", 0),
        "measurement_reports": report.get("measurement_reports", 0),
        "periods_checked": len(periods),
        "periods_exceeded": sum(1 for p in periods if p.get("exceeded")),
        "compliance_errors": len(report.get("compliance_errors") or []),
    }


def passed(summary: dict[str, Any]) -> bool:
    """Every deadline due was met, no limit was exceeded, every cut an OSCP source
    should have sent arrived, and the plan held no urgent session it left short."""
    return (
        not summary["deadlines"]["missed"]
        and not summary["violations"]
        and not summary.get("envelopes_not_received")
        and not (summary.get("plan") or {}).get("held_behind_while_urgent")
    )


# Vehicles


def _wh(text: object) -> float:
    try:
        return Energy.parse(text).base
    except (ValueError, TypeError):
        return 0.0


def _vehicles(inputs: Inputs) -> list[dict[str, Any]]:
    report = inputs.chargers or {}
    sessions = _sessions_by_evse(inputs.sessions)
    after = _previous_departures(report.get("vehicles", []))
    out = []
    for v in report.get("vehicles", []):
        needed = v.get("energy_needed_wh")
        delivered = float(v.get("energy_delivered_wh") or 0.0)
        departure = datetime.fromisoformat(v["departure"]) if v.get("departure") else None
        outcome = v.get("outcome")
        arrived = outcome not in ("expected", None)
        due = arrived and departure is not None and departure <= inputs.end
        shortfall = max(0.0, (needed or 0.0) - delivered)
        on_evse = sessions.get(v.get("evse") or "", [])
        out.append(
            {
                "id": v["id"],
                "evse": v.get("evse"),
                "arrival": v.get("arrival"),
                "departure": v.get("departure"),
                "needed_wh": needed,
                "delivered_wh": delivered,
                "outcome": outcome,
                "due": due,
                "met": bool(v.get("met")) if due else None,
                "shortfall_wh": round(shortfall, 1),
                "recorded": _recorded(delivered, on_evse, after.get(v["id"]), departure),
            }
        )
    return out


def _sessions_by_evse(sessions: list[dict[str, Any]]) -> dict[str, list[dict[str, Any]]]:
    """The controller's sessions per EVSE."""
    out: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for session in sessions:
        if session.get("evse") and session.get("started"):
            out[session["evse"]].append(session)
    return out


def _previous_departures(vehicles: list[dict[str, Any]]) -> dict[str, datetime | None]:
    """Vehicle id → the departure of the vehicle before it on its EVSE (None: none)."""
    by_evse: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for v in vehicles:
        if v.get("evse") and v.get("arrival"):
            by_evse[v["evse"]].append(v)
    out: dict[str, datetime | None] = {}
    for visits in by_evse.values():
        visits.sort(key=lambda v: datetime.fromisoformat(v["arrival"]))
        before: datetime | None = None
        for v in visits:
            out[v["id"]] = before
            before = datetime.fromisoformat(v["departure"]) if v.get("departure") else None
    return out


def _recorded(
    delivered_wh: float,
    sessions: list[dict[str, Any]],
    after: datetime | None,
    departure: datetime | None,
) -> dict[str, Any]:
    """What the controller recorded for a vehicle, against the energy its meter
    counted: every session on its EVSE that began after the vehicle before it left
    and by its own departure (a charger that rebooted begins a new transaction for
    the vehicle still plugged in; a session's start is the controller's time, which
    may run a little behind the chargers'). ``open`` lists the sessions the
    controller never heard end."""
    mine = [
        s
        for s in sessions
        if (after is None or datetime.fromisoformat(s["started"]) > after)
        and (departure is None or datetime.fromisoformat(s["started"]) <= departure)
    ]
    controller_wh = sum(_wh(s.get("energy_delivered")) for s in mine)
    difference = controller_wh - delivered_wh
    tolerance = METER_RESOLUTION_WH * max(1, len(mine)) + RECORD_DIGITS_REL * delivered_wh
    return {
        "sessions": [s["id"] for s in mine],
        "controller_wh": round(controller_wh, 1),
        "difference_wh": round(difference, 1),
        "agrees": abs(difference) <= tolerance,
        "open": [s["id"] for s in mine if s.get("open")],
    }


# Loads and limits


def _below(topology: Topology) -> dict[str, list[str]]:
    """Every limited node → the chargers below it."""
    out: dict[str, list[str]] = defaultdict(list)
    for charger in sorted({e.charger_id for e in topology.evses.values()}):
        evse = next(e for e in topology.evses.values() if e.charger_id == charger)
        for node in evse.path:
            out[node].append(charger)
    return out


def _measured_load(inputs: Inputs) -> dict[str, dict[datetime, float]]:
    """Node → minute → the sum of the highest power each charger below it reported
    in that minute (a charger silent that minute counts at its latest earlier
    reading): never less than what was drawn."""
    per_charger: dict[str, dict[datetime, float]] = {}
    minutes: set[datetime] = set()
    for charger, rows in inputs.telemetry.items():
        readings = {
            datetime.fromisoformat(r["minute"]): float(r["power_w_max"])
            for r in rows
            if r.get("power_w_max") is not None
        }
        per_charger[charger] = readings
        minutes.update(readings)
    ordered = sorted(minutes)
    filled: dict[str, dict[datetime, float]] = {}
    for charger, readings in per_charger.items():
        last = 0.0
        column: dict[datetime, float] = {}
        for minute in ordered:
            last = readings.get(minute, last)
            column[minute] = last
        filled[charger] = column
    out: dict[str, dict[datetime, float]] = {}
    for node, chargers in _below(inputs.topology).items():
        out[node] = {m: sum(filled.get(c, {}).get(m, 0.0) for c in chargers) for m in ordered}
    return out


def _limit_for(samples: list[LimitSample], minute: datetime) -> LimitSample | None:
    """The limit in force over ``minute`` (samples of one node and kind, by time):
    in a minute where it changed, the higher of its values (the minute a limit falls
    is checked against the limit before), else the latest sample at or before."""
    within = [s for s in samples if minute <= s.at < minute + MINUTE]
    if within:
        return max(within, key=lambda s: s.effective + -s.reserved)
    before = [s for s in samples if s.at < minute]
    return before[-1] if before else None


def _power_samples(inputs: Inputs) -> dict[str, list[LimitSample]]:
    out: dict[str, list[LimitSample]] = defaultdict(list)
    for sample in inputs.samples:
        if sample.unit == "kW" and sample.kind.startswith("import"):
            out[sample.node].append(sample)
    return out


def _site_load_kw(inputs: Inputs) -> dict[str, float]:
    """Node → the depot's other load below it, in kW (other_load.py: site loads at
    their fallback, batteries and generators at the worst their meters read over the
    night, else charging at their maximum and producing nothing). Only this is added
    to the measured charger draws: an uncontrollable charger's draw is in its meter's
    readings already, so the controller's reservation for it must not be added again."""
    span = (inputs.start, inputs.end)
    return {n: w / 1000 for n, w in other_load_w(inputs.topology, inputs.assets, span).items()}


def _drawn(inputs: Inputs) -> Checked | str:
    """The exact check of the chargers' draws, or why it could not run."""
    topology = inputs.topology
    try:
        return check(
            topology, inputs.chargers, inputs.cuts, _below(topology), _site_load_kw(inputs)
        )
    except NoDraws as why:
        return str(why)


def _spell(spell: Spell) -> dict[str, Any]:
    return {
        "check": "measured",
        "node": spell.node,
        "kind": "import_power",
        "from": spell.start.isoformat(),
        "to": spell.end.isoformat(),
        "seconds": round(spell.seconds, 3),
        "load": round(spell.peak_w / 1000, 3),
        "peak_at": spell.peak_at.isoformat(),
        "limit": spell.limit.watts / 1000,
        "unit": "kW",
        "source": spell.limit.what,
    }


def _closest(drawn: Checked | str, node: str) -> dict[str, Any] | None:
    """When the node's exact load came closest to its limit (None: not checked)."""
    return _exact(drawn.closest.get(node) if isinstance(drawn, Checked) else None)


def _during(drawn: Checked | str, envelope: str) -> dict[str, Any] | None:
    """The envelope's node's highest exact load, drawn at once, while it was in force
    (None: not checked)."""
    return _exact(drawn.during.get(envelope) if isinstance(drawn, Checked) else None)


def _exact(found: Closest | Peak | None) -> dict[str, Any] | None:
    if found is None:
        return None
    return {
        "load_kw": round(found.load_w / 1000, 3),
        "at": found.at.isoformat(),
        "limit_kw": found.limit.watts / 1000,
        "source": found.limit.what,
    }


def _measured_violations(
    inputs: Inputs, measured: dict[str, dict[datetime, float]]
) -> list[dict[str, Any]]:
    """The fallback without draw records: per minute, the telemetry's sum of each
    charger's highest reading, plus the other load, against the effective limit."""
    out = []
    site_load = _site_load_kw(inputs)
    for node, samples in _power_samples(inputs).items():
        for minute, load_w in measured.get(node, {}).items():
            limit = _limit_for(samples, minute)
            if limit is None:
                continue
            total_kw = load_w / 1000 + site_load.get(node, 0.0)
            if total_kw > limit.effective * (1 + TOLERANCE) + 0.1:
                out.append(
                    {
                        "check": "measured",
                        "node": node,
                        "kind": limit.kind,
                        "minute": minute.isoformat(),
                        "load": round(total_kw, 1),
                        "limit": limit.effective,
                        "unit": "kW",
                        "source": limit.source,
                    }
                )
    return out


def _allocation_violations(inputs: Inputs) -> list[dict[str, Any]]:
    out = []
    for s in inputs.samples:
        # a node whose reserved load alone is over its limit (uncontrollable chargers
        # counted at their rating) is not the allocator's doing: count what it allocates
        if s.allocated > 0 and s.allocated + s.reserved > s.effective * (1 + TOLERANCE) + 0.1:
            out.append(
                {
                    "check": "allocation",
                    "node": s.node,
                    "kind": s.kind,
                    "minute": s.at.isoformat(),
                    "load": round(s.allocated + s.reserved, 1),
                    "limit": s.effective,
                    "unit": s.unit,
                    "source": s.source,
                }
            )
    return out


def _peaks(
    inputs: Inputs, measured: dict[str, dict[datetime, float]], drawn: Checked | str
) -> list[dict[str, Any]]:
    samples = _power_samples(inputs)
    out = []
    for node in inputs.topology.nodes.values():
        if node.kind.value != "grid_connection":
            continue
        rows = []
        other = _site_load_kw(inputs).get(node.id, 0.0)
        for minute, load_w in measured.get(node.id, {}).items():
            limit = _limit_for(samples.get(node.id, []), minute)
            if limit is not None:
                rows.append((load_w / 1000 + other, minute, limit, other))
        cuts = [(c, at) for c, at in inputs.cuts if c.target == node.id]
        entry: dict[str, Any] = {
            "id": node.id,
            "static_import_kw": None
            if node.limits.import_w is None
            else node.limits.import_w / 1000,
            "peak": _peak(rows),
            "during_envelopes": [
                {
                    "envelope": cut.id,
                    "limit_kw": cut.limit_w / 1000,
                    "peak": _peak([r for r in rows if at <= r[1] and r[1] + MINUTE <= cut.end]),
                    "drawn": _during(drawn, cut.id),
                }
                for cut, at in cuts
            ],
        }
        out.append(entry)
    return out


def _peak(rows: list[tuple[float, datetime, LimitSample, float]]) -> dict[str, Any] | None:
    if not rows:
        return None
    load, minute, limit, other = max(rows, key=lambda r: r[0])
    return {
        "load_kw": round(load, 1),
        "minute": minute.isoformat(),
        "effective_limit_kw": limit.effective,
        "source": limit.source,
        "reserved_kw": round(other, 1),
    }


# Text


def _peak_lines(gc: dict[str, Any], times: SiteTime) -> list[str]:
    """A grid connection's highest minute by telemetry, against the effective limit, and
    the instant its exact load came closest to a limit."""
    peak = gc["peak"]
    if peak is None:
        lines = [f"  peak        {gc['id']}: no telemetry"]
    else:
        lines = [
            f"  peak        {gc['id']}: {peak['load_kw']:,.1f} kW at {times.hm(peak['minute'])} "
            f"(each charger's highest minute, summed: an upper bound) against "
            f"{peak['effective_limit_kw']:,.1f} kW effective ({peak['source']}), "
            f"{peak['reserved_kw']:,.1f} kW of it reserved for other load; static "
            f"{gc['static_import_kw']:,.0f} kW"
        ]
    for during in gc["during_envelopes"]:
        exact, p = during.get("drawn"), during["peak"]
        if exact is not None:
            lines.append(
                f"              during {during['envelope']}, drawn at once: "
                f"{exact['load_kw']:,.1f} kW at {times.hms(exact['at'])} against "
                f"{exact['limit_kw']:,.1f} kW (the envelope)"
            )
        elif p is not None:
            lines.append(
                f"              during {during['envelope']}: {p['load_kw']:,.1f} kW at "
                f"{times.hm(p['minute'])} against {p['effective_limit_kw']:,.1f} kW effective "
                "(each charger's highest minute, summed: an upper bound)"
            )
    closest = gc.get("closest")
    if closest is not None:
        lines.append(
            f"              closest to a limit, drawn at once: {closest['load_kw']:,.1f} kW at "
            f"{times.hms(closest['at'])} against {closest['limit_kw']:,.1f} kW "
            f"({closest['source']})"
        )
    return lines


def _grid_operator_lines(operator: dict[str, Any]) -> list[str]:
    """``grid  ausgrid-oscp (sim derms): …`` and a line per forecast it had refused."""

    def count(key: str, noun: str) -> str:
        return f"{operator[key]} {noun}{'' if operator[key] == 1 else 's'}"

    lines = [
        f"  grid        {operator['source']} (sim derms): sent "
        f"{count('forecasts_sent', 'forecast')} and {count('heartbeats_sent', 'heartbeat')}; "
        f"received {count('measurement_reports', 'measurement report')} "
        f"({count('periods_checked', 'period')} checked against its forecast, "
        f"{operator['periods_exceeded']} over) and "
        f"{count('compliance_errors', 'compliance error')}"
    ]
    for reason in operator["forecasts_refused"]:
        lines.append(f"              a forecast refused by the controller: {reason}")
    return lines


def _arrival(envelope: dict[str, Any]) -> str:
    """How the controller got a cut: the script posted it, or its OSCP source sent it."""
    source = envelope.get("source", "local")
    return "posted" if source == "local" else f"received over OSCP from {source}"


def _checked_lines(checked: dict[str, Any], count: int) -> list[str]:
    """How many violations, and which checks found them."""
    allocations = (
        f"              allocation: {checked['state_samples']} allocations against every "
        "effective limit"
    )
    if checked["measured"] == "draws":
        return [
            f"  violations  {count}",
            f"              measured: {checked['draw_changes']:,} changes of the chargers' "
            "exact draws, summed at once,",
            f"              plus the other load, at {checked['nodes']} nodes against their "
            "import limits and",
            "              the envelopes themselves (the controller's safety margin "
            "is its own buffer)",
            allocations,
        ]
    return [
        f"  violations  {count}",
        f"              measured: no draw records ({checked['no_draws']}), so "
        f"{checked['telemetry_minutes']} minutes of",
        "              telemetry (each charger's highest reading in the minute) plus the "
        "other load",
        "              against every effective import power limit",
        allocations,
    ]


@dataclass(frozen=True, slots=True)
class SiteTime:
    """The summary's times after its first line, which states the start's date and
    offset once (docs/times.md): ``18:08:40`` in the site's zone, ``05:05 +1d`` on a
    later day, the whole instant with its offset where the offset is not the start's."""

    zone: ZoneInfo
    start: datetime

    def hm(self, text: str | None) -> str:
        return self._short(text, "%H:%M")

    def hms(self, text: str | None) -> str:
        return self._short(text, "%H:%M:%S")

    def _short(self, text: str | None, form: str) -> str:
        if not text:
            return "-"
        return format_day_clock(datetime.fromisoformat(text), self.zone, self.start, form)


def _violation(v: dict[str, Any], times: SiteTime) -> str:
    """``measured: gc-main import_power 61.2 kW over 60.0 kW (envelope …) 18:00:01-18:00:20 (19 s)``"""
    what = (
        f"{v['check']}: {v['node']} {v['kind']} {v['load']:,.1f} {v['unit']} over "
        f"{v['limit']:,.1f} {v['unit']} ({v['source']})"
    )
    if "from" in v:
        start, stop = times.hms(v["from"]), times.hms(v["to"])
        day = stop[8:]  # `` +1d`` when on a later day: said once where both share it
        if day and start.endswith(day):
            start = start.removesuffix(day)
        return f"{what} {start}-{stop} ({v['seconds']:g} s)"
    return f"{what} at {times.hm(v['minute'])}"


def _recorded_lines(energy: dict[str, Any]) -> list[str]:
    """Per vehicle, whether the controller's record agrees with the meter."""
    if not energy["vehicles_recorded"]:
        return []
    lines = [
        f"              the controller's record agrees with the meter for "
        f"{energy['vehicles_agreeing']} of {energy['vehicles_recorded']} vehicles"
        + (
            f"; {_sessions(energy['controller_sessions_open'])} still open (their end "
            "never reached the controller)"
            if energy["controller_sessions_open"]
            else ""
        )
    ]
    for wrong in energy["disagreements"]:
        lines.append(
            f"              {wrong['id']} on {wrong['evse']}: meter "
            f"{wrong['delivered_wh'] / 1000:,.3f} kWh, controller "
            f"{wrong['controller_wh'] / 1000:,.3f} kWh over {_sessions(len(wrong['sessions']))}"
            + (f" ({len(wrong['open'])} still open)" if wrong["open"] else "")
        )
    return lines


def _sessions(count: int) -> str:
    return f"{count} session" if count == 1 else f"{count} sessions"


def render_text(summary: dict[str, Any]) -> str:
    zone = ZoneInfo(summary["timezone"])
    start = datetime.fromisoformat(summary["from"])
    times = SiteTime(zone, start)
    hm = times.hm
    energy = summary["energy"]
    deadlines = summary["deadlines"]
    lines = [
        f"Demo of {summary['site']}: {format_instant(start, zone)} → "
        f"{format_instant(datetime.fromisoformat(summary['to']), zone)} (simulated, "
        f"×{summary['speed']:g}); times below are site time on that first day, +1d the next",
        f"  energy      {energy['delivered_wh'] / 1000:,.1f} kWh delivered of "
        f"{energy['needed_wh'] / 1000:,.1f} kWh needed (the chargers' meters); the "
        f"controller recorded {energy['controller_delivered_wh'] / 1000:,.1f} kWh over "
        f"{energy['controller_sessions']} sessions",
        *_recorded_lines(energy),
        f"  deadlines   {deadlines['met']} of {deadlines['due']} departures met"
        + (
            f", {deadlines['not_yet_due']} vehicles not due yet" if deadlines["not_yet_due"] else ""
        ),
    ]
    for miss in deadlines["missed"]:
        lines.append(
            f"              missed: {miss['id']} on {miss['evse']}, "
            f"{miss['shortfall_wh'] / 1000:.1f} kWh short"
        )
    lines += account_lines(summary, times.hms)
    for envelope in summary["envelopes"]:
        lines.append(
            f"  envelope    {envelope['id']}: {envelope['target']} import ≤ "
            f"{envelope['limit_w'] / 1000:g} kW (static {envelope['static_w'] / 1000:g} kW), "
            f"{_arrival(envelope)} at {hm(envelope['posted_at'])} until {hm(envelope['end'])}"
        )
        if envelope.get("ahead") is False:
            lines.append(
                f"              late: it arrived at {times.hms(envelope['posted_at'])}, after its "
                f"window began at {times.hms(envelope['start'])} (the clock outran the notice on "
                "this machine: run with a lower --speed)"
            )
    for cut in summary.get("envelopes_not_received", []):
        lines.append(
            f"  envelope    the cut on {cut['target']} from {cut['source']} at "
            f"{hm(cut['start'])}: never received (see derms-{cut['source']}.log, --keep)"
        )
    for operator in summary.get("grid_operators", []):
        lines += _grid_operator_lines(operator)
    for gc in summary["grid_connections"]:
        lines += _peak_lines(gc, times)
    violations = summary["violations"]
    lines += _checked_lines(summary["checked"], len(violations))
    for v in violations[:10]:
        lines.append(f"              {_violation(v, times)}")
    lines += ["", "Vehicles", "  id        evse       arrival    departure  needed      delivered"]
    for v in summary["vehicles"]:
        need = "-" if v["needed_wh"] is None else f"{v['needed_wh'] / 1000:.1f} kWh"
        status = (
            ("met" if v["met"] else f"missed, {v['shortfall_wh'] / 1000:.1f} kWh short")
            if v["due"]
            else str(v["outcome"])
        )
        lines.append(
            f"  {v['id']:<9} {v['evse'] or '-':<10} {hm(v['arrival']):<10} "
            f"{hm(v['departure']):<10} {need:<11} {v['delivered_wh'] / 1000:.1f} kWh  {status}"
        )
    return "\n".join(lines) + "\n"
