"""The alert conditions read off a snapshot and its allocation: uncontrollable
chargers, stale meters, offline envelope sources and over-committed nodes — each
on hand-made depots, then as properties over generated snapshots, against the rules
written out here independently of the engine."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings

from depotctl.domain.alerts import AlertCondition, AlertKind, Subject, SubjectKind
from depotctl.domain.chargers import ChargerState, CommandOutcome
from depotctl.domain.envelopes import (
    LOCAL_SOURCE,
    Direction,
    Envelope,
    EnvelopeMode,
    LimitUnit,
    SourceHealth,
)
from depotctl.domain.phases import Phase
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.telemetry import Reading
from depotctl.domain.topology import NodeLimits, StorageSpec, Topology
from depotctl.engine import LimitKind, allocate
from depotctl.engine.alerts import OVERCOMMIT_TOLERANCE, alert_conditions, envelope_breaches
from tests.engine.conftest import T0, Depot, at, snapshot
from tests.engine.strategies import snapshots

#: alerts are property-tested without the slow-generation health check (a loaded
#: machine must not fail them): the suite's run on 100 depots, the deep one (``pytest
#: -m slow``) on 1,000
PROPERTY = settings(max_examples=100, suppress_health_check=[HealthCheck.too_slow])
DEEP = settings(PROPERTY, max_examples=1000)


def conditions(snap: Snapshot) -> list[AlertCondition]:
    return alert_conditions(snap, allocate(snap))


def of_kind(found: list[AlertCondition], kind: AlertKind) -> dict[Subject, AlertCondition]:
    return {c.subject: c for c in found if c.kind is kind}


def depot() -> Topology:
    """A 400 A grid connection, a 100 A board with two 32 A chargers and a workshop
    read through meter m-ws, and an envelope source on the grid connection."""
    return (
        Depot()
        .node("gc", current_a=400.0, import_w=250_000.0, envelope_source="dnsp")
        .node("db", "gc", current_a=100.0)
        .charger("c1", "db")
        .charger("c2", "db")
        .load("workshop", "db", fallback_a=20.0, meter="m-ws")
        .source("dnsp", "gc", fallback=NodeLimits(import_w=150_000.0), offline_after_s=300.0)
        .topology()
    )


def fresh(node: str = "m-ws", amps: float = 10.0) -> dict[str, Reading]:
    return {node: Reading(node, T0 - timedelta(seconds=5), current_a=dict.fromkeys(Phase, amps))}


def heard(seconds_ago: float = 10.0) -> dict[str, SourceHealth]:
    return {"dnsp": SourceHealth("dnsp", T0 - timedelta(seconds=seconds_ago), 300.0)}


def quiet(topology: Topology, **fields: object) -> Snapshot:
    """Everything well: the meter fresh, the source heard from; ``fields`` change it."""
    base: dict[str, object] = {"telemetry": fresh(), "sources": heard()}
    return snapshot(topology, **{**base, **fields})


def test_a_depot_where_all_is_well_raises_nothing() -> None:
    assert conditions(quiet(depot())) == []


# Chargers


@pytest.mark.parametrize(
    ("state", "reason"),
    [
        (
            ChargerState("c1", last_outcome=CommandOutcome.TIMEOUT, reason="no answer within 5 s"),
            "no answer within 5 s",
        ),
        (
            ChargerState("c1", last_outcome=CommandOutcome.TIMEOUT),
            "its last command was not answered",
        ),
        (
            ChargerState("c1", last_outcome=CommandOutcome.REJECTED, reason="TxNotFound"),
            "its last command was rejected: TxNotFound",
        ),
        (ChargerState("c1", online=False), "offline"),
        (ChargerState("c1", online=False, reason="connection lost"), "offline: connection lost"),
        (ChargerState("c1", last_outcome=CommandOutcome.OFFLINE), "offline when last commanded"),
    ],
)
def test_an_uncontrollable_charger_is_alerted_with_its_reason(
    state: ChargerState, reason: str
) -> None:
    snap = quiet(depot(), chargers={"c1": state})
    [condition] = conditions(snap)
    assert condition.kind is AlertKind.CHARGER_UNCONTROLLABLE
    assert condition.subject == Subject(SubjectKind.CHARGER, "c1")
    assert condition.reason == reason
    # the draw the allocation assumes for it, per EVSE
    assert condition.data["assumed_a"] == {"c1/1": allocate(snap).evses["c1/1"].limit_a}
    assert condition.data["assumed_a"]["c1/1"] > 0


@pytest.mark.skipif(
    "fallback_accepted" not in ChargerState.__dataclass_fields__,
    reason="ChargerState has no fallback_accepted yet",
)
def test_a_charger_that_never_accepted_its_fallback_is_alerted_as_such() -> None:
    state = ChargerState("c2", **{"fallback_accepted": False})  # type: ignore[arg-type]
    [condition] = conditions(quiet(depot(), chargers={"c2": state}))
    assert condition.reason == "its fallback profile was not accepted"


def test_controllable_chargers_and_chargers_the_site_lost_raise_nothing() -> None:
    states = {
        "c1": ChargerState("c1", last_outcome=CommandOutcome.ACCEPTED, last_accepted_limit_a=16),
        "gone": ChargerState("gone", online=False),  # no longer in the site
    }
    assert conditions(quiet(depot(), chargers=states)) == []


# Meters


def test_a_battery_whose_meter_is_stale_is_alerted_as_charging_at_its_maximum() -> None:
    battery = StorageSpec("bess", "gc", None, 230.0, 100_000.0, 30_000.0, 30_000.0, meter="m-b")
    topology = replace(depot(), storage={"bess": battery})
    [condition] = conditions(quiet(topology))
    assert condition.subject == Subject(SubjectKind.METER, "m-b")
    assert condition.reason == "no reading yet; battery bess counts at the stale-data fallback"
    fresh_battery = {**fresh(), "m-b": Reading("m-b", T0, power_w=-5_000.0)}
    assert conditions(quiet(topology, telemetry=fresh_battery)) == []


def test_a_meter_never_read_is_stale() -> None:
    [condition] = conditions(quiet(depot(), telemetry={}))
    assert condition.kind is AlertKind.METER_STALE
    assert condition.subject == Subject(SubjectKind.METER, "m-ws")
    assert condition.reason == (
        "no reading yet; site load workshop counts at the stale-data fallback"
    )
    assert condition.data["loads"] == ["workshop"]
    assert condition.data["last_reading_at"] is None


def test_a_reading_older_than_the_policy_allows_is_stale_and_its_time_is_named() -> None:
    old = {"m-ws": Reading("m-ws", T0 - timedelta(seconds=95), power_w=4000.0)}
    [condition] = conditions(quiet(depot(), telemetry=old))
    assert condition.reason.startswith("last reading 2024-03-04T08:58:25Z (stale after 30 s)")
    assert condition.data["last_reading_at"] == "2024-03-04T08:58:25Z"


def test_a_reading_stamped_ahead_of_the_controller_is_stale() -> None:
    ahead = {"m-ws": Reading("m-ws", T0 + timedelta(minutes=5), power_w=4000.0)}
    [condition] = conditions(quiet(depot(), telemetry=ahead))
    assert "ahead of the controller" in condition.reason


def test_a_fresh_reading_that_measures_too_little_is_stale_as_the_engine_counts_it() -> None:
    partial = {"m-ws": Reading("m-ws", T0, current_a={Phase.L1: 3.0})}  # one line, no power
    [condition] = conditions(quiet(depot(), telemetry=partial))
    assert condition.reason.startswith("its reading measures neither power nor the current")


def test_a_reading_under_the_loads_own_id_names_the_load_as_the_point() -> None:
    old = {"workshop": Reading("workshop", T0 - timedelta(hours=1), power_w=1.0)}
    [condition] = conditions(quiet(depot(), telemetry=old))
    assert condition.subject == Subject(SubjectKind.NODE, "workshop")


def test_two_loads_on_one_stale_meter_make_one_alert_naming_both() -> None:
    topology = (
        Depot()
        .node("gc", current_a=400.0)
        .load("a", "gc", fallback_a=5.0, meter="m")
        .load("b", "gc", fallback_a=5.0, meter="m")
        .topology()
    )
    [condition] = conditions(snapshot(topology))
    assert condition.subject == Subject(SubjectKind.METER, "m")
    assert condition.data["loads"] == ["a", "b"]
    assert "site loads a, b count at the stale-data fallback" in condition.reason


# Envelope sources


def test_a_source_never_heard_from_is_offline_and_its_site_fallback_named() -> None:
    [condition] = conditions(quiet(depot(), sources={}))
    assert condition.kind is AlertKind.SOURCE_OFFLINE
    assert condition.subject == Subject(SubjectKind.SOURCE, "dnsp")
    assert condition.reason == "never heard from; fallback in force: gc import ≤ 150 kW (site)"
    assert condition.data["fallback"] == [
        {"target": "gc", "direction": "import", "limit": 150_000.0, "unit": "W", "envelope": None}
    ]


def test_a_silent_source_names_when_it_was_last_heard_and_its_own_fallback_envelope() -> None:
    own = Envelope(
        id="F-1",
        source="dnsp",
        target="gc",
        direction=Direction.IMPORT,
        limit=120_000.0,
        unit=LimitUnit.W,
        start=at(-60),
        end=None,
        received_at=at(-60),
        mode=EnvelopeMode.FALLBACK,
    )
    snap = quiet(depot(), sources=heard(600.0), envelopes=(own,))
    [condition] = conditions(snap)
    assert condition.reason == (
        "last heard 2024-03-04T08:50:00Z (offline after 300 s); "
        "fallback in force: gc import ≤ 120 kW (envelope F-1)"
    )


def test_a_source_heard_within_its_allowance_and_the_local_source_raise_nothing() -> None:
    topology = depot()
    local = replace(topology.sources["dnsp"], id=LOCAL_SOURCE)
    with_local = Topology(
        topology.site,
        topology.timezone,
        topology.nodes,
        topology.evses,
        topology.site_loads,
        {**topology.sources, LOCAL_SOURCE: local},
    )
    assert conditions(quiet(with_local, sources=heard(299.0))) == []


# Nodes


def test_a_board_whose_reservations_alone_exceed_its_limit_is_over_committed() -> None:
    # both chargers uncontrollable (each assumed at least at its 6 A fallback) and the
    # workshop at 95 A: more than the 100 A board on every line
    states = {c: ChargerState(c, online=False) for c in ("c1", "c2")}
    snap = quiet(depot(), chargers=states, telemetry=fresh(amps=95.0))
    allocation = allocate(snap)
    reserved = allocation.constraints[("db", LimitKind.CURRENT_L1)].reserved
    assert reserved >= 95.0 + 2 * 6.0
    found = of_kind(alert_conditions(snap, allocation), AlertKind.NODE_OVERCOMMITTED)
    assert list(found) == [Subject(SubjectKind.NODE, "db")]
    condition = found[Subject(SubjectKind.NODE, "db")]
    assert condition.reason == (
        f"current L1: assumed draws {reserved:.1f} A over the 100.0 A limit from the site; "
        "2 more of its limits too"
    )
    assert [limit["kind"] for limit in condition.data["limits"]] == [
        "current_L1",
        "current_L2",
        "current_L3",
    ]
    assert condition.data["limits"][0]["reserved"] == round(reserved, 3)
    assert condition.data["limits"][0]["effective_limit"] == 100.0
    assert condition.data["limits"][0]["source"]["kind"] == "static"


def test_an_over_committed_envelope_limit_names_the_envelope_and_import_power() -> None:
    cut = Envelope(
        id="E-17",
        source="dnsp",
        target="gc",
        direction=Direction.IMPORT,
        limit=20_000.0,
        unit=LimitUnit.W,
        start=at(-10),
        end=at(50),
        received_at=at(-10),
    )
    # the workshop alone draws 30 A x 3 x 230 V = 20.7 kW
    snap = quiet(depot(), envelopes=(cut,), telemetry=fresh(amps=30.0))
    found = of_kind(conditions(snap), AlertKind.NODE_OVERCOMMITTED)
    condition = found[Subject(SubjectKind.NODE, "gc")]
    assert condition.reason == (
        "import power: assumed draws 20.7 kW over the 20.0 kW limit from envelope E-17"
    )


def test_reservations_exactly_at_the_limit_are_not_an_over_commitment() -> None:
    # 100 A of workshop on the 100 A board: full, not over
    snap = quiet(depot(), telemetry=fresh(amps=100.0))
    assert of_kind(conditions(snap), AlertKind.NODE_OVERCOMMITTED) == {}
    snap = quiet(depot(), telemetry=fresh(amps=100.0 * (1 + 10 * OVERCOMMIT_TOLERANCE)))
    assert list(of_kind(conditions(snap), AlertKind.NODE_OVERCOMMITTED)) == [
        Subject(SubjectKind.NODE, "db")
    ]


def test_conditions_come_in_a_stable_order_by_kind_then_subject() -> None:
    states = {c: ChargerState(c, online=False) for c in ("c2", "c1")}
    cut = Envelope(
        id="op-1",
        source=LOCAL_SOURCE,
        target="db",
        direction=Direction.IMPORT,
        limit=10.0,
        unit=LimitUnit.A,
        start=at(-10),
        end=None,
        received_at=at(-10),
    )
    snap = quiet(depot(), chargers=states, telemetry={}, sources={}, envelopes=(cut,))
    found = conditions(snap)
    assert [(c.kind, c.subject.id) for c in found] == [
        (AlertKind.CHARGER_UNCONTROLLABLE, "c1"),
        (AlertKind.CHARGER_UNCONTROLLABLE, "c2"),
        (AlertKind.METER_STALE, "m-ws"),
        (AlertKind.SOURCE_OFFLINE, "dnsp"),
        (AlertKind.NODE_OVERCOMMITTED, "db"),
    ]


# Properties, against the rules written out independently


def stale_loads(snap: Snapshot) -> set[str]:
    """Site loads the engine must count at their stale-data fallback: no reading (by
    the load's id, then its meter), a reading too old or ahead of time, or one that
    measures neither its power nor the current on every line it draws from."""
    out = set()
    for load in snap.topology.site_loads.values():
        reading = snap.telemetry.get(load.id)
        if reading is None and load.meter:
            reading = snap.telemetry.get(load.meter)
        if reading is None or reading.is_stale(snap.at, snap.policy.stale_after_s):
            out.add(load.id)
            continue
        lines = load.connection.lines if load.connection is not None else frozenset(Phase)
        has_current = reading.current_a is not None and lines <= set(reading.current_a)
        if not has_current and reading.power_w is None:
            out.add(load.id)
    return out


@PROPERTY
@given(snapshots())
def test_each_kind_is_raised_for_exactly_the_subjects_its_rule_names(snap: Snapshot) -> None:
    check_each_kind_is_raised_for_exactly_the_subjects_its_rule_names(snap)


@pytest.mark.slow
@DEEP
@given(snapshots())
def test_each_kind_is_raised_for_exactly_the_subjects_its_rule_names_thoroughly(
    snap: Snapshot,
) -> None:
    check_each_kind_is_raised_for_exactly_the_subjects_its_rule_names(snap)


def check_each_kind_is_raised_for_exactly_the_subjects_its_rule_names(snap: Snapshot) -> None:
    allocation = allocate(snap)
    found = alert_conditions(snap, allocation)
    # one per kind and subject, deterministic, storable as JSON
    assert len({c.key for c in found}) == len(found)
    assert found == alert_conditions(snap, allocation)
    for condition in found:
        json.dumps(dict(condition.data), allow_nan=False)
        assert condition.reason and "\n" not in condition.reason
    # the chargers of the site that cannot be commanded
    uncontrollable = {
        charger_id
        for charger_id, state in snap.chargers.items()
        if not state.is_controllable and snap.topology.chargers_evses(charger_id)
    }
    assert {s.id for s in of_kind(found, AlertKind.CHARGER_UNCONTROLLABLE)} == uncontrollable
    # the points whose loads count at the stale-data fallback, each load once
    named = [
        load for c in of_kind(found, AlertKind.METER_STALE).values() for load in c.data["loads"]
    ]
    assert sorted(named) == sorted(stale_loads(snap))
    # the declared sources not online
    offline = {
        source_id
        for source_id in snap.topology.sources
        if source_id != LOCAL_SOURCE
        and not (source_id in snap.sources and snap.sources[source_id].is_online(snap.at))
    }
    assert {s.id for s in of_kind(found, AlertKind.SOURCE_OFFLINE)} == offline
    # the nodes with a limit their reservations alone exceed
    over = {
        c.node_id
        for c in allocation.constraints.values()
        if c.reserved > c.effective_limit + OVERCOMMIT_TOLERANCE * max(1.0, c.effective_limit)
    }
    assert {s.id for s in of_kind(found, AlertKind.NODE_OVERCOMMITTED)} == over


def test_an_envelope_the_reserved_draws_alone_exceed_is_a_breach_of_it() -> None:
    def cut(limit_w: float, source: str = "dnsp") -> Envelope:
        window = {"start": at(-10), "end": at(50), "received_at": at(-10)}
        return Envelope(
            f"E-{limit_w:g}", source, "gc", Direction.IMPORT, limit_w, LimitUnit.W, **window
        )

    # the workshop alone draws 30 A x 3 x 230 V = 20.7 kW
    snap = quiet(depot(), envelopes=(cut(20_000.0),), telemetry=fresh(amps=30.0))
    [breach] = envelope_breaches(snap, allocate(snap))
    assert (breach.envelope.id, breach.kind, breach.limit) == (
        "E-20000",
        LimitKind.IMPORT_POWER,
        20_000.0,
    )
    assert breach.reserved == pytest.approx(20_700.0)
    for kept in (cut(21_000.0), cut(20_000.0, source=LOCAL_SOURCE)):
        snap = quiet(depot(), envelopes=(kept,), telemetry=fresh(amps=30.0))
        assert envelope_breaches(snap, allocate(snap)) == []


def test_an_envelope_applied_ahead_of_its_start_is_not_judged_until_it_starts() -> None:
    ahead = Envelope(
        "E-ahead", "dnsp", "gc", Direction.IMPORT, 20_000.0, LimitUnit.W,
        start=at(5), end=at(50), received_at=at(-10),
    )  # fmt: skip
    lead = timedelta(minutes=10)  # it applies already, 5 min before its start
    snap = quiet(depot(), envelopes=(ahead,), telemetry=fresh(amps=30.0))
    snap = replace(snap, envelope_lead=lead)
    allocation = allocate(snap)
    assert allocation.constraints[("gc", LimitKind.IMPORT_POWER)].source.ref == "E-ahead"
    assert envelope_breaches(snap, allocation) == []
    # the same envelope once started (a minute ago) is judged: the workshop alone
    # draws 20.7 kW
    started = replace(snap, envelopes=(replace(ahead, start=at(-1)),))
    assert [b.envelope.id for b in envelope_breaches(started, allocate(started))] == ["E-ahead"]
