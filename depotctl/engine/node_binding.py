"""An EVSE held by a node's limit, in words: the limit that is full, named by what set
its value, and what is reserved against it.

The rule: the binding kind follows the source of the full limit's effective value,
and nothing else —

- ``envelope`` (ref: the envelope id): an envelope in force, fresh, or still applying
  while its source is offline, or that source's own fallback envelope;
- ``fallback`` (ref: the source id): the site's fallback for an offline source that
  has no fallback envelope of its own in force;
- ``charger_limit`` (ref: the charger): a charger's rating;
- ``node_limit`` (ref: the node): the node's static limit from the site file.

What is reserved against that limit — site load, as measured or, while its reading is
stale, as the stale-data policy counts it, the assumed draw of uncontrollable
chargers, and EVSEs whose command awaits its answer — never changes the kind: a stale meter makes the reservation larger, not
the limit smaller, and a support engineer acts on the limit that is full. The
detail names the same limit in words and then every reservation, naming each site
load whose reading is stale and why. ``stale_telemetry`` is therefore no binding
kind the engine gives any more (it stays in :class:`BindingKind` so that journals
and exports written before still read).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from depotctl.domain.envelopes import EnvelopeMode
from depotctl.domain.phases import Phase
from depotctl.domain.policy import StaleLoad
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.topology import NodeKind, SiteLoadSpec
from depotctl.engine.allocation import Binding, BindingKind, LimitSource, utc_text
from depotctl.engine.priority import duration_text
from depotctl.engine.structure import KINDS, POWER, Structure
from depotctl.engine.waterfill import TOLERANCE

if TYPE_CHECKING:
    from depotctl.engine.explain import Decision

STATIC = LimitSource("static")


def held_by(decision: Decision, con: int) -> Binding:
    """The binding of an EVSE that water-filling stopped at constraint ``con``."""
    kind, ref = binding_of(decision, con)
    detail = f"{constraint_name(decision.structure, con)} is full: {limit_words(decision, con)}"
    return Binding(kind, ref, detail + reserved_words(decision, con))


def binding_of(decision: Decision, con: int) -> tuple[BindingKind, str]:
    """The kind and ref that name constraint ``con`` by the source of its limit."""
    structure = decision.structure
    node_id, _ = structure.describe(con)
    source = source_of(decision, con)
    if source.kind == "envelope" and source.ref is not None:
        return BindingKind.ENVELOPE, source.ref
    if source.kind == "fallback" and source.ref is not None:
        return BindingKind.FALLBACK, source.ref
    if structure.node_kind(con) is NodeKind.CHARGER:
        return BindingKind.CHARGER_LIMIT, node_id
    return BindingKind.NODE_LIMIT, node_id


def source_of(decision: Decision, con: int) -> LimitSource:
    return decision.capacity.sources.get(con, STATIC)


def constraint_name(structure: Structure, con: int) -> str:
    """``gc-main import power``, ``db-1 current on L2``."""
    node_id, kind = structure.describe(con)
    if kind is KINDS[POWER]:
        return f"{node_id} import power"
    return f"{node_id} current on {kind.value.removeprefix('current_')}"


def constraint_amount(structure: Structure, con: int, value: float) -> str:
    """A value of constraint ``con`` in its unit: ``570.0 kW``, ``250.0 A``."""
    return f"{value / 1000:.1f} kW" if structure.is_power(con) else f"{value:.1f} A"


def limit_words(decision: Decision, con: int) -> str:
    """``570.0 kW effective (envelope E-17)``: the effective value and what set it."""
    value = constraint_amount(decision.structure, con, float(decision.capacity.effective[con]))
    return f"{value} effective ({source_words(decision, con)})"


def source_words(decision: Decision, con: int) -> str:
    """What set a limit: ``static limit``, ``rating``, ``envelope E-17``, ``envelope
    E-17, source dso offline``, ``envelope F-1, offline source dso's own fallback``,
    ``site fallback for offline source dso``; an envelope applied before its window
    adds ``, ahead of its start at 07:00:00Z``."""
    source = source_of(decision, con)
    if source.kind == "envelope":
        words = _envelope_words(decision, source)
        if source.starts is not None:
            words += f", ahead of its start at {utc_text(source.starts)}"
        return words
    if source.kind == "fallback":
        return f"site fallback for offline source {source.ref}"
    if decision.structure.node_kind(con) is NodeKind.CHARGER:
        return "rating"
    return "static limit"


def _envelope_words(decision: Decision, source: LimitSource) -> str:
    if source.fresh:
        return f"envelope {source.ref}"
    envelope = next((e for e in decision.snapshot.envelopes if e.id == source.ref), None)
    if envelope is None:
        return f"envelope {source.ref}, its source offline"
    if envelope.mode is EnvelopeMode.FALLBACK:
        return f"envelope {source.ref}, offline source {envelope.source}'s own fallback"
    return f"envelope {source.ref}, source {envelope.source} offline"


def reserved_words(decision: Decision, con: int) -> str:
    """``, 31.4 kW of it reserved for other load`` and, when it is not all measured
    site load, each part: ``(site load 28.0 kW with stale telemetry, counted at its
    fallback: the last reading of workshop is 8 min old; uncontrollable chargers are
    assumed to draw 3.4 kW)``."""
    capacity = decision.capacity
    reserved = float(capacity.reserved[con])
    if reserved <= TOLERANCE:
        return ""
    text = f", {constraint_amount(decision.structure, con, reserved)} of it reserved for other load"
    assumed = float(capacity.uncontrollable[con])  # every EVSE not decided now
    awaiting = float(decision.awaiting[con])
    uncontrollable = assumed - awaiting
    site = reserved - assumed
    stale = con in capacity.stale
    parts = []
    if site > TOLERANCE and (stale or assumed > TOLERANCE):
        part = f"site load {constraint_amount(decision.structure, con, site)}"
        if stale:
            node_id, _ = decision.structure.describe(con)
            part += f" with {stale_words(decision.snapshot, node_id)}"
        parts.append(part)
    if uncontrollable > TOLERANCE:
        amount = constraint_amount(decision.structure, con, uncontrollable)
        parts.append(f"uncontrollable chargers are assumed to draw {amount}")
    if awaiting > TOLERANCE:
        amount = constraint_amount(decision.structure, con, awaiting)
        parts.append(f"EVSEs awaiting the answer to a command are counted at {amount}")
    return text + (f" ({'; '.join(parts)})" if parts else "")


def stale_words(snapshot: Snapshot, node_id: str) -> str:
    """``stale telemetry, counted at its fallback: the last reading of workshop is 8
    min old``: what the site loads below ``node_id`` whose reading is stale count as, and
    why each is stale."""
    reasons = [
        reason
        for load in sorted(snapshot.topology.site_loads.values(), key=lambda load: load.id)
        if _below(snapshot, load, node_id)
        for reason in [stale_reason(snapshot, load)]
        if reason is not None
    ]
    one = len(reasons) <= 1
    if snapshot.policy.stale_site_load is StaleLoad.LAST_KNOWN_PLUS_MARGIN:
        its = "its" if one else "their"
        margin = f"{snapshot.policy.stale_margin * 100:g} %"
        counted = f"the higher of {its} fallback and {its} last reading + {margin}"
    else:
        counted = "its fallback" if one else "their fallbacks"
    text = f"stale telemetry, counted at {counted}"
    # without a reason the engine's own record still says stale: say so, name none
    return text + (f": {', '.join(reasons)}" if reasons else "")


def stale_reason(snapshot: Snapshot, load: SiteLoadSpec) -> str | None:
    """Why a site load counts as stale (no reading, too old, stamped ahead, or not
    measuring what it draws), or None when its reading is used as measured."""
    telemetry = snapshot.telemetry
    reading = telemetry.get(load.id) or (telemetry.get(load.meter) if load.meter else None)
    if reading is None:
        return f"there is no reading of {load.id}"
    if reading.is_stale(snapshot.at, snapshot.policy.stale_after_s):
        age = reading.age_s(snapshot.at)
        if age < 0:
            return f"the reading of {load.id} is stamped {duration_text(-age)} ahead"
        return f"the last reading of {load.id} is {duration_text(age)} old"
    lines = load.connection.lines if load.connection is not None else frozenset(Phase)
    if reading.power_w is not None:
        return None
    if reading.current_a is not None and lines <= reading.current_a.keys():
        return None
    return f"the reading of {load.id} measures neither its power nor the current on each line"


def _below(snapshot: Snapshot, load: SiteLoadSpec, node_id: str) -> bool:
    nodes = snapshot.topology.nodes
    current = nodes.get(load.parent)
    while current is not None:
        if current.id == node_id:
            return True
        current = nodes.get(current.parent) if current.parent is not None else None
    return False
