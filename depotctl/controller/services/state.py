"""The live state as the API reads it: the allocation in force, one EVSE's
explanation, the snapshot to export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from depotctl.controller.ports import Depot
from depotctl.controller.service import LiveState
from depotctl.controller.services.errors import NotFound
from depotctl.controller.services.lookups import (
    check_evse,
    current_state,
    site_in_force,
    unknown,
)
from depotctl.controller.services.past import past_state
from depotctl.controller.store import Revision
from depotctl.controller.vehicles import (
    Stay,
    no_such_subject,
    not_plugged_in,
    sessions_near,
    stay_at,
    stays_near,
)
from depotctl.domain.snapshot import Snapshot


class NotPluggedIn(NotFound):
    """A vehicle asked about at an instant it was on no EVSE."""

    code = "not_plugged_in"


@dataclass(frozen=True, slots=True)
class SnapshotExport:
    """The snapshot ``/state`` shows (the limits then in force), with the revision in
    force and where its relative files resolve (to embed them)."""

    revision: Revision
    snapshot: Snapshot
    base_dir: Path


def explained(depot: Depot, evse_id: str) -> LiveState:
    """The allocation in force, to explain ``evse_id`` by; ``NotFound`` for an EVSE
    the site lacks."""
    check_evse(site_in_force(depot), evse_id)
    return current_state(depot)


def explained_evse(depot: Depot, name: str, at: datetime | None = None) -> tuple[str, Stay | None]:
    """The EVSE ``name`` names, and the vehicle's stay there when ``name`` is a vehicle:
    ``name`` itself when it is an EVSE of the site in force (or an id with a ``/``);
    else the EVSE vehicle ``name`` was plugged in on at ``at`` (None: now), from the
    recorded sessions — :class:`NotPluggedIn` naming where it was when it was on none
    then but on one within a day; :class:`NotFound` naming the likely EVSE or vehicle
    when no session near then named it (a charger's id: ``name``, for the EVSE check's
    words)."""
    applied = depot.applied
    if "/" in name or (applied is not None and name in applied.topology.evses):
        return name, None
    vehicle = name.lower()
    sessions = depot.units().sessions
    if at is None:
        record = sessions.open_of_vehicle(vehicle)
        stay = Stay.of(record) if record is not None else None
    else:
        stay = stay_at(sessions, vehicle, at)
    if stay is not None:
        return stay.evse, stay
    now = depot.clock.now()
    near = stays_near(sessions, vehicle, at if at is not None else now)
    if near:
        raise NotPluggedIn(not_plugged_in(vehicle, at, near), vehicle=vehicle)
    records = sessions_near(sessions, at if at is not None else now)
    if applied is None or name in applied.topology.nodes:
        return name, None  # a charger's id: the EVSE check names its EVSE
    known = {*applied.topology.evses, *(r.session.vehicle_id or "" for r in records)} - {""}
    site = applied.topology.site
    raise unknown("evse", name, no_such_subject(name, site, at, now), sorted(known))


def snapshot_export(depot: Depot, at: datetime | None = None) -> SnapshotExport:
    """What ``/snapshot`` exports (``at``: the cycle at or before that instant, with
    the revision then in force); ``NotFound`` before the first revision."""
    revision = site_in_force(depot).revision
    if at is not None:
        live = past_state(depot, at).live
        revision = live.revision
    else:
        live = current_state(depot)
    return SnapshotExport(revision, live.snapshot, depot.base_dir_of(revision).resolve())
