"""The chargers as the API reads them: every charger of the site in force with its
state in the store (one never heard from as the allocation counts it) and, while it
is uncontrollable, its open alert (since when, and why)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from depotctl.controller.alerts import AlertBook
from depotctl.controller.ports import Depot
from depotctl.controller.services.lookups import site_in_force
from depotctl.domain.alerts import Alert, AlertKind
from depotctl.domain.chargers import ChargerState


@dataclass(frozen=True, slots=True)
class ChargerSeen:
    """A charger, its EVSEs, its state, whether the store holds one (``heard_from``)
    and its open ``charger_uncontrollable`` alert (None while there is none)."""

    state: ChargerState
    evses: tuple[str, ...]
    heard_from: bool
    alert: Alert | None


@dataclass(frozen=True, slots=True)
class ChargersNow:
    """The chargers at ``at`` by id, with the site's time zone."""

    at: datetime
    timezone: str
    chargers: list[ChargerSeen]


def list_chargers(depot: Depot) -> ChargersNow:
    """Every charger of the site in force; ``NotFound`` before the first revision."""
    topology = site_in_force(depot).topology
    stored = depot.units().chargers.states()
    counted = depot.charger_states(dict(stored), topology)
    alerts = {
        alert.subject.id: alert
        for alert in AlertBook(depot.units).open_alerts()
        if alert.kind is AlertKind.CHARGER_UNCONTROLLABLE
    }
    charger_ids = sorted({evse.charger_id for evse in topology.evses.values()})
    chargers = [
        ChargerSeen(
            counted.get(charger_id) or ChargerState(charger_id),
            tuple(evse.id for evse in topology.chargers_evses(charger_id)),
            charger_id in stored,
            alerts.get(charger_id),
        )
        for charger_id in charger_ids
    ]
    return ChargersNow(depot.clock.now(), topology.timezone, chargers)
