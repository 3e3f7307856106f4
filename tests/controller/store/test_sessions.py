"""The store's sessions on a real file: start, update, end, one open per EVSE, a
vehicle's sessions in a window."""

from __future__ import annotations

import math

import pytest

from depotctl.controller.store import (
    SessionConflict,
    SessionRecord,
    Store,
    UnitOfWork,
    UnknownSession,
)
from depotctl.domain.sessions import EnergyRequirement, RequirementSource
from tests.controller.store.plans import plans_of
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


def test_a_vehicles_sessions_in_a_window_are_read_by_its_index(
    uow: UnitOfWork, store: Store
) -> None:
    """bus-42's sessions open within [at(100), at(200)): those ended before it, or
    started at or after its end, and other vehicles' are left out; the query reads the
    (vehicle_id, started_at) index, not every session."""
    stays = {  # id: (EVSE, start, end)
        "gone": ("chg-01/1", 0, 99),
        "ends-at-since": ("chg-01/1", 99, 100),
        "across-since": ("chg-02/1", 90, 150),
        "within": ("chg-01/1", 160, 170),
        "open-since-before": ("chg-03/1", 50, None),
        "across-until": ("chg-01/1", 199, 260),
        "starts-at-until": ("chg-02/1", 200, None),
    }
    for session_id, (evse, start, end) in stays.items():
        uow.sessions.put(session(session_id, evse, started=at(start), vehicle_id="bus-42"))
        if end is not None:
            uow.sessions.end(session_id, at=at(end), energy_delivered_wh=1.0)
    uow.sessions.put(session("other", "chg-04/1", started=at(150), vehicle_id="bus-7"))
    uow.sessions.put(session("nobody", "chg-05/1", started=at(150)))
    found: list[SessionRecord] = []
    [plan] = plans_of(
        store, lambda: found.extend(uow.sessions.of_vehicle("bus-42", at(100), at(200)))
    )
    expected = ["open-since-before", "across-since", "ends-at-since", "within", "across-until"]
    assert [r.session.id for r in found] == expected
    overlapping = uow.sessions.overlapping(at(100), at(200))  # the same window, all vehicles
    assert found == [r for r in overlapping if r.session.vehicle_id == "bus-42"]
    assert uow.sessions.of_vehicle("bus-9", at(0), at(1_000)) == []
    assert plan.startswith("SEARCH sessions USING INDEX sessions_by_vehicle (vehicle_id=?"), plan
