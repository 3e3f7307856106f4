"""The store's overrides on a real file: pause, cap, clear."""

from __future__ import annotations

import pytest

from depotctl.controller.store import (
    EvseOverride,
    UnitOfWork,
)
from tests.controller.store.records import at


def test_overrides_pause_or_cap_and_clear(uow: UnitOfWork) -> None:
    pause = EvseOverride("chg-01/1", True, None, at(0), "ops", "cable damaged")
    cap = EvseOverride("chg-02/1", False, 10.0, at(1), "ops")
    uow.overrides.put(pause)
    uow.overrides.put(cap)
    assert uow.overrides.all() == {"chg-01/1": pause, "chg-02/1": cap}
    with pytest.raises(ValueError, match="pause it or cap it"):
        uow.overrides.put(EvseOverride("chg-03/1", False, None, at(2), "ops"))
    with pytest.raises(ValueError, match="0 A or more"):
        uow.overrides.put(EvseOverride("chg-03/1", False, -1.0, at(2), "ops"))
    assert uow.overrides.clear("chg-01/1") is True
    assert uow.overrides.clear("chg-01/1") is False
    assert list(uow.overrides.all()) == ["chg-02/1"]
