"""The store's chargers on a real file: states round trip and replace."""

from __future__ import annotations

import math

import pytest

from depotctl.controller.store import (
    Store,
    UnitOfWork,
)
from depotctl.domain.chargers import ChargerState, CommandOutcome
from tests.controller.store.records import at


def test_charger_states_round_trip_and_replace(uow: UnitOfWork) -> None:
    rejected = ChargerState(
        "chg-01", True, CommandOutcome.REJECTED, 16.0, at(1), "profile rejected"
    )
    uow.chargers.put([ChargerState("chg-01"), ChargerState("chg-02", online=False)])
    uow.chargers.put([rejected])
    states = uow.chargers.states()
    assert states == {"chg-01": rejected, "chg-02": ChargerState("chg-02", online=False)}
    assert not states["chg-01"].is_controllable


def test_a_charger_state_with_an_accepted_limit_that_is_not_finite_is_refused(
    store: Store,
) -> None:
    with pytest.raises(ValueError, match="chg-02"):
        UnitOfWork(store).chargers.put(
            [
                ChargerState("chg-01"),
                ChargerState("chg-02", True, CommandOutcome.ACCEPTED, math.inf),
            ]
        )
    assert UnitOfWork(store).chargers.states() == {}
