"""Meters and envelope sources: where telemetry and outside limits come from.

An envelope source is protocol-neutral: heartbeat, offline-after and fallback
are its own; the protocol's settings sit in a block named after the protocol.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from depotctl.config.schema.base import SchemaModel
from depotctl.config.schema.types import CurrentValue, DurationValue, EnvVarName, NodeId, PowerValue


class Meter(SchemaModel):
    id: NodeId
    node: NodeId = Field(description="The node this meter measures.")
    measures: Literal["total", "import", "export", "per_phase"] = "total"
    description: str | None = None


class OscpQuirks(SchemaModel):
    """Deviations from OSCP 2.0 of this provider's implementation; each off by default."""

    acknowledge_path: str | None = Field(
        None,
        pattern=r"^[a-z_]+$",
        description="The provider's endpoint for HandshakeAcknowledge, where it is not "
        "handshake_acknowledge (pyoscp: handshake_acknowledgment); the controller also "
        "accepts the provider's acknowledgement there.",
    )
    naive_times_in: str | None = Field(
        None,
        description="The IANA zone of the provider's datetimes written without an offset "
        "(read in it; the controller writes its own to this provider the same way).",
    )
    trailing_slash: bool = Field(False, description="The provider's endpoint URLs end in a slash.")
    omits_measurement_configuration: bool = Field(
        False,
        description="The provider's required_behaviour lacks measurement_configuration "
        "(pyoscp's HandshakeAcknowledge): read as [], no configuration.",
    )


class OscpSettings(SchemaModel):
    """OSCP 2.0: the Capacity Provider's endpoint and this site's group there."""

    base_url: str = Field(pattern=r"^https?://", description="The Capacity Provider's base URL.")
    group_id: str = Field(min_length=1, description="The group this site is in at the provider.")
    version: Literal["2.0"] = "2.0"
    token_env: EnvVarName | None = Field(
        None, description="Environment variable holding the token."
    )
    token_file: str | None = Field(None, description="File holding the token.")
    token: str | int | float | None = Field(None, description="Never use (secrets/inline-secret).")
    quirks: OscpQuirks | None = Field(
        None, description="Deviations from the specification of this provider's implementation."
    )


class EnvelopeFallback(SchemaModel):
    """The limit that applies while the source is offline and sent no fallback of its own."""

    import_: PowerValue | None = Field(None, alias="import")
    export: PowerValue | None = None
    current: CurrentValue | None = None


class EnvelopeSource(SchemaModel):
    id: NodeId
    protocol: Literal["oscp", "local"] = Field(
        description="oscp: a grid operator over OSCP 2.0; local: envelopes posted to the API."
    )
    oscp: OscpSettings | None = None
    heartbeat_interval: DurationValue | None = Field(
        None, description="How often the source is expected to be heard from."
    )
    offline_after: DurationValue | None = Field(
        None, description="Silence after which the source counts as offline."
    )
    fallback: EnvelopeFallback | None = None
