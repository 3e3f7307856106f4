"""Explanations: every candidate limit on an EVSE's path with its slack, exactly one of
them binding, and each node's effective limits with their source and headroom."""

from __future__ import annotations

from datetime import timedelta

import pytest

from depotctl.domain.envelopes import Direction, Envelope, LimitUnit, SourceHealth
from depotctl.domain.topology import NodeLimits, Topology
from depotctl.engine import Allocation, LimitKind, LimitSource, allocate
from depotctl.engine.allocation import Binding, EvseState
from depotctl.engine.explain import Candidate
from tests.engine.conftest import POLICY, T0, Depot, at, session, snapshot


def depot() -> Topology:
    """gc (100 kW) → db (20 A) → ch (32 A charger, two EVSEs) and ch-2."""
    tree = Depot().node("gc", import_w=100_000.0).node("db", "gc", current_a=20.0)
    return tree.charger("ch", "db", current_a=32.0).charger("ch-2", "db").topology()


def allocated(topology: Topology, *sessions: object, **fields: object) -> Allocation:
    return allocate(snapshot(topology, sessions=sessions, **fields))  # type: ignore[arg-type]


def binding(chain: list[Candidate]) -> list[Candidate]:
    return [c for c in chain if c.binding]


def test_the_chain_lists_own_caps_then_every_limit_up_to_the_grid_with_its_slack() -> None:
    """One EVSE charging: 20 A, bound by db; the vehicle allows 30 A, the charger 32 A,
    the grid connection (100 − 13.8) kW / 690 W/A = 124.9 A more."""
    allocation = allocated(depot(), session("ch/1", vehicle_max_current_a=30.0))
    chain = allocation.candidates("ch/1")
    assert [(c.what, c.ref, c.limit, c.source) for c in chain] == [
        ("charger limit", "ch/1", "32.0 A", "EVSE"),
        ("vehicle limit", "ch/1", "30.0 A", "session"),
        ("ch current on L1", "ch", "32.0 A", "static"),
        ("ch current on L2", "ch", "32.0 A", "static"),
        ("ch current on L3", "ch", "32.0 A", "static"),
        ("db current on L1", "db", "20.0 A", "static"),
        ("db current on L2", "db", "20.0 A", "static"),
        ("db current on L3", "db", "20.0 A", "static"),
        ("gc import power", "gc", "100.0 kW", "static"),
    ]
    assert [c.slack_a for c in chain] == pytest.approx(
        [12.0, 10.0, 12.0, 12.0, 12.0, 0.0, 0.0, 0.0, (100_000 - 20 * 690) / 690]
    )
    [bound] = binding(chain)
    assert bound.ref == "db" and bound.slack_a == pytest.approx(0.0)
    view = allocation.evses["ch/1"]
    assert (view.binding.kind.value, view.binding.ref) == ("node_limit", "db")
    assert bound.what in view.binding.detail


def test_an_own_cap_that_binds_is_the_one_marked() -> None:
    allocation = allocated(depot(), session("ch/1", vehicle_max_current_a=10.0))
    [bound] = binding(allocation.candidates("ch/1"))
    assert (bound.what, bound.slack_a) == ("vehicle limit", 0.0)


def test_a_paused_evse_is_bound_where_its_minimum_found_no_room() -> None:
    """Four EVSEs on 20 A: three minimums fit (18 A), the fourth would need 24 A."""
    tree = Depot().node("gc").node("db", "gc", current_a=20.0)
    for name in ("a", "b", "c", "d"):
        tree.charger(name, "db")
    topology = tree.topology()
    allocation = allocated(topology, *(session(e) for e in sorted(topology.evses)))
    assert allocation.evses["d/1"].state is EvseState.PAUSED
    chain = allocation.candidates("d/1")
    [bound] = binding(chain)
    assert (bound.ref, bound.what) == ("db", "db current on L1")
    assert bound.slack_a < 6.0
    assert not next(c for c in chain if c.what == "charger limit").binding


def test_a_satisfied_session_names_its_energy_as_the_binding_limit() -> None:
    allocation = allocated(depot(), session("ch/1", delivered_kwh=50.0))
    [bound] = binding(allocation.candidates("ch/1"))
    assert (bound.what, bound.limit) == ("energy satisfied", "0.0 A")


def test_an_idle_evse_lists_its_path_but_nothing_binds_it() -> None:
    chain = allocated(depot()).candidates("ch-2/1")
    assert [c.ref for c in chain] == ["db", "db", "db", "gc"]
    assert binding(chain) == []


def test_an_envelope_candidate_names_its_source() -> None:
    topology = depot()
    envelope = Envelope(
        id="E-3",
        source="dso",
        target="gc",
        direction=Direction.IMPORT,
        limit=6_900.0,
        unit=LimitUnit.W,
        start=at(-5),
        end=None,
        received_at=at(-6),
    )
    online = {"dso": SourceHealth("dso", T0 - timedelta(seconds=1), 60.0)}
    allocation = allocated(topology, session("ch/1"), envelopes=(envelope,), sources=online)
    [bound] = binding(allocation.candidates("ch/1"))
    assert (bound.what, bound.limit, bound.source) == ("gc import power", "6.9 kW", "envelope E-3")
    assert allocation.evses["ch/1"].binding == Binding(
        allocation.evses["ch/1"].binding.kind, "E-3", allocation.evses["ch/1"].binding.detail
    )


def test_a_site_fallback_candidate_names_the_offline_source() -> None:
    tree = Depot().node("gc", import_w=100_000.0)
    tree.source("dso", "gc", fallback=NodeLimits(import_w=13_800.0))
    allocation = allocated(tree.charger("ch", "gc").topology(), session("ch/1"))
    [bound] = binding(allocation.candidates("ch/1"))
    assert bound.source == "fallback for offline source dso"
    assert bound.limit == "13.8 kW"


def test_candidates_of_an_unknown_evse_raise_key_error() -> None:
    with pytest.raises(KeyError):
        allocated(depot()).candidates("nowhere/1")


def test_each_node_constraint_has_its_limit_source_load_and_headroom() -> None:
    tree = Depot().node("gc", import_w=100_000.0).node("db", "gc", current_a=40.0)
    tree.load("pumps", "db", fallback_a=10.0)
    topology = tree.charger("ch", "db").topology()
    allocation = allocate(snapshot(topology, POLICY, sessions=(session("ch/1"),)))
    db = allocation.constraints[("db", LimitKind.CURRENT_L2)]
    assert (db.effective_limit, db.source, db.reserved) == (40.0, LimitSource("static"), 10.0)
    assert db.allocated == pytest.approx(30.0)
    assert db.headroom == pytest.approx(0.0)
    gc = allocation.constraints[("gc", LimitKind.IMPORT_POWER)]
    assert gc.reserved == pytest.approx(10.0 * 690)
    assert gc.allocated == pytest.approx(30.0 * 690)
    assert gc.headroom == pytest.approx(100_000 - 40 * 690)
    # unlimited quantities are not listed: db has no power limit, gc no current limit
    assert {c.kind for c in allocation.node_constraints("db")} == {
        LimitKind.CURRENT_L1,
        LimitKind.CURRENT_L2,
        LimitKind.CURRENT_L3,
    }
    assert ("gc", LimitKind.CURRENT_L1) not in allocation.constraints
