"""The ordering rule: an increase under a node with a pending decrease waits.

A decrease is pending from the moment it is planned (before it is even sent) until
it is answered, times out or is found unsendable. An increase first waits until no
pending decrease shares a node of its path; increases under unrelated nodes do not
wait. A command with an unknown path (empty) shares every node: failing safe.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import Iterable

#: the nodes a command's limit flows through; None when unknown (shares them all)
Nodes = frozenset[str] | None


def nodes_of(charger_id: str, path: Iterable[str]) -> Nodes:
    """The charger and every node above it; None when the path is unknown."""
    nodes = frozenset(path)
    return nodes | {charger_id} if nodes else None


def share_a_node(a: Nodes, b: Nodes) -> bool:
    return a is None or b is None or not a.isdisjoint(b)


class PendingDecreases:
    """The decreases not yet answered, each with the nodes it frees."""

    def __init__(self) -> None:
        self._items: dict[int, tuple[Nodes, asyncio.Event]] = {}
        self._tokens = itertools.count()

    def add(self, nodes: Nodes) -> int:
        """Register a planned decrease; the token resolves it."""
        token = next(self._tokens)
        self._items[token] = (nodes, asyncio.Event())
        return token

    def resolve(self, token: int) -> None:
        """The decrease was answered (or timed out, or could not be sent)."""
        item = self._items.pop(token, None)
        if item is not None:
            item[1].set()

    def blocking(self, nodes: Nodes) -> list[asyncio.Event]:
        return [event for pending, event in self._items.values() if share_a_node(pending, nodes)]

    async def wait_clear(self, nodes: Nodes) -> None:
        """Return once no pending decrease shares a node with ``nodes``."""
        while blocking := self.blocking(nodes):
            for event in blocking:  # all of them, in any order: no task per event
                await event.wait()

    def __len__(self) -> int:
        return len(self._items)
