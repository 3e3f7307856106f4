"""``GET /api/v1/snapshot``: the live state as a snapshot document.

Its format is not the API's to define: it is the snapshot file of the contracts
(docs/snapshot.md), whose schema the config package owns and ``depotctl allocate
--snapshot`` checks. So the API reads it as an opaque document with its version:
``apiVersion`` and ``kind`` are pinned, everything else is kept exactly as sent (the
order of its keys included, so an export writes the same file), and the readings a
console shows are read with the domain's quantity grammar.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import Field, TypeAdapter

from depotctl.api.base import ApiModel
from depotctl.domain.quantity import Power, QuantityError


class SnapshotReading(ApiModel):
    """A node's (or meter's) latest reading in a snapshot."""

    node: str
    power: str | None = Field(None, description='"31.4 kW"; negative is export.')

    @property
    def power_kw(self) -> float | None:
        """The power in kW; None when there is none (or it does not read as a power)."""
        if self.power is None:
            return None
        try:
            return Power.parse(self.power).kw
        except QuantityError:
            return None


_READINGS = TypeAdapter(list[SnapshotReading])


class SnapshotDocument(ApiModel):
    """A ``kind: Snapshot`` document of ``apiVersion: depotctl/v1`` with the site
    embedded (its other keys as docs/snapshot.md describes them)."""

    api_version: Literal["depotctl/v1"] = Field(alias="apiVersion")
    kind: Literal["Snapshot"]

    @property
    def at(self) -> str:
        """The instant, as written (with the site's offset)."""
        return str((self.model_extra or {}).get("at", ""))

    def readings(self) -> list[SnapshotReading]:
        """The latest reading per node or meter (``telemetry``)."""
        telemetry: Any = (self.model_extra or {}).get("telemetry") or []
        return _READINGS.validate_python(telemetry)
