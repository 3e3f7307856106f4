"""A session's readiness forecast: the energy it is expected to have at its departure,
how much short of its need that is, on what basis, and what causes the shortfall —
in words, in the site's time for people, in UTC for the controller's own words
(which clients turn into site time as they do every reason).

``dc-12/1 (session s-17) will be 18.0 kWh short at 05:30: db-1 is full from 01:00``;
of a session whose vehicle is known, ``bus-42 (dc-12/1) will be …``.

Computed by :mod:`depotctl.engine.readiness`; here so that everything that shows one
(the API's clients, the CLI, the console) renders it the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from enum import StrEnum

from depotctl.domain.instants import format_day_clock


class Basis(StrEnum):
    """What the forecast assumes: the horizon plan in force, or the EVSE's present
    limit held until the departure (no plan covers the session)."""

    PLAN = "plan"
    PRESENT_LIMIT = "present limit"


#: What a cause says, by its kind as the allocator names bindings (``node_limit``, …);
#: another kind says its ``detail``.
_SAYS = {
    "node_limit": "{node} is full {when}",
    "envelope": "{node} is full under envelope {ref} {when}",
    "fallback": "{node} is full under the site's fallback for offline source {ref} {when}",
    "charger_limit": "its EVSE's maximum power is not enough",
    "vehicle_limit": "the vehicle's maximum power is not enough",
}


@dataclass(frozen=True, slots=True)
class ReadinessCause:
    """What keeps a session short: a full ``node`` (its own static limit, an envelope
    ``ref`` on it, or the site's fallback for offline source ``ref``) from ``since``, or
    the session's own maximum (the charger's or the vehicle's), or another binding
    (``kind`` as the allocator names it, ``detail`` its words)."""

    kind: str
    ref: str | None
    node: str | None
    since: datetime
    detail: str = ""

    def words(self, zone: tzinfo | None, at: datetime) -> str:
        """``db-1 is full from 01:00`` (see :meth:`Readiness.words` for ``zone``)."""
        when = "now" if self.since <= at else "from " + _time(self.since, zone, at)
        said = _SAYS.get(self.kind)
        if said is None:
            return self.detail or self.kind.replace("_", " ")
        return said.format(node=self.node or "its node", ref=self.ref, when=when)


#: The least shortfall (Wh) a forecast is short by: less reads as "0.0 kWh short".
SHORT_WH = 50.0


@dataclass(frozen=True, slots=True)
class Readiness:
    """One session's forecast at ``at`` (aware, UTC): ``need_wh`` in all by
    ``departure``, ``expected_wh`` then, ``short_wh`` the difference (0 when met), on
    ``basis`` (a :class:`Basis`; another text from a newer controller is shown as
    it is); ``cause`` when short; ``vehicle_id`` the session's vehicle when known."""

    session_id: str
    evse_id: str
    at: datetime
    departure: datetime
    need_wh: float
    expected_wh: float
    short_wh: float
    basis: str
    cause: ReadinessCause | None = None
    vehicle_id: str | None = None

    @property
    def is_short(self) -> bool:
        """Short by at least what the words can say (0.1 kWh): a session a few Wh
        behind its plan (a reading late, a command on its way) is not short."""
        return self.short_wh >= SHORT_WH

    @property
    def is_overdue(self) -> bool:
        return self.departure <= self.at

    def words(self, zone: tzinfo | None = None) -> str:
        """The forecast in a sentence. Times in ``zone`` as a clock time (``05:30``,
        ``05:30 +1d`` on a later day than ``at``); with ``zone`` None, as ISO instants
        in UTC (the controller's words: an alert's reason)."""
        if self.vehicle_id is not None:
            return f"{self.vehicle_id} ({self.evse_id}) {self.outcome(zone)}"
        return f"{self.evse_id} (session {self.session_id}) {self.outcome(zone)}"

    def outcome(self, zone: tzinfo | None = None) -> str:
        """The sentence without its subject: ``will be 18.0 kWh short at 05:30: …``."""
        departs = _time(self.departure, zone, self.at)
        if self.is_overdue:
            state = f"was due at {departs}" + (
                f", {_kwh(self.short_wh)} short" if self.is_short else " and is ready"
            )
            return f"{state} ({self.basis})"
        if not self.is_short:
            return f"will have its {_kwh(self.need_wh)} by {departs} ({self.basis})"
        said = f"will be {_kwh(self.short_wh)} short at {departs}"
        if self.cause is not None:
            said += ": " + self.cause.words(zone, self.at)
        return f"{said} ({self.basis})"


def _kwh(wh: float) -> str:
    return f"{wh / 1000:,.1f} kWh"


def _time(instant: datetime, zone: tzinfo | None, first: datetime) -> str:
    if zone is None:
        return instant.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
    return format_day_clock(instant, zone, first, form="%H:%M")
