"""What the allocation's models say beyond their fields: a node's tightest limit and
its per-phase limits, a limit's load and share, a source and a binding in words."""

from __future__ import annotations

from typing import Any

from depotctl.api import Binding, LimitSource, NodeAllocation, NodeLimit


def limit(kind: str, effective: float | None, reserved: float, allocated: float) -> dict[str, Any]:
    unit = "kW" if kind == "import_power" else "A"
    headroom = None if effective is None else effective - reserved - allocated
    return {
        "kind": kind,
        "unit": unit,
        "effective_limit": effective,
        "source": {"kind": "static", "ref": None, "fresh": True, "text": "static"},
        "reserved": reserved,
        "allocated": allocated,
        "headroom": headroom,
        "at_limit": headroom is not None and headroom <= 0.01 * (effective or 0.0),
    }


def node(limits: list[dict[str, Any]], tightest: int | None) -> NodeAllocation:
    top = (
        limits[tightest]
        if tightest is not None
        else {**dict.fromkeys(("kind", "unit", "effective_limit", "source")),
              **dict.fromkeys(("reserved", "allocated", "headroom")), "at_limit": False}
    )  # fmt: skip
    return NodeAllocation.model_validate(
        {"id": "db-1", "type": "circuit", "parent": "gc-main", **top, "limits": limits}
    )


def test_a_node_bound_by_a_current_shows_its_phases() -> None:
    phases = [limit(f"current_L{i}", 760.0, 0.0, 352.1 + i) for i in (1, 2, 3)]
    circuit = node([limit("import_power", 500.0, 0.0, 200.0), *phases], tightest=3)
    assert circuit.binding is not None and circuit.binding.kind == "current_L3"
    assert [p.phase for p in circuit.phase_limits] == ["L1", "L2", "L3"]
    assert circuit.binding.load == 355.1
    assert round(circuit.binding.share, 3) == round(355.1 / 760.0, 3)


def test_a_node_bound_by_power_has_no_phase_limits() -> None:
    grid = node([limit("import_power", 285.0, 42.0, 243.0), limit("current_L1", 1900.0, 0, 0)], 0)
    assert grid.binding is not None and grid.binding.phase is None
    assert grid.phase_limits == ()
    assert grid.binding.at_limit and grid.binding.share == 1.0


def test_a_node_without_a_limit_of_its_own_and_an_infinite_limit() -> None:
    group = node([], None)
    assert group.binding is None and group.finite_limits == ()
    unbounded = node([limit("import_power", None, 0.0, 5.0)], None)
    assert unbounded.finite_limits == () and unbounded.limits[0].share == 1.0


def test_sources_and_bindings_in_words() -> None:
    fresh = LimitSource(kind="envelope", ref="E-17", fresh=True, text="envelope E-17 (fresh)")
    offline = LimitSource(
        kind="envelope", ref="E-17", fresh=False, text="envelope E-17 (source offline)"
    )
    assert (fresh.words, offline.words) == ("envelope E-17", "envelope E-17 (source offline)")
    assert Binding(kind="no_session", ref=None, detail="").words == "no_session"
    assert NodeLimit.model_validate(limit("current_L2", 100.0, 10.0, 20.0)).phase == "L2"
