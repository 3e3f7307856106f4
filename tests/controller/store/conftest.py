"""Fixtures of the store's tests: a store on a real file, and its unit of work."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from depotctl.controller.store import Store, UnitOfWork


@pytest.fixture
def db(tmp_path: Path) -> Path:
    return tmp_path / "state" / "depotctl.db"


@pytest.fixture
def store(db: Path) -> Iterator[Store]:
    with Store.open(db) as opened:
        yield opened


@pytest.fixture
def uow(store: Store) -> UnitOfWork:
    """The store's repositories, not entered: each call is a transaction of its own."""
    return UnitOfWork(store)
