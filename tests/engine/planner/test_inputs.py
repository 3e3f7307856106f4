"""A snapshot and the site's prices → the planning problem: sessions, the allocator's
own constraint rows per block, prices in the site's zone (DST-correct), carbon."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import numpy as np
import pytest

from depotctl.domain.carbon import SeriesIntensity
from depotctl.domain.envelopes import Envelope, EnvelopeMode, LimitUnit, SourceHealth
from depotctl.domain.forecast import PowerSeries
from depotctl.domain.overrides import EvseOverride
from depotctl.domain.phases import THREE_PHASE, Phase
from depotctl.domain.planning import PlannerSettings
from depotctl.domain.price_series import PriceSeries
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.tariff import EnergyPeriod, Tariff, TariffSeason
from depotctl.domain.tariff_calendar import DailyWindow
from depotctl.domain.topology import GenerationSpec, NodeLimits
from depotctl.engine.allocation import LimitKind
from depotctl.engine.capacity import effective_capacity
from depotctl.engine.planner import NodeCapacity, PlanningProblem, PlanStatus, plan_blocks, solve
from depotctl.engine.planner.capacities import held_health
from depotctl.engine.planner.inputs import (
    CostSignals,
    PlanningInputError,
    block_carbon,
    block_prices,
    block_start,
    planning_problem,
    reserved_per_block,
)
from depotctl.engine.structure import structure_of
from depotctl.engine.waterfill import usage
from tests.engine.conftest import T0, Depot, session, snapshot
from tests.engine.planner.test_capacities import cut as envelope

WPA = 3 * 230.0  # a three-phase EVSE's W per amp at 230 V
UTC_ZONE = ZoneInfo("UTC")
HOUR = PlannerSettings(enabled=True, horizon=timedelta(hours=1))


def depot() -> Depot:
    return (
        Depot()
        .node("site", current_a=60.0)
        .node("db-1", "site", import_w=20_000.0)
        .charger("c1", "db-1")
        .charger("c2", "db-1")
        .charger("c3", "site", connection="L1")  # single-phase: on L1 only
        .source("dso", "site", fallback=NodeLimits(import_w=200_000.0))  # offline: 200 kW
    )


def rows(problem: PlanningProblem) -> dict[str, NodeCapacity]:
    return {row.node_id: row for row in problem.nodes}


def test_rows_are_the_allocators_constraints_in_units_per_watt() -> None:
    snap = snapshot(depot().topology(), sessions=(session("c1/1"), session("c3/1")))
    problem = planning_problem(snap, CostSignals(), HOUR)
    by_id = rows(problem)
    l1 = by_id["site current_L1"]
    assert dict(zip(l1.session_ids, l1.weights or (), strict=True)) == pytest.approx(
        {"s-c1/1": 1 / WPA, "s-c3/1": 1 / 230.0}
    )
    assert l1.capacity_w == (60.0,) * 4  # 64 A at the sessions' maximum: it can bind
    # the single-phase EVSE is on L1 only: L2 carries 32 A at most, and cannot bind
    assert "site current_L2" not in by_id
    power = by_id["db-1 import_power"]
    assert power.session_ids == ("s-c1/1",) and power.weights == pytest.approx((1.0,))
    assert power.capacity_w == (20_000.0,) * 4


def test_a_solved_plan_keeps_every_allocator_constraint_in_every_block() -> None:
    topology = depot().topology()
    sessions = tuple(session(f"{c}/1", energy_kwh=80.0, hours_left=1.0) for c in ("c1", "c2", "c3"))
    snap = snapshot(topology, sessions=sessions)
    problem = planning_problem(snap, CostSignals(), HOUR)
    plan = solve(problem)
    assert plan.status is PlanStatus.OPTIMAL
    structure = structure_of(topology)
    limits = structure.static_limit
    for b in range(problem.blocks.count):
        amps = np.zeros(len(structure.evse_ids))
        for s in sessions:
            index = structure.evse_index[s.evse_id]
            amps[index] = plan.sessions[s.id].power_w[b] / structure.evse_watts_per_amp[index]
        used = usage(amps, structure.constraints)
        assert np.all(used <= limits + 1e-6)
        # the room is used: no need can be met in an hour, so db-1 and the site's L1
        # are full (the single-phase EVSE takes what db-1 leaves of L1)
        assert used[structure.constraint("db-1", LimitKind.IMPORT_POWER)] == pytest.approx(20e3)
        assert used[structure.constraint("site", LimitKind.CURRENT_L1)] == pytest.approx(60.0)


def test_an_envelope_known_ahead_binds_its_block_and_a_reservation_comes_off_every_block() -> None:
    topology = depot().load("hvac", "site", fallback_a=10.0).topology()
    cut = envelope("E-1", (35, 120), 40.0, unit=LimitUnit.A)
    online = {"dso": SourceHealth("dso", T0 - timedelta(seconds=5), offline_after_s=300.0)}
    snap = snapshot(topology, sessions=(session("c1/1"),), envelopes=(cut,), sources=online)
    problem = planning_problem(snap, CostSignals(), HOUR)
    # the hvac load has no meter: its fallback (10 A) is reserved on every phase
    assert rows(problem)["site current_L2"].capacity_w == (50.0, 50.0, 30.0, 30.0)


def test_sessions_need_departure_and_rate() -> None:
    topology = depot().topology()
    paused = EvseOverride("c3/1", paused=True, cap_a=None, set_at=T0, author="alice")
    snap = snapshot(
        topology,
        sessions=(
            session("c1/1", energy_kwh=30.0, delivered_kwh=10.0, vehicle_max_current_a=16.0),
            session("c2/1", energy_kwh=None, started=T0 - timedelta(hours=2)),
            session("c3/1"),
        ),
        overrides={"c3/1": paused},
    )
    problem = planning_problem(snap, CostSignals(), HOUR)
    planned = {s.id: s for s in problem.sessions}
    assert planned["s-c1/1"].need_wh == pytest.approx(20_000.0)
    assert planned["s-c1/1"].max_power_w == pytest.approx(16.0 * WPA)
    # unknown need: the site's default requirement, by its default departure (05:30 UTC)
    assert planned["s-c2/1"].need_wh == snap.policy.default_energy_wh
    assert planned["s-c2/1"].departure == datetime(2024, 3, 5, 5, 30, tzinfo=UTC)
    assert planned["s-c3/1"].max_power_w == 0.0


def test_blocks_start_on_the_grid() -> None:
    snap = replace(snapshot(depot().topology()), at=T0 + timedelta(minutes=7, seconds=3))
    problem = planning_problem(snap, CostSignals(), HOUR)
    assert problem.blocks.start == T0
    assert block_start(T0 + timedelta(minutes=29), timedelta(minutes=15)) == T0 + timedelta(
        minutes=15
    )


def night_tariff() -> Tariff:
    every = ["all"]
    return Tariff(
        "AUD",
        (
            TariffSeason(
                "all year",
                0,
                365,
                (
                    EnergyPeriod("peak", DailyWindow.parse(every, "07:00", "23:00"), 0.30),
                    EnergyPeriod("night", DailyWindow.parse(every, "23:00", "07:00"), 0.10),
                ),
            ),
        ),
    )


def test_tariff_prices_follow_the_sites_zone_across_a_dst_change() -> None:
    sydney = ZoneInfo("Australia/Sydney")
    # 2024-04-06 is daylight time (+11): 23:00 local is 12:00 UTC; on 04-07 (+10) 13:00
    for day, night_utc in ((6, 12), (7, 13)):
        blocks = plan_blocks(datetime(2024, 4, day, night_utc - 1, tzinfo=UTC), timedelta(hours=2))
        prices = block_prices(blocks, CostSignals(tariff=night_tariff()), sydney)
        assert prices == (0.30,) * 4 + (0.10,) * 4


def test_a_block_straddling_a_change_takes_the_mean_and_a_series_outranks_the_tariff() -> None:
    starts = [T0 + timedelta(minutes=m) for m in (0, 10)]
    series = PriceSeries("da", "EUR", tuple(starts), (0.5, 0.2), T0 + timedelta(minutes=20))
    blocks = plan_blocks(T0, timedelta(minutes=30))
    signals = CostSignals(tariff=night_tariff(), prices=series)
    # block 0: 10 min at 0.5 and 5 at 0.2; block 1: 5 at 0.2, then the last price held
    assert block_prices(blocks, signals, UTC_ZONE) == pytest.approx((0.4, 0.2))
    early = replace(series, starts=(T0 + timedelta(minutes=5), T0 + timedelta(minutes=10)))
    with pytest.raises(PlanningInputError, match="give prices from now on"):
        block_prices(blocks, CostSignals(prices=early), UTC_ZONE)


def test_carbon_is_the_mean_over_each_block() -> None:
    times = [T0, T0 + timedelta(minutes=5), T0 + timedelta(minutes=15)]
    carbon = SeriesIntensity.of(times, [0.6, 0.3, 0.3], "moer")
    blocks = plan_blocks(T0, timedelta(minutes=15))
    assert block_carbon(blocks, CostSignals(carbon=carbon)) == pytest.approx((0.4,))
    later = plan_blocks(T0 + timedelta(days=1), timedelta(minutes=15))
    assert block_carbon(later, CostSignals(carbon=carbon)) == (0.0,)  # no carbon price
    with pytest.raises(PlanningInputError, match="no carbon intensity"):
        block_carbon(later, CostSignals(carbon=carbon, carbon_price_per_kg=0.05))


def test_a_forecast_load_and_generation_count_at_their_forecast_in_each_block() -> None:
    plain = depot().load("wash", "site", fallback_a=10.0).topology()
    # the bus wash draws 23 kW until 09:30 and nothing after; the carport's solar makes
    # 13.8 kW from 09:15 (UTC: the depot's zone)
    wash = PowerSeries((T0, T0 + timedelta(minutes=30)), (23_000.0, 0.0))
    solar = PowerSeries(
        tuple(T0 + timedelta(minutes=m) for m in (0, 15, 60)), (0.0, 13_800.0, 13_800.0)
    )
    topology = replace(
        plain,
        site_loads={"wash": replace(plain.site_loads["wash"], forecast=wash)},
        generation={
            "pv": GenerationSpec("pv", "db-1", THREE_PHASE, 230.0, 20_000.0, forecast=solar)
        },
    )
    snap = snapshot(topology, sessions=(session("c1/1"),))
    problem = planning_problem(snap, CostSignals(), HOUR)
    by_id = rows(problem)
    # 23 kW three-phase at 230 V is 33.3 A a line, then nothing (where the forecast
    # says nothing, from 10:00, its fallback would hold, as now)
    assert by_id["site current_L1"].capacity_w == pytest.approx(
        (60.0 - 23_000.0 / WPA,) * 2 + (60.0,) * 2
    )
    # the solar frees room on db-1's power limit from 09:15, never on a current
    assert by_id["db-1 import_power"].capacity_w == pytest.approx(
        (20_000.0, 33_800.0, 33_800.0, 33_800.0)
    )
    # what the site imports besides the sessions: the wash, less the solar
    assert problem.base_load() == pytest.approx((23_000.0, 9_200.0, 0.0, 0.0))
    assert problem.generation() == pytest.approx((0.0, 0.0, 13_800.0, 13_800.0))


def defined_rows(snap: Snapshot, settings: PlannerSettings) -> tuple[NodeCapacity, ...]:
    """The rows by their definition, nothing shared: each block's effective limits from
    the effective capacity at its start, every constraint's entries one by one."""
    blocks = plan_blocks(block_start(snap.at, settings.block), settings.horizon, settings.block)
    structure = structure_of(snap.topology)
    lead = blocks.length + snap.envelope_lead - timedelta(microseconds=1)
    held = held_health(snap)
    effective = np.vstack(
        [
            effective_capacity(
                replace(snap, at=start, sources=held, envelope_lead=lead), structure
            ).effective
            for start in blocks.starts()
        ]
    )
    reserved = reserved_per_block(snap, structure, effective_capacity(snap, structure), blocks)
    planned = {s.evse_id: s for s in planning_problem(snap, CostSignals(), settings).sessions}
    rows: list[NodeCapacity] = []
    for con in range(structure.constraints.size):
        ids, weights, most = [], [], 0.0
        for c, evse, weight in zip(
            structure.constraints.entry_con.tolist(),
            structure.constraints.entry_evse.tolist(),
            structure.constraints.entry_w.tolist(),
            strict=True,
        ):
            session = planned.get(structure.evse_ids[evse])
            if c != con or session is None or weight == 0.0:
                continue
            ids.append(session.id)
            weights.append(weight / float(structure.evse_watts_per_amp[evse]))
            most += max(weights[-1], 0.0) * session.max_power_w
        room = effective[:, con] - reserved[:, con]
        if ids and np.isfinite(room).any() and room.min() < most * (1.0 + 1e-9):
            node_id, kind = structure.describe(con)
            rows.append(
                NodeCapacity(
                    f"{node_id} {kind.value}", tuple(room.tolist()), tuple(ids), tuple(weights)
                )
            )
    return tuple(rows)


def busy_depot() -> Depot:
    return (
        depot()
        .node("db-2", "site", current_a=40.0)
        .charger("c4", "db-2")
        .charger("c5", "db-2", connection="L2")
        .charger("c6", "db-2")
        .source("dso", "site", "db-2", fallback=NodeLimits(import_w=30_000.0))
    )


#: now is 09:07, in the block from 09:00; heard at 09:06: online throughout
ONLINE = {"dso": SourceHealth("dso", T0 + timedelta(minutes=6), offline_after_s=300.0)}
#: heard at 08:56: offline from 09:01, after the first block's start but before now:
#: that block's start sees it online, every later one offline
LOST = {"dso": SourceHealth("dso", T0 - timedelta(minutes=4), offline_after_s=300.0)}
ENVELOPES = (
    envelope("E-now", (-30, 20), 40_000.0),
    envelope("E-ahead", (35, 40), 30_000.0),
    envelope("E-amps", (95, 180), 35.0, unit=LimitUnit.A, phases=frozenset({Phase.L2})),
    envelope("E-db2", (60, 300), 20.0, unit=LimitUnit.A, target="db-2"),
    envelope("E-gone", (120, 240), 1_000.0, withdrawn_at=T0 - timedelta(minutes=30)),
    envelope("E-later", (200, 260), 25_000.0, received_at=T0 + timedelta(minutes=90)),
    envelope("E-own", (0, 600), 12_000.0, mode=EnvelopeMode.FALLBACK),
)


@pytest.mark.parametrize(
    ("envelopes", "sources", "distinct"),
    [
        ((), {}, 1),
        ((), ONLINE, 1),
        ((), LOST, 2),
        (ENVELOPES, ONLINE, 6),
        (ENVELOPES, LOST, 4),
    ],
    ids=["never-heard", "online", "lost-before-now", "envelopes-online", "envelopes-lost"],
)
def test_the_rows_are_those_of_their_definition_block_by_block(
    envelopes: tuple[Envelope, ...], sources: dict[str, SourceHealth], distinct: int
) -> None:
    """The effective limits are computed once per distinct set of limits in force and
    the rows from the entries as arrays: the same rows, to the bit, as each block's
    effective capacity and each entry one by one (the program, and so the plan, is
    then the same)."""
    topology = busy_depot().load("hvac", "site", fallback_a=6.0).topology()
    paused = EvseOverride("c6/1", paused=True, cap_a=None, set_at=T0, author="alice")
    snap = replace(
        snapshot(
            topology,
            sessions=tuple(
                session(f"c{k}/1", energy_kwh=40.0, hours_left=3.0 + k) for k in range(1, 7)
            ),
            overrides={"c6/1": paused},
            envelopes=envelopes,
            sources=sources,
        ),
        at=T0 + timedelta(minutes=7),
    )
    settings = PlannerSettings(enabled=True, horizon=timedelta(hours=6))
    problem = planning_problem(snap, CostSignals(), settings)
    assert problem.nodes == defined_rows(snap, settings)
    # the blocks' rooms differ as the limits in force do
    assert len(set(zip(*(row.capacity_w for row in problem.nodes), strict=True))) == distinct
