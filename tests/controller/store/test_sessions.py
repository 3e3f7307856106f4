"""The store's sessions on a real file: start, update, end, one open per EVSE."""

from __future__ import annotations

import math

import pytest

from depotctl.controller.store import (
    SessionConflict,
    UnitOfWork,
    UnknownSession,
)
from depotctl.domain.sessions import EnergyRequirement, RequirementSource
from tests.controller.store.records import at, session


def test_sessions_start_update_and_end_with_energy_delivered(uow: UnitOfWork) -> None:
    need = EnergyRequirement(40_000.0, at(480), RequirementSource.VEHICLE)
    assert uow.sessions.put(session(requirement=need, vehicle_max_current_a=32.0)) is True
    assert uow.sessions.put(session(energy_delivered_wh=1500.0, requirement=need)) is False
    record = uow.sessions.get("s-1")
    assert record is not None and record.is_open
    assert record.session == session(energy_delivered_wh=1500.0, requirement=need)
    ended = uow.sessions.end("s-1", at=at(90), energy_delivered_wh=21_000.0)
    assert ended.ended_at == at(90) and ended.session.energy_delivered_wh == 21_000.0
    assert not ended.is_open
    with pytest.raises(SessionConflict, match="already ended"):
        uow.sessions.end("s-1", at=at(91), energy_delivered_wh=1.0)
    with pytest.raises(SessionConflict, match="ended"):
        uow.sessions.put(session(energy_delivered_wh=9.0))
    with pytest.raises(UnknownSession):
        uow.sessions.end("nope", at=at(1), energy_delivered_wh=0.0)


def test_an_evse_has_at_most_one_open_session(uow: UnitOfWork) -> None:
    uow.sessions.put(session("s-1"))
    with pytest.raises(SessionConflict, match="chg-01/1 already has an open session"):
        uow.sessions.put(session("s-2"))
    with pytest.raises(SessionConflict, match="cannot change"):
        uow.sessions.put(session("s-1", evse="chg-02/1"))
    uow.sessions.end("s-1", at=at(30), energy_delivered_wh=5000.0)
    uow.sessions.put(session("s-2", started=at(31)))
    uow.sessions.put(session("s-3", evse="chg-02/1", started=at(5)))
    assert [r.session.id for r in uow.sessions.all()] == ["s-1", "s-3", "s-2"]
    assert [r.session.id for r in uow.sessions.all(open_only=True)] == ["s-3", "s-2"]


@pytest.mark.parametrize(
    ("changes", "words"),
    [
        (
            {"requirement": EnergyRequirement(math.inf, at(480), RequirementSource.VEHICLE)},
            "required",
        ),
        ({"vehicle_max_current_a": math.nan}, "vehicle"),
        ({"planned_rate_a": math.inf}, "planned rate"),
        ({"energy_delivered_wh": math.inf}, "energy delivered"),
    ],
    ids=["requirement", "vehicle-current", "planned-rate", "energy-delivered"],
)
def test_a_session_with_a_value_that_is_not_finite_is_refused(
    uow: UnitOfWork, changes: dict[str, object], words: str
) -> None:
    with pytest.raises(ValueError, match=words):
        uow.sessions.put(session(**changes))
    assert uow.sessions.all() == []
