"""The night's account from the controller's answers, on answers written here: the
plan's limits counted from the journal, a session held at the plan's rate with a
slack that proves it urgent, then left short, flagged, the billing windows' cost summed, and the
carbon taken from the cost report or else the carbon report."""

from __future__ import annotations

from typing import Any

import pytest

from depotctl.demo.night_account import (
    NightRecord,
    account,
    account_lines,
    ended_short,
    surely_urgent_s,
)
from depotctl.domain.planning import PlannerSettings
from depotctl.domain.policy import Policy

AT = "2026-12-08T07:30:00+00:00"


def _change(session: str, kind: str, detail: str, limit_a: float = 0.0) -> dict[str, Any]:
    return {
        "id": 1,
        "at": AT,
        "kind": "allocation.changed",
        "evse": f"{session}/1",
        "session": session,
        "message": "…",
        "data": {"limit_a": limit_a, "binding": {"kind": kind, "ref": None, "detail": detail}},
    }


def _held(slack_h: float, why: str = "deferred: 0.38 /kWh now vs 0.12 /kWh from 22:00") -> str:
    return f"at the plan's rate of 0.0 A for this block; {why}; departs 05:30, {slack_h} h of slack"


def _billing(energy: float | None, demand: float, partial: bool = True) -> dict[str, Any]:
    return {
        "energy_kwh": 100.0,
        "energy_cost": energy,
        "demand_charge": demand,
        "demand": [
            {
                "charge": "peak-demand",
                "peak_kw": demand / 10,
                "price_per_kw": 10.0,
                "amount": demand,
                "peak_start": AT,
            }
        ],
        "fixed_charge": 3.5,
        "total": None if energy is None else energy + demand + 3.5,
        "partial": partial,
    }


def _cost(*billing: dict[str, Any], carbon: float | None = 66.0) -> dict[str, Any]:
    return {
        "currency": "AUD",
        "rows": [{"ev_energy_kwh": 100.0, "metered_minutes": 0}] * len(billing),
        "billing": list(billing),
        "total": {"energy_kwh": 100.0 * len(billing), "carbon_kg_co2e": carbon},
    }


def test_the_plans_limits_are_counted_and_an_urgent_one_held_and_left_short_is_flagged() -> None:
    # 45 min threshold, plans followed up to 5 + 15 min old: under 25 min is urgent
    surely = surely_urgent_s(Policy(urgency_threshold_s=2700), PlannerSettings())
    assert surely == 1500
    record = NightRecord(
        allocations=[
            _change("a", "planned_rate", _held(9.1)),
            _change("a", "charger_limit", "at the EVSE's own maximum of 217.4 A", 217.3),
            _change("b", "planned_rate", _held(2.0, "planned: 0.12 /kWh now, no cheaper block")),
            # 0.3 h = 18 min of slack by a plan note: urgent whatever the plan's age
            _change("c", "planned_rate", _held(0.3)),
            _change("d", "planned_rate", _held(0.4)),  # 24 min: within the rounding
            # urgent too, but the plan met it: following it is the rule, not a fault
            _change("e", "planned_rate", _held(0.2)),
        ],
        planner=[{"kind": "planner.solved"}] * 3 + [{"kind": "planner.stale"}],
        short_sessions=frozenset({"a", "c", "d"}),
    )
    plan = account(record, surely)["plan"]
    assert (plan["limits"], plan["planned"], plan["planned_sessions"]) == (6, 5, 5)
    assert (plan["deferred"], plan["deferred_sessions"]) == (4, 4)
    assert [held["session"] for held in plan["held_behind_while_urgent"]] == ["c"]
    # every session met: nothing flagged, however urgent
    met = account(NightRecord(allocations=record.allocations), surely)["plan"]
    assert met["held_behind_while_urgent"] == []
    assert (plan["solved"], plan["failed"], plan["stale"]) == (3, 0, 1)
    assert plan["example"]["session"] == "a"
    lines = account_lines({"plan": plan}, lambda at: "18:30:00")
    assert lines[0] == (
        "  plan        5 of 6 limits sent were the plan's, for 5 sessions; 4 held 4 sessions "
        "for a cheaper block; the planner solved 3 plans on events, 0 failed, 1 went stale"
    )
    assert "e.g. a/1 at 18:30:00: at the plan's rate of 0.0 A" in lines[1]
    assert lines[2].startswith("              held while urgent, then left short: c/1 at 18:30:00")


def test_a_session_ended_short_is_one_ended_below_its_requirement() -> None:
    def record(
        sid: str, delivered: float, need: float | None, *, open_: bool = False
    ) -> dict[str, Any]:
        requirement = None if need is None else {"energy_wh": need, "departure": AT}
        return {
            "id": sid,
            "open": open_,
            "energy_delivered_wh": delivered,
            "requirement": requirement,
        }

    sessions = [
        record("short", 9_000.0, 10_000.0),
        record("met", 9_999.5, 10_000.0),  # within a Wh
        record("open", 0.0, 10_000.0, open_=True),  # not ended: not yet short
        record("default", 0.0, None),  # the site's default: no requirement to miss
    ]
    assert ended_short(sessions) == frozenset({"short"})


def test_the_cost_is_every_billing_window_summed_and_unpriced_stays_unknown() -> None:
    # a night across a month's end touches two billing windows
    cost = account(NightRecord(cost=_cost(_billing(12.5, 40.0), _billing(3.25, 10.0))), 0)
    assert cost["cost"]["energy_cost"] == 15.75 and cost["cost"]["demand_charge"] == 50.0
    assert cost["cost"]["total"] == pytest.approx(15.75 + 50.0 + 7.0)
    assert cost["cost"]["energy_kwh"] == 200.0 and cost["cost"]["partial"]
    assert cost["carbon"] == {"kg_co2e": 66.0, "energy_kwh": 200.0}
    text = account_lines(cost, str)
    assert text[0].startswith("  cost        15.75 AUD energy + 50.00 AUD demand charge for 200.0")
    assert "the chargers' energy (no grid meter reported)" in text[0]
    unpriced = account(NightRecord(cost=_cost(_billing(None, 40.0))), 0)["cost"]
    assert unpriced["energy_cost"] is None and unpriced["total"] is None


def test_a_night_without_a_plan_says_the_allocator_decided_alone() -> None:
    record = NightRecord(allocations=[_change("a", "charger_limit", "…", 32.0)] * 1076)
    lines = account_lines(account(record, 0), str)
    assert (
        lines[-1] == "  plan        none solved: the allocator alone decided all 1,076 limits sent"
    )


def test_carbon_comes_from_the_carbon_report_without_a_tariff() -> None:
    carbon = {"total": {"energy_kwh": 80.0, "carbon_kg_co2e": 40.0}}
    night = account(NightRecord(cost_refused="no_tariff: …", carbon=carbon), 0)
    assert night["cost"] == {"refused": "no_tariff: …"}
    assert night["carbon"] == {"kg_co2e": 40.0, "energy_kwh": 80.0}
    assert account_lines(night, str)[0] == (
        "  cost        not reported by the controller (no_tariff: …)"
    )
