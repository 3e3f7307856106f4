"""Explanations: every candidate limit on an EVSE's path with its slack, exactly one of
them binding, each node's effective limits with their source and headroom, the binding
kind of a full node named by the source of its limit (never by a stale meter beside
it), and the priority that decided between tiers."""

from __future__ import annotations

import math
import re
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings

from depotctl.domain.chargers import ChargerState
from depotctl.domain.envelopes import (
    Direction,
    Envelope,
    EnvelopeMode,
    LimitUnit,
    SourceHealth,
)
from depotctl.domain.policy import StaleLoad
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.telemetry import Reading
from depotctl.domain.topology import NodeKind, NodeLimits, Topology
from depotctl.engine import Allocation, LimitKind, LimitSource, allocate
from depotctl.engine.allocation import Binding, BindingKind, EvseState
from depotctl.engine.explain import Candidate
from depotctl.engine.priority import Priority, laxity_s
from tests.engine.conftest import POLICY, T0, Depot, at, decision_of, is_urgent, session, snapshot
from tests.engine.strategies import snapshots

FAST = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)


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


# The binding kind names the limit that is full


def _envelope(
    envelope_id: str,
    watts: float,
    *,
    source: str = "dso",
    target: str = "gc",
    mode: EnvelopeMode = EnvelopeMode.NORMAL,
) -> Envelope:
    return Envelope(
        id=envelope_id,
        source=source,
        target=target,
        direction=Direction.IMPORT,
        limit=watts,
        unit=LimitUnit.W,
        start=at(-5),
        end=None,
        received_at=at(-6),
        mode=mode,
    )


HEARD = SourceHealth("dso", T0 - timedelta(seconds=1), 60.0)
SILENT = SourceHealth("dso", T0 - timedelta(hours=1), 60.0)
STALE = Reading("m-workshop", T0 - timedelta(minutes=8), power_w=2_000.0)


def _night(import_w: float = 100_000.0, **fields: object) -> Allocation:
    """The reviewer's night: two buses under gc (100 kW static, source dso), whose
    workshop meter has been silent for 8 minutes, so its 10 A fallback is reserved."""
    fields = {"telemetry": {"m-workshop": STALE}, **fields}
    tree = Depot().node("gc", import_w=import_w, envelope_source="dso")
    tree.load("workshop", "gc", fallback_a=10.0, meter="m-workshop")
    tree.source("dso", "gc", fallback=NodeLimits(import_w=20_700.0))
    topology = tree.charger("ch", "gc").charger("ch-2", "gc").topology()
    return allocate(
        snapshot(
            topology,
            sessions=(session("ch/1"), session("ch-2/1")),
            **fields,  # type: ignore[arg-type]
        )
    )


@pytest.mark.parametrize(
    ("fields", "kind", "ref", "named"),
    [
        pytest.param(
            {"envelopes": (_envelope("E-17", 27_600.0),), "sources": {"dso": HEARD}},
            BindingKind.ENVELOPE,
            "E-17",
            "(envelope E-17)",
            id="a fresh envelope",
        ),
        pytest.param(
            {"envelopes": (_envelope("E-17", 18_000.0),), "sources": {"dso": SILENT}},
            BindingKind.ENVELOPE,
            "E-17",
            "(envelope E-17, source dso offline)",
            id="an envelope whose source went offline",
        ),
        pytest.param(
            {
                "envelopes": (_envelope("F-1", 24_000.0, mode=EnvelopeMode.FALLBACK),),
                "sources": {"dso": SILENT},
            },
            BindingKind.ENVELOPE,
            "F-1",
            "(envelope F-1, offline source dso's own fallback)",
            id="the source's own fallback envelope",
        ),
        pytest.param(
            {"sources": {"dso": SILENT}},
            BindingKind.FALLBACK,
            "dso",
            "(site fallback for offline source dso)",
            id="the site's fallback for the offline source",
        ),
        pytest.param(
            {
                "import_w": 27_600.0,
                "envelopes": (_envelope("E-17", 150_000.0),),
                "sources": {"dso": HEARD},
            },
            BindingKind.NODE_LIMIT,
            "gc",
            "(static limit)",
            id="the static limit, looser envelope",
        ),
    ],
)
def test_the_limit_that_is_full_is_the_binding_kind_though_a_site_meter_is_stale(
    fields: dict[str, object], kind: BindingKind, ref: str, named: str
) -> None:
    """Reproduces the reviewer's night, where every EVSE read ``stale_telemetry gc``:
    what is full is the envelope (or the source's fallback, or the static limit); the
    kind and ref name it, the detail names the same limit and then the stale meter
    whose fallback is reserved against it."""
    allocation = _night(**fields)
    for evse_id in ("ch/1", "ch-2/1"):
        view = allocation.evses[evse_id]
        assert view.state is EvseState.CHARGING
        assert (view.binding.kind, view.binding.ref) == (kind, ref)
        assert view.binding.detail.startswith("gc import power is full: ")
        assert named in view.binding.detail
        assert (
            "6.9 kW of it reserved for other load (site load 6.9 kW with stale telemetry, "
            "counted at its fallback: the last reading of workshop is 8 min old)"
        ) in view.binding.detail


def test_a_paused_evse_names_the_limit_it_found_no_room_under() -> None:
    """Four EVSEs under a 20.7 kW site fallback with 6.9 kW reserved: two minimums
    (2 × 4.14 kW) fit, the others pause naming gc and the fallback that fills it."""
    tree = Depot().node("gc", import_w=100_000.0, envelope_source="dso")
    tree.load("workshop", "gc", fallback_a=10.0, meter="m-workshop")
    tree.source("dso", "gc", fallback=NodeLimits(import_w=20_700.0))
    for name in ("a", "b", "c", "d"):
        tree.charger(name, "gc")
    topology = tree.topology()
    sessions = tuple(session(evse_id) for evse_id in sorted(topology.evses))
    allocation = allocate(snapshot(topology, sessions=sessions, sources={"dso": SILENT}))
    paused = [v for v in allocation.evses.values() if v.state is EvseState.PAUSED]
    assert paused
    for view in paused:
        assert (view.binding.kind, view.binding.ref) == (BindingKind.MIN_CURRENT_ADMISSION, "gc")
        assert "at gc import power, 20.7 kW effective (site fallback for offline source dso)" in (
            view.binding.detail
        )
        assert "there is no reading of workshop" in view.binding.detail


def test_under_the_last_known_policy_the_detail_says_what_the_stale_load_counts_as() -> None:
    policy = replace(POLICY, stale_site_load=StaleLoad.LAST_KNOWN_PLUS_MARGIN, stale_margin=0.2)
    view = _night(policy=policy, sources={"dso": SILENT}).evses["ch/1"]
    assert (view.binding.kind, view.binding.ref) == (BindingKind.FALLBACK, "dso")
    assert "counted at the higher of its fallback and its last reading + 20 %" in (
        view.binding.detail
    )


def test_measured_site_load_is_reserved_without_a_word_about_staleness() -> None:
    fresh = {"m-workshop": replace(STALE, at=T0)}
    view = _night(telemetry=fresh, sources={"dso": SILENT}).evses["ch/1"]
    assert view.binding.kind is BindingKind.FALLBACK
    assert view.binding.detail.endswith(", 2.0 kW of it reserved for other load")


def test_an_evse_awaiting_an_answer_is_named_apart_from_uncontrollable_chargers() -> None:
    """a/1 was sent 10 A over its 14 A and has no answer yet: it counts at 14 A, and
    the detail of b/1, held by gc, says so without calling a/1 uncontrollable."""
    tree = Depot().node("gc", current_a=40.0).charger("a", "gc").charger("b", "gc")
    topology = tree.charger("old", "gc").topology()
    allocation = allocated(
        topology,
        session("a/1"),
        session("b/1"),
        pending={"a/1": 10.0},
        previous_limits={"a/1": 14.0, "b/1": 6.0},
        chargers={"old": ChargerState("old", online=False, last_accepted_limit_a=6.0)},
    )
    view = allocation.evses["b/1"]
    assert (view.binding.kind, view.binding.ref) == (BindingKind.NODE_LIMIT, "gc")
    assert view.binding.detail.endswith(
        "20.0 A of it reserved for other load (uncontrollable chargers are assumed to draw "
        "6.0 A; EVSEs awaiting the answer to a command are counted at 14.0 A)"
    )


_CLAUSE = re.compile(r" (?:is full: |at [^,]+, )[0-9.]+ (?:A|kW) effective \((?P<source>[^)]*)\)")


def _source_words(source: LimitSource, node_kind: NodeKind) -> str | None:
    """What the detail must say set the limit; None: any words naming the envelope's
    offline source."""
    if source.kind == "envelope":
        return f"envelope {source.ref}" if source.fresh else None
    if source.kind == "fallback":
        return f"site fallback for offline source {source.ref}"
    return "rating" if node_kind is NodeKind.CHARGER else "static limit"


# Drawing a depot costs several times what allocating it does: one draw serves both
# property checks of explanations (each still on FAST's 150 depots).


@FAST
@given(snapshots())
def test_explanations_name_the_full_nodes_source_and_the_laxity_that_made_it_urgent(
    snap: Snapshot,
) -> None:
    """The two checks below, on every depot drawn."""
    allocation = allocate(snap)
    check_an_evse_held_by_a_full_node_is_named_by_the_source_of_that_nodes_limit(snap, allocation)
    check_the_laxity_explained_is_the_one_that_made_the_session_urgent(snap, allocation)


def check_an_evse_held_by_a_full_node_is_named_by_the_source_of_that_nodes_limit(
    snap: Snapshot, allocation: Allocation
) -> None:
    """For every EVSE a node holds — charging, stopped there by water-filling, or
    paused there for want of room for its minimum — the binding kind and ref follow
    the source of that node's effective limit (envelope ↔ ``envelope`` and its id,
    the site's fallback ↔ ``fallback`` and the source, a charger's rating ↔
    ``charger_limit``, a static limit ↔ ``node_limit``), and the detail names the same
    limit; stale site load is named in the detail only, and only where it is reserved."""
    decision = decision_of(allocation)
    structure, capacity = decision.structure, decision.capacity
    for evse_id, index in structure.evse_index.items():
        view = allocation.evses[evse_id]
        if view.state is EvseState.CHARGING and decision.binder[index] >= 0:
            con = int(decision.binder[index])
        elif view.binding.kind is BindingKind.MIN_CURRENT_ADMISSION and view.binding.ref:
            con = int(decision.paused_at[index])
        else:
            continue
        node_id, _ = structure.describe(con)
        node = snap.topology.nodes[node_id]
        source = capacity.sources[con]
        expected = {
            "envelope": (BindingKind.ENVELOPE, source.ref),
            "fallback": (BindingKind.FALLBACK, source.ref),
        }.get(
            source.kind,
            (
                BindingKind.CHARGER_LIMIT
                if node.kind is NodeKind.CHARGER
                else BindingKind.NODE_LIMIT,
                node_id,
            ),
        )
        if view.state is EvseState.CHARGING:
            assert (view.binding.kind, view.binding.ref) == expected, view.binding.detail
        else:
            assert view.binding.ref == node_id
        assert view.binding.kind is not BindingKind.STALE_TELEMETRY
        match = _CLAUSE.search(view.binding.detail)
        assert match is not None, view.binding.detail
        words = _source_words(source, node.kind)
        if words is None:  # an envelope resting on its offline source
            assert match["source"].startswith(f"envelope {source.ref}, ")
            assert "offline" in match["source"]
        else:
            assert match["source"] == words
        assert ("stale telemetry" in view.binding.detail) == (con in capacity.stale)


# The priority that decided between tiers


def test_the_priority_names_class_urgency_and_laxity() -> None:
    """Class 1 and 2 hours to go for 22.08 kWh at 22.08 kW: 1 h of laxity, over the
    30 min threshold; with 20 minutes to go it is urgent and cannot make it."""
    topology = Depot().node("gc").charger("ch", "gc").charger("ch-2", "gc").topology()
    relaxed = session("ch/1", energy_kwh=22.08, hours_left=2.0, priority_class=1)
    hurried = session("ch-2/1", energy_kwh=22.08, hours_left=1 / 3)
    allocation = allocated(topology, relaxed, hurried)
    calm = allocation.priority("ch/1")
    assert calm == Priority(1, False, pytest.approx(3600.0), 1800.0)  # type: ignore[arg-type]
    assert str(calm) == "class 1, not urgent: laxity 1 h (urgent under 30 min)"
    urgent = allocation.priority("ch-2/1")
    assert urgent is not None and urgent.urgent
    assert str(urgent) == (
        "class 0, urgent: laxity −40 min (urgent under 30 min); even at full rate it cannot "
        "have all it needs by its departure"
    )
    assert allocated(topology).priority("ch/1") is None  # no vehicle


def check_the_laxity_explained_is_the_one_that_made_the_session_urgent(
    snap: Snapshot, allocation: Allocation
) -> None:
    """The laxity in words agrees with the cycle's urgency (and, under the default
    least-laxity policy, with its admission order), for every session."""
    decision = decision_of(allocation)
    for index, s in decision.demands.sessions.items():
        priority = allocation.priority(s.evse_id)
        assert priority is not None
        assert priority.priority_class == s.priority_class
        assert priority.urgent == is_urgent(snap, s)
        assert priority.laxity_s == laxity_s(snap, s)
        if snap.policy.priority == "laxity":
            order = float(decision.demands.order[index])
            assert priority.laxity_s == pytest.approx(order) or (
                math.isinf(order) and priority.laxity_s == order
            )
