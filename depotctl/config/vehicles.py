"""The site's vehicles (``spec.vehicles``) as the controller's roster."""

from __future__ import annotations

from depotctl.config.schema import Site
from depotctl.domain.vehicles import Vehicle, VehicleRoster


def site_vehicles(site: Site) -> VehicleRoster:
    """The vehicles a site lists, by id and by idTag."""
    return VehicleRoster.of(
        Vehicle(spec.id, spec.fleet, tuple(spec.id_tags)) for spec in site.spec.vehicles
    )
