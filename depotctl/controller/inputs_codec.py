"""A cycle's inputs as plain JSON and back, exactly: the snapshot's parts (envelopes,
sources' health, readings, sessions, charger states, limits in force, commands out,
overrides, admission, plan notes) as sections of items by key, each item the fields of
its domain dataclass. The site (topology and policy) is not in them: it is the
revision's. ``rebuilt(sections_of(s), …) == s`` for every snapshot the controller makes.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from enum import Enum
from functools import cache
from typing import Any

from depotctl.controller.store.encoding import iso, parse
from depotctl.domain.admission import Admission
from depotctl.domain.chargers import ChargerState
from depotctl.domain.envelopes import Envelope, SourceHealth
from depotctl.domain.overrides import EvseOverride
from depotctl.domain.plan_notes import PlanNote
from depotctl.domain.policy import Policy
from depotctl.domain.sessions import Session
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.telemetry import Reading
from depotctl.domain.topology import Topology

#: Item JSON (a dict of fields, or a number for a limit in amps).
Item = Any
#: section name → item key → domain object (or amps)
Sections = dict[str, dict[str, Any]]

#: the keyed parts of a snapshot and the type of their items (float: amps)
SECTION_TYPES: dict[str, type] = {
    "envelopes": Envelope,
    "sources": SourceHealth,
    "telemetry": Reading,
    "sessions": Session,
    "chargers": ChargerState,
    "previous_limits": float,
    "pending": float,
    "overrides": EvseOverride,
    "admission": Admission,
    "plan_notes": PlanNote,
}


def sections_of(snapshot: Snapshot) -> Sections:
    """The snapshot's inputs by section and key (domain objects, not encoded yet)."""
    return {
        "envelopes": {e.id: e for e in snapshot.envelopes},
        "sources": dict(snapshot.sources),
        "telemetry": dict(snapshot.telemetry),
        "sessions": {s.id: s for s in snapshot.sessions},
        "chargers": dict(snapshot.chargers),
        "previous_limits": dict(snapshot.previous_limits),
        "pending": dict(snapshot.pending),
        "overrides": dict(snapshot.overrides),
        "admission": dict(snapshot.admission),
        "plan_notes": dict(snapshot.plan_notes),
    }


def rebuilt(
    sections: Sections,
    *,
    at: datetime,
    topology: Topology,
    policy: Policy,
    envelope_lead: timedelta,
) -> Snapshot:
    """The snapshot of ``sections`` (decoded) at ``at`` for the site given."""
    return Snapshot(
        at=at,
        topology=topology,
        policy=policy,
        envelopes=tuple(sections["envelopes"].values()),
        sources=sections["sources"],
        telemetry=sections["telemetry"],
        sessions=tuple(sections["sessions"].values()),
        chargers=sections["chargers"],
        previous_limits=sections["previous_limits"],
        overrides=sections["overrides"],
        pending=sections["pending"],
        admission=sections["admission"],
        envelope_lead=envelope_lead,
        plan_notes=sections["plan_notes"],
    )


def encode_item(section: str, value: Any) -> Item:
    return _codec(SECTION_TYPES[section])[0](value)


def decode_item(section: str, item: Item) -> Any:
    return _codec(SECTION_TYPES[section])[1](item)


def changed_fields(section: str, before: Any, after: Any) -> dict[str, Item] | None:
    """The fields of ``after`` that differ from ``before``'s, encoded (an item's patch);
    None for a section whose items have no fields (amps)."""
    cls = SECTION_TYPES[section]
    if not dataclasses.is_dataclass(cls):
        return None
    return {
        name: _codec(hint)[0](getattr(after, name))
        for name, hint in _fields(cls)
        if getattr(before, name) != getattr(after, name)
    }


# The codec, compiled once per type from the dataclasses' annotations

Code = Callable[[Any], Any]


def _same(value: Any) -> Any:
    return value


def _optional(hint: Any) -> Any:
    """``X`` of ``X | None`` (any other hint as it is)."""
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        return next(a for a in typing.get_args(hint) if a is not type(None))
    return hint


@cache
def _codec(hint: Any) -> tuple[Code, Code]:
    """The encoder and the decoder of values of ``hint`` (None kept as None)."""
    hint = _optional(hint)
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    pair: tuple[Code, Code]
    if hint is datetime:
        pair = (iso, parse)
    elif isinstance(hint, type) and issubclass(hint, Enum):
        pair = (_enum_value, hint)
    elif hint is float:
        pair = (_same, float)
    elif hint in (bool, str, int):
        pair = (_same, _same)
    elif isinstance(hint, type) and dataclasses.is_dataclass(hint):
        fields = tuple((name, _codec(h)) for name, h in _fields(hint))
        pair = (_dataclass_encoder(fields), _dataclass_decoder(hint, fields))
    elif origin in (Mapping, dict):
        key, value = _codec(args[0]), _codec(args[1])
        pair = (_mapping_encoder(key[0], value[0]), _mapping_decoder(key[1], value[1]))
    elif origin in (frozenset, tuple):
        each = _codec(args[0])
        pair = (
            _sequence_encoder(each[0], sort=origin is frozenset),
            _sequence_decoder(each[1], origin),
        )
    else:
        raise TypeError(f"no encoding for {hint}")
    return _none_kept(pair[0]), _none_kept(pair[1])


def _none_kept(code: Code) -> Code:
    def coded(value: Any) -> Any:
        return None if value is None else code(value)

    return coded


def _enum_value(value: Enum) -> Any:
    return value.value


def _dataclass_encoder(fields: tuple[tuple[str, tuple[Code, Code]], ...]) -> Code:
    def encode(value: Any) -> Any:
        return {name: code[0](getattr(value, name)) for name, code in fields}

    return encode


def _dataclass_decoder(cls: type, fields: tuple[tuple[str, tuple[Code, Code]], ...]) -> Code:
    def decode(item: Any) -> Any:
        return cls(**{name: code[1](item[name]) for name, code in fields if name in item})

    return decode


def _mapping_encoder(key: Code, value: Code) -> Code:
    def encode(mapping: Any) -> Any:
        return {str(key(k)): value(v) for k, v in mapping.items()}

    return encode


def _mapping_decoder(key: Code, value: Code) -> Code:
    def decode(item: Any) -> Any:
        return {key(k): value(v) for k, v in item.items()}

    return decode


def _sequence_encoder(each: Code, *, sort: bool) -> Code:
    def encode(values: Any) -> Any:
        encoded = [each(v) for v in values]
        return sorted(encoded) if sort else encoded

    return encode


def _sequence_decoder(each: Code, kind: type) -> Code:
    def decode(item: Any) -> Any:
        return kind(each(v) for v in item)

    return decode


@cache
def _fields(cls: type) -> tuple[tuple[str, Any], ...]:
    hints = typing.get_type_hints(cls)
    return tuple((f.name, hints[f.name]) for f in dataclasses.fields(cls))
