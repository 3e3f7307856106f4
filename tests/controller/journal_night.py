"""A night's journal, for the journal's tests and its benchmark: ``count`` entries over
12 hours about a site's EVSEs, chargers and nodes, shaped as the controller journals
them (allocation changes and command outcomes with their EVSE and session, charger
status with its charger, envelopes with their target, alerts with their subject),
some entries sharing a time, and recorded in batches whose ids run against time (as
writers racing a moment apart leave them)."""

from __future__ import annotations

import random
from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from depotctl.controller.store import JournalKind, NewJournalEntry, UnitOfWork

#: Entries per night at the AU bus depot (issue 16).
NIGHT = 2_900
#: Entries per recorded batch, each recorded newest first.
BATCH = 50


def a_night(
    evses: Sequence[str],
    nodes: Sequence[str],
    start: datetime,
    count: int = NIGHT,
    seed: int = 16,
) -> list[NewJournalEntry]:
    """The night's entries in time order, each message ``entry N`` (N its place);
    :func:`record` appends them, :func:`journal_order` is the order the journal lists
    them in."""
    rng = random.Random(seed)
    step = timedelta(hours=12) / count
    night = []
    for n in range(count):
        at = start + step * (n - (n % 3 == 2))  # every third shares its time
        night.append(_entry(n, at, rng.choice(evses), rng.choice(nodes)))
    return night


def _entry(n: int, at: datetime, evse: str, node: str) -> NewJournalEntry:
    charger = evse.split("/")[0]
    message = f"entry {n}"
    match n % 10:
        case 6:
            data: dict[str, Any] = {"charger": charger, "status": "Charging"}
            return NewJournalEntry(at, JournalKind.CHARGER_STATUS, message, data=data)
        case 7:
            data = {"target": node, "limit": "400 kW"}
            envelope = f"E-{n}"
            return NewJournalEntry(
                at, JournalKind.ENVELOPE_RECEIVED, message, envelope=envelope, data=data
            )
        case 8:
            data = {"subject": {"kind": "node", "id": node}, "kind": "node_overload"}
            return NewJournalEntry(at, JournalKind.ALERT_RAISED, message, data=data)
        case 0 | 2 | 4:
            kind = JournalKind.ALLOCATION_CHANGED
        case _:
            kind = JournalKind.COMMAND_OUTCOME
    session = f"tx-{charger}-{n // 500}"
    data = {"evse": evse, "limit_a": float(n % 64)}
    return NewJournalEntry(at, kind, message, evse=evse, session=session, data=data)


def recorded(night: Sequence[NewJournalEntry]) -> list[NewJournalEntry]:
    """``night`` in the order :func:`record` appends it: a batch at a time, each batch
    newest first (its ids against time)."""
    batches = (night[first : first + BATCH] for first in range(0, len(night), BATCH))
    return [entry for batch in batches for entry in reversed(batch)]


def record(uow: UnitOfWork, night: Sequence[NewJournalEntry]) -> None:
    """Append ``night`` as :func:`recorded` orders it, a transaction per batch."""
    order = recorded(night)
    for first in range(0, len(order), BATCH):
        uow.journal.record(order[first : first + BATCH])


def journal_order(night: Sequence[NewJournalEntry]) -> list[NewJournalEntry]:
    """``night`` as the journal lists it once recorded: by time, then by id (the order
    recorded)."""
    order = recorded(night)
    return [order[i] for i in sorted(range(len(order)), key=lambda i: (order[i].at, i))]
