"""The demo's copy of a site lists the night's vehicles with the cards its simulated
fleet presents: each simulated vehicle's idTag maps to its own id (bus-113), so the
demo's sessions name their vehicles."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from depotctl.config import Site, load_file, site_charge_points, site_vehicles, validate_file
from depotctl.demo import scenario as night
from depotctl.demo.site import add_vehicles, prepare_site, resolve_site
from depotctl.sim.chargers.scenario import Place, read_scenario


def test_the_demo_copy_maps_each_simulated_vehicles_tag_to_it(tmp_path: Path) -> None:
    site = prepare_site(resolve_site("au-bus-depot"), tmp_path)
    start = night.start_time(datetime(2026, 12, 7, 6, 0, tzinfo=UTC), site.topology.timezone)
    fleet = night.vehicles(site.topology, start)
    add_vehicles(site.path, ((v.id, v.id_tag) for v in fleet))
    assert validate_file(site.path).diagnostics == []
    [model] = [d.model for d in load_file(site.path).documents if isinstance(d.model, Site)]
    roster = site_vehicles(model)

    scenario_path = tmp_path / "scenario.yaml"
    night.write_scenario(fleet, scenario_path, site.topology.site)
    place = Place.of(site.topology, site_charge_points(model, site.topology, tmp_path).values())
    scenario = read_scenario(
        scenario_path,
        start=start,
        zone=ZoneInfo(site.topology.timezone),
        topology=site.topology,
        place=place,
    )
    presented = {v.id: v.tag for v in scenario.vehicles}  # what the sim chargers send
    assert len(presented) == len(fleet) == 30
    assert "bus-113" in presented
    for vehicle_id, tag in presented.items():
        found = roster.of_token(tag)
        assert found is not None and found.id == vehicle_id
        assert tag != vehicle_id  # a card's number, not the vehicle's name
