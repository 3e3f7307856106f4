"""The journal as the API reads it: entries by filter, and the entries after one id
(what the event stream follows)."""

from __future__ import annotations

from depotctl.api.journal import JournalFilters
from depotctl.controller.ports import Depot
from depotctl.controller.store import JournalEntry

#: Entries read per poll of the event stream.
BATCH = 500
#: How many of the newest entries to look at to find where "now" is in the journal
#: (ids and times may disagree by a few entries: see :func:`latest_id`).
_TAIL = 50


def journal_entries(depot: Depot, filters: JournalFilters) -> list[JournalEntry]:
    """The entries ``filters`` ask for, oldest first."""
    return depot.units().journal.entries(**filters)


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
