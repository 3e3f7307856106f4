"""The live state as the API reads it: the allocation in force, one EVSE's
explanation, the snapshot to export."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from depotctl.controller.ports import Depot
from depotctl.controller.service import LiveState
from depotctl.controller.services.lookups import check_evse, current_state, site_in_force
from depotctl.controller.services.past import past_state
from depotctl.controller.store import Revision
from depotctl.domain.snapshot import Snapshot


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


def explained_evse(depot: Depot, name: str) -> str:
    """The EVSE ``name`` names: the EVSE of vehicle ``name``'s open session when ``name``
    is no EVSE of the site in force (and no id with a ``/``), else ``name`` itself."""
    applied = depot.applied
    if "/" in name or (applied is not None and name in applied.topology.evses):
        return name
    record = depot.units().sessions.open_of_vehicle(name.lower())
    return record.session.evse_id if record is not None else name


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
