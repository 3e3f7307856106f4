"""The store's sources on a real file: when each was last heard from."""

from __future__ import annotations

from depotctl.controller.store import (
    UnitOfWork,
)
from tests.controller.store.records import at


def test_a_source_keeps_its_latest_last_heard(uow: UnitOfWork) -> None:
    uow.sources.heard_from("dso", at(5))
    uow.sources.heard_from("dso", at(3))
    uow.sources.heard_from("cpo", at(1))
    assert uow.sources.last_heard() == {"cpo": at(1), "dso": at(5)}
