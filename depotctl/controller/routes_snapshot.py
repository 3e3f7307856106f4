"""``GET /api/v1/snapshot``: the live state in the snapshot file format
(``docs/snapshot.md``), so support can replay this instant offline with ``depotctl
allocate --snapshot``.

The snapshot is the one ``/state`` shows (the control loop's latest cycle, with the
limits then in force for hysteresis), with the site in force embedded: the export is
self-contained.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Query
from fastapi.responses import JSONResponse, Response

from depotctl import __version__
from depotctl.config.snapshot.export import export_document, to_yaml
from depotctl.controller.deps import ControllerDep
from depotctl.controller.errors import ApiError
from depotctl.controller.service import NoSite

YAML_MEDIA_TYPE = "application/yaml"


def snapshot_routes() -> APIRouter:
    """The snapshot export (mounted with ``include_api``)."""
    router = APIRouter()

    @router.get(
        "/snapshot",
        tags=["state"],
        summary="The live state as a snapshot file (for `depotctl allocate --snapshot`)",
        response_class=Response,
        responses={
            200: {
                "description": "A `kind: Snapshot` document with the site embedded",
                "content": {"application/json": {}, YAML_MEDIA_TYPE: {}},
            },
            404: {"description": "No site revision yet"},
        },
    )
    def snapshot(
        controller: ControllerDep,
        output_format: Annotated[
            Literal["json", "yaml"], Query(alias="format", description="json (default) or yaml")
        ] = "json",
    ) -> Response:
        try:
            applied = controller.require_site()
            live = controller.current().snapshot  # the one /state shows, limits in force
        except NoSite as error:
            raise ApiError(404, "not_found", str(error)) from None
        revision = applied.revision
        document = export_document(
            live,
            revision.site_text,
            exported_by=f"depotctl {__version__} controller",
            description=f"exported from the controller at site revision {revision.number} "
            f"(sha256:{revision.hash})",
            base_dir=controller.base_dir_of(revision).resolve(),
        )
        if output_format == "yaml":
            return Response(to_yaml(document), media_type=YAML_MEDIA_TYPE)
        return JSONResponse(document)

    return router
