"""Envelope sources: when each was last heard from, and its last evaluated health
(online or offline as the control loop last found it, and since when:
:mod:`depotctl.controller.lifecycle` compares a new evaluation with it, so a source
going offline or online is journaled once, a restart included)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from depotctl.controller.store.database import Store
from depotctl.controller.store.encoding import iso, iso_or_none, parse, parse_or_none
from depotctl.domain.envelopes import Heard


@dataclass(frozen=True, slots=True)
class SourceState:
    """A source found ``online`` (or not) by the evaluation at ``since`` (aware, UTC)."""

    source: str
    online: bool
    since: datetime


class Sources:
    """The envelope sources of one store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def heard_from(self, source: str, at: datetime, *, deadline: datetime | None = None) -> None:
        """Record that an envelope source was heard from at ``at``, with the deadline
        its message named, if any (the latest message wins)."""
        with self._store.transaction():
            self._store.write(
                "INSERT INTO sources (source, last_heard, deadline) VALUES (?, ?, ?)"
                " ON CONFLICT (source) DO UPDATE SET"
                " deadline = CASE WHEN excluded.last_heard >= last_heard"
                " THEN excluded.deadline ELSE deadline END,"
                " last_heard = max(last_heard, excluded.last_heard)",
                (source, iso(at), iso_or_none(deadline)),
            )

    def last_heard(self) -> dict[str, datetime]:
        """When each source was last heard from, by source id."""
        return {source: heard.at for source, heard in self.heard().items()}

    def heard(self) -> dict[str, Heard]:
        """When each source was last heard from and the deadline it named, by id."""
        return {
            r["source"]: Heard(parse(r["last_heard"]), parse_or_none(r["deadline"]))
            for r in self._store.rows("SELECT * FROM sources ORDER BY source")
        }

    def states(self) -> dict[str, SourceState]:
        """The last evaluated state of every source evaluated so far, by source id."""
        return {
            row["source"]: SourceState(row["source"], bool(row["online"]), parse(row["since"]))
            for row in self._store.rows(
                "SELECT source, online, since FROM source_states ORDER BY source"
            )
        }

    def put_states(self, states: Iterable[SourceState]) -> None:
        """Record sources' new states, all in one transaction (or the caller's)."""
        with self._store.transaction():
            for state in states:
                self._store.write(
                    "INSERT INTO source_states (source, online, since) VALUES (?, ?, ?)"
                    " ON CONFLICT (source) DO UPDATE SET online = excluded.online,"
                    " since = excluded.since",
                    (state.source, int(state.online), iso(state.since)),
                )
