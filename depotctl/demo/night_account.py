"""The night's account as the controller keeps it, read from its API — not recomputed
beside it: what the night cost at the site's tariff (its cost report's billing
windows: energy, demand charges on the peak, fixed charges) and emitted, and how many
of the limits it sent were the horizon planner's (its journal's ``allocation.changed``
entries bound by ``planned_rate``), with one deferral in the controller's own words.

The one check of its own, of the controller's one rule for following a plan
(docs/planner.md): urgency overrides the plan whenever following it would leave the
session short; a session the plan meets follows it even when urgent. So the case
flagged is a session held at the plan's rate while urgent that then left short of its
requirement — following the plan left it behind, which the rule forbids. A limit held
at the plan's rate names the session's slack; the note's slack counts the need the
plan was solved with, so it is low by at most the plan's age (its energy since then
came at most at its maximum power): a slack under the urgency threshold less the
oldest plan followed (:func:`surely_urgent_s`) is an urgent session's."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from depotctl.api import json_of
from depotctl.client.api import ControllerClient
from depotctl.client.errors import ApiError
from depotctl.domain.planning import PlannerSettings
from depotctl.domain.policy import Policy

#: the journal's page size (the API's most)
PAGE = 10_000
PLANNED_RATE = "planned_rate"
PLANNER_KINDS = ("planner.solved", "planner.failed", "planner.stale")
#: how a plan note states its slack: ``…; departs 06:10, 10.3 h of slack``
SLACK = re.compile(r"(-?\d+(?:\.\d+)?) h of slack")
#: the slack is printed to a tenth of an hour
SLACK_ROUNDING_H = 0.05
#: a session this close to its requirement's energy (Wh) did not end short
SHORT_WH = 1.0


@dataclass(frozen=True, slots=True)
class NightRecord:
    """What the controller answered: its cost report (None: ``cost_refused`` says
    why), its carbon report where the cost report has no carbon, and its journal's
    allocation changes and planner entries, and the sessions that ended short of their
    requirement."""

    cost: dict[str, Any] | None = None
    cost_refused: str | None = None
    carbon: dict[str, Any] | None = None
    allocations: list[dict[str, Any]] = field(default_factory=list)
    planner: list[dict[str, Any]] = field(default_factory=list)
    short_sessions: frozenset[str] = frozenset()


def fetch(client: ControllerClient, since: datetime, until: datetime) -> NightRecord:
    """The night's reports and journal entries from the controller."""
    cost: dict[str, Any] | None = None
    refused: str | None = None
    carbon: dict[str, Any] | None = None
    try:
        cost = json_of(client.cost_report(since=since, until=until))
    except ApiError as error:
        refused = f"{error.code}: {error.message}"
    if cost is None or cost["total"].get("carbon_kg_co2e") is None:
        try:
            carbon = json_of(client.carbon_report(since=since, until=until))
        except ApiError:
            carbon = None
    return NightRecord(
        cost=cost,
        cost_refused=refused,
        carbon=carbon,
        allocations=_entries(client, "allocation.changed"),
        planner=[e for kind in PLANNER_KINDS for e in _entries(client, kind)],
        short_sessions=ended_short(json_of(client.sessions(include_ended=True))["sessions"]),
    )


def ended_short(sessions: list[dict[str, Any]]) -> frozenset[str]:
    """The ids of the ended sessions (the API's records) that got less than their
    requirement's energy, by more than :data:`SHORT_WH`."""
    return frozenset(
        s["id"]
        for s in sessions
        if not s["open"]
        and (s.get("requirement") or {}).get("energy_wh") is not None
        and (s.get("energy_delivered_wh") or 0.0) < s["requirement"]["energy_wh"] - SHORT_WH
    )


def _entries(client: ControllerClient, kind: str) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after: int | None = None
    while True:
        page = json_of(client.journal(kind=kind, after_id=after, limit=PAGE))["entries"]
        out += page
        if len(page) < PAGE:
            return out
        after = page[-1]["id"]


def surely_urgent_s(policy: Policy, planner: PlannerSettings) -> float:
    """The slack under which a plan note's session was urgent for certain: the urgency
    threshold less the oldest plan the controller follows (its replan interval and a
    block; docs/planner.md)."""
    return policy.urgency_threshold_s - (planner.replan + planner.block).total_seconds()


def account(record: NightRecord, surely_urgent: float) -> dict[str, Any]:
    """The summary's ``cost``, ``carbon`` and ``plan`` (``surely_urgent``: seconds,
    :func:`surely_urgent_s`)."""
    return {
        "cost": _cost(record),
        "carbon": _carbon(record),
        "plan": _plan(record, surely_urgent),
    }


def _cost(record: NightRecord) -> dict[str, Any]:
    report = record.cost
    if report is None:
        return {"refused": record.cost_refused}
    billing = report["billing"]
    rows = report["rows"]

    def total(key: str) -> float | None:
        values = [line[key] for line in billing]
        return None if any(v is None for v in values) else round(sum(values), 2)

    return {
        "currency": report["currency"],
        "energy_kwh": round(sum(line["energy_kwh"] for line in billing), 3),
        "ev_energy_kwh": round(sum(row.get("ev_energy_kwh") or 0.0 for row in rows), 3),
        "metered_minutes": sum(row.get("metered_minutes") or 0 for row in rows),
        "energy_cost": total("energy_cost"),
        "demand_charge": total("demand_charge"),
        "demand": [d for line in billing for d in line["demand"]],
        "fixed_charge": total("fixed_charge"),
        "total": total("total"),
        "partial": any(line["partial"] for line in billing),
    }


def _carbon(record: NightRecord) -> dict[str, Any] | None:
    if record.cost is not None and record.cost["total"].get("carbon_kg_co2e") is not None:
        totals = record.cost["total"]
    elif record.carbon is not None:
        totals = record.carbon["total"]
    else:
        return None
    kg = totals.get("carbon_kg_co2e")
    return None if kg is None else {"kg_co2e": kg, "energy_kwh": totals["energy_kwh"]}


def _plan(record: NightRecord, surely_urgent: float) -> dict[str, Any]:
    planned = [e for e in record.allocations if _binding(e).get("kind") == PLANNED_RATE]
    deferred = [e for e in planned if "deferred:" in (_binding(e).get("detail") or "")]
    threshold_h = surely_urgent / 3600
    behind = [
        e
        for e in planned
        if e.get("session") in record.short_sessions
        and (slack := _slack_h(e)) is not None
        and slack < threshold_h - SLACK_ROUNDING_H
    ]
    kinds = [e["kind"] for e in record.planner]
    example = deferred[0] if deferred else (planned[0] if planned else None)
    return {
        "limits": len(record.allocations),
        "planned": len(planned),
        "planned_sessions": len({e.get("session") for e in planned}),
        "deferred": len(deferred),
        "deferred_sessions": len({e.get("session") for e in deferred}),
        "held_behind_while_urgent": [_entry(e) for e in behind],
        "solved": kinds.count("planner.solved"),
        "failed": kinds.count("planner.failed"),
        "stale": kinds.count("planner.stale"),
        "example": None if example is None else _entry(example),
    }


def _binding(entry: dict[str, Any]) -> dict[str, Any]:
    binding = (entry.get("data") or {}).get("binding")
    return binding if isinstance(binding, dict) else {}


def _slack_h(entry: dict[str, Any]) -> float | None:
    found = SLACK.search(_binding(entry).get("detail") or "")
    return None if found is None else float(found.group(1))


def _entry(entry: dict[str, Any]) -> dict[str, Any]:
    return {
        "at": entry["at"],
        "evse": entry.get("evse"),
        "session": entry.get("session"),
        "limit_a": (entry.get("data") or {}).get("limit_a"),
        "detail": _binding(entry).get("detail"),
    }


def account_lines(summary: dict[str, Any], hms: Any) -> list[str]:
    """The text summary's ``cost``, ``carbon`` and ``plan`` lines (``hms`` writes an
    instant in the summary's site time)."""
    lines: list[str] = []
    cost, carbon, plan = summary.get("cost"), summary.get("carbon"), summary.get("plan")
    if cost is not None:
        lines += _cost_lines(cost)
    if carbon is not None:
        lines.append(
            f"  carbon      {carbon['kg_co2e']:,.1f} kg CO2e for "
            f"{carbon['energy_kwh']:,.1f} kWh (the controller's carbon report)"
        )
    if plan is not None:
        lines += _plan_lines(plan, hms)
    return lines


def _money(value: float | None) -> str:
    return "unpriced" if value is None else f"{value:,.2f}"


def _cost_lines(cost: dict[str, Any]) -> list[str]:
    if "refused" in cost:
        return [f"  cost        not reported by the controller ({cost['refused']})"]
    currency = cost["currency"]
    what = (
        "the site's import"
        if cost["metered_minutes"]
        else "the chargers' energy (no grid meter reported)"
    )
    lines = [
        f"  cost        {_money(cost['energy_cost'])} {currency} energy + "
        f"{_money(cost['demand_charge'])} {currency} demand charge for {cost['energy_kwh']:,.1f} "
        f"kWh, {what}, at the site's tariff (the controller's cost report"
        + ("; the demand charge on the month's peak so far)" if cost["partial"] else ")")
    ]
    for demand in cost["demand"]:
        lines.append(
            f"              {demand['charge']}: peak {demand['peak_kw']:,.1f} kW × "
            f"{demand['price_per_kw']:g} /kW = {_money(demand['amount'])} {currency}"
        )
    return lines


def _plan_lines(plan: dict[str, Any], hms: Any) -> list[str]:
    if not (plan["solved"] or plan["failed"] or plan["stale"] or plan["planned"]):
        return [
            f"  plan        none solved: the allocator alone decided all {plan['limits']:,} "
            "limits sent"
        ]
    lines = [
        f"  plan        {plan['planned']:,} of {plan['limits']:,} limits sent were the plan's, for "
        f"{plan['planned_sessions']} sessions; {plan['deferred']} held "
        f"{plan['deferred_sessions']} sessions for a cheaper block; the planner solved "
        f"{plan['solved']} plans on events, {plan['failed']} failed, {plan['stale']} went stale"
    ]
    example = plan["example"]
    if example is not None:
        lines.append(
            f"              e.g. {example['evse']} at {hms(example['at'])}: {example['detail']}"
        )
    for held in plan["held_behind_while_urgent"]:
        lines.append(
            f"              held while urgent, then left short: {held['evse']} at "
            f"{hms(held['at'])}: {held['detail']}"
        )
    return lines
