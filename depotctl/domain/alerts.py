"""Alerts: conditions of the depot that people must know about while they hold.

An :class:`AlertCondition` is what holds now (a charger that cannot be commanded, a
stale meter, an offline envelope source, a node whose assumed draws alone exceed its
limit): a kind, a subject, the reason in words and structured details. An
:class:`Alert` is a condition the controller raised: it has an id, the instant it was
first raised (``since``) and, once the condition went away, when it did
(``cleared_at``). One open alert per kind and subject at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import Any


class AlertKind(StrEnum):
    CHARGER_UNCONTROLLABLE = "charger_uncontrollable"
    METER_STALE = "meter_stale"
    SOURCE_OFFLINE = "source_offline"
    NODE_OVERCOMMITTED = "node_overcommitted"
    OSCP_COMPLIANCE = "oscp_compliance"
    DEPARTURE_AT_RISK = "departure_at_risk"

    @property
    def phrase(self) -> str:
        """What the subject is, in the headline: ``charger dc-07 uncontrollable``."""
        return _PHRASES[self]

    @property
    def severity(self) -> Severity:
        critical = (AlertKind.NODE_OVERCOMMITTED, AlertKind.OSCP_COMPLIANCE)
        return Severity.CRITICAL if self in critical else Severity.WARNING


class Severity(StrEnum):
    """``critical``: a limit may be broken now; ``warning``: the controller works
    around it (a fallback, an assumed draw) but someone should look."""

    CRITICAL = "critical"
    WARNING = "warning"


_PHRASES = {
    AlertKind.CHARGER_UNCONTROLLABLE: "uncontrollable",
    AlertKind.METER_STALE: "stale",
    AlertKind.SOURCE_OFFLINE: "offline",
    AlertKind.NODE_OVERCOMMITTED: "over-committed",
    AlertKind.OSCP_COMPLIANCE: "cannot comply with its forecast",
    AlertKind.DEPARTURE_AT_RISK: "departure at risk",
}


class SubjectKind(StrEnum):
    NODE = "node"
    EVSE = "evse"
    CHARGER = "charger"
    SOURCE = "source"
    SESSION = "session"
    METER = "meter"


@dataclass(frozen=True, slots=True, order=True)
class Subject:
    """What an alert is about: a node, EVSE, charger, envelope source, session or
    meter, by its id."""

    kind: SubjectKind
    id: str

    def __str__(self) -> str:
        return f"{self.kind.value} {self.id}"


class _Worded:
    """What a condition and an alert say alike: their key and their words."""

    __slots__ = ()
    kind: AlertKind
    subject: Subject
    reason: str

    @property
    def key(self) -> tuple[AlertKind, Subject]:
        """At most one open alert per key."""
        return (self.kind, self.subject)

    @property
    def headline(self) -> str:
        return headline_of(self.kind, self.subject)

    @property
    def message(self) -> str:
        return f"{self.headline} ({self.reason})"


@dataclass(frozen=True, slots=True)
class AlertCondition(_Worded):
    """A condition that holds now. ``reason`` says why in a few words; ``data`` holds
    the figures behind it (JSON values)."""

    kind: AlertKind
    subject: Subject
    reason: str
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Alert(_Worded):
    """A raised condition: open while ``cleared_at`` is None. ``reason`` and ``data``
    are the latest the condition gave (while open, they follow it)."""

    id: int
    kind: AlertKind
    subject: Subject
    since: datetime
    reason: str
    data: Mapping[str, Any] = field(default_factory=dict)
    cleared_at: datetime | None = None

    @property
    def is_open(self) -> bool:
        return self.cleared_at is None


def headline_of(kind: AlertKind, subject: Subject) -> str:
    return f"{subject} {kind.phrase}"
