"""The site's vehicles (``spec.vehicles``): each one's id, its fleet operator, and the
OCPP idTags / idTokens it authorises with, so that its sessions name it."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from depotctl.config.schema.base import SchemaModel
from depotctl.config.schema.types import NodeId, Text

IdTag = Annotated[
    str,
    Text(
        r"[!-~]{1,36}",
        "idTag",
        "an idTag / idToken is 1 to 36 printable ASCII characters without spaces "
        '(OCPP 1.6 allows 20), e.g. 04A1B2C3; quote one of digits only: "12345678"',
    ),
]


class VehicleSpec(SchemaModel):
    id: NodeId = Field(description="The vehicle's id, as people name it: bus-42.")
    fleet: NodeId | None = Field(None, description="Its fleet operator's id: sydney-buses.")
    id_tags: list[IdTag] = Field(
        default_factory=list,
        description="The OCPP idTags / idTokens it starts a session with (compared "
        "case-insensitively); a session started with one of them is this vehicle's.",
    )
