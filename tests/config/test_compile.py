"""A validated site → the engine's topology and policy, in base units (W, A, V)."""

from __future__ import annotations

import math
from collections import Counter
from datetime import datetime, time, timedelta
from functools import cache
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from depotctl.config.compile import compile_planner, compile_site
from depotctl.config.load import load_file
from depotctl.config.schema import Site
from depotctl.config.validate import validate_file
from depotctl.domain.phases import SQRT3, THREE_PHASE, PhaseConnection
from depotctl.domain.planning import CarbonPrice, PlannerSettings
from depotctl.domain.policy import Policy, UncontrollableAssumption
from depotctl.domain.topology import NodeKind, NodeLimits, Topology
from tests.conftest import EXAMPLES, SITES


@cache
def compiled(name: str) -> tuple[Topology, Policy]:
    path = SITES / name
    site = load_file(path).documents[0].model
    assert isinstance(site, Site)
    return compile_site(site, path.parent)


@pytest.mark.parametrize(
    ("name", "evses", "chargers"),
    [
        ("caltech-acn.yaml", 54, 54),
        ("au-bus-depot.yaml", 30, 30),
        ("us-truck-depot.yaml", 12, 12),
        ("large-depot.yaml", 300, 300),
    ],
)
def test_every_bundled_site_compiles_with_all_its_evses(
    name: str, evses: int, chargers: int
) -> None:
    topology, _ = compiled(name)
    assert len(topology.evses) == evses
    assert sum(n.kind is NodeKind.CHARGER for n in topology.nodes.values()) == chargers


@pytest.mark.parametrize(
    "name", ["caltech-acn.yaml", "au-bus-depot.yaml", "us-truck-depot.yaml", "large-depot.yaml"]
)
def test_nodes_come_parents_first_and_every_path_climbs_to_a_grid_connection(name: str) -> None:
    topology, _ = compiled(name)
    seen: set[str] = set()
    for node in topology.nodes.values():
        assert node.parent is None or node.parent in seen, node.id
        assert node.depth == (0 if node.parent is None else topology.nodes[node.parent].depth + 1)
        seen.add(node.id)
    for evse in topology.evses.values():
        assert evse.path[0] == evse.charger_id
        for child, parent in zip(evse.path, evse.path[1:], strict=False):
            assert topology.nodes[child].parent == parent
        assert topology.nodes[evse.path[-1]].kind is NodeKind.GRID_CONNECTION
        assert evse.min_current_a <= evse.max_current_a


def test_caltech_evses_are_line_to_line_at_208_v() -> None:
    topology, _ = compiled("caltech-acn.yaml")
    connections = Counter(str(e.connection) for e in topology.evses.values())
    assert connections == {"L1-L2": 26, "L2-L3": 14, "L3-L1": 14}
    for evse in topology.evses.values():
        assert evse.voltage_ln * SQRT3 == pytest.approx(208.0, abs=0.1)
        assert evse.watts_per_amp == pytest.approx(208.0, abs=0.1)  # √3 · 120 V per amp
        # 6.656 kW and 32 A ratings: about 32 A either way
        assert evse.max_current_a == pytest.approx(32.0, abs=0.01)
        assert evse.fallback_a == 8.0


def test_caltech_path_runs_from_the_charger_through_its_pod_to_the_grid() -> None:
    topology, _ = compiled("caltech-acn.yaml")
    assert topology.evses["ca-322/1"].path == (
        "ca-322",
        "cc-pod",
        "pair-ab",
        "secondary",
        "xfmr-acn",
        "gc-caltech",
    )
    assert topology.evses["ca-322/1"].min_current_a == 8.0  # the ClipperCreek's own minimum
    assert topology.evses["ca-308/1"].min_current_a == 6.0  # the policy's
    assert topology.evses["ca-308/1"].external_id == "CA-308"
    assert topology.nodes["cc-pod"].limits.current_a == 80.0


def test_caltech_transformer_steps_current_by_208_over_480_and_holds_150_kva() -> None:
    topology, _ = compiled("caltech-acn.yaml")
    transformer = topology.nodes["xfmr-acn"]
    assert transformer.kind is NodeKind.TRANSFORMER
    assert transformer.current_ratio == pytest.approx(208 / 480)
    assert transformer.limits.current_a == pytest.approx(180.5)  # on its primary
    assert transformer.limits.import_w == pytest.approx(150_000.0)  # its rating
    assert transformer.voltage_ln == pytest.approx(277.0)  # the primary side
    assert transformer.winding == "delta-wye"
    assert topology.nodes["secondary"].voltage_ln * SQRT3 == pytest.approx(208.0, abs=0.1)
    assert all(n.current_ratio == 1.0 for n in topology.nodes.values() if n is not transformer)


def test_us_truck_depot_mixes_three_phase_dc_and_line_to_line_chargers() -> None:
    topology, policy = compiled("us-truck-depot.yaml")
    dc = topology.evses["dc-01/1"]
    assert dc.connection == THREE_PHASE
    assert dc.max_current_a == pytest.approx(150_000 / (3 * 277))  # power, not 190 A, binds
    assert dc.fallback_a == pytest.approx(30_000 / (3 * 277))  # 30 kW in amps per line
    level2 = topology.evses["l2-01/1"]
    assert level2.connection == PhaseConnection.parse("L1-L2")
    assert level2.fallback_a == 16.0
    assert level2.path[1:] == ("pp-l2", "xfmr-l2", "gc-main")
    assert topology.nodes["xfmr-l2"].limits.import_w == pytest.approx(112_500.0)
    assert topology.nodes["xfmr-l2"].current_ratio == pytest.approx(208 / 480)
    [shop] = topology.site_loads.values()
    assert (shop.parent, shop.meter, shop.connection) == ("gc-main", "m-shop", THREE_PHASE)
    assert shop.fallback_a == pytest.approx(45_000 / (3 * 277))  # 45 kW
    assert policy.uncontrollable is UncontrollableAssumption.RATING


def test_au_bus_depot_has_an_envelope_source_with_its_fallback_in_watts() -> None:
    topology, policy = compiled("au-bus-depot.yaml")
    source = topology.sources["ausgrid-oscp"]
    assert source.targets == ("gc-main",)
    assert source.offline_after_s == 300.0
    assert source.fallback == NodeLimits(import_w=900_000.0)
    assert topology.nodes["gc-main"].envelope_source == "ausgrid-oscp"
    assert topology.nodes["gc-main"].limits == NodeLimits(
        import_w=1_200_000.0, export_w=50_000.0, current_a=2_000.0
    )
    assert all(e.watts_per_amp == pytest.approx(690.0) for e in topology.evses.values())
    assert policy.default_departure == time(4, 30, tzinfo=policy.default_departure.tzinfo)
    assert str(policy.default_departure.tzinfo) == "Australia/Sydney"


def test_policy_values_are_in_base_units() -> None:
    assert compiled("au-bus-depot.yaml")[1].safety_margin == pytest.approx(0.05)
    assert compiled("au-bus-depot.yaml")[1].urgency_threshold_s == 2700.0
    _, policy = compiled("caltech-acn.yaml")
    assert policy.min_current_a == 6.0
    assert policy.safety_margin == 0.0  # comparable with acnportal's limits
    assert policy.stale_after_s == 30.0
    assert policy.hysteresis_a == 1.0
    assert policy.urgency_threshold_s == 1800.0
    assert math.isclose(policy.default_energy_wh, 10_000.0)


def test_rotation_defaults_to_five_minutes_on_and_off() -> None:
    _, policy = compiled("caltech-acn.yaml")
    assert (policy.min_on_s, policy.min_off_s) == (300.0, 300.0)


def test_rotation_compiles_in_seconds(tmp_path: Path) -> None:
    text = (EXAMPLES / "minimal.yaml").read_text(encoding="utf-8")
    text += "  policies:\n    charging:\n      rotation: {min_on: 10 min, min_off: 90 s}\n"
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    site = load_file(path).documents[0].model
    assert isinstance(site, Site)
    _, policy = compile_site(site, tmp_path)
    assert (policy.min_on_s, policy.min_off_s) == (600.0, 90.0)


def test_a_rotation_time_of_zero_is_refused(tmp_path: Path) -> None:
    text = (EXAMPLES / "minimal.yaml").read_text(encoding="utf-8")
    text += "  policies:\n    charging:\n      rotation: {min_on: 0 s}\n"
    path = tmp_path / "site.yaml"
    path.write_text(text, encoding="utf-8")
    report = validate_file(path)
    assert [d.rule for d in report.diagnostics] == ["quantity/not-positive"]


def _example(name: str) -> Site:
    site = load_file(EXAMPLES / name).documents[0].model
    assert isinstance(site, Site)
    return site


def test_storage_and_generation_compile_to_their_own_specs_not_site_loads() -> None:
    topology, _ = compiled("large-depot.yaml")
    battery = topology.storage["bess-north"]
    assert (battery.parent, battery.meter, battery.connection) == (
        "msb-n",
        "m-bess-north",
        THREE_PHASE,
    )
    # defaults: both ways at the rating, 95 % each way, kept within 10–90 %
    assert battery.max_charge_w == battery.max_discharge_w == 250_000.0
    assert battery.capacity_wh == 500_000.0
    assert (battery.charge_efficiency, battery.discharge_efficiency) == pytest.approx((0.95, 0.95))
    assert (battery.min_soc, battery.max_soc, battery.initial_soc) == pytest.approx((0.1, 0.9, 0.5))
    assert topology.generation["pv-south"].peak_w == 300_000.0
    assert topology.generation["pv-south"].forecast is None
    assert not {"bess-north", "pv-south"} & topology.site_loads.keys()


def test_the_planner_example_compiles_every_new_field() -> None:
    path = EXAMPLES / "valid" / "planner" / "storage-solar-depot.yaml"
    site = _example("valid/planner/storage-solar-depot.yaml")
    topology, _ = compile_site(site, path.parent)
    battery = topology.storage["bess-1"]
    assert (battery.max_charge_w, battery.max_discharge_w) == (150_000.0, 200_000.0)
    assert (battery.charge_efficiency, battery.discharge_efficiency) == pytest.approx((0.96, 0.95))
    assert (battery.min_soc, battery.max_soc) == pytest.approx((0.15, 0.9))
    monday_13h = datetime(2026, 12, 7, 13, tzinfo=ZoneInfo("Australia/Sydney"))
    zone = ZoneInfo(topology.timezone)
    roof, carport = topology.generation["pv-roof"], topology.generation["pv-carport"]
    assert roof.forecast is not None and carport.forecast is not None
    assert roof.forecast.watts_at(monday_13h, zone) == pytest.approx(0.88 * 99_000)  # 88 %
    assert carport.forecast.watts_at(monday_13h, zone) == 48_000.0  # from the CSV
    assert carport.connection == PhaseConnection.parse("L1-L2-L3")
    workshop, wash = topology.site_loads["workshop"], topology.site_loads["bus-wash"]
    assert workshop.forecast is not None and wash.forecast is not None
    assert workshop.forecast.watts_at(monday_13h, zone) == 45_000.0  # weekdays, hour 13
    saturday_13h = monday_13h + timedelta(days=5)
    assert workshop.forecast.watts_at(saturday_13h, zone) == 10_000.0
    assert wash.forecast.watts_at(monday_13h.replace(hour=21), zone) == 45_000.0
    settings = compile_planner(site)
    assert (settings.enabled, settings.horizon, settings.block, settings.replan) == (
        True,
        timedelta(hours=24),
        timedelta(minutes=15),
        timedelta(minutes=5),
    )
    assert isinstance(settings.carbon_price, CarbonPrice)
    assert settings.carbon_price.per_kg == pytest.approx(0.14)
    assert settings.carbon_price.currency == "AUD"


def test_a_site_without_planner_settings_does_not_plan() -> None:
    settings = compile_planner(_example("minimal.yaml"))
    assert settings == PlannerSettings()
