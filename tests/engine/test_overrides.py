"""Operator overrides in the allocator: a paused EVSE gets 0 A, a capped one at most its
cap (rounded down to the step), each explained as the operator's doing — and a cap
that the tree binds first is not named."""

from __future__ import annotations

from datetime import timedelta

import pytest

from depotctl.domain.chargers import ChargerState, CommandOutcome
from depotctl.domain.overrides import EvseOverride
from depotctl.domain.topology import Topology
from depotctl.engine import Allocation, BindingKind, EvseState, allocate
from depotctl.views import Origin, allocation_json, explain_json
from tests.engine.conftest import T0, Depot, at, session, snapshot


def depot() -> Topology:
    """gc (100 A) → db (40 A) → two 32 A chargers: alone, each gets 32 A; together
    they share db's 40 A."""
    tree = Depot().node("gc", current_a=100.0).node("db", "gc", current_a=40.0)
    return tree.charger("a", "db").charger("b", "db").topology()


def paused(evse_id: str, reason: str | None = "cable damaged") -> EvseOverride:
    return EvseOverride(evse_id, True, None, at(-58), "alice", reason)


def capped(evse_id: str, amps: float, author: str = "bob") -> EvseOverride:
    return EvseOverride(evse_id, False, amps, at(-30), author)


def run(*overrides: EvseOverride, both: bool = True, **fields: object) -> Allocation:
    topology = depot()
    sessions = (session("a/1"), session("b/1")) if both else (session("a/1"),)
    return allocate(
        snapshot(
            topology,
            sessions=sessions,
            overrides={o.evse_id: o for o in overrides},
            **fields,  # type: ignore[arg-type]
        )
    )


def test_a_paused_evse_gets_nothing_and_says_who_paused_it_and_why() -> None:
    allocation = run(paused("a/1"))
    view = allocation.evses["a/1"]
    assert (view.limit_a, view.state) == (0.0, EvseState.PAUSED)
    assert (view.binding.kind, view.binding.ref) == (BindingKind.OPERATOR_OVERRIDE, "a/1")
    assert view.binding.detail == (
        'paused by operator (alice, 2024-03-04 08:02:00+00:00: "cable damaged")'
    )
    assert allocation.limits_a["b/1"] == 32.0  # the room it left goes to the other


def test_a_pause_without_a_reason_names_only_who_and_when() -> None:
    view = run(paused("a/1", reason=None)).evses["a/1"]
    assert view.binding.detail == "paused by operator (alice, 2024-03-04 08:02:00+00:00)"


def test_an_override_set_on_another_day_gives_its_date() -> None:
    override = EvseOverride("a/1", True, None, T0 - timedelta(days=2), "alice")
    view = run(override).evses["a/1"]
    assert view.binding.detail == "paused by operator (alice, 2024-03-02 09:00:00+00:00)"


def test_a_pause_wins_over_an_own_cap_that_would_also_give_zero() -> None:
    """The session has its energy (0 A anyway): the operator's pause is still the reason."""
    topology = depot()
    allocation = allocate(
        snapshot(
            topology,
            sessions=(session("a/1", delivered_kwh=50.0),),
            overrides={"a/1": paused("a/1")},
        )
    )
    assert allocation.evses["a/1"].binding.kind is BindingKind.OPERATOR_OVERRIDE


def test_a_cap_tighter_than_everything_binds_and_is_named() -> None:
    allocation = run(capped("a/1", 12.0))
    view = allocation.evses["a/1"]
    assert (view.limit_a, view.state) == (12.0, EvseState.CHARGING)
    assert (view.binding.kind, view.binding.ref) == (BindingKind.OPERATOR_OVERRIDE, "a/1")
    assert view.binding.detail == "capped at 12 A by operator (bob, 2024-03-04 08:30:00+00:00)"
    assert allocation.limits_a["b/1"] == 28.0  # db's 40 A less the 12


def test_a_cap_is_rounded_down_to_the_step() -> None:
    view = run(capped("a/1", 12.37)).evses["a/1"]
    assert view.limit_a == 12.3
    assert view.binding.detail.startswith("capped at 12.37 A by operator")


def test_a_cap_looser_than_the_node_limits_is_not_binding() -> None:
    """Together a and b share db's 40 A, 20 A each: a cap of 25 A changes nothing."""
    free = run()
    allocation = run(capped("a/1", 25.0))
    assert allocation.limits_a == free.limits_a == {"a/1": 20.0, "b/1": 20.0}
    view = allocation.evses["a/1"]
    assert (view.binding.kind, view.binding.ref) == (BindingKind.NODE_LIMIT, "db")
    assert not next(
        c for c in allocation.candidates("a/1") if c.what == "operator override"
    ).binding


def test_a_cap_equal_to_the_evses_own_maximum_leaves_the_charger_limit_named() -> None:
    view = run(capped("a/1", 32.0), both=False).evses["a/1"]
    assert view.limit_a == 32.0
    assert view.binding.kind is BindingKind.CHARGER_LIMIT


def test_a_cap_below_the_minimum_current_pauses_and_says_why() -> None:
    view = run(capped("a/1", 4.0)).evses["a/1"]
    assert (view.limit_a, view.state) == (0.0, EvseState.PAUSED)
    assert view.binding.kind is BindingKind.OPERATOR_OVERRIDE
    assert view.binding.detail == (
        "capped at 4 A by operator (bob, 2024-03-04 08:30:00+00:00), below the EVSE's minimum "
        "of 6.0 A: paused"
    )


def test_an_override_on_an_evse_without_a_session_holds_its_start_allowance() -> None:
    """A vehicle plugging into a paused EVSE must not start at its fallback: its start
    allowance is 0 A, and nothing else changes."""
    free = run(both=False)
    allocation = run(paused("b/1"), both=False)
    assert free.limits_a["b/1"] > 0
    assert allocation.limits_a == {**free.limits_a, "b/1": 0.0}
    view = allocation.evses["b/1"]
    assert (view.state, view.binding.kind, view.binding.ref) == (
        EvseState.IDLE,
        BindingKind.OPERATOR_OVERRIDE,
        "b/1",
    )
    assert view.binding.detail.startswith("idle: a vehicle may start at up to 0.0 A")


def test_an_override_on_an_uncontrollable_charger_changes_nothing() -> None:
    """It cannot be commanded: its assumed draw is what it is."""
    offline = {"a": ChargerState("a", online=False, last_outcome=CommandOutcome.OFFLINE)}
    free = run(chargers=offline)
    allocation = run(paused("a/1"), chargers=offline)
    assert allocation.limits_a == free.limits_a
    assert allocation.evses["a/1"] == free.evses["a/1"]


def test_hysteresis_never_holds_a_limit_above_the_cap() -> None:
    """In force 20 A, capped at 12: the decrease goes out at once."""
    policy_fields = {"previous_limits": {"a/1": 20.0, "b/1": 20.0}}
    allocation = run(capped("a/1", 12.0), **policy_fields)
    assert allocation.limits_a["a/1"] == 12.0


def test_the_candidates_list_the_override_with_the_operator_as_its_source() -> None:
    allocation = run(capped("a/1", 12.0))
    chain = allocation.candidates("a/1")
    [override] = [c for c in chain if c.what == "operator override"]
    assert (override.ref, override.limit, override.source) == ("a/1", "12 A", "operator")
    assert override.binding and override.slack_a == pytest.approx(0.0)
    assert [c for c in chain if c.binding] == [override]
    [pause] = [c for c in run(paused("a/1")).candidates("a/1") if c.binding]
    assert (pause.what, pause.limit) == ("operator override", "0 A")


def test_the_json_carries_the_override_and_its_binding_kind() -> None:
    topology = depot()
    snap = snapshot(
        topology,
        sessions=(session("a/1"), session("b/1")),
        overrides={"a/1": paused("a/1"), "b/1": capped("b/1", 25.0)},
    )
    allocation = allocate(snap)
    evses = {e["id"]: e for e in allocation_json(snap, allocation, Origin())["evses"]}
    assert evses["a/1"]["binding"]["kind"] == "operator_override"
    assert evses["a/1"]["override"] == {
        "paused": True,
        "cap_a": None,
        "set_at": "2024-03-04T08:02:00+00:00",
        "author": "alice",
        "reason": "cable damaged",
    }
    assert evses["b/1"]["override"]["cap_a"] == 25.0
    # alone under db (a is paused), b would take its 32 A: the cap holds it at 25
    assert (evses["b/1"]["limit_a"], evses["b/1"]["binding"]["kind"]) == (25.0, "operator_override")
    plain = snapshot(topology, sessions=snap.sessions)
    assert all(
        "override" not in e for e in allocation_json(plain, allocate(plain), Origin())["evses"]
    )
    explained = explain_json(snap, allocation, "a/1", Origin())["evse"]
    assert explained["override"]["paused"] is True
