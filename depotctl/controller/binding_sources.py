"""Where an EVSE's binding limit comes from, for whoever asks why: the line of the site
revision that sets it (a node's limit, a charger's rating, an envelope source's
fallback, the planner, a policy), an envelope's source and its protocol, an
operator's override, or the vehicle itself."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from depotctl.config import YamlSyntaxError, parse_documents
from depotctl.controller.store import Revision
from depotctl.engine import Binding, BindingKind

#: a site revision's text parsed: the line of each value, by revision hash
_PARSED: dict[str, tuple[Any, Any]] = {}
_PARSED_MAX = 4

#: the quantity a node's binding detail names (``gc-main import power is full``)
_QUANTITY = re.compile(r"^\S+ (?P<what>import power|export power|current)\b")
_LIMIT_KEYS = {"import power": "import", "export power": "export", "current": "current"}

#: the policies behind the engine's own bindings, by the site key that sets them
_POLICIES = {
    BindingKind.PLANNED_RATE: (("planner",), "the horizon planner's plan (planner:)"),
    BindingKind.MIN_CURRENT_ADMISSION: (
        ("policies", "charging", "min_current"),
        "the minimum current policy (policies.charging.min_current)",
    ),
    BindingKind.STALE_TELEMETRY: (
        ("policies", "telemetry"),
        "the stale telemetry policy (policies.telemetry)",
    ),
}


@dataclass(frozen=True, slots=True)
class BindingSource:
    """``kind`` (``site``: a line of the revision; ``envelope``: a source's limit;
    ``operator``; ``vehicle``), the sentence, and where: the revision and its line, the
    envelope source and its protocol."""

    kind: str
    text: str
    #: the site revision that sets it, and the line there (None: the default)
    revision: int | None = None
    line: int | None = None
    #: an envelope's source id and its protocol (``oscp``, ``local``)
    envelope_source: tuple[str | None, str | None] = (None, None)

    @property
    def source(self) -> str | None:
        return self.envelope_source[0]

    @property
    def protocol(self) -> str | None:
        return self.envelope_source[1]

    def json(self) -> dict[str, Any]:
        said = {"kind": self.kind, "text": self.text, "revision": self.revision}
        return {**said, "line": self.line, "source": self.source, "protocol": self.protocol}


def binding_source(
    revision: Revision, binding: Binding, envelope_source: str | None = None
) -> BindingSource | None:
    """Where ``binding`` (decided at ``revision``) comes from — ``envelope_source``: the
    source of the envelope it names, when it names one; None for a binding that no
    limit sets (no session, a command pending)."""
    kind, ref = binding.kind, binding.ref
    if kind is BindingKind.ENVELOPE:
        return _envelope_source(revision, ref, envelope_source)
    if kind is BindingKind.FALLBACK and ref is not None:
        return _site_line(
            revision,
            _source_path(revision, ref, "fallback"),
            f"the fallback of envelope source {ref} while it is offline",
        )
    if kind in (BindingKind.NODE_LIMIT, BindingKind.CHARGER_LIMIT) and ref is not None:
        return _node_limit(revision, ref, binding)
    if kind in _POLICIES:
        path, words = _POLICIES[kind]
        return _site_line(revision, ("spec", *path), words)
    if kind is BindingKind.OPERATOR_OVERRIDE:
        return BindingSource("operator", "an operator's override (depotctl override list)")
    if kind is BindingKind.VEHICLE_LIMIT:
        return BindingSource("vehicle", "the vehicle's own limit, as its charger reported it")
    return None


def _envelope_source(revision: Revision, envelope: str | None, source: str | None) -> BindingSource:
    spec = _spec(revision)
    declared = next(
        (
            s
            for s in spec.get("envelope_sources") or ()
            if isinstance(s, dict) and s.get("id") == source
        ),
        None,
    )
    if source is None or declared is None:
        via = (
            f"source {source} (posted through the API; site revision {revision.number} "
            "declares no such source)"
            if source is not None
            else "a source no longer kept"
        )
        return BindingSource(
            "envelope", f"envelope {envelope} from {via}", envelope_source=(source, None)
        )
    protocol = str(declared.get("protocol") or "local")
    who = {
        "oscp": f"the grid operator's OSCP Capacity Provider {source}",
        "local": f"the local envelope source {source} (posted through the API)",
    }.get(protocol, f"envelope source {source} ({protocol})")
    found = _site_line(revision, _source_path(revision, source, None), "")
    return BindingSource(
        "envelope",
        f"envelope {envelope} from {who}, declared at line {found.line} of site revision "
        f"{revision.number}",
        revision=revision.number,
        line=found.line,
        envelope_source=(source, protocol),
    )


def _node_limit(revision: Revision, ref: str, binding: Binding) -> BindingSource:
    """A node's limit, or a charger's rating (an EVSE's own maximum: its charger's)."""
    node_id = ref.split("/")[0]
    nodes = _spec(revision).get("nodes") or []
    index = next(
        (i for i, n in enumerate(nodes) if isinstance(n, dict) and n.get("id") == node_id), None
    )
    if index is None:
        return BindingSource("site", f"{node_id}'s limit: no such node in site revision "
                             f"{revision.number}", revision=revision.number)  # fmt: skip
    node = nodes[index]
    quantity = _QUANTITY.match(binding.detail)
    key = _LIMIT_KEYS.get(quantity["what"]) if quantity is not None else None
    for section in ("limits", "rating"):
        values = node.get(section)
        if isinstance(values, dict) and key in values:
            words = f"{node_id} {section}.{key}: {values[key]}"
            return _site_line(revision, ("spec", "nodes", index, section, key), words)
    rating = node.get("rating")
    if isinstance(rating, dict):  # the EVSE's own maximum, from its charger's rating
        said = ", ".join(f"{name} {value}" for name, value in rating.items())
        words = f"{node_id} rating ({said})"
        return _site_line(revision, ("spec", "nodes", index, "rating"), words)
    return _site_line(revision, ("spec", "nodes", index), f"{node_id}'s limits")


def _source_path(revision: Revision, source: str, key: str | None) -> tuple[Any, ...]:
    declared = _spec(revision).get("envelope_sources") or []
    index = next(
        (i for i, s in enumerate(declared) if isinstance(s, dict) and s.get("id") == source), None
    )
    if index is None:
        return ("spec", "envelope_sources")
    return ("spec", "envelope_sources", index, *((key,) if key else ()))


def _site_line(revision: Revision, path: tuple[Any, ...], words: str) -> BindingSource:
    """``words``, at the line of ``path`` in ``revision``'s site text (a policy the
    site does not set: its default)."""
    _, source = _parsed(revision)
    if source is None or (path not in source.keys and path not in source.values):
        said = f"{words}, not set in site revision {revision.number}: its default"
        return BindingSource("site", said, revision=revision.number)
    line = source.span(path, at_key=True).line
    said = f"{words}, at line {line} of site revision {revision.number}"
    return BindingSource("site", said, revision=revision.number, line=line)


def _spec(revision: Revision) -> dict[str, Any]:
    data, _ = _parsed(revision)
    spec = data.get("spec") if isinstance(data, dict) else None
    return spec if isinstance(spec, dict) else {}


def _parsed(revision: Revision) -> tuple[Any, Any]:
    """The revision's site document and its source map (None for text that no longer
    parses), kept for the last few revisions: a 300-charger site takes a while."""
    found = _PARSED.get(revision.hash)
    if found is None:
        try:
            document = next(parse_documents(revision.site_text), None)
        except YamlSyntaxError:
            document = None
        found = (document.data, document.source) if document is not None else ({}, None)
        if len(_PARSED) >= _PARSED_MAX:
            _PARSED.pop(next(iter(_PARSED)))
        _PARSED[revision.hash] = found
    return found
