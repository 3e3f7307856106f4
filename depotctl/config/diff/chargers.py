"""What only a charger has: OCPP credentials, EVSEs and their connectors."""

from __future__ import annotations

from depotctl.config.diff.change import Change, Kind, Listing, Section, Subject, present, shown
from depotctl.config.diff.credentials import credentials_change
from depotctl.config.schema import Charger, Connector, Evse

_MAXIMA = (("max_current", "maximum current"), ("max_power", "maximum power"))


def charger_summary(charger: Charger) -> list[str]:
    """``rated 22 kW, 32 A``, ``fallback 16 A``, ``1 EVSE``, ``OCPP CP-03 (ocpp1.6)``."""
    ratings = [shown(r) for r in (charger.rating.power, charger.rating.current) if r is not None]
    parts = [f"rated {', '.join(str(r) for r in ratings)}"] if ratings else []
    parts.append(f"fallback {shown(charger.fallback)}" if charger.fallback else "no fallback")
    count = len(charger.evses)
    parts.append(f"{count} EVSE{'s' * (count != 1)}")
    parts.append(f"OCPP {charger.ocpp.id} ({charger.ocpp.protocol})")
    return parts


def charger_changes(old: Charger, new: Charger) -> list[Change]:
    """Credentials and EVSEs; the charger's other fields are compared with every node's."""
    subject = Subject(
        f"charger {new.id}", Kind.NODE, Section.CHARGERS, f"spec.nodes[{new.id}]", new.id
    )
    credentials = credentials_change(
        subject, "ocpp.credentials", "credentials reference", old.ocpp, new.ocpp, "password"
    )
    return present([credentials]) + evse_changes(new.id, old.evses, new.evses)


def evse_changes(charger_id: str, old: list[Evse], new: list[Evse]) -> list[Change]:
    listing: Listing[int, Evse] = Listing(
        key=lambda evse: evse.id,
        subject=lambda evse_id: _evse(charger_id, evse_id),
        fields=(("external_id", "external id"), *_MAXIMA),
        added=_evse_added,
        removed=lambda subject, _: f"{subject.name} removed",
        nested=lambda subject, old, new: connector_changes(subject, old.connectors, new.connectors),
    )
    return listing.changes(old, new)


def _evse(charger_id: str, evse_id: int) -> Subject:
    """``EVSE chg-01/1`` at ``spec.nodes[chg-01].evses[1]``."""
    evse = f"{charger_id}/{evse_id}"
    path = f"spec.nodes[{charger_id}].evses[{evse_id}]"
    return Subject(f"EVSE {evse}", Kind.EVSE, Section.CHARGERS, path, evse)


def _evse_added(subject: Subject, evse: Evse) -> str:
    details = [f"external id {evse.external_id}"] if evse.external_id else []
    details += [_connector_phrase(c) for c in evse.connectors]
    return f"{subject.name} added" + (f" ({', '.join(details)})" if details else "")


def connector_changes(evse: Subject, old: list[Connector], new: list[Connector]) -> list[Change]:
    listing: Listing[int, Connector] = Listing(
        key=lambda connector: connector.id,
        subject=lambda connector_id: evse.part(
            "connector", connector_id, "connectors", Kind.CONNECTOR
        ),
        fields=(("type", "type"), *_MAXIMA),
        added=lambda _, connector: f"{evse.name} {_connector_phrase(connector)} added",
        removed=lambda _, connector: f"{evse.name} {_connector_phrase(connector)} removed",
    )
    return listing.changes(old, new)


def _connector_phrase(connector: Connector) -> str:
    return f"connector {connector.id}" + (f" {connector.type}" if connector.type else "")
