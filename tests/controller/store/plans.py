"""SQLite's plans of a store's reads, for the tests that check an index is used."""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterable
from typing import Any

import pytest

from depotctl.controller.store import Store


def plans_of(store: Store, reads: Callable[[], object]) -> list[str]:
    """The plan (EXPLAIN QUERY PLAN, its steps joined by " / ") of each read that
    ``reads`` makes of ``store``, in order."""
    ran: list[tuple[str, list[Any]]] = []
    rows = store.rows

    def recording(sql: str, params: Iterable[Any] = ()) -> list[sqlite3.Row]:
        ran.append((sql, list(params)))
        return rows(sql, params)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(store, "rows", recording)
        reads()
    return [
        " / ".join(row[3] for row in store.rows("EXPLAIN QUERY PLAN " + sql, params))
        for sql, params in ran
    ]
