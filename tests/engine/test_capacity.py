"""Effective capacity per node and phase, each value with its source; what is reserved
for site load (measured or its stale-data fallback) and uncontrollable chargers."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import numpy as np
import pytest

from depotctl.domain.chargers import ChargerState, CommandOutcome, HeldLimit
from depotctl.domain.envelopes import Direction, Envelope, LimitUnit, SourceHealth
from depotctl.domain.phases import Phase, PhaseConnection
from depotctl.domain.policy import Policy, StaleLoad, UncontrollableAssumption
from depotctl.domain.telemetry import Reading
from depotctl.domain.topology import NodeKind, NodeLimits, Topology
from depotctl.engine import LimitKind, LimitSource
from depotctl.engine.capacity import Capacity, effective_capacity
from depotctl.engine.structure import structure_of
from tests.engine.conftest import POLICY, T0, Depot, at, snapshot

L1, L2, L3, POWER = (
    LimitKind.CURRENT_L1,
    LimitKind.CURRENT_L2,
    LimitKind.CURRENT_L3,
    LimitKind.IMPORT_POWER,
)


def capacity_of(topology: Topology, policy: Policy = POLICY, **fields: object) -> Capacity:
    snap = snapshot(topology, policy, **fields)
    return effective_capacity(snap, structure_of(topology))


def value(topology: Topology, array: np.ndarray, node: str, kind: LimitKind) -> float:
    return float(array[structure_of(topology).constraint(node, kind)])


def source(topology: Topology, capacity: Capacity, node: str, kind: LimitKind) -> LimitSource:
    return capacity.sources[structure_of(topology).constraint(node, kind)]


def envelope(
    envelope_id: str = "E-1",
    *,
    target: str = "gc",
    limit: float,
    unit: LimitUnit = LimitUnit.A,
    phases: frozenset[Phase] | None = None,
) -> Envelope:
    return Envelope(
        id=envelope_id,
        source="dso",
        target=target,
        direction=Direction.IMPORT,
        limit=limit,
        unit=unit,
        start=at(-10),
        end=at(50),
        received_at=at(-20),
        phases=phases,
    )


ONLINE = {"dso": SourceHealth("dso", T0 - timedelta(seconds=5), 300.0)}


def test_the_safety_margin_comes_off_every_limit_but_a_chargers_own_rating() -> None:
    depot = Depot().node("gc", current_a=100.0, import_w=50_000.0)
    topology = depot.charger("ch", "gc", current_a=32.0).topology()
    capacity = capacity_of(topology, Policy(safety_margin=0.1))
    assert value(topology, capacity.effective, "gc", L2) == pytest.approx(90.0)
    assert value(topology, capacity.effective, "gc", POWER) == pytest.approx(45_000.0)
    assert value(topology, capacity.effective, "ch", L1) == pytest.approx(32.0)
    assert source(topology, capacity, "gc", L1) == LimitSource("static")


def test_a_node_without_limits_is_unlimited() -> None:
    topology = Depot().node("gc").charger("ch", "gc").topology()
    capacity = capacity_of(topology)
    assert np.isinf(value(topology, capacity.effective, "gc", L1))


def test_a_fresh_envelope_tighter_than_the_static_limit_takes_over_with_its_id() -> None:
    topology = Depot().node("gc", current_a=100.0).charger("ch", "gc").topology()
    capacity = capacity_of(topology, envelopes=(envelope("E-7", limit=60.0),), sources=ONLINE)
    assert value(topology, capacity.effective, "gc", L3) == pytest.approx(60.0)
    assert source(topology, capacity, "gc", L3) == LimitSource("envelope", "E-7", True)


def test_overlapping_envelopes_combine_by_minimum_and_a_looser_one_changes_nothing() -> None:
    """Two sources' envelopes on one node (one source's newer envelope would
    supersede its older one instead)."""
    topology = Depot().node("gc", current_a=100.0).charger("ch", "gc").topology()
    envelopes = (
        envelope("E-1", limit=70.0),
        replace(envelope("E-2", limit=120.0), source="cpo"),
        replace(envelope("E-3", limit=90.0, unit=LimitUnit.W), source="cpo"),
    )
    health = {**ONLINE, "cpo": SourceHealth("cpo", T0, None)}
    capacity = capacity_of(topology, envelopes=envelopes, sources=health)
    assert value(topology, capacity.effective, "gc", L1) == pytest.approx(70.0)
    assert source(topology, capacity, "gc", L1).ref == "E-1"
    assert value(topology, capacity.effective, "gc", POWER) == pytest.approx(90.0)


def test_a_current_envelope_on_one_phase_limits_only_that_phase() -> None:
    topology = Depot().node("gc", current_a=100.0).charger("ch", "gc").topology()
    capacity = capacity_of(
        topology,
        envelopes=(envelope(limit=40.0, phases=frozenset({Phase.L2})),),
        sources=ONLINE,
    )
    assert [value(topology, capacity.effective, "gc", k) for k in (L1, L2, L3)] == [
        100.0,
        40.0,
        100.0,
    ]


def test_a_power_envelope_limits_import_power() -> None:
    topology = Depot().node("gc").charger("ch", "gc").topology()
    capacity = capacity_of(
        topology, envelopes=(envelope(limit=20_000.0, unit=LimitUnit.W),), sources=ONLINE
    )
    assert value(topology, capacity.effective, "gc", POWER) == pytest.approx(20_000.0)
    assert np.isinf(value(topology, capacity.effective, "gc", L1))


def test_an_offline_sources_envelope_still_applies_but_is_not_fresh() -> None:
    topology = Depot().node("gc", current_a=100.0).charger("ch", "gc").topology()
    stale = {"dso": SourceHealth("dso", T0 - timedelta(hours=1), 300.0)}
    capacity = capacity_of(topology, envelopes=(envelope(limit=60.0),), sources=stale)
    assert value(topology, capacity.effective, "gc", L1) == pytest.approx(60.0)
    assert source(topology, capacity, "gc", L1) == LimitSource("envelope", "E-1", False)


def test_a_source_never_heard_from_gets_the_site_fallback_on_its_targets() -> None:
    depot = Depot().node("gc", import_w=100_000.0).node("db", "gc")
    depot.source("dso", "gc", fallback=NodeLimits(import_w=30_000.0))
    topology = depot.charger("ch", "db").topology()
    capacity = capacity_of(topology)
    assert value(topology, capacity.effective, "gc", POWER) == pytest.approx(30_000.0)
    assert source(topology, capacity, "gc", POWER) == LimitSource("fallback", "dso", False)
    assert np.isinf(value(topology, capacity.effective, "db", POWER))


def test_a_site_fallback_that_sets_nothing_holds_import_at_zero() -> None:
    depot = Depot().node("gc", import_w=100_000.0).source("dso", "gc")
    topology = depot.charger("ch", "gc").topology()
    assert value(topology, capacity_of(topology).effective, "gc", POWER) == 0.0


def test_an_envelope_on_a_single_phase_node_limits_its_one_conductor() -> None:
    depot = Depot().node("gc").node("db", "gc", phases=1, current_a=40.0)
    topology = depot.charger("ch", "db", connection="L2").topology()
    capacity = capacity_of(
        topology,
        envelopes=(envelope(target="db", limit=16.0, phases=frozenset({Phase.L3})),),
        sources=ONLINE,
    )
    assert value(topology, capacity.effective, "db", L1) == pytest.approx(16.0)
    assert np.isinf(value(topology, capacity.effective, "db", L2))  # no second conductor


# What is reserved


def site_with_load(**load: object) -> Topology:
    depot = Depot().node("gc").node("db", "gc", current_a=100.0, import_w=60_000.0)
    depot.load("pumps", "db", fallback_a=20.0, meter="m-pumps", **load)  # type: ignore[arg-type]
    return depot.charger("ch", "db").topology()


def test_a_fresh_measured_current_is_reserved_per_phase() -> None:
    topology = site_with_load()
    reading = Reading(
        "pumps", T0 - timedelta(seconds=5), None, {Phase.L1: 12.0, Phase.L2: 3.0, Phase.L3: 0.0}
    )
    capacity = capacity_of(topology, telemetry={"pumps": reading})
    reserved = [value(topology, capacity.reserved, "db", k) for k in (L1, L2, L3)]
    assert reserved == pytest.approx([12.0, 3.0, 0.0])
    assert value(topology, capacity.reserved, "db", POWER) == pytest.approx(15.0 * 230)
    assert not capacity.stale


def test_a_reading_is_found_by_the_loads_meter() -> None:
    topology = site_with_load()
    reading = Reading("m-pumps", T0, power_w=6_900.0)
    capacity = capacity_of(topology, telemetry={"m-pumps": reading})
    assert value(topology, capacity.reserved, "db", L2) == pytest.approx(10.0)  # 6.9 kW / 690
    assert value(topology, capacity.reserved, "db", POWER) == pytest.approx(6_900.0)


@pytest.mark.parametrize(
    "reading",
    [
        None,  # never reported
        Reading("pumps", T0 - timedelta(seconds=31), power_w=0.0),  # older than 30 s
        Reading("pumps", T0 + timedelta(seconds=31), power_w=0.0),  # stamped in the future
        Reading("pumps", T0, None, None),  # fresh but empty
    ],
    ids=["missing", "old", "future", "empty"],
)
def test_stale_site_load_telemetry_counts_as_its_fallback_never_zero(
    reading: Reading | None,
) -> None:
    topology = site_with_load()
    capacity = capacity_of(topology, telemetry={"pumps": reading} if reading else {})
    assert value(topology, capacity.reserved, "db", L1) == pytest.approx(20.0)
    assert value(topology, capacity.reserved, "db", POWER) == pytest.approx(20.0 * 690)
    structure = structure_of(topology)
    assert structure.constraint("db", L1) in capacity.stale
    assert structure.constraint("gc", L1) in capacity.stale


def test_the_last_known_plus_margin_policy_scales_the_last_reading() -> None:
    topology = site_with_load()
    reading = Reading("pumps", T0 - timedelta(minutes=5), power_w=27_600.0)
    policy = Policy(safety_margin=0.0, stale_site_load=StaleLoad.LAST_KNOWN_PLUS_MARGIN)
    capacity = capacity_of(topology, policy, telemetry={"pumps": reading})
    assert value(topology, capacity.reserved, "db", L1) == pytest.approx(48.0)  # 40 A + 20 %


def test_the_last_known_plus_margin_policy_never_goes_below_the_fallback() -> None:
    topology = site_with_load()
    idle = Reading("pumps", T0 - timedelta(minutes=5), power_w=0.0)
    policy = Policy(safety_margin=0.0, stale_site_load=StaleLoad.LAST_KNOWN_PLUS_MARGIN)
    capacity = capacity_of(topology, policy, telemetry={"pumps": idle})
    assert value(topology, capacity.reserved, "db", L1) == pytest.approx(20.0)  # the fallback


def test_a_single_phase_load_is_reserved_on_its_phase_only() -> None:
    topology = site_with_load(connection=PhaseConnection.parse("L3"))
    capacity = capacity_of(topology)
    reserved = [value(topology, capacity.reserved, "db", k) for k in (L1, L2, L3)]
    assert reserved == pytest.approx([0.0, 0.0, 20.0])
    assert value(topology, capacity.reserved, "db", POWER) == pytest.approx(20.0 * 230)


def test_site_load_below_a_transformer_is_reserved_at_the_primary_scaled_by_its_ratio() -> None:
    ratio = 400 / 11_000
    depot = Depot(volts=6351.0).node("gc", current_a=50.0)
    depot.node("tx", "gc", kind=NodeKind.TRANSFORMER, ratio=ratio)
    depot.node("lv", "tx", volts=230.0, current_a=400.0)
    depot.load("pumps", "lv", fallback_a=100.0)
    topology = depot.charger("ch", "lv").topology()
    capacity = capacity_of(topology)
    assert value(topology, capacity.reserved, "lv", L1) == pytest.approx(100.0)
    assert value(topology, capacity.reserved, "tx", L1) == pytest.approx(100.0 * ratio)
    assert value(topology, capacity.reserved, "gc", L1) == pytest.approx(100.0 * ratio)
    assert value(topology, capacity.reserved, "gc", POWER) == pytest.approx(100.0 * 690)


LATER = T0 + timedelta(seconds=30)
EARLIER = T0 - timedelta(seconds=1)
#: both EVSEs of "ch" under a 20 A limit until LATER, or one that lapsed at EARLIER
HELD_VALID = {e: (HeldLimit(20.0, LATER), HeldLimit(4.0)) for e in ("ch/1", "ch/2")}
HELD_LAPSED = {e: (HeldLimit(20.0, EARLIER),) for e in ("ch/1", "ch/2")}
HELD_BELOW_FALLBACK = {e: (HeldLimit(2.0, LATER),) for e in ("ch/1", "ch/2")}


@pytest.mark.parametrize(
    ("policy", "state", "assumed"),
    [
        (UncontrollableAssumption.LAST_ACCEPTED, ChargerState("ch", online=False, last_accepted_limit_a=10.0), 10.0),
        (UncontrollableAssumption.LAST_ACCEPTED, ChargerState("ch", online=False), 6.0),
        (UncontrollableAssumption.LAST_ACCEPTED, ChargerState("ch", online=False, fallback_accepted=False), 32.0),
        (UncontrollableAssumption.RATING, ChargerState("ch", online=False, last_accepted_limit_a=10.0), 32.0),
        (UncontrollableAssumption.LAST_ACCEPTED, ChargerState("ch", last_outcome=CommandOutcome.REJECTED, last_accepted_limit_a=16.0), 16.0),
        (UncontrollableAssumption.LAST_ACCEPTED, ChargerState("ch", last_outcome=CommandOutcome.TIMEOUT), 6.0),
        (UncontrollableAssumption.LAST_ACCEPTED, ChargerState("ch", online=False, held=HELD_VALID), 20.0),
        (UncontrollableAssumption.LAST_ACCEPTED, ChargerState("ch", online=False, held=HELD_LAPSED), 6.0),
        (UncontrollableAssumption.LAST_ACCEPTED, ChargerState("ch", online=False, held=HELD_BELOW_FALLBACK), 6.0),
    ],
    ids=[
        "offline-legacy-last-accepted", "offline-at-fallback", "fallback-never-accepted", "rating",
        "rejected", "timeout", "held-valid", "held-lapsed", "held-below-fallback",
    ],
)  # fmt: skip
def test_an_uncontrollable_charger_is_reserved_at_its_assumed_draw(
    policy: UncontrollableAssumption, state: ChargerState, assumed: float
) -> None:
    depot = Depot().node("gc").node("db", "gc", current_a=100.0)
    topology = depot.charger("ch", "db", evses=2, connection="L1-L2").topology()
    capacity = capacity_of(topology, Policy(uncontrollable=policy), chargers={"ch": state})
    assert capacity.assumed.tolist() == [assumed, assumed]
    assert capacity.uncontrolled.tolist() == [True, True]
    assert not capacity.waiting.any()
    # a line-to-line EVSE counts in full on both its lines; nothing on the third
    reserved = [value(topology, capacity.reserved, "db", k) for k in (L1, L2, L3)]
    assert reserved == pytest.approx([2 * assumed, 2 * assumed, 0.0])


def test_an_evse_with_a_command_out_counts_at_the_higher_of_its_two_limits() -> None:
    depot = Depot().node("gc").node("db", "gc", current_a=100.0)
    topology = depot.charger("a", "db").charger("b", "db").charger("c", "db").topology()
    capacity = capacity_of(
        topology,
        previous_limits={"a/1": 20.0, "b/1": 10.0},
        pending={"a/1": 8.0, "b/1": 16.0, "c/1": 12.0},  # c: nothing known in force
    )
    assert capacity.assumed.tolist() == [20.0, 16.0, 12.0]
    assert capacity.waiting.tolist() == [True, True, True]
    assert value(topology, capacity.reserved, "db", L1) == pytest.approx(48.0)


def test_an_accepting_online_charger_reserves_nothing() -> None:
    depot = Depot().node("gc").node("db", "gc", current_a=100.0)
    topology = depot.charger("ch", "db").topology()
    state = ChargerState("ch", last_outcome=CommandOutcome.ACCEPTED, last_accepted_limit_a=16.0)
    capacity = capacity_of(topology, chargers={"ch": state})
    assert capacity.reserved.max() == 0.0
    assert not capacity.uncontrolled.any()


def delta_wye_with_shop(connection: PhaseConnection) -> Topology:
    depot = Depot(volts=277.0).node("gc")
    depot.node("tx", "gc", kind=NodeKind.TRANSFORMER, current_a=20.0, ratio=208 / 480)
    depot.nodes["tx"] = replace(depot.nodes["tx"], winding="delta-wye")
    depot.node("bus", "tx", volts=120.1)
    depot.load("shop", "bus", fallback_a=10.0, connection=connection)
    return depot.charger("ch", "bus", connection="L2", max_a=80.0).topology()


@pytest.mark.parametrize(
    ("connection", "measured", "primary"),
    [
        # 60 A on secondary L1 only: winding a sits between primary L1 and L2
        ("L1-L2-L3", {Phase.L1: 60.0, Phase.L2: 0.0, Phase.L3: 0.0}, [15.01, 15.01, 0.0]),
        # 40 A line-to-line on L1-L2: windings a and b; primary L2 meets both
        ("L1-L2", {Phase.L1: 40.0, Phase.L2: 40.0}, [10.01, 20.01, 10.01]),
    ],
)
def test_site_load_crosses_a_delta_wye_transformer_onto_the_lines_its_windings_meet(
    connection: str, measured: dict[Phase, float], primary: list[float]
) -> None:
    """Each secondary amp is 208/480/√3 = 0.2502 A in its winding, on both primary lines
    the winding joins — not the secondary phase's own line times the ratio."""
    topology = delta_wye_with_shop(PhaseConnection.parse(connection))
    reading = Reading("shop", T0, None, measured)
    capacity = capacity_of(topology, telemetry={"shop": reading})
    reserved = [value(topology, capacity.reserved, "tx", k) for k in (L1, L2, L3)]
    assert reserved == pytest.approx(primary, abs=0.01)
    assert value(topology, capacity.reserved, "bus", L1) == pytest.approx(measured[Phase.L1])


def test_an_uncontrollable_charger_is_assumed_at_least_at_its_fallback() -> None:
    """Paused at 0 A when it went offline, it lapses to its fallback profile once that
    limit's validity ends: its fallback is reserved, never less."""
    depot = Depot().node("gc").node("db", "gc", current_a=100.0)
    topology = depot.charger("ch", "db").topology()
    fallback = topology.evses["ch/1"].fallback_a
    assert 0 < fallback < topology.evses["ch/1"].max_current_a
    for last, assumed in ((0.0, fallback), (fallback + 4.0, fallback + 4.0)):
        state = ChargerState("ch", online=False, last_accepted_limit_a=last)
        capacity = capacity_of(topology, Policy(), chargers={"ch": state})
        assert capacity.assumed.tolist() == [assumed]
