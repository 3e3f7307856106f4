"""Each node's capacity per block from a snapshot: static limits, envelopes known
ahead (pending included), offline sources' fallbacks, the safety margin."""

from __future__ import annotations

from datetime import timedelta

import pytest

from depotctl.domain.envelopes import Direction, Envelope, LimitUnit, SourceHealth
from depotctl.domain.policy import Policy
from depotctl.domain.topology import NodeLimits
from depotctl.engine.planner import NodeCapacity, plan_blocks
from depotctl.engine.planner.capacities import node_capacities
from tests.engine.conftest import T0, Depot, session, snapshot

BLOCKS = plan_blocks(T0, timedelta(hours=1))  # 09:00, 09:15, 09:30, 09:45


def cut(envelope_id: str, minutes: tuple[int, int], limit: float, **fields: object) -> Envelope:
    values: dict[str, object] = {
        "id": envelope_id,
        "source": "dso",
        "target": "site",
        "direction": Direction.IMPORT,
        "limit": limit,
        "unit": LimitUnit.W,
        "start": T0 + timedelta(minutes=minutes[0]),
        "end": T0 + timedelta(minutes=minutes[1]),
        "received_at": T0 - timedelta(hours=1),
    }
    values.update(fields)
    return Envelope(**values)  # type: ignore[arg-type]


def depot() -> Depot:
    return (
        Depot()
        .node("site", current_a=100.0)  # 69 kW balanced at 230 V
        .node("db-1", "site", import_w=20_000.0)
        .node("db-2", "site")  # no limit of its own
        .charger("c1", "db-1")
        .charger("c2", "db-2")
        .source("dso", "site", fallback=NodeLimits(import_w=5_000.0))
    )


def by_node(capacities: tuple[NodeCapacity, ...]) -> dict[str, NodeCapacity]:
    return {node.node_id: node for node in capacities}


def test_static_limits_and_envelopes_known_for_each_block() -> None:
    envelopes = (
        cut("E-now", (-30, 20), 40_000.0),  # ends inside the second block: binds it
        cut("E-ahead", (35, 40), 30_000.0),  # pending, inside the third block
        cut("E-amps", (45, 120), 50.0, unit=LimitUnit.A),  # from the fourth block's start
    )
    online = {"dso": SourceHealth("dso", T0 - timedelta(seconds=10), offline_after_s=300.0)}
    snap = snapshot(
        depot().topology(),
        envelopes=envelopes,
        sources=online,
        sessions=(session("c1/1"), session("c2/1")),
    )
    nodes = by_node(node_capacities(snap, BLOCKS))
    # the source is online now and taken to stay so: no fallback later in the horizon
    assert nodes["site"].capacity_w == pytest.approx((40_000.0, 40_000.0, 30_000.0, 34_500.0))
    assert nodes["site"].session_ids == ("s-c1/1", "s-c2/1")
    assert nodes["db-1"].capacity_w == (20_000.0,) * 4
    assert nodes["db-1"].session_ids == ("s-c1/1",)
    assert "db-2" not in nodes and "c1" not in nodes


def test_an_envelope_starting_at_a_block_end_binds_only_from_its_start_or_its_lead() -> None:
    envelopes = (cut("E-1", (30, 60), 10_000.0),)
    online = {"dso": SourceHealth("dso", T0, offline_after_s=None)}
    topology = depot().topology()
    plain = by_node(
        node_capacities(snapshot(topology, envelopes=envelopes, sources=online), BLOCKS)
    )
    assert plain["site"].capacity_w == pytest.approx((69_000.0, 69_000.0, 10_000.0, 10_000.0))
    led = snapshot(
        topology, envelopes=envelopes, sources=online, envelope_lead=timedelta(minutes=5)
    )
    assert by_node(node_capacities(led, BLOCKS))["site"].capacity_w == pytest.approx(
        (69_000.0, 10_000.0, 10_000.0, 10_000.0)
    )


def test_an_offline_source_holds_its_site_fallback_throughout() -> None:
    silent = {"dso": SourceHealth("dso", T0 - timedelta(hours=1), offline_after_s=300.0)}
    snap = snapshot(depot().topology(), envelopes=(cut("E-1", (0, 60), 40_000.0),), sources=silent)
    assert by_node(node_capacities(snap, BLOCKS))["site"].capacity_w == (5_000.0,) * 4


def test_the_safety_margin_comes_off_every_capacity() -> None:
    snap = snapshot(depot().topology(), policy=Policy(safety_margin=0.1, hysteresis_a=0.0))
    nodes = by_node(node_capacities(snap, BLOCKS))
    # never heard from: offline, the fallback of 5 kW holds
    assert nodes["site"].capacity_w == pytest.approx((4_500.0,) * 4)
    assert nodes["db-1"].capacity_w == pytest.approx((18_000.0,) * 4)
