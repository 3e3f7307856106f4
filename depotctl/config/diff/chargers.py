"""What only a charger has: OCPP credentials, EVSEs and their connectors."""

from __future__ import annotations

from depotctl.config.diff.change import (
    Action,
    Change,
    Kind,
    Section,
    Subject,
    compare,
    keyed,
    present,
    shown,
)
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
    before, after = keyed(old, lambda e: e.id), keyed(new, lambda e: e.id)
    changes: list[Change] = []
    for evse_id, evse in after.items():
        subject = _evse_subject(charger_id, evse_id)
        previous = before.get(evse_id)
        if previous is None:
            changes.append(_evse_added(subject, evse))
            continue
        changes += present(
            [compare(subject, "external_id", "external id", previous.external_id, evse.external_id)]
            + [
                compare(subject, key, label, getattr(previous, key), getattr(evse, key))
                for key, label in _MAXIMA
            ]
        )
        changes += connector_changes(subject, previous.connectors, evse.connectors)
    for evse_id in [e for e in before if e not in after]:
        subject = _evse_subject(charger_id, evse_id)
        changes.append(
            Change(
                Action.REMOVE,
                Kind.EVSE,
                Section.CHARGERS,
                subject.path,
                f"{subject.name} removed",
                id=subject.id,
            )
        )
    return changes


def _evse_subject(charger_id: str, evse_id: int) -> Subject:
    return Subject(
        f"EVSE {charger_id}/{evse_id}",
        Kind.EVSE,
        Section.CHARGERS,
        f"spec.nodes[{charger_id}].evses[{evse_id}]",
        f"{charger_id}/{evse_id}",
    )


def _evse_added(subject: Subject, evse: Evse) -> Change:
    details = [f"external id {evse.external_id}"] if evse.external_id else []
    details += [_connector_phrase(c) for c in evse.connectors]
    message = f"{subject.name} added" + (f" ({', '.join(details)})" if details else "")
    return Change(Action.ADD, Kind.EVSE, Section.CHARGERS, subject.path, message, id=subject.id)


def _connector_phrase(connector: Connector) -> str:
    return f"connector {connector.id}" + (f" {connector.type}" if connector.type else "")


def connector_changes(evse: Subject, old: list[Connector], new: list[Connector]) -> list[Change]:
    before, after = keyed(old, lambda c: c.id), keyed(new, lambda c: c.id)
    changes: list[Change] = []
    for connector_id, connector in after.items():
        subject = Subject(
            f"{evse.name} connector {connector_id}",
            Kind.CONNECTOR,
            Section.CHARGERS,
            f"{evse.path}.connectors[{connector_id}]",
            f"{evse.id}/{connector_id}",
        )
        previous = before.get(connector_id)
        if previous is None:
            changes.append(
                Change(
                    Action.ADD,
                    Kind.CONNECTOR,
                    Section.CHARGERS,
                    subject.path,
                    f"{evse.name} {_connector_phrase(connector)} added",
                    id=subject.id,
                )
            )
            continue
        changes += present(
            [compare(subject, "type", "type", previous.type, connector.type)]
            + [
                compare(subject, key, label, getattr(previous, key), getattr(connector, key))
                for key, label in _MAXIMA
            ]
        )
    for connector_id, connector in before.items():
        if connector_id not in after:
            changes.append(
                Change(
                    Action.REMOVE,
                    Kind.CONNECTOR,
                    Section.CHARGERS,
                    f"{evse.path}.connectors[{connector_id}]",
                    f"{evse.name} {_connector_phrase(connector)} removed",
                    id=f"{evse.id}/{connector_id}",
                )
            )
    return changes
