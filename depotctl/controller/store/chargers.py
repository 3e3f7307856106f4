"""Each charger's state as the controller last knew it (cached until it changes)."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from depotctl.controller.store.database import Store
from depotctl.controller.store.encoding import finite, iso_or_none, parse_or_none, to_json
from depotctl.domain.chargers import ChargerState, CommandOutcome, HeldLimit


class Chargers:
    """The charger states of one store."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def put(self, states: Iterable[ChargerState]) -> None:
        """Record chargers' states (replacing each one's previous state), in one
        transaction."""
        states = list(states)
        for state in states:
            if state.last_accepted_limit_a is not None:
                finite(state.last_accepted_limit_a, f"charger {state.charger_id}'s accepted limit")
        store = self._store
        with store.transaction():
            store.cache.forget()
            store.write_many(
                "INSERT OR REPLACE INTO charger_states (charger_id, online, last_outcome,"
                " last_accepted_limit_a, last_command_at, reason, fallback_accepted, held)"
                " VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    (
                        s.charger_id,
                        int(s.online),
                        s.last_outcome.value if s.last_outcome is not None else None,
                        s.last_accepted_limit_a,
                        iso_or_none(s.last_command_at),
                        s.reason,
                        int(s.fallback_accepted),
                        to_json(_held_json(s.held)),
                    )
                    for s in states
                ),
            )

    def states(self) -> dict[str, ChargerState]:
        """Every charger's state, by charger id."""
        store = self._store
        with store.lock:
            if store.cache.chargers is None:
                store.cache.chargers = {
                    r["charger_id"]: ChargerState(
                        charger_id=r["charger_id"],
                        online=bool(r["online"]),
                        last_outcome=(
                            CommandOutcome(r["last_outcome"]) if r["last_outcome"] else None
                        ),
                        last_accepted_limit_a=r["last_accepted_limit_a"],
                        last_command_at=parse_or_none(r["last_command_at"]),
                        reason=r["reason"],
                        fallback_accepted=bool(r["fallback_accepted"]),
                        held=_held(json.loads(r["held"])),
                    )
                    for r in store.rows("SELECT * FROM charger_states ORDER BY charger_id")
                }
            return dict(store.cache.chargers)

    def state(self, charger_id: str) -> ChargerState:
        """One charger's state (a charger never heard of: the default state)."""
        return self.states().get(charger_id) or ChargerState(charger_id)


def _held_json(held: Mapping[str, tuple[HeldLimit, ...]]) -> dict[str, list[list[Any]]]:
    return {
        evse_id: [[h.limit_a, iso_or_none(h.until)] for h in limits]
        for evse_id, limits in sorted(held.items())
    }


def _held(stored: Mapping[str, list[list[Any]]]) -> dict[str, tuple[HeldLimit, ...]]:
    return {
        evse_id: tuple(HeldLimit(float(limit), parse_or_none(until)) for limit, until in limits)
        for evse_id, limits in stored.items()
    }
