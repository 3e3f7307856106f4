"""The engine's :class:`~depotctl.domain.snapshot.Snapshot` and its site text → a
snapshot document (``docs/snapshot.md``): the inverse of :mod:`.build`.

The site is embedded (its ``kind: Site`` document, parsed), so the export needs no
other file. Times are written in the site's time zone, with their offset; quantities
with their unit, exactly: a value is written in kW (kWh) only when that reads back to
the same number of W (Wh), else in W (Wh). ``load_snapshot`` of the export builds the
same snapshot again.
"""

from __future__ import annotations

import io
import json
import math
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from ruamel.yaml import YAML

from depotctl.config.schema import API_VERSION
from depotctl.config.snapshot.load import KIND
from depotctl.config.source import parse_documents
from depotctl.domain.chargers import ChargerState
from depotctl.domain.envelopes import LOCAL_SOURCE, Envelope, LimitUnit
from depotctl.domain.overrides import EvseOverride
from depotctl.domain.plan_notes import PlanNote
from depotctl.domain.sessions import Session
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.telemetry import Reading

SITE_KIND = "Site"


class SiteTextError(ValueError):
    """The site text holds no single ``kind: Site`` document to embed."""


def export_document(
    snapshot: Snapshot,
    site_text: str,
    *,
    exported_by: str | None = None,
    description: str | None = None,
    base_dir: Path | None = None,
) -> dict[str, Any]:
    """The snapshot file of ``snapshot`` as plain data (dicts, lists, strings, numbers),
    with the site of ``site_text`` embedded. With ``base_dir`` (where the site's
    relative files resolve), the site's file references are made absolute."""
    zone = _zone(snapshot.topology.timezone)

    def when(instant: datetime) -> str:
        return instant.astimezone(zone).isoformat()

    metadata = {
        key: value
        for key, value in (("description", description), ("exported_by", exported_by))
        if value is not None
    }
    document: dict[str, Any] = {"apiVersion": API_VERSION, "kind": KIND}
    if metadata:
        document["metadata"] = metadata
    document["at"] = when(snapshot.at)
    document["site"] = embedded_site(site_text, base_dir)
    document["envelope_sources"] = [
        {
            "id": source_id,
            **_maybe("last_heard", health.last_heard, when),
            **_maybe("deadline", health.deadline, when),
        }
        for source_id, health in sorted(snapshot.sources.items())
        # the site's sources, and the operators' own (local); the store may have
        # heard from others that the site in force no longer declares
        if source_id in snapshot.topology.sources or source_id == LOCAL_SOURCE
    ]
    document["envelopes"] = [_envelope(e, when) for e in snapshot.envelopes]
    document["telemetry"] = [_reading(r, when) for _, r in sorted(snapshot.telemetry.items())]
    document["sessions"] = [
        _session(s, when, snapshot.plan_notes.get(s.id)) for s in snapshot.sessions
    ]
    document["chargers"] = [_charger(c, when) for _, c in sorted(snapshot.chargers.items())]
    document["previous_limits"] = {
        evse: amps(limit) for evse, limit in sorted(snapshot.previous_limits.items())
    }
    document["overrides"] = [
        _override(override, when)
        for evse_id, override in sorted(snapshot.overrides.items())
        # an override on an EVSE the site no longer has changes nothing
        if evse_id in snapshot.topology.evses
    ]
    document["admission"] = {
        evse_id: {("on_since" if record.on else "off_since"): when(record.since)}
        for evse_id, record in sorted(snapshot.admission.items())
        if evse_id in snapshot.topology.evses
    }
    return document


def embedded_site(site_text: str, base_dir: Path | None = None) -> dict[str, Any]:
    """The ``kind: Site`` document of ``site_text``, as read by the site loader; with
    ``base_dir``, its relative file references (``tariff.ref``, ``carbon.profile``,
    ``carbon.series``, ``prices.series`` and each node's ``forecast.series``) made
    absolute, since an embedded site's files would otherwise resolve against the
    snapshot's directory."""
    sites = [
        d.data
        for d in parse_documents(site_text)
        if isinstance(d.data, dict) and d.data.get("kind") == SITE_KIND
    ]
    if len(sites) != 1:
        raise SiteTextError(f"the site text holds {len(sites)} Site documents, not one")
    site: dict[str, Any] = sites[0]
    spec = site.get("spec")
    if base_dir is not None and isinstance(spec, dict):
        nodes = spec.get("nodes")
        blocks = [(spec.get(section), key) for section, key in _FILE_REFERENCES] + [
            (node.get("forecast"), "series")
            for node in (nodes if isinstance(nodes, list) else [])
            if isinstance(node, dict)
        ]
        for block, key in blocks:
            if isinstance(block, dict) and isinstance(block.get(key), str):
                block[key] = str(base_dir / block[key])  # an absolute one stays as it is
    return site


#: (spec section, key) of the site's references to files
_FILE_REFERENCES = (
    ("tariff", "ref"),
    ("carbon", "profile"),
    ("carbon", "series"),
    ("prices", "series"),
)


def to_yaml(document: dict[str, Any]) -> str:
    """The document as YAML (block style; strings quoted where YAML would retype them)."""
    yaml = YAML(typ="safe", pure=True)
    yaml.default_flow_style = False
    yaml.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    yaml.width = 4096
    out = io.StringIO()
    yaml.dump(document, out)
    return out.getvalue()


def to_json(document: dict[str, Any]) -> str:
    return json.dumps(document, indent=2, ensure_ascii=False) + "\n"


# Quantities: a number and its unit, reading back to the same base value


def number(value: float) -> str:
    """The shortest text that reads back as ``value`` (``250``, not ``250.0``); ``inf``
    and ``nan`` as themselves (a store from before their refusal may hold them)."""
    if math.isfinite(value) and value == int(value) and abs(value) < 1e15:
        return str(int(value))
    return repr(float(value))


def _scaled(base: float, unit: str, big_unit: str, factor: float) -> str:
    big = base / factor
    if big * factor == base:
        return f"{number(big)} {big_unit}"
    return f"{number(base)} {unit}"


def watts(value: float) -> str:
    return _scaled(value, "W", "kW", 1e3)


def watt_hours(value: float) -> str:
    return _scaled(value, "Wh", "kWh", 1e3)


def amps(value: float) -> str:
    return f"{number(value)} A"


# Sections


def _zone(name: str) -> tzinfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return UTC


def _maybe(key: str, value: Any, write: Any) -> dict[str, Any]:
    return {key: write(value)} if value is not None else {}


def _envelope(envelope: Envelope, when: Any) -> dict[str, Any]:
    limit = watts(envelope.limit) if envelope.unit is LimitUnit.W else amps(envelope.limit)
    return {
        "id": envelope.id,
        "source": envelope.source,
        "target": envelope.target,
        "direction": str(envelope.direction),
        "limit": limit,
        **_maybe("phases", envelope.phases, lambda phases: sorted(str(p) for p in phases)),
        "start": when(envelope.start),
        **_maybe("end", envelope.end, when),
        "received_at": when(envelope.received_at),
        "mode": str(envelope.mode),
        "priority": envelope.priority,
        **_maybe("withdrawn_at", envelope.withdrawn_at, when),
    }


def _reading(reading: Reading, when: Any) -> dict[str, Any]:
    current = reading.current_a
    return {
        "node": reading.node,
        "at": when(reading.at),
        **_maybe("power", reading.power_w, watts),
        **_maybe(
            "current",
            current,
            lambda per_phase: {str(p): amps(a) for p, a in sorted(per_phase.items())},
        ),
    }


def _session(session: Session, when: Any, note: PlanNote | None) -> dict[str, Any]:
    requirement = session.requirement
    return {
        "id": session.id,
        "evse": session.evse_id,
        "started": when(session.started),
        "energy_delivered": watt_hours(session.energy_delivered_wh),
        **(
            {
                "requirement": {
                    "energy": watt_hours(requirement.energy_wh),
                    "departure": when(requirement.departure),
                    "source": str(requirement.source),
                }
            }
            if requirement is not None
            else {}
        ),
        **_maybe("vehicle_max_current", session.vehicle_max_current_a, amps),
        **_maybe("planned_rate", session.planned_rate_a, amps),
        **_maybe("plan_note", note, lambda n: _plan_note(n, when)),
        "priority_class": session.priority_class,
    }


def _plan_note(note: PlanNote, when: Any) -> dict[str, Any]:
    return {
        "price_now": float(note.price_now),
        **_maybe("cheaper_price", note.cheaper_price, float),
        **_maybe("cheaper_from", note.cheaper_from, when),
        "departure": when(note.departure),
        "slack_hours": float(note.slack_h),
        **_maybe("grid_price_now", note.grid_price_now, float),
        **({"cheaper_solar": True} if note.cheaper_solar else {}),
    }


def _charger(state: ChargerState, when: Any) -> dict[str, Any]:
    return {
        "id": state.charger_id,
        "online": state.online,
        **_maybe("last_outcome", state.last_outcome, str),
        **_maybe("last_accepted_limit", state.last_accepted_limit_a, amps),
        **_maybe("last_command_at", state.last_command_at, when),
        **_maybe("reason", state.reason, str),
    }


def _override(override: EvseOverride, when: Any) -> dict[str, Any]:
    return {
        "evse": override.evse_id,
        "paused": override.paused,
        **_maybe("cap", override.cap_a, amps),
        "set_at": when(override.set_at),
        "author": override.author,
        **_maybe("reason", override.reason, str),
    }
