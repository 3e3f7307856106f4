"""The site's vehicles: each id listed once, each idTag belonging to one vehicle."""

from __future__ import annotations

from collections.abc import Iterator

from depotctl.config.checks.context import SiteContext, site_check
from depotctl.config.rules import Finding, error
from depotctl.domain.vehicles import token_key

DUPLICATE_VEHICLE = error(
    "vehicles/duplicate-id",
    "two vehicles share an id",
    "list each vehicle once; give its idTags to that one entry",
)
DUPLICATE_TAG = error(
    "vehicles/duplicate-id-tag",
    "an idTag listed for two vehicles (or twice for one), compared case-insensitively",
    "a tag identifies one vehicle: remove it from all but the vehicle that carries it",
)


@site_check
def vehicles(ctx: SiteContext) -> Iterator[Finding]:
    first_id: dict[str, int] = {}
    first_tag: dict[str, tuple[int, str]] = {}
    for i, vehicle in enumerate(ctx.site.spec.vehicles):
        if vehicle.id in first_id:
            yield DUPLICATE_VEHICLE.at(
                ("spec", "vehicles", i, "id"),
                f'vehicle id "{vehicle.id}" is already listed at '
                f"spec.vehicles[{first_id[vehicle.id]}]",
            )
        else:
            first_id[vehicle.id] = i
        for j, tag in enumerate(vehicle.id_tags):
            key = token_key(tag)
            if key in first_tag:
                where, owner = first_tag[key]
                yield DUPLICATE_TAG.at(
                    ("spec", "vehicles", i, "id_tags", j),
                    f'idTag "{tag}" of vehicle {vehicle.id} already belongs to vehicle '
                    f"{owner} (spec.vehicles[{where}])",
                )
            else:
                first_tag[key] = (i, vehicle.id)
