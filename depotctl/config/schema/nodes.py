"""The electrical tree: grid connections, transformers, circuits, groups, chargers, loads.

Every node has an ``id``, a ``type`` and (except a grid connection) a ``parent``;
the tree's shape is checked by the topology rules, not here.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field

from depotctl.config.schema.base import SchemaModel
from depotctl.config.schema.forecast import GenerationForecast, LoadForecast
from depotctl.config.schema.types import (
    ApparentPowerValue,
    CurrentOrPowerValue,
    CurrentValue,
    EnergyValue,
    EnvVarName,
    NodeId,
    PowerValue,
    RatioValue,
    VoltageValue,
)
from depotctl.domain import PhaseConnection, Ratio

Phases = Literal[1, 3]


def _phase_connection(value: str) -> str:
    """``value``, when it names site phases a node can be wired to."""
    PhaseConnection.parse(value)
    return value


#: Site phases a node is wired to: ``L1``, ``L1-L2``, ``L2-L3-L1`` (a ``PhaseConnection``).
PhaseRotation = Annotated[str, AfterValidator(_phase_connection)]


class Limits(SchemaModel):
    """A node's static limits: power at the connection point (total over its phases)
    and current per phase. Current limits protect conductors and are authoritative."""

    import_: PowerValue | None = Field(None, alias="import", description="Import power limit.")
    export: PowerValue | None = Field(None, description="Export power limit.")
    current: CurrentValue | None = Field(None, description="Current limit per phase.")


class NodeBase(SchemaModel):
    id: NodeId = Field(description="Unique node id: lowercase letters, digits, '-', '_', '.'.")
    parent: NodeId | None = Field(None, description="Id of the node this one is fed from.")
    description: str | None = None
    labels: dict[str, str] = Field(default_factory=dict)


class ElectricalNode(NodeBase):
    """A node that may carry limits, its own voltage and phase count, and envelopes."""

    limits: Limits | None = None
    phases: Phases | None = Field(None, description="1 or 3; inherited from the parent if absent.")
    voltage: VoltageValue | None = Field(
        None, description="Nominal line-to-neutral voltage; inherited if absent."
    )
    envelope_source: NodeId | None = Field(
        None, description="Id of the envelope source whose envelopes may target this node."
    )
    meter: NodeId | None = Field(None, description="Id of the meter that measures this node.")


class GridConnection(ElectricalNode):
    type: Literal["grid_connection"]


class Transformer(ElectricalNode):
    type: Literal["transformer"]
    rating: ApparentPowerValue = Field(description="Nameplate rating, e.g. 150 kVA.")
    primary: VoltageValue = Field(description="Primary line-to-line voltage, e.g. 480 V.")
    secondary: VoltageValue = Field(description="Secondary line-to-line voltage, e.g. 208 V.")
    winding: Literal["delta-wye", "wye-wye"] | None = Field(
        None,
        description="How its windings are connected, which decides how secondary currents "
        "reach the primary lines: delta-wye (e.g. 480 V delta to 208Y/120 V) or wye-wye. "
        "Unset: each primary line is counted as the worse of the two.",
    )


class Circuit(ElectricalNode):
    """A feeder, board or sub-board; circuits may nest."""

    type: Literal["circuit"]


class ChargerGroup(ElectricalNode):
    type: Literal["charger_group"]


class OcppSettings(SchemaModel):
    """How the charger speaks to the controller. The password is referenced, never written."""

    id: str = Field(min_length=1, max_length=48, description="OCPP charge point identity.")
    protocol: Literal["ocpp1.6", "ocpp2.0.1"]
    password_env: EnvVarName | None = Field(
        None, description="Environment variable holding the Basic-auth password."
    )
    password_file: str | None = Field(None, description="File holding the Basic-auth password.")
    password: str | int | float | None = Field(
        None, description="Never use: secrets do not belong in git (secrets/inline-secret)."
    )


class ChargerQuirks(SchemaModel):
    """Known deviations of real chargers from the protocol, tolerated per charger."""

    tx_profile_unsupported: bool = Field(
        False, description="Rejects TxProfile: send the dynamic limit as a TxDefaultProfile."
    )
    meter_values_out_of_schema: bool = Field(
        False, description="Sends MeterValues that break the schema; accept them leniently."
    )
    rate_unit: Literal["A", "W"] | None = Field(
        None, description="Force the charging-rate unit instead of asking the charger."
    )


class ChargerRating(SchemaModel):
    power: PowerValue | None = None
    current: CurrentValue | None = Field(None, description="Maximum current per phase.")


ConnectorType = Literal[
    "CCS1", "CCS2", "CHAdeMO", "Type1", "Type2", "J1772", "NACS", "GBT", "MCS", "Pantograph"
]


class Connector(SchemaModel):
    id: int = Field(ge=1, description="Connector id within its EVSE, from 1.")
    type: ConnectorType | None = None
    max_current: CurrentValue | None = None
    max_power: PowerValue | None = None


class Evse(SchemaModel):
    id: int = Field(ge=1, description="EVSE id within its charger, from 1 (chg-01/1).")
    external_id: str | None = Field(
        None, description="How outside data names this EVSE, e.g. an ACN-Data station_id."
    )
    connectors: list[Connector] = Field(default_factory=list)
    max_current: CurrentValue | None = None
    max_power: PowerValue | None = None


class Charger(NodeBase):
    type: Literal["charger"]
    ocpp: OcppSettings
    supply: Literal["ac", "dc"] = Field("ac", description="What the vehicle receives.")
    rating: ChargerRating
    phases: Phases | None = Field(None, description="Phases it draws from; default the site's.")
    phase_rotation: PhaseRotation | None = Field(
        None,
        description="Site phases it is wired to: L1, L2, L3 (line-to-neutral), L1-L2, L2-L3, "
        "L3-L1 (line-to-line), or a 3-phase rotation such as L2-L3-L1.",
    )
    voltage: VoltageValue | None = None
    fallback: CurrentOrPowerValue | None = Field(
        None, description="What it may draw when the controller is gone (its fallback profile)."
    )
    min_current: CurrentValue | None = Field(None, description="Overrides the policy's minimum.")
    quirks: ChargerQuirks = Field(default_factory=ChargerQuirks)
    evses: list[Evse] = Field(min_length=1)

    @property
    def phase_connection(self) -> PhaseConnection | None:
        return PhaseConnection.parse(self.phase_rotation) if self.phase_rotation else None


class SiteLoad(NodeBase):
    """Load that is not EV charging: offices, workshops, wash bays."""

    type: Literal["site_load"]
    meter: NodeId | None = None
    fallback: CurrentOrPowerValue = Field(description="Assumed draw when its telemetry is stale.")
    phases: Phases | None = None
    phase_rotation: PhaseRotation | None = None
    forecast: LoadForecast | None = Field(
        None, description="What it will draw over the coming hours, for the planner."
    )


class StorageRating(SchemaModel):
    power: PowerValue = Field(description="The inverter's nameplate power, each way.")
    current: CurrentValue | None = None


class StorageEfficiency(SchemaModel):
    """Per direction, as the planner's state of charge counts energy: stored = drawn ×
    charge; delivered = stored × discharge. A datasheet's round trip is their product
    (90 % round trip: about 95 % each way)."""

    charge: RatioValue = Field(Ratio(95, "%"), description="Share of the energy drawn stored.")
    discharge: RatioValue = Field(
        Ratio(95, "%"), description="Share of the energy taken out delivered."
    )


class StateOfCharge(SchemaModel):
    """The window it is kept within, as shares of its capacity."""

    min: RatioValue = Field(Ratio(10, "%"), description="Never planned below (a reserve).")
    max: RatioValue = Field(Ratio(90, "%"), description="Never planned above.")


class StorageAdapter(SchemaModel):
    """How the controller reaches the battery. Only ``simulated`` so far."""

    type: str = Field(description="simulated: a battery modelled by the controller.")
    initial_soc: RatioValue = Field(
        Ratio(50, "%"), description="The simulated battery's state of charge at start."
    )


class Storage(NodeBase):
    """A battery: counted at its metered net import when fresh, as charging at
    ``max_charge`` when stale."""

    type: Literal["storage"]
    capacity: EnergyValue = Field(description="Usable energy, e.g. 500 kWh.")
    rating: StorageRating
    max_charge: PowerValue | None = Field(
        None, description="The most it charges at; the rating's power if absent."
    )
    max_discharge: PowerValue | None = Field(
        None, description="The most it discharges at; the rating's power if absent."
    )
    efficiency: StorageEfficiency = Field(default_factory=StorageEfficiency)
    soc: StateOfCharge = Field(default_factory=StateOfCharge)
    adapter: StorageAdapter = Field(default_factory=lambda: StorageAdapter(type="simulated"))
    meter: NodeId | None = None
    phases: Phases | None = None
    phase_rotation: PhaseRotation | None = None


class Generation(NodeBase):
    """Generation (solar, …): counted at its metered net import when fresh, as producing
    nothing when stale."""

    type: Literal["generation"]
    kind: Literal["solar", "wind", "chp", "diesel", "other"] = "solar"
    rating: PowerValue = Field(description="Its peak (nameplate) output.")
    meter: NodeId | None = None
    phases: Phases | None = None
    phase_rotation: PhaseRotation | None = None
    forecast: GenerationForecast | None = Field(
        None, description="What it will produce over the coming hours, for the planner."
    )


Node = Annotated[
    GridConnection
    | Transformer
    | Circuit
    | ChargerGroup
    | Charger
    | SiteLoad
    | Storage
    | Generation,
    Field(discriminator="type"),
]

#: Every node type, in tree order.
NODE_TYPES = (
    "grid_connection",
    "transformer",
    "circuit",
    "charger_group",
    "charger",
    "site_load",
    "storage",
    "generation",
)

#: Which node types may feed which.
ALLOWED_PARENTS: dict[str, tuple[str, ...]] = {
    "grid_connection": (),
    "transformer": ("grid_connection", "transformer", "circuit"),
    "circuit": ("grid_connection", "transformer", "circuit"),
    "charger_group": ("grid_connection", "transformer", "circuit", "charger_group"),
    "charger": ("grid_connection", "transformer", "circuit", "charger_group"),
    "site_load": ("grid_connection", "transformer", "circuit", "charger_group"),
    "storage": ("grid_connection", "transformer", "circuit"),
    "generation": ("grid_connection", "transformer", "circuit"),
}
