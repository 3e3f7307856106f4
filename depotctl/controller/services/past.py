"""The depot at a past instant, as the API reads it (``?at=`` on ``/state``,
``/explain`` and ``/snapshot``; ``/decisions``): the cycle at or before the instant
rebuilt from its recorded inputs, or — older than the inputs kept — the journal's
decisions."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from depotctl.controller.binding_sources import binding_source
from depotctl.controller.ports import Depot
from depotctl.controller.services.errors import Invalid, NotFound
from depotctl.controller.services.lookups import check_evse, site_in_force
from depotctl.controller.store import JournalEntry, Revision
from depotctl.controller.store.encoding import iso
from depotctl.controller.time_travel import (
    PastState,
    inputs_kept_since,
    journal_decisions,
    state_at,
)
from depotctl.controller.vehicles import Stay
from depotctl.engine import Binding, BindingKind

#: ``at``'s description in the API
AT_HELP = (
    "A past instant (ISO 8601 with its offset or Z): the state the control cycle at or "
    "before it decided from, recomputed from the recorded inputs. Older than the inputs "
    "kept: 404 inputs_not_kept (see /decisions)."
)


class InputsNotKept(NotFound):
    """An instant older than the recorded cycle inputs kept."""

    code = "inputs_not_kept"


#: the instants a history can hold: a controller's clock never reads outside them, and
#: arithmetic on an instant near datetime's own bounds overflows
_EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
_LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def instant(text: str) -> datetime:
    """``at`` as an aware instant; :class:`Invalid` otherwise."""
    try:
        at = datetime.fromisoformat(text)
    except ValueError:
        at = None
    if at is None or at.tzinfo is None or at.utcoffset() is None:
        raise Invalid(
            f'at "{text}" is not an ISO 8601 instant with its offset; '
            'write it as "2026-12-07T02:14:05+11:00" or "2026-12-06T15:14:05Z"',
            field="at",
        )
    try:
        utc = at.astimezone(UTC)
    except OverflowError:
        utc = None
    if utc is None or not _EARLIEST <= utc < _LATEST:
        raise Invalid(
            f'at "{text}" is outside any history a controller keeps; give an instant '
            f"from {_EARLIEST.year} to {_LATEST.year - 1}",
            field="at",
        )
    return at


def past_state(depot: Depot, at: datetime, evse_id: str | None = None) -> PastState:
    """The cycle at or before ``at`` rebuilt (``evse_id``: checked against the site in
    force); :class:`InputsNotKept` when its inputs are no longer (or not yet) kept."""
    if evse_id is not None:
        check_evse(site_in_force(depot), evse_id)
    past = state_at(depot, at)
    if past is None:
        since = inputs_kept_since(depot)
        held = (
            f"the recorded inputs go back to {iso(since)}"
            if since is not None
            else "no cycle inputs are recorded yet"
        )
        raise InputsNotKept(
            f"no control cycle at or before {iso(at)} can be rebuilt: {held}; "
            "the journal's decisions answer older instants (GET /api/v1/decisions?at=)",
            inputs_kept_since=iso(since) if since is not None else None,
        )
    if evse_id is not None and evse_id not in past.live.snapshot.topology.evses:
        raise NotFound(
            f'the site at revision {past.live.revision.number} had no EVSE "{evse_id}"',
            evse=evse_id,
        )
    return past


def past_json(past: PastState, stay: Stay | None = None) -> dict[str, Any]:
    """The ``past`` block of an answer about a past instant (``stay``: the vehicle asked
    about, and its session then)."""
    return {
        "asked": past.asked.isoformat(),
        "cycle_at": past.live.snapshot.at.isoformat(),
        "source": "recorded_inputs",
        **({"vehicle": stay_json(stay)} if stay is not None else {}),
    }


def stay_json(stay: Stay) -> dict[str, Any]:
    """A vehicle's stay on an EVSE: ``vehicle``, ``session``, ``evse``, ``start``,
    ``end`` (null: still plugged in)."""
    end = stay.end.isoformat() if stay.end is not None else None
    return {"vehicle": stay.vehicle, "session": stay.session, "evse": stay.evse,
            "start": stay.start.isoformat(), "end": end}  # fmt: skip


def decisions_json(depot: Depot, at: datetime, evse_id: str | None) -> dict[str, Any]:
    """``/decisions``: each EVSE's last journaled limit change at or before ``at``."""
    if evse_id is not None:
        check_evse(site_in_force(depot), evse_id)
    since = inputs_kept_since(depot)
    decisions = journal_decisions(depot, at, evse_id)
    sources = journaled_sources(depot, decisions)
    return {
        "asked": at.isoformat(),
        "source": "journal",
        "inputs_kept_since": since.isoformat() if since is not None else None,
        "decisions": [
            {
                "evse": evse,
                "at": entry.at.isoformat(),
                "limit_a": entry.data.get("limit_a"),
                "previous_a": entry.data.get("previous_a"),
                "state": entry.data.get("state"),
                "binding": entry.data.get("binding"),
                "session": entry.session,
                "revision": entry.data.get("revision"),
                "message": entry.message,
                "binding_source": sources.get(evse),
            }
            for evse, entry in sorted(decisions.items())
        ],
    }


def journaled_sources(
    depot: Depot, decisions: dict[str, JournalEntry]
) -> dict[str, dict[str, Any] | None]:
    """Where each journaled binding comes from, at the revision then in force (a
    binding of a kind this controller does not know, or of a revision no longer kept:
    none)."""
    uow = depot.units()
    revisions: dict[int, Revision | None] = {}
    found: dict[str, dict[str, Any] | None] = {}
    for evse, entry in decisions.items():
        said, number = entry.data.get("binding"), entry.data.get("revision")
        if not isinstance(said, dict) or not isinstance(number, int):
            continue
        try:
            binding = Binding(
                BindingKind(str(said.get("kind"))), said.get("ref"), str(said.get("detail") or "")
            )
        except ValueError:
            continue
        if number not in revisions:
            revisions[number] = uow.revisions.get(number)
        revision = revisions[number]
        envelope = (
            uow.envelopes.get(binding.ref)
            if binding.kind is BindingKind.ENVELOPE and binding.ref
            else None
        )
        source = (
            None
            if revision is None
            else binding_source(revision, binding, envelope.source if envelope else None)
        )
        found[evse] = source.json() if source is not None else None
    return found
