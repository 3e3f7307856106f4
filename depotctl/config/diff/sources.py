"""Meters and envelope sources: added, removed, and each of their fields."""

from __future__ import annotations

from collections.abc import Sequence

from depotctl.config.diff.change import (
    Change,
    Kind,
    Listing,
    Section,
    Subject,
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
    return _METERS.changes(old, new)


def envelope_source_changes(
    old: Sequence[EnvelopeSource], new: Sequence[EnvelopeSource]
) -> list[Change]:
    return _SOURCES.changes(old, new)


def _token(subject: Subject, old: EnvelopeSource, new: EnvelopeSource) -> list[Change]:
    return present(
        [
            credentials_change(
                subject, "oscp.credentials", "token reference", old.oscp, new.oscp, "token"
            )
        ]
    )


_METERS: Listing[str, Meter] = Listing(
    key=lambda meter: meter.id,
    subject=lambda meter_id: Subject(
        f"meter {meter_id}", Kind.METER, Section.TOPOLOGY, f"spec.meters[{meter_id}]", meter_id
    ),
    fields=_METER_FIELDS,
    added=lambda s, meter: f"{s.name} added on {meter.node} (measures {meter.measures})",
    removed=lambda s, meter: f"{s.name} removed (was on {meter.node})",
)
_SOURCES: Listing[str, EnvelopeSource] = Listing(
    key=lambda source: source.id,
    subject=lambda source_id: Subject(
        f"envelope source {source_id}",
        Kind.ENVELOPE_SOURCE,
        Section.ENVELOPE_SOURCES,
        f"spec.envelope_sources[{source_id}]",
        source_id,
    ),
    fields=_SOURCE_FIELDS,
    added=lambda s, source: f"{s.name} added ({_summary(source)})",
    removed=lambda s, source: f"{s.name} removed (was {source.protocol})",
    nested=_token,
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
