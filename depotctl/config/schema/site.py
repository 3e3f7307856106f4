"""The documents of a site repository: ``kind: Site`` and ``kind: Tariff``."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from depotctl.config.schema.base import SchemaModel
from depotctl.config.schema.carbon import Carbon
from depotctl.config.schema.nodes import Node, Phases
from depotctl.config.schema.planner import Planner
from depotctl.config.schema.policies import Policies
from depotctl.config.schema.prices import Prices
from depotctl.config.schema.sources import EnvelopeSource, Meter
from depotctl.config.schema.tariff import TariffRef, TariffSpec
from depotctl.config.schema.types import NodeId, VoltageValue
from depotctl.config.schema.vehicles import VehicleSpec

API_VERSION = "depotctl/v1"


class Metadata(SchemaModel):
    name: NodeId
    timezone: str = Field(description="IANA time zone, e.g. Australia/Sydney.")
    labels: dict[str, str] = Field(default_factory=dict)
    description: str | None = None


class Electrical(SchemaModel):
    voltage: VoltageValue = Field(
        description="Default nominal line-to-neutral voltage (230 V; 120 V or 277 V in North America)."
    )
    phases: Phases = 3


class SiteSpec(SchemaModel):
    electrical: Electrical
    nodes: list[Node] = Field(min_length=1)
    meters: list[Meter] = Field(default_factory=list)
    envelope_sources: list[EnvelopeSource] = Field(default_factory=list)
    tariff: TariffSpec | TariffRef | None = None
    carbon: Carbon | None = None
    prices: Prices | None = None
    policies: Policies = Field(default_factory=Policies)
    planner: Planner = Field(default_factory=Planner)
    vehicles: list[VehicleSpec] = Field(default_factory=list)


class Site(SchemaModel):
    """One depot: its electrical tree, meters, envelope sources, tariff, carbon and policies."""

    apiVersion: Literal["depotctl/v1"]
    kind: Literal["Site"]
    metadata: Metadata
    spec: SiteSpec


class TariffMetadata(SchemaModel):
    name: NodeId
    description: str | None = None
    source: str | None = Field(None, description="Where the tariff was published.")


class TariffDocument(SchemaModel):
    """A tariff in a file of its own, shared by several sites (``tariff: {ref: …}``)."""

    apiVersion: Literal["depotctl/v1"]
    kind: Literal["Tariff"]
    metadata: TariffMetadata
    spec: TariffSpec


#: The model for each ``kind``.
DOCUMENT_KINDS: dict[str, type[Site] | type[TariffDocument]] = {
    "Site": Site,
    "Tariff": TariffDocument,
}
