"""Max-min fair water-filling on tiny hand-computed instances, and its contract on
generated trees: within capacity, and every EVSE below its cap stopped by a full
constraint."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depotctl.domain.snapshot import Snapshot
from depotctl.engine.capacity import effective_capacity
from depotctl.engine.structure import structure_of
from depotctl.engine.waterfill import TOLERANCE, Constraints, fill, usage
from tests.engine.strategies import snapshots

INF = np.inf


def constraints(entries: list[tuple[int, int, float]], nodes: list[tuple[int, int]]) -> Constraints:
    """``entries``: (constraint, EVSE, coefficient); ``nodes``: (node, depth) per
    constraint."""
    entries = sorted(entries)
    return Constraints(
        entry_con=np.array([c for c, _, _ in entries], dtype=np.intp),
        entry_evse=np.array([e for _, e, _ in entries], dtype=np.intp),
        entry_w=np.array([w for _, _, w in entries], dtype=np.float64),
        con_node=np.array([n for n, _ in nodes], dtype=np.intp),
        con_depth=np.array([d for _, d in nodes], dtype=np.intp),
    )


def test_two_children_share_a_node_up_to_their_caps() -> None:
    """20 A for two EVSEs capped at 5 A and 32 A: the first takes its 5 A, the
    other the remaining 15 A and is stopped by the node."""
    one_node = constraints([(0, 0, 1.0), (0, 1, 1.0)], [(0, 0)])
    amps, stopped = fill(np.array([5.0, 32.0]), np.array([20.0]), one_node)
    assert amps == pytest.approx([5.0, 15.0])
    assert stopped.tolist() == [-1, 0]


def test_equal_caps_get_equal_shares() -> None:
    one_node = constraints([(0, e, 1.0) for e in range(3)], [(0, 0)])
    amps, stopped = fill(np.full(3, 32.0), np.array([30.0]), one_node)
    assert amps == pytest.approx([10.0, 10.0, 10.0])
    assert stopped.tolist() == [0, 0, 0]


def test_everyone_below_the_capacity_gets_their_cap() -> None:
    one_node = constraints([(0, 0, 1.0), (0, 1, 1.0)], [(0, 0)])
    amps, stopped = fill(np.array([6.0, 10.0]), np.array([100.0]), one_node)
    assert amps == pytest.approx([6.0, 10.0])
    assert stopped.tolist() == [-1, -1]


def test_a_saturated_parent_holds_every_child_to_one_level() -> None:
    """A group (30 A, EVSEs 0 and 1) under a 24 A circuit that also feeds EVSE 2:
    the group alone would give 15 A each, the circuit allows 8 A to all three."""
    tree = constraints(
        [(0, 0, 1.0), (0, 1, 1.0), (1, 0, 1.0), (1, 1, 1.0), (1, 2, 1.0)],
        [(1, 1), (0, 0)],  # constraint 0: the group (depth 1); 1: the circuit (depth 0)
    )
    amps, stopped = fill(np.full(3, 32.0), np.array([30.0, 24.0]), tree)
    assert amps == pytest.approx([8.0, 8.0, 8.0])
    assert stopped.tolist() == [1, 1, 1]


def test_a_full_child_leaves_the_rest_of_the_parent_to_its_sibling() -> None:
    """The group (10 A) holds its two EVSEs to 5 A each; the circuit's other 30 A
    go to EVSE 2, up to its 32 A cap."""
    tree = constraints(
        [(0, 0, 1.0), (0, 1, 1.0), (1, 0, 1.0), (1, 1, 1.0), (1, 2, 1.0)],
        [(1, 1), (0, 0)],
    )
    amps, stopped = fill(np.full(3, 32.0), np.array([10.0, 40.0]), tree)
    assert amps == pytest.approx([5.0, 5.0, 30.0])
    assert stopped.tolist() == [0, 0, 1]


def test_a_transformer_coefficient_scales_what_an_evse_takes() -> None:
    """Below a 208/480 transformer an amp at the EVSE is 0.4333 A on the primary:
    10 A of primary limit carry 23.08 A at the EVSE."""
    ratio = 208 / 480
    tree = constraints([(0, 0, ratio)], [(0, 0)])
    amps, stopped = fill(np.array([32.0]), np.array([10.0]), tree)
    assert amps == pytest.approx([10.0 / ratio])
    assert stopped.tolist() == [0]


def test_power_couples_phases_and_room_left_by_a_parent_goes_to_the_other_phase() -> None:
    """A node limited to 9.2 kW feeds EVSE a on L1 and b on L2 (230 W/A each): alone
    it would give both 20 A. Its parent allows only 10 A on L1, so a stops at 10 A,
    and the 2.3 kW that frees at the node goes to b: 30 A."""
    watts = 230.0
    # constraints: 0 node L1, 1 node L2, 2 node power (node 0, depth 1); 3 parent L1
    tree = constraints(
        [(0, 0, 1.0), (1, 1, 1.0), (2, 0, watts), (2, 1, watts), (3, 0, 1.0)],
        [(0, 1), (0, 1), (0, 1), (1, 0)],
    )
    capacity = np.array([INF, INF, 40 * watts, 10.0])
    amps, stopped = fill(np.full(2, 32.0), capacity, tree)
    assert amps == pytest.approx([10.0, 30.0])
    assert stopped[1] == 2  # b: the node's power
    assert stopped[0] in (2, 3)  # a: its parent's L1 and the node's power are both full


def test_a_line_to_line_evse_counts_on_both_of_its_lines() -> None:
    """A 20 A/phase node: one L1-L2 EVSE and one L2-L3 EVSE share L2, so 10 A each."""
    tree = constraints(
        [(0, 0, 1.0), (1, 0, 1.0), (1, 1, 1.0), (2, 1, 1.0)],
        [(0, 0), (0, 0), (0, 0)],
    )
    amps, _ = fill(np.full(2, 32.0), np.array([20.0, 20.0, 20.0]), tree)
    assert amps == pytest.approx([10.0, 10.0])


def test_negative_capacity_counts_as_zero() -> None:
    one_node = constraints([(0, 0, 1.0)], [(0, 0)])
    amps, stopped = fill(np.array([32.0]), np.array([-5.0]), one_node)
    assert amps.tolist() == [0.0]
    assert stopped.tolist() == [0]


def test_usage_sums_coefficient_times_amps_per_constraint() -> None:
    tree = constraints([(0, 0, 1.0), (0, 1, 1.0), (1, 0, 230.0)], [(0, 0), (0, 0)])
    assert usage(np.array([2.0, 3.0]), tree).tolist() == pytest.approx([5.0, 460.0])


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(snapshots(previous=False), st.data())
def test_fill_stays_within_capacity_and_leaves_no_evse_short_of_a_full_limit(
    snap: Snapshot, data: st.DataObject
) -> None:
    """On generated trees with random caps: usage never exceeds the room, and an EVSE
    below its cap has a constraint on its path that is full (to the tolerance)."""
    structure = structure_of(snap.topology)
    room = np.maximum(effective_capacity(snap, structure).room, 0.0)
    n = len(structure.evse_ids)
    caps = np.array(
        data.draw(st.lists(st.sampled_from([0.0, 6.0, 16.0, 32.0, 80.0]), min_size=n, max_size=n))
    )
    amps, stopped = fill(caps, room, structure.constraints)
    used = usage(amps, structure.constraints)
    finite = np.isfinite(room)
    tolerance = 1e-6 * np.maximum(1.0, np.where(finite, room, 0.0))
    assert np.all(used <= room + tolerance)
    assert np.all(amps <= caps + TOLERANCE) and np.all(amps >= 0)
    full = finite & (used >= np.where(finite, room, 0.0) - tolerance)
    for e in np.flatnonzero(amps < caps - 1e-4):
        path = [int(structure.constraints.entry_con[p]) for p in structure.evse_entries[e]]
        assert any(full[con] for con in path), f"EVSE {structure.evse_ids[e]} short of its cap"
        assert stopped[e] in path and full[stopped[e]]
