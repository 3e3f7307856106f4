"""Each envelope source's last evaluated health, kept beside the store (the
``source_states`` table, migration 5): online or offline as the control loop last
found it, and since when. :mod:`depotctl.controller.lifecycle` compares a new
evaluation with it, so a source going offline or online is journaled once, a restart
included."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from depotctl.controller.store import Store


@dataclass(frozen=True, slots=True)
class SourceState:
    """A source found ``online`` (or not) by the evaluation at ``since`` (aware, UTC)."""

    source: str
    online: bool
    since: datetime


def source_states(store: Store) -> dict[str, SourceState]:
    """The last evaluated state of every source evaluated so far, by source id."""
    return {
        row["source"]: SourceState(
            row["source"], bool(row["online"]), datetime.fromisoformat(row["since"])
        )
        for row in store.select("SELECT source, online, since FROM source_states ORDER BY source")
    }


def put_source_states(store: Store, states: Iterable[SourceState]) -> None:
    """Record sources' new states, all in one transaction (or the caller's)."""
    with store.transaction():
        for state in states:
            store.execute(
                "INSERT INTO source_states (source, online, since) VALUES (?, ?, ?)"
                " ON CONFLICT (source) DO UPDATE SET online = excluded.online,"
                " since = excluded.since",
                (state.source, int(state.online), state.since),
            )
