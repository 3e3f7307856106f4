"""A replay's report: its settings, what was replayed and what it measured, as text
for people (times in the site's time with its offset, ``docs/times.md``) and as
versioned JSON (times in UTC; ``docs/replay.md`` documents the JSON)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any
from zoneinfo import ZoneInfo

from depotctl.domain import format_number
from depotctl.domain.bill import Bill
from depotctl.domain.instants import format_instant
from depotctl.domain.phases import Phase
from depotctl.domain.topology import NodeKind, TopologyNode
from depotctl.recordings import DemandBasis, SessionSelection
from depotctl.replay.bill_report import bill_json, bill_text
from depotctl.replay.carbon_report import carbon_json, carbon_text, kg_figure
from depotctl.replay.planning_tally import PlanningTally
from depotctl.replay.steps import MET_TOLERANCE, ReplayResult

FORMAT = "depotctl/sim-replay/v1"

#: Violations listed one by one in the text report (all are in the JSON).
TEXT_VIOLATIONS = 20


@dataclass(frozen=True)
class ReplayReport:
    site: str
    first: date | None
    last: date | None
    capacity_scale: float
    scaled_nodes: tuple[str, ...]
    demand: DemandBasis
    envelopes: tuple[str, ...]
    selection: SessionSelection
    result: ReplayResult
    #: The bill, under a tariff or price series.
    cost: Bill | None = None
    #: The planner's solves, when the allocator followed a plan.
    planning: PlanningTally | None = None

    def to_json(self) -> dict[str, Any]:
        result = self.result
        return {
            "format": FORMAT,
            "site": self.site,
            "timezone": result.topology.timezone,
            "settings": {
                "from": self.first.isoformat() if self.first else None,
                "to": self.last.isoformat() if self.last else None,
                "step_s": result.step_s,
                "capacity_scale": self.capacity_scale,
                "scaled_nodes": list(self.scaled_nodes),
                "demand": self.demand.value,
                "envelopes": list(self.envelopes),
                "planner": self.planning is not None,
            },
            "period": {
                "start": _iso(result.start),
                "end": _iso(result.end),
                "steps": result.steps,
                "simulated_days": round(result.simulated_days, 6),
            },
            "sessions": {
                "read": self.selection.read,
                "outside_dates": self.selection.outside_dates,
                "unknown_stations": dict(self.selection.unknown_stations),
                "overlapping": list(self.selection.overlapping),
                "replayed": len(result.outcomes),
                "demand_capped": sum(1 for o in result.outcomes if o.session.is_capped),
            },
            "energy": {
                "demand_kwh": _kwh(result.demand_wh),
                "delivered_kwh": _kwh(result.delivered_wh),
                "delivered_share": round(result.delivered_share, 6),
            },
            "demand_met": {
                "sessions": result.met,
                "share": round(result.met / len(result.outcomes), 6) if result.outcomes else 1.0,
                "tolerance": MET_TOLERANCE,
            },
            "deadlines_missed": {
                "sessions": len(result.missed),
                "shortfall_kwh": _kwh(sum(o.shortfall_wh for o in result.missed)),
            },
            "nodes": [self._node_json(node) for node in result.topology.nodes.values()],
            "violations": {
                "count": len(result.violations),
                "steps": len({v.at for v in result.violations}),
                "items": [
                    {
                        "time": _iso(v.at),
                        "node": v.node,
                        "quantity": v.quantity,
                        "value": round(v.value, 3),
                        "limit": round(v.limit, 3),
                        "source": v.source,
                    }
                    for v in result.violations
                ],
            },
            "wall_time": {
                "total_s": round(result.wall_s, 6),
                "per_simulated_day_s": round(result.wall_s_per_day, 6),
                "by_local_day": {
                    day.isoformat(): round(seconds, 6)
                    for day, seconds in sorted(result.wall_s_by_day.items())
                },
            },
            "session_results": [
                {
                    "id": o.session.id,
                    "evse": o.session.evse_id,
                    "station": o.session.station_id,
                    "arrival": _iso(o.session.arrival),
                    "departure": _iso(o.session.departure),
                    "recorded_kwh": _kwh(o.session.recorded_wh),
                    "demand_kwh": _kwh(o.session.demand_wh),
                    "delivered_kwh": _kwh(o.delivered_wh),
                    "met": o.is_met,
                    "kg_co2e": self._session_kg(o.session.id),
                }
                for o in result.outcomes
            ],
            "carbon": carbon_json(result.carbon),
            "cost": bill_json(self.cost),
            "planner": _planning_json(self.planning),
        }

    def _session_kg(self, session_id: str) -> float | None:
        carbon = self.result.carbon
        if carbon is None:
            return None
        account = carbon.by_session.get(session_id)
        return kg_figure(account.kg) if account is not None else 0.0

    def _node_json(self, node: TopologyNode) -> dict[str, Any]:
        peaks = self.result.peaks[node.id]
        phases = _phases(node)
        return {
            "id": node.id,
            "kind": node.kind.value,
            "limits": {
                "current_a": node.limits.current_a,
                "import_kw": None if node.limits.import_w is None else node.limits.import_w / 1000,
            },
            "peak": {
                "current_a": {p.value: round(peaks.current_a[p].value, 3) for p in phases},
                "current_at": {p.value: _iso(peaks.current_a[p].at) for p in phases},
                "power_kw": round(peaks.power_w.value / 1000, 6),
                "power_at": _iso(peaks.power_w.at),
            },
        }

    def to_text(self) -> str:
        result, selection = self.result, self.selection
        out: list[str] = []
        days = _days(self.first, self.last)
        scale = ""
        if self.capacity_scale != 1.0:
            scale = (
                f", capacity ×{format_number(self.capacity_scale)} on "
                f"{', '.join(self.scaled_nodes)}"
            )
        out.append(
            f"Replay of {self.site}: {days} ({result.topology.timezone}), "
            f"{format_number(result.step_s / 60)} min steps{scale}"
        )
        for envelope in self.envelopes:
            out.append(f"  envelope       {envelope} of the grid connection's import limit")
        skipped = []
        if selection.unmapped:
            stations = ", ".join(f"{k} ({n})" for k, n in selection.unknown_stations.items())
            skipped.append(f"{selection.unmapped} at stations no EVSE names: {stations}")
        if selection.overlapping:
            skipped.append(f"{len(selection.overlapping)} overlapping an earlier session")
        out.append(
            f"  sessions       {len(result.outcomes)} replayed ({self.demand.value} energy as "
            f"demand; {sum(1 for o in result.outcomes if o.session.is_capped)} capped at what "
            "their window allows)"
        )
        for line in skipped:
            out.append(f"  left out      {line}")
        out.append(
            f"  energy         {_kwh(result.delivered_wh):,.1f} of {_kwh(result.demand_wh):,.1f} "
            f"kWh delivered ({_percent(result.delivered_share)})"
        )
        total = len(result.outcomes)
        out.append(
            f"  demand met     {result.met} of {total} sessions "
            f"(within {format_number(MET_TOLERANCE * 100)} %)"
        )
        out.append(
            f"  deadlines      {len(result.missed)} missed, "
            f"{_kwh(sum(o.shortfall_wh for o in result.missed)):,.1f} kWh short"
        )
        busiest_day = max(result.wall_s_by_day.values(), default=0.0)
        out.append(
            f"  wall time      {result.wall_s_per_day * 1000:,.1f} ms per simulated day, "
            f"{busiest_day * 1000:,.1f} ms the slowest local day "
            f"({result.steps} steps over {result.simulated_days:.2f} days)"
        )
        out.append("")
        if result.carbon is not None:
            out.extend(carbon_text(result.carbon, ZoneInfo(result.topology.timezone)))
            out.append("")
        if self.cost is not None:
            out.extend(bill_text(self.cost, ZoneInfo(result.topology.timezone)))
            out.append("")
        if self.planning is not None:
            out.extend(_planning_text(self.planning))
            out.append("")
        out.append("Peak load per node (of its limits, after scaling):")
        nodes = [n for n in result.topology.nodes.values() if n.kind is not NodeKind.CHARGER]
        chargers = [n for n in result.topology.nodes.values() if n.kind is NodeKind.CHARGER]
        width = max((len(n.id) for n in nodes), default=4)
        for node in nodes:
            out.append(f"  {node.id:<{width}}  {self._node_text(node)}")
        if chargers:
            busiest = max(chargers, key=lambda n: (result.peaks[n.id].power_w.value, n.id))
            out.append(
                f"  {len(chargers)} chargers, the busiest {busiest.id}: {self._node_text(busiest)}"
            )
        out.append("")
        if result.violations:
            zone = ZoneInfo(result.topology.timezone)
            steps = len({v.at for v in result.violations})
            out.append(f"Violations ({len(result.violations)}, in {steps} steps; site time):")
            for v in result.violations[:TEXT_VIOLATIONS]:
                unit = "kW" if v.quantity == "import_power" else "A"
                scale_by = 1000 if unit == "kW" else 1
                out.append(
                    f"  ✗ {format_instant(v.at, zone)} {v.node} {v.quantity} {v.value / scale_by:,.2f} {unit} > "
                    f"{v.limit / scale_by:,.2f} {unit} ({v.source})"
                )
            if len(result.violations) > TEXT_VIOLATIONS:
                out.append(
                    f"  … and {len(result.violations) - TEXT_VIOLATIONS} more (see --format json)"
                )
            out.append("")
        out.append(
            f"Replay: {total} sessions, {_percent(result.delivered_share)} of demand delivered, "
            f"{len(result.missed)} deadlines missed, {len(result.violations)} violations."
        )
        return "\n".join(out) + "\n"

    def _node_text(self, node: TopologyNode) -> str:
        peaks = self.result.peaks[node.id]
        parts = []
        power = f"{peaks.power_w.value / 1000:,.1f} kW"
        if node.limits.import_w is not None:
            power += f" of {node.limits.import_w / 1000:,.1f} kW"
        parts.append(power)
        currents = "/".join(f"{peaks.current_a[p].value:,.1f}" for p in _phases(node))
        label = "L1/L2/L3" if node.phases == 3 else "L1"
        current = f"{label} {currents} A"
        if node.limits.current_a is not None:
            current += f" of {node.limits.current_a:,.1f} A"
        parts.append(current)
        return "  ".join(parts)


def _planning_json(tally: PlanningTally | None) -> dict[str, Any] | None:
    if tally is None:
        return None
    return {
        "solves": tally.solves,
        "failed": tally.failed,
        "unpriced": tally.unpriced,
        "solve_s": round(tally.solve_s, 6),
        "build_s": round(tally.build_s, 6),
        "details": list(tally.details),
    }


def _planning_text(tally: PlanningTally) -> list[str]:
    out = [
        f"Planner: {tally.solves} plans followed, one every step; "
        f"{tally.failed} failed and {tally.unpriced} unpriced (the allocator alone then); "
        f"{tally.build_s:,.2f} s building and {tally.solve_s:,.2f} s in HiGHS in all"
    ]
    out.extend(f"  ✗ {detail}" for detail in tally.details)
    return out


def _phases(node: TopologyNode) -> tuple[Phase, ...]:
    return (Phase.L1, Phase.L2, Phase.L3) if node.phases == 3 else (Phase.L1,)


def _days(first: date | None, last: date | None) -> str:
    if first is None and last is None:
        return "every session"
    if first == last:
        return first.isoformat() if first else ""
    return f"{first.isoformat() if first else '…'} to {last.isoformat() if last else '…'}"


def _iso(at: datetime | None) -> str | None:
    return None if at is None else at.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _kwh(wh: float) -> float:
    return round(wh / 1000.0, 6)


def _percent(share: float) -> str:
    return f"{share * 100:.1f} %"


__all__ = ["FORMAT", "ReplayReport"]
