"""Values and rules of the field: quantities and phases, topology, envelopes, sessions,
operator overrides.

Standard library only: every other package builds on these.
"""

from depotctl.domain.instants import InstantError, format_instant, parse_instant
from depotctl.domain.overrides import EvseOverride
from depotctl.domain.phases import SQRT3, THREE_PHASE, Phase, PhaseConnection
from depotctl.domain.quantity import (
    UNITS,
    ApparentPower,
    CarbonIntensity,
    Current,
    DemandPrice,
    Dimension,
    Duration,
    Energy,
    EnergyPrice,
    FixedCharge,
    Power,
    Quantity,
    QuantityError,
    Ratio,
    Voltage,
    format_number,
    parse_quantity,
)

__all__ = [
    "SQRT3",
    "THREE_PHASE",
    "UNITS",
    "ApparentPower",
    "CarbonIntensity",
    "Current",
    "DemandPrice",
    "Dimension",
    "Duration",
    "Energy",
    "EnergyPrice",
    "EvseOverride",
    "FixedCharge",
    "InstantError",
    "Phase",
    "PhaseConnection",
    "Power",
    "Quantity",
    "QuantityError",
    "Ratio",
    "Voltage",
    "format_instant",
    "format_number",
    "parse_instant",
    "parse_quantity",
]
