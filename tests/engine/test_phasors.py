"""The allocator's three-phase rows (:mod:`depotctl.engine.phasors`) against the
replay's exact phasor check (:mod:`depotctl.replay.loads`), on generated depots with
delta-wye, wye-wye and unknown transformers and line-to-neutral, line-to-line,
three-phase and unknown-phase EVSEs, and on the Caltech ACN."""

from __future__ import annotations

import math
from dataclasses import replace
from itertools import combinations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depotctl.config import Site, compile_site, load_file
from depotctl.domain.phases import SQRT3, Phase
from depotctl.domain.policy import Policy
from depotctl.domain.topology import NodeKind, NodeLimits, Topology
from depotctl.engine import allocate
from depotctl.engine.capacity import effective_capacity
from depotctl.engine.phasors import FACET_COS, K, line_rows
from depotctl.engine.structure import KINDS, Structure, structure_of
from depotctl.engine.waterfill import usage
from depotctl.replay.loads import Bound, NodeBounds, node_bounds, node_loads, violations
from tests.conftest import SITES
from tests.engine.conftest import T0, session, snapshot
from tests.engine.node_loads import coefficients
from tests.engine.strategies import topologies

SOME = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
MARGIN = Policy(safety_margin=0.05, hysteresis_a=0.0)
#: draws per EVSE, in amps
AMPS = st.lists(st.integers(0, 320).map(lambda tenths: tenths / 10), min_size=6, max_size=6)


def _small(topology: Topology) -> Topology:
    """Without site loads: the replay's check knows only EVSEs."""
    return replace(topology, site_loads={})


def _box_vertices(draws: dict[str, float]) -> list[dict[str, float]]:
    """Every corner of the box 0 ≤ d ≤ draws: each subset of the EVSEs at their amps."""
    ids = [e for e, amps in draws.items() if amps > 0]
    return [
        {e: (draws[e] if e in chosen else 0.0) for e in draws}
        for size in range(len(ids) + 1)
        for chosen in map(set, combinations(ids, size))
    ]


def _after_margin(topology: Topology, policy: Policy) -> dict[str, NodeBounds]:
    """The site's own limits less the safety margin (a charger's rating: none)."""
    out = {}
    for node_id, bounds in node_bounds(topology, (), T0).items():
        keep = 1.0 if topology.nodes[node_id].kind is NodeKind.CHARGER else 1 - policy.safety_margin
        out[node_id] = NodeBounds(
            node_id,
            {p: Bound(b.value * keep, b.source) for p, b in bounds.current_a.items()},
            None if bounds.power_w is None else Bound(bounds.power_w.value * keep, "static"),
        )
    return out


@SOME
@given(topologies(max_chargers=3), AMPS)
def test_every_draw_up_to_the_limits_keeps_every_limit_by_the_exact_phasor_check(
    topology: Topology, amps: list[float]
) -> None:
    """(a) Any amps the rows allow, and any draw between 0 and those (the box's
    corners: the worst case of a convex magnitude is at one), is within every limit
    after the margin by the replay's exact phasor check: the allocation, and for each
    line, any amps per EVSE scaled until one of that line's rows is full."""
    topology = _small(topology)
    sessions = tuple(session(e) for e in sorted(topology.evses))
    snap = snapshot(topology, MARGIN, sessions=sessions)
    bounds = _after_margin(topology, MARGIN)
    limits = allocate(snap).limits_a
    for draws in _box_vertices(limits):
        found = violations(node_loads(topology, draws), bounds, T0)
        assert found == [], f"drawing {draws} under limits {limits}: {found}"
    structure = structure_of(topology)
    capacity = effective_capacity(snap, structure)
    room = capacity.room
    x = np.array(
        [dict(zip(structure.evse_ids, amps, strict=False)).get(e, 0.0) for e in structure.evse_ids]
    )
    used = usage(x, structure.constraints)
    for (node_id, phase), cons in _rows_by_line(structure, topology).items():
        full = min((room[con] / used[con] for con in cons if used[con] > 0), default=np.inf)
        if not np.isfinite(full):
            continue  # no limit, or nothing on the line
        corners = _box_vertices(dict(zip(structure.evse_ids, (x * full).tolist(), strict=True)))
        worst = max(node_loads(topology, d)[node_id].current_a[Phase(phase)] for d in corners)
        # the line's limit in force (its site file's, or an offline source's fallback)
        assert worst <= capacity.effective[cons[0]] * (1 + 1e-9) + 1e-9


def _line_rows(structure: Structure, slot: int) -> list[int]:
    return list(structure.line_facets.get(slot, (slot,)))


def _rows_by_line(structure: Structure, topology: Topology) -> dict[tuple[str, str], list[int]]:
    """Every current line of a three-phase node, by (node, ``L1``…), and its rows."""
    return {
        (node_id, kind.value.removeprefix("current_")): _line_rows(
            structure, structure.constraint(node_id, kind)
        )
        for node_id, node in topology.nodes.items()
        if node.phases == 3
        for kind in KINDS[:3]
    }


def _row_weights(structure: Structure, con: int) -> dict[int, float]:
    constraints = structure.constraints
    pick = constraints.entry_con == con
    return dict(
        zip(constraints.entry_evse[pick].tolist(), constraints.entry_w[pick].tolist(), strict=True)
    )


@SOME
@given(topologies())
def test_every_row_allows_whatever_the_magnitudes_added_allowed(topology: Topology) -> None:
    """(b) Each row of a line has every EVSE's coefficient at most the old single row's
    (magnitudes added, through a delta-wye the windings' magnitudes added) and the same
    limit, so any draw that row allowed, every row allows."""
    structure = structure_of(topology)
    for (node_id, phase), cons in _rows_by_line(structure, topology).items():
        for con in cons:
            for e, weight in _row_weights(structure, con).items():
                crude = coefficients(topology, topology.evses[structure.evse_ids[e]])
                assert weight <= crude[(node_id, phase)] * (1 + 1e-9) + 1e-12


@SOME
@given(topologies(max_chargers=3), AMPS)
def test_the_rows_bound_the_exact_worst_case_within_cos_pi_over_k(
    topology: Topology, amps: list[float]
) -> None:
    """(c) For any amps per EVSE, the fullest row of each line is at least the exact
    worst case over the box (safe) and at most that over cos(π/K) (0.86 % more)."""
    topology = _small(topology)
    structure = structure_of(topology)
    draws = dict(zip(structure.evse_ids, amps, strict=False))
    x = np.array([draws.get(e, 0.0) for e in structure.evse_ids])
    corners = [node_loads(topology, d) for d in _box_vertices(draws)]
    for (node_id, phase), cons in _rows_by_line(structure, topology).items():
        exact = max(loads[node_id].current_a[Phase(phase)] for loads in corners)
        rows = max(sum(w * x[e] for e, w in _row_weights(structure, con).items()) for con in cons)
        assert exact <= rows * (1 + 1e-9) + 1e-9, f"{node_id} {phase}"
        assert rows * FACET_COS <= exact * (1 + 1e-9) + 1e-9, f"{node_id} {phase}"


def test_loads_at_one_angle_keep_one_exact_row_and_a_wedge_keeps_four_facets() -> None:
    one_angle = line_rows(np.array([[1 + 0j, 2 + 0j]]), np.array([[0.0, 0.0]]))
    assert one_angle.tolist() == [[1.0, 2.0]]
    # a wye line L1: line-to-neutral (0°), L1-L2 (30°) and L3-L1 (on L1: −30°) — the
    # facets with normals ±7.5° and ±22.5° cover the rest
    wedge = np.exp(1j * np.radians([[0.0, 30.0, -30.0]]))
    assert len(line_rows(wedge, np.zeros((1, 3)))) == 4
    # opposite angles never cancel in the worst case: each facet sees one of them
    opposite = line_rows(np.array([[1 + 0j, -1 + 0j]]), np.zeros((1, 2)))
    assert opposite.max(axis=0).tolist() == pytest.approx([1.0, 1.0])
    assert K == 24 and math.isclose(1 - FACET_COS, 0.0086, abs_tol=1e-4)


def _caltech_at_30_kva() -> Topology:
    """The Caltech ACN with 12 EVSEs on each pair of lines (the first 12 by id under
    pair-ab, its pods' included, pair-bc and pair-ca), its transformer's primary at 30
    kVA."""
    loaded = load_file(SITES / "caltech-acn.yaml")
    site = loaded.documents[0].model
    assert isinstance(site, Site)
    topology, _ = compile_site(site, SITES)
    kept = {}
    for pair in ("pair-ab", "pair-bc", "pair-ca"):
        on_pair = sorted(e for e, spec in topology.evses.items() if pair in spec.path)
        kept.update({e: topology.evses[e] for e in on_pair[:12]})
    transformer = topology.nodes["xfmr-acn"]
    primary = replace(transformer, limits=NodeLimits(import_w=None, current_a=36.1))
    return replace(topology, evses=kept, nodes={**topology.nodes, "xfmr-acn": primary})


def test_the_caltech_primary_at_30_kva_admits_a_third_more_than_magnitudes_added() -> None:
    """Primary line A carries (I_a − I_c)·k, k = (208/480)/√3 = 0.2502 per amp. Per amp
    drawn, an A-B EVSE puts k∠30° on it, a C-A EVSE 2k∠−30°, a B-C EVSE k∠−90°. With n =
    12 EVSEs per pair all at x amps the phasors add to 3k·n·x (a balanced set), and the
    worst case over any of them drawing less is the same 3k·n·x (the facet at −22.5°:
    (cos 52.5° + 2·cos 7.5° + cos 67.5°)/cos 7.5° = 3). Magnitudes added made it
    (1 + 2 + 1)·k·n·x = 4k·n·x. So at 30 kVA (30,000 / 3 / 277 V = 36.1 A, margin 0)
    every EVSE may have 36.1 / (3 · 0.2502 · 12) = 4.008 A where it had 36.1 / (4 ·
    0.2502 · 12) = 3.006 A: 36 × 4.008 A × 208 V = 30.0 kVA, where it was 22.5 kVA."""
    topology = _caltech_at_30_kva()
    structure = structure_of(topology)
    policy = Policy(safety_margin=0.0)
    capacity = effective_capacity(snapshot(topology, policy), structure)
    room = capacity.effective - capacity.reserved
    per_amp = np.bincount(
        structure.constraints.entry_con,
        weights=structure.constraints.entry_w,
        minlength=structure.constraints.size,
    )
    lines = [
        con
        for kind in KINDS[:3]
        for con in _line_rows(structure, structure.constraint("xfmr-acn", kind))
    ]
    uniform = min(room[con] / per_amp[con] for con in lines)
    k = (208 / 480) / SQRT3
    assert k == pytest.approx(0.2502, abs=1e-4)
    assert uniform == pytest.approx(4.008, abs=1e-3)
    assert uniform == pytest.approx(36.1 / (3 * k * 12))
    assert uniform > 36.1 / (4 * k * 12) * 1.33  # the old bound: 3.006 A
    # and whatever the 36 vehicles then draw up to it stays within 36.1 A exactly
    draws = dict.fromkeys(topology.evses, uniform)
    assert max(node_loads(topology, draws)["xfmr-acn"].current_a.values()) == pytest.approx(36.1)
