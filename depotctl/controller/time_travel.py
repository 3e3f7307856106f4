"""The depot at a past instant: the snapshot the control cycle at or before it decided
from, rebuilt from the recorded cycle inputs (``inputs_record.py``) and the revision
then in force, and allocated again — the decision the controller made then. Older
than the inputs kept, only the journal's decisions answer (``journal_decisions``)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path

from depotctl.config import compile_site
from depotctl.controller.inputs_codec import decode_item, rebuilt
from depotctl.controller.inputs_record import replayed
from depotctl.controller.ports import Depot
from depotctl.controller.service import LiveState, checked_site
from depotctl.controller.store import JournalEntry, JournalKind, Revision
from depotctl.domain.policy import Policy
from depotctl.domain.topology import Topology
from depotctl.engine import allocate

#: compiled past revisions, by (store file, revision number, hash): a revision never
#: changes, and compiling the 300-charger site takes longer than the rest of a rebuild
_COMPILED: dict[tuple[str, int, str], tuple[Topology, Policy]] = {}
_COMPILED_MAX = 8


@dataclass(frozen=True, slots=True)
class PastState:
    """The cycle at or before ``asked``: its instant (``snapshot.at``), the revision
    then in force and the allocation it gave."""

    asked: datetime
    live: LiveState


def state_at(depot: Depot, instant: datetime) -> PastState | None:
    """The depot as the last cycle at or before ``instant`` saw it and what it decided
    then; None when no cycle inputs that old are kept (see :func:`journal_decisions`)."""
    uow = depot.units()
    rows = uow.cycle_inputs.chain(instant)
    if not rows or not rows[0].keyframe:
        return None
    last = rows[-1]
    revision = uow.revisions.get(last.revision)
    if revision is None:
        return None
    topology, policy = _site(depot, revision)
    encoded = replayed([(row.keyframe, row.body) for row in rows])
    sections = {
        section: {key: decode_item(section, item) for key, item in items.items()}
        for section, items in encoded.items()
    }
    snapshot = rebuilt(
        sections,
        at=last.at,
        topology=topology,
        policy=policy,
        envelope_lead=last.envelope_lead,
    )
    return PastState(instant, LiveState(revision, snapshot, allocate(snapshot)))


def journal_decisions(
    depot: Depot, instant: datetime, evse_id: str | None = None
) -> dict[str, JournalEntry]:
    """Each EVSE's (of the site in force, or ``evse_id``'s) last ``allocation.changed``
    entry at or before ``instant``: the decisions the journal keeps, by EVSE id. One
    indexed query per EVSE, not a read of the whole history."""
    until = instant + timedelta(microseconds=1)
    journal = depot.units().journal
    applied = depot.applied
    evses = [evse_id] if evse_id is not None else sorted(applied.topology.evses if applied else ())
    found: dict[str, JournalEntry] = {}
    for evse in evses:
        for entry in journal.entries(
            kind=JournalKind.ALLOCATION_CHANGED, evse=evse, until=until, latest=True, limit=1
        ):
            found[evse] = entry
    return found


def inputs_kept_since(depot: Depot) -> datetime | None:
    """The oldest instant the recorded inputs rebuild (None: none recorded)."""
    return depot.units().cycle_inputs.earliest()


def _site(depot: Depot, revision: Revision) -> tuple[Topology, Policy]:
    applied = depot.applied
    if applied is not None and applied.revision.number == revision.number:
        return applied.topology, applied.policy
    key = (str(depot.units.store.path), revision.number, revision.hash)
    compiled = _COMPILED.get(key)
    if compiled is None:
        base_dir: Path = depot.base_dir_of(revision)
        site = checked_site(
            revision.site_text,
            path=base_dir / f"revision-{revision.number}.yaml",
            display=f"revision {revision.number}",
            refuse_secrets=False,
        )
        compiled = compile_site(site, base_dir)
        if len(_COMPILED) >= _COMPILED_MAX:
            _COMPILED.pop(next(iter(_COMPILED)))
        _COMPILED[key] = compiled
    return compiled
