"""Node loads recomputed from draws, and the violation check that uses them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from depotctl.domain.envelopes import Direction, Envelope, LimitUnit
from depotctl.domain.phases import Phase
from depotctl.domain.policy import Policy
from depotctl.domain.topology import Topology
from depotctl.replay.loads import node_bounds, node_loads, violations

AT = datetime(2019, 5, 13, 17, 0, tzinfo=UTC)


def test_a_line_to_line_draw_loads_both_lines_and_steps_down_through_the_transformer(
    caltech: tuple[Topology, Policy],
) -> None:
    topology, _ = caltech
    loads = node_loads(topology, {"ca-308/1": 10.0})  # on L1-L2
    watts = 10.0 * topology.evses["ca-308/1"].watts_per_amp
    assert dict(loads["secondary"].current_a) == {Phase.L1: 10.0, Phase.L2: 10.0, Phase.L3: 0.0}
    # through the 480 V delta to 208Y/120 V winding, primary A carries (I_a − I_c)/4:
    # an A-B load of I draws I/2 on primary B and I/4 on A and C
    per_winding = 208 / 480 / 3**0.5
    assert loads["xfmr-acn"].current_a[Phase.L1] == pytest.approx(10.0 * per_winding)
    assert loads["xfmr-acn"].current_a[Phase.L2] == pytest.approx(20.0 * per_winding)
    assert loads["xfmr-acn"].current_a[Phase.L3] == pytest.approx(10.0 * per_winding)
    assert loads["gc-caltech"].current_a[Phase.L2] == pytest.approx(20.0 * per_winding)
    assert loads["ca-308"].current_a[Phase.L1] == 10.0  # a single-phase node: its one line
    assert {n: round(loads[n].power_w, 6) for n in ("ca-308", "pair-ab", "gc-caltech")} == {
        n: round(watts, 6) for n in ("ca-308", "pair-ab", "gc-caltech")
    }
    assert loads["pair-bc"].power_w == 0.0


def test_phasors_add_exactly_through_the_delta_winding(caltech: tuple[Topology, Policy]) -> None:
    topology, _ = caltech
    evses = {e.connection and str(e.connection): e.id for e in topology.evses.values()}
    # one load on each pair, equal: a balanced three-phase load on the primary, where a
    # same-named line mapping would count 2 × 208/480 per line and a magnitude sum 3/4
    draws = {evses["L1-L2"]: 10.0, evses["L2-L3"]: 10.0, evses["L3-L1"]: 10.0}
    loads = node_loads(topology, draws)
    balanced = 10.0 * 3**0.5 * 208 / 480 / 3**0.5 * 3**0.5
    for phase in Phase:
        assert loads["xfmr-acn"].current_a[phase] == pytest.approx(balanced)


def test_an_a_b_heavy_load_breaks_primary_b_first(caltech: tuple[Topology, Policy]) -> None:
    """What a same-named line mapping (208/480 on A and on B) would miss: the 26 EVSEs
    on A-B at 14.5 A put 377 A × 1/2 = 188.6 A on primary B, over its 180.5 A, where
    that mapping counts 163.4 A."""
    topology, _ = caltech
    pair_ab = [e.id for e in topology.evses.values() if "pair-ab" in e.path]
    assert len(pair_ab) == 26
    loads = node_loads(topology, dict.fromkeys(pair_ab, 14.5))
    found = violations(loads, node_bounds(topology, (), AT), AT)
    transformer = {v.quantity for v in found if v.node == "xfmr-acn"}
    assert "current_L2" in transformer
    same_named = len(pair_ab) * 14.5 * 208 / 480
    assert same_named < 180.5 < loads["xfmr-acn"].current_a[Phase.L2]


def test_an_overloaded_pod_is_a_violation(caltech: tuple[Topology, Policy]) -> None:
    topology, _ = caltech
    pod = [e.id for e in topology.evses.values() if "cc-pod" in e.path]
    assert len(pod) == 8
    # each at its maximum (32 A, 6.656 kW): 256 A behind an 80 A breaker
    loads = node_loads(topology, {e: topology.evses[e].max_current_a for e in pod})
    found = violations(loads, node_bounds(topology, (), AT), AT)
    assert {(v.node, v.quantity) for v in found} == {
        ("cc-pod", "current_L1"),
        ("cc-pod", "current_L2"),
    }
    assert all(v.value == pytest.approx(256.0, abs=0.1) and v.limit == 80.0 for v in found)
    assert {v.source for v in found} == {"static"}


def test_a_load_within_every_limit_is_no_violation(caltech: tuple[Topology, Policy]) -> None:
    topology, _ = caltech
    pod = [e.id for e in topology.evses.values() if "cc-pod" in e.path]
    loads = node_loads(topology, dict.fromkeys(pod, 10.0))  # exactly 80 A
    assert violations(loads, node_bounds(topology, (), AT), AT) == []


def _cut(limit_w: float, start: datetime, hours: float = 4) -> Envelope:
    return Envelope(
        id="E-17",
        source="dso",
        target="gc-caltech",
        direction=Direction.IMPORT,
        limit=limit_w,
        unit=LimitUnit.W,
        start=start,
        end=start + timedelta(hours=hours),
        received_at=start - timedelta(hours=1),
    )


def test_an_envelope_in_force_binds_and_one_outside_its_window_does_not(
    caltech: tuple[Topology, Policy],
) -> None:
    topology, _ = caltech
    full = topology.evses["ca-308/1"].max_current_a
    loads = node_loads(topology, {"ca-308/1": full, "ca-508/1": full})  # 13.3 kW
    cut = _cut(10_000.0, AT - timedelta(hours=1))
    found = violations(loads, node_bounds(topology, (cut,), AT), AT)
    assert [(v.node, v.quantity, v.source) for v in found] == [
        ("gc-caltech", "import_power", "E-17")
    ]
    later = AT + timedelta(hours=5)
    assert violations(loads, node_bounds(topology, (cut,), later), later) == []
