"""The plan's words in ``explain``: a session the plan holds at 0 A with no cheaper
block waits at the same price (the room now goes to others) — not "planned … no
cheaper block", which read as a contradiction beside a rate of 0 A."""

from __future__ import annotations

from datetime import timedelta

from depotctl.domain.plan_notes import PlanNote
from depotctl.engine import BindingKind, allocate
from depotctl.engine.plan_words import plan_words
from tests.engine.conftest import T0, Depot, decision_of, session, snapshot


def _words(planned_rate_a: float, note: PlanNote) -> tuple[BindingKind, str]:
    topology = Depot().node("gc", import_w=100_000.0).charger("ch", "gc").topology()
    held = session("ch/1", energy_kwh=20.0, hours_left=8.0, planned_rate_a=planned_rate_a)
    allocation = allocate(snapshot(topology, sessions=(held,), plan_notes={held.id: note}))
    decision = decision_of(allocation)
    [index] = [i for i, s in decision.demands.sessions.items() if s.evse_id == "ch/1"]
    return allocation.evses["ch/1"].binding.kind, plan_words(decision, index)


def _note(cheaper: float | None) -> PlanNote:
    later = T0 + timedelta(hours=2) if cheaper is not None else None
    return PlanNote("s-ch/1", 0.12, cheaper, later, T0 + timedelta(hours=8), 7.4)


def test_held_at_zero_with_no_cheaper_block_it_waits_at_the_same_price() -> None:
    kind, words = _words(0.0, _note(None))
    assert kind is BindingKind.PLANNED_RATE
    assert words == (
        "; waits at the same price: 0.12 /kWh now, no cheaper block before it departs; the "
        "plan gives the room now to sessions that depart sooner, or keeps the demand peak "
        "down; departs 17:00, 7.4 h of slack"
    )


def test_charging_on_the_plan_with_no_cheaper_block_is_planned_at_the_price_now() -> None:
    _, words = _words(10.0, _note(None))
    assert words.startswith("; planned: 0.12 /kWh now, no cheaper block it charges in")


def test_held_for_a_cheaper_block_is_deferred() -> None:
    _, words = _words(0.0, _note(0.06))
    assert words.startswith("; deferred: 0.12 /kWh now vs 0.06 /kWh from 11:00")
