"""Operator overrides: pause an EVSE, cap it, resume it — each journaled with who did
it and why, and acted on at once (``depot.changed``: the control loop runs a cycle,
so a paused EVSE is sent 0 A within the same second).

An override lasts until it is cleared, across sessions; on an EVSE without a session
it changes nothing until one starts. The author is the one the request names, else
the token's role; the journal keeps both.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from depotctl.controller.ports import Depot
from depotctl.controller.service import LiveState, NoSite
from depotctl.controller.services.errors import NoOverride
from depotctl.controller.services.lookups import check_evse, site_in_force
from depotctl.controller.store import JournalKind, UnitOfWork, journal_entry
from depotctl.domain import Current
from depotctl.domain.overrides import EvseOverride


@dataclass(frozen=True, slots=True)
class OverrideTerms:
    """What an operator asks for one EVSE: pause it, or cap it (amps per line)."""

    paused: bool
    cap_a: float | None
    reason: str | None


@dataclass(frozen=True, slots=True)
class OverridesNow:
    """The overrides in force at ``at``, with the allocation after them (None
    without a site)."""

    at: datetime
    overrides: dict[str, EvseOverride]
    live: LiveState | None


@dataclass(frozen=True, slots=True)
class OverrideChange:
    """An override set (``override``; ``changed`` False when it said the same already)
    or cleared (``cleared``), with the allocation after it (None without a site)."""

    evse_id: str
    override: EvseOverride | None
    changed: bool
    cleared: EvseOverride | None
    live: LiveState | None


def list_overrides(depot: Depot) -> OverridesNow:
    overrides = depot.units().overrides.all()
    return OverridesNow(depot.clock.now().astimezone(UTC), overrides, _live(depot))


def set_override(
    depot: Depot, evse_id: str, terms: OverrideTerms, *, author: str, role: str
) -> OverrideChange:
    """Pause or cap an EVSE of the site in force; journaled when it changes what the
    override says (not merely who said it, or when)."""
    check_evse(site_in_force(depot), evse_id)
    now = depot.clock.now()
    override = EvseOverride(evse_id, terms.paused, terms.cap_a, now, author, terms.reason)
    with depot.units() as uow:
        previous = uow.overrides.get(evse_id)
        changed = previous is None or _terms(previous) != _terms(override)
        if changed:
            uow.overrides.put(override)
            _journal(
                uow,
                JournalKind.OVERRIDE_SET,
                f"{evse_id} {_words(override)} by operator {author}"
                + (f": {override.reason}" if override.reason else ""),
                at=now,
                evse_id=evse_id,
                terms=terms_data(override),
                author=author,
                role=role,
                previous=previous,
            )
        else:
            assert previous is not None
            override = previous
    if changed:
        depot.changed(f"override on {evse_id}")
    return OverrideChange(evse_id, override, changed, None, _live(depot))


def clear_override(depot: Depot, evse_id: str, *, author: str, role: str) -> OverrideChange:
    """Resume an EVSE: remove its override and journal it; :class:`NoOverride` when it
    has none (``NotFound`` for an EVSE the site lacks)."""
    now = depot.clock.now()
    with depot.units() as uow:
        previous = uow.overrides.get(evse_id)
        if previous is None:
            check_evse(site_in_force(depot), evse_id)
            raise NoOverride(
                f"EVSE {evse_id} has no override: it is neither paused nor capped",
                evse=evse_id,
            )
        uow.overrides.clear(evse_id)
        _journal(
            uow,
            JournalKind.OVERRIDE_CLEARED,
            f"{evse_id} resumed by operator {author} (was {_words(previous)} by "
            f"{previous.author} since {previous.set_at.astimezone(UTC).isoformat()})",
            at=now,
            evse_id=evse_id,
            terms={},
            author=author,
            role=role,
            previous=previous,
        )
    depot.changed(f"override on {evse_id} cleared")
    return OverrideChange(evse_id, None, True, previous, _live(depot))


def terms_data(override: EvseOverride) -> dict[str, Any]:
    """What an override says, as journaled and as the API shows it."""
    return {
        "paused": override.paused,
        "cap": str(Current.of(override.cap_a)) if override.cap_a is not None else None,
        "cap_a": override.cap_a,
        "reason": override.reason,
    }


def _terms(override: EvseOverride) -> tuple[bool, float | None, str | None]:
    """What an override says (not who said it, or when)."""
    return override.paused, override.cap_a, override.reason


def _words(override: EvseOverride) -> str:
    if override.paused:
        return "paused"
    assert override.cap_a is not None
    return f"capped at {Current.of(override.cap_a)}"


def _journal(
    uow: UnitOfWork,
    kind: JournalKind,
    message: str,
    *,
    at: datetime,
    evse_id: str,
    terms: dict[str, Any],
    author: str,
    role: str,
    previous: EvseOverride | None,
) -> None:
    """Journal an override's change: what it says now (``terms``; none once cleared),
    who asked (author, the token's role), what it said before, and the EVSE's open session."""
    record = uow.sessions.open_on(evse_id)
    uow.journal.record(
        [
            journal_entry(
                kind,
                message,
                at=at,
                evse=evse_id,
                session=record.session.id if record is not None else None,
                data={
                    **terms,
                    "evse": evse_id,
                    "author": author,
                    "role": role,
                    "previous": terms_data(previous) if previous else None,
                },
            )
        ]
    )


def _live(depot: Depot) -> LiveState | None:
    """A fresh allocation (the change shows at once); None without a site."""
    try:
        return depot.live()
    except NoSite:
        return None
