"""Storage and generation in the live capacity: at their metered net import when fresh;
stale, a battery charges at its maximum and a generator produces nothing. Checked by
hand on a small depot, then as properties over random readings and true states."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depotctl.domain.phases import THREE_PHASE
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.telemetry import Reading
from depotctl.domain.topology import GenerationSpec, StorageSpec, Topology
from depotctl.engine import LimitKind, allocate
from depotctl.engine.capacity import Capacity, effective_capacity
from depotctl.engine.structure import structure_of
from tests.engine.conftest import T0, Depot, session, snapshot

L1, POWER = LimitKind.CURRENT_L1, LimitKind.IMPORT_POWER
VOLTS = 230.0
#: watts per amp per line of a three-phase load at 230 V
W_PER_A = 3 * VOLTS
GC_W, GC_A, DB_A = 120_000.0, 250.0, 240.0


def battery(max_charge_w: float = 50_000.0, max_discharge_w: float = 60_000.0) -> StorageSpec:
    return StorageSpec(
        "bess", "gc", THREE_PHASE, VOLTS, 200_000.0, max_charge_w, max_discharge_w, meter="m-b"
    )


def solar(peak_w: float = 40_000.0) -> GenerationSpec:
    return GenerationSpec("pv", "db", THREE_PHASE, VOLTS, peak_w)


def depot(
    storage: StorageSpec | None = None, generation: GenerationSpec | None = None, chargers: int = 4
) -> Topology:
    built = Depot().node("gc", current_a=GC_A, import_w=GC_W).node("db", "gc", current_a=DB_A)
    for k in range(chargers):
        built.charger(f"ch{k}", "db", max_a=63.0)
    return replace(
        built.topology(),
        storage={storage.id: storage} if storage else {},
        generation={generation.id: generation} if generation else {},
    )


def reading(
    node: str, watts: float | None, age_s: float = 0.0, amps: float | None = None
) -> Reading:
    currents = None if amps is None else dict.fromkeys(THREE_PHASE.lines, amps)
    return Reading(node, T0 - timedelta(seconds=age_s), power_w=watts, current_a=currents)


def capacity(snap: Snapshot) -> Capacity:
    return effective_capacity(snap, structure_of(snap.topology))


def reserved(snap: Snapshot, node: str, kind: LimitKind) -> float:
    return float(capacity(snap).reserved[structure_of(snap.topology).constraint(node, kind)])


def test_a_charging_battery_reserves_its_metered_power_and_current_up_its_path() -> None:
    snap = snapshot(depot(battery()), telemetry={"bess": reading("bess", 30_000.0)})
    assert reserved(snap, "gc", POWER) == pytest.approx(30_000.0)
    assert reserved(snap, "gc", L1) == pytest.approx(30_000.0 / W_PER_A)
    assert reserved(snap, "db", POWER) == 0.0  # it hangs beside db, not below it
    assert not capacity(snap).stale


def test_a_measured_current_above_what_the_power_makes_counts() -> None:
    snap = snapshot(depot(battery()), telemetry={"bess": reading("bess", 30_000.0, amps=50.0)})
    assert reserved(snap, "gc", L1) == pytest.approx(50.0)


def test_a_discharging_battery_frees_power_up_to_its_rating_and_no_current() -> None:
    snap = snapshot(depot(battery()), telemetry={"m-b": reading("m-b", -90_000.0, amps=130.0)})
    assert reserved(snap, "gc", POWER) == pytest.approx(-60_000.0)  # max_discharge, not -90
    assert reserved(snap, "gc", L1) == 0.0


@pytest.mark.parametrize(
    "telemetry",
    [
        {},
        {"bess": reading("bess", -40_000.0, age_s=31.0)},
        {"bess": reading("bess", None, amps=9.0)},
    ],
    ids=["no reading", "too old", "no power"],
)
def test_a_stale_battery_counts_as_charging_at_its_maximum(telemetry: dict[str, Reading]) -> None:
    snap = snapshot(depot(battery()), telemetry=telemetry)
    assert reserved(snap, "gc", POWER) == pytest.approx(50_000.0)
    assert reserved(snap, "gc", L1) == pytest.approx(50_000.0 / W_PER_A)
    structure = structure_of(snap.topology)
    assert structure.constraint("gc", POWER) in capacity(snap).stale


def test_generation_frees_power_up_its_path_when_fresh_and_nothing_when_stale() -> None:
    fresh = snapshot(depot(generation=solar()), telemetry={"pv": reading("pv", -25_000.0)})
    assert reserved(fresh, "db", POWER) == reserved(fresh, "gc", POWER) == pytest.approx(-25_000.0)
    assert reserved(fresh, "db", L1) == 0.0
    stale = snapshot(depot(generation=solar()), telemetry={"pv": reading("pv", -25_000.0, 60.0)})
    assert reserved(stale, "gc", POWER) == reserved(stale, "db", POWER) == 0.0


def test_fresh_generation_lets_the_chargers_take_what_it_feeds() -> None:
    topology = depot(generation=solar(), chargers=4)
    sessions = tuple(session(f"ch{k}/1") for k in range(4))
    without = allocate(snapshot(topology, sessions=sessions, telemetry={}))
    fed = allocate(
        snapshot(topology, sessions=sessions, telemetry={"pv": reading("pv", -40_000.0)})
    )
    # 4 × 63 A × 690 W/A = 174 kW wanted: the grid connection's 120 kW binds, and with
    # 40 kW of solar fed below it, 160 kW
    rounding = 4 * 0.1 * W_PER_A  # each EVSE's limit is rounded down to 0.1 A
    drawn = sum(without.limits_a.values()) * W_PER_A
    assert GC_W - rounding <= drawn <= GC_W
    drawn = sum(fed.limits_a.values()) * W_PER_A
    assert GC_W + 40_000.0 - rounding <= drawn <= GC_W + 40_000.0


# --- properties ---------------------------------------------------------------------

ages = st.one_of(st.none(), st.floats(0.0, 29.0), st.floats(31.0, 3600.0))  # none: no reading


@st.composite
def states(draw: st.DrawFn) -> tuple[Snapshot, Snapshot, float, float, bool, bool]:
    """A depot with a battery and solar, readings of each (maybe stale, maybe absent), its
    twin without either, and the readings' powers and freshness."""
    bess = battery(draw(st.floats(1_000.0, 80_000.0)), draw(st.floats(1_000.0, 80_000.0)))
    pv = solar(draw(st.floats(1_000.0, 80_000.0)))
    battery_w = draw(st.floats(-2 * bess.max_discharge_w, 2 * bess.max_charge_w))
    solar_w = draw(st.floats(-2 * pv.peak_w, 1_000.0))
    battery_age, solar_age = draw(ages), draw(ages)
    telemetry = {}
    if battery_age is not None:
        telemetry["bess"] = reading("bess", battery_w, battery_age)
    if solar_age is not None:
        telemetry["pv"] = reading("pv", solar_w, solar_age)
    chargers = draw(st.integers(1, 5))
    sessions = tuple(session(f"ch{k}/1") for k in range(chargers))
    with_assets = snapshot(depot(bess, pv, chargers), telemetry=telemetry, sessions=sessions)
    bare = snapshot(depot(None, None, chargers), sessions=sessions)
    battery_fresh = battery_age is not None and battery_age < 30.0
    solar_fresh = solar_age is not None and solar_age < 30.0
    return with_assets, bare, battery_w, solar_w, battery_fresh, solar_fresh


def _diff(snap: Snapshot, bare: Snapshot, node: str, kind: LimitKind) -> float:
    return reserved(snap, node, kind) - reserved(bare, node, kind)


@settings(max_examples=60)
@given(states())
def test_each_asset_counts_as_measured_when_fresh_and_its_worst_case_when_stale(
    state: tuple[Snapshot, Snapshot, float, float, bool, bool],
) -> None:
    snap, bare, battery_w, solar_w, battery_fresh, solar_fresh = state
    bess, pv = snap.topology.storage["bess"], snap.topology.generation["pv"]
    counted_battery = max(battery_w, -bess.max_discharge_w) if battery_fresh else bess.max_charge_w
    counted_solar = max(solar_w, -pv.peak_w) if solar_fresh else 0.0
    # the battery hangs on gc, the solar on db
    assert _diff(snap, bare, "gc", POWER) == pytest.approx(counted_battery + counted_solar)
    assert _diff(snap, bare, "db", POWER) == pytest.approx(counted_solar)
    assert _diff(snap, bare, "db", L1) == pytest.approx(max(counted_solar, 0.0) / W_PER_A)
    assert _diff(snap, bare, "gc", L1) == pytest.approx(
        (max(counted_battery, 0.0) + max(counted_solar, 0.0)) / W_PER_A
    )
    if not solar_fresh:  # stale generation never adds room
        assert _diff(snap, bare, "db", POWER) >= 0.0
    if not battery_fresh:  # a stale battery always reserves its maximum charge
        assert _diff(snap, bare, "gc", POWER) - counted_solar == pytest.approx(bess.max_charge_w)


@settings(max_examples=60)
@given(states(), st.floats(0.0, 1.0), st.floats(0.0, 1.0))
def test_no_true_state_of_a_stale_asset_overloads_a_node(
    state: tuple[Snapshot, Snapshot, float, float, bool, bool], charge: float, sun: float
) -> None:
    """Whatever a stale battery (anywhere from full discharge to full charge) and stale
    solar (dark to peak) really do, the chargers' allocation and the assets' true power
    stay within every limit; fresh assets do what their meters say."""
    snap, _, battery_w, solar_w, battery_fresh, solar_fresh = state
    bess, pv = snap.topology.storage["bess"], snap.topology.generation["pv"]
    low, high = -bess.max_discharge_w, bess.max_charge_w
    true_battery = battery_w if battery_fresh else low + charge * (high - low)
    true_solar = solar_w if solar_fresh else -sun * pv.peak_w
    evse_amps = sum(allocate(snap).limits_a.values())
    tolerance = 1e-6
    # real power adds up at the grid connection; where the assets alone overload a node
    # (a meter may say a battery charges beyond its maximum), the chargers add nothing
    assets_w = true_battery + true_solar
    assert evse_amps * W_PER_A + assets_w <= max(GC_W, assets_w) + tolerance
    # on a line, what feeds counts as nothing (its angle is unknown); draws add up
    drawn_at_db = max(true_solar, 0.0) / W_PER_A
    assert evse_amps + drawn_at_db <= max(DB_A, drawn_at_db) + tolerance
    drawn_at_gc = drawn_at_db + max(true_battery, 0.0) / W_PER_A
    assert evse_amps + drawn_at_gc <= max(GC_A, drawn_at_gc) + tolerance
