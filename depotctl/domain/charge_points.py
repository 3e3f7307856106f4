"""A charger as its OCPP connection sees it: identity, protocol, credentials by
reference, EVSE numbering, and what converts amps to watts.

Built from a validated site by :func:`depotctl.config.site_charge_points`;
the OCPP endpoint authenticates, routes and dispatches with it.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from depotctl.domain.phases import PhaseConnection


class OcppVersion(StrEnum):
    """The websocket subprotocol names, as negotiated."""

    V16 = "ocpp1.6"
    V201 = "ocpp2.0.1"


class RateUnit(StrEnum):
    AMPS = "A"
    WATTS = "W"


@dataclass(frozen=True, slots=True)
class PasswordRef:
    """Where a charger's Basic-auth password is kept: an environment variable, or a
    file (an absolute path). Only where: the shell reads it when needed, never storing
    it (:func:`depotctl.credentials.read_password`)."""

    env: str | None = None
    file: Path | None = None


@dataclass(frozen=True, slots=True)
class ChargePointEvse:
    """One EVSE: its depotctl id (``chg-01/1``), its OCPP number (the 2.0.1 EVSE id;
    the 1.6 connector id), and its connectors' ids."""

    evse_id: str
    number: int
    connector_ids: tuple[int, ...] = (1,)


@dataclass(frozen=True, slots=True)
class ChargePoint:
    """A charger's OCPP side. ``watts_per_amp`` converts amps per line to watts at
    its supply (phases and voltage); ``number_phases`` is what a charging profile
    says (3, or 1 for a single-phase or line-to-line charger). ``rating_a`` and
    ``fallback_a`` are amps per line per EVSE. ``rate_unit`` None means: ask the
    charger. ``dc`` is a charger that delivers DC (its profiles default to watts and
    carry no ``numberPhases``). ``connection`` is how its phases land on the site's
    (None: a single-phase charger whose phase is unknown)."""

    ocpp_id: str
    charger_id: str
    version: OcppVersion
    password: PasswordRef | None
    evses: tuple[ChargePointEvse, ...]
    number_phases: int
    watts_per_amp: float
    rating_a: float
    fallback_a: float
    rate_unit: RateUnit | None = None
    tx_profile_unsupported: bool = False
    lenient_meter_values: bool = False
    connection: PhaseConnection | None = None
    dc: bool = False

    def evse(self, number: int) -> ChargePointEvse | None:
        """The EVSE with this OCPP number (1.6: connector id)."""
        return next((e for e in self.evses if e.number == number), None)

    def watts(self, amps: float) -> float:
        return amps * self.watts_per_amp

    def amps(self, watts: float) -> float:
        return watts / self.watts_per_amp if self.watts_per_amp > 0 else 0.0
