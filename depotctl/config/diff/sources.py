"""Meters and envelope sources: added, removed, and each of their fields."""

from __future__ import annotations

from collections.abc import Sequence

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
    value_at,
)
from depotctl.config.diff.credentials import credentials_change
from depotctl.config.schema import EnvelopeSource, Meter

_METER_FIELDS = (("node", "node"), ("measures", "measures"), ("description", "description"))
_SOURCE_SETTINGS = (
    ("protocol", "protocol"),
    ("oscp.base_url", "OSCP base URL"),
    ("oscp.group_id", "OSCP group"),
    ("oscp.version", "OSCP version"),
)
#: How the source behaves when it goes quiet: shown in full when a source is added.
_SOURCE_BEHAVIOUR = (
    ("heartbeat_interval", "heartbeat"),
    ("offline_after", "offline after"),
    ("fallback.import", "fallback import"),
    ("fallback.export", "fallback export"),
    ("fallback.current", "fallback current"),
)
_SOURCE_FIELDS = _SOURCE_SETTINGS + _SOURCE_BEHAVIOUR


def meter_changes(old: Sequence[Meter], new: Sequence[Meter]) -> list[Change]:
    before, after = keyed(old, lambda m: m.id), keyed(new, lambda m: m.id)
    changes: list[Change] = []
    for meter_id, meter in after.items():
        subject = Subject(
            f"meter {meter_id}", Kind.METER, Section.TOPOLOGY, f"spec.meters[{meter_id}]", meter_id
        )
        previous = before.get(meter_id)
        if previous is None:
            message = f"{subject.name} added on {meter.node} (measures {meter.measures})"
            changes.append(_whole(Action.ADD, subject, message))
            continue
        changes += present(
            compare(subject, key, label, value_at(previous, key), value_at(meter, key))
            for key, label in _METER_FIELDS
        )
    for meter_id, meter in before.items():
        if meter_id not in after:
            subject = Subject(
                f"meter {meter_id}",
                Kind.METER,
                Section.TOPOLOGY,
                f"spec.meters[{meter_id}]",
                meter_id,
            )
            message = f"{subject.name} removed (was on {meter.node})"
            changes.append(_whole(Action.REMOVE, subject, message))
    return changes


def envelope_source_changes(
    old: Sequence[EnvelopeSource], new: Sequence[EnvelopeSource]
) -> list[Change]:
    before, after = keyed(old, lambda s: s.id), keyed(new, lambda s: s.id)
    changes: list[Change] = []
    for source_id, source in after.items():
        subject = _source_subject(source_id)
        previous = before.get(source_id)
        if previous is None:
            message = f"{subject.name} added ({_summary(source)})"
            changes.append(_whole(Action.ADD, subject, message))
            continue
        changes += present(
            compare(subject, key, label, value_at(previous, key), value_at(source, key))
            for key, label in _SOURCE_FIELDS
        )
        changes += present(
            [
                credentials_change(
                    subject,
                    "oscp.credentials",
                    "token reference",
                    previous.oscp,
                    source.oscp,
                    "token",
                )
            ]
        )
    for source_id, source in before.items():
        if source_id not in after:
            subject = _source_subject(source_id)
            changes.append(
                _whole(Action.REMOVE, subject, f"{subject.name} removed (was {source.protocol})")
            )
    return changes


def _source_subject(source_id: str) -> Subject:
    return Subject(
        f"envelope source {source_id}",
        Kind.ENVELOPE_SOURCE,
        Section.ENVELOPE_SOURCES,
        f"spec.envelope_sources[{source_id}]",
        source_id,
    )


def _summary(source: EnvelopeSource) -> str:
    """``oscp, heartbeat 60 s, offline after 5 min, fallback import 200 kW``."""
    parts: list[str] = [source.protocol]
    for key, label in _SOURCE_BEHAVIOUR:
        value = value_at(source, key)
        if value is not None:
            parts.append(f"{label} {shown(value)}")
    if source.fallback is None:
        parts.append("no fallback")
    return ", ".join(parts)


def _whole(action: Action, subject: Subject, message: str) -> Change:
    """A meter or source added or removed as a whole."""
    return Change(action, subject.kind, subject.section, subject.path, message, id=subject.id)
