"""The journal as the API reads it: pages of entries by filter, and the entries after
one id (what the event stream follows)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from depotctl.api.journal import JournalFilters, JournalPosition
from depotctl.controller.ports import Depot
from depotctl.controller.services.lookups import site_in_force, unknown
from depotctl.controller.store import JournalEntry
from depotctl.controller.store.journal import NodeScope

#: Entries read per poll of the event stream.
BATCH = 500
#: How many of the newest entries to look at to find where "now" is in the journal
#: (ids and times may disagree by a few entries: see :func:`latest_id`).
_TAIL = 50


@dataclass(frozen=True, slots=True)
class JournalPage:
    """One page of the journal: its entries, oldest first, and what comes after it."""

    entries: list[JournalEntry]
    next: JournalPosition | None  #: the last entry's position, when more follow
    remaining: int  #: how many more match
    next_at: datetime | None  #: the first of those's time


def journal_page(depot: Depot, filters: JournalFilters) -> JournalPage:
    """The page of entries ``filters`` ask for (at most their ``limit``), oldest
    first, with the cursor and count of the rest. A ``node`` must be one of the site
    in force (:class:`~.errors.NotFound` otherwise)."""
    limit = filters.get("limit", 1000)
    scope = node_scope(depot, filters.get("node"))
    journal = depot.units().journal
    found = journal.entries(scope=scope, **(filters | JournalFilters(limit=limit + 1)))
    entries = found[:limit]
    if len(found) <= limit or not entries:
        return JournalPage(entries, None, 0, None)
    last = JournalPosition(entries[-1].at, entries[-1].id)
    rest = filters | JournalFilters(cursor=last.cursor())
    return JournalPage(entries, last, journal.count(scope=scope, **rest), found[limit].at)


def node_scope(depot: Depot, node: str | None) -> NodeScope | None:
    """What the ``node`` filter reaches in the site in force; None for no filter."""
    if node is None:
        return None
    topology = site_in_force(depot).topology
    known = {*topology.nodes, *(e.charger_id for e in topology.evses.values())}
    if node not in known:
        raise unknown("node", node, f'site {topology.site} has no node "{node}"', known)
    under = [evse for evse in topology.evses.values() if node in evse.path]
    return NodeScope(node, frozenset(e.id for e in under), frozenset(e.charger_id for e in under))


def latest_id(depot: Depot) -> int:
    """The journal id a new stream starts after: the newest entry's. Entries are
    ordered by time, and a writer may commit an entry stamped a moment before another
    writer's, so the highest id among the newest few is taken."""
    newest = depot.units().journal.entries(latest=True, limit=_TAIL)
    return max((entry.id for entry in newest), default=0)


def entries_after(depot: Depot, after: int) -> list[JournalEntry]:
    """Entries after id ``after``, in id order, without skipping any: the store sorts
    by time, so from a full batch only the run of consecutive ids is taken (the rest
    comes with the next poll)."""
    found = depot.units().journal.entries(after_id=after, limit=BATCH)
    batch = sorted(found, key=lambda entry: entry.id)
    if len(batch) < BATCH:
        return batch
    run: list[JournalEntry] = []
    for entry in batch:
        if entry.id != after + len(run) + 1:
            break
        run.append(entry)
    return run or batch  # a gap in the ids (never made by the store): move on
