"""The store's envelopes on a real file: round trips, resubmissions, open ones, states."""

from __future__ import annotations

from pathlib import Path

import pytest

from depotctl.controller.store import (
    EnvelopeConflict,
    Store,
    UnitOfWork,
    UnknownEnvelope,
)
from depotctl.domain.envelopes import (
    Direction,
    EnvelopeMode,
    EnvelopeState,
    EnvelopeStatus,
    LimitUnit,
)
from depotctl.domain.phases import Phase
from tests.controller.store.records import at, envelope


def test_envelopes_round_trip_and_resubmission_is_idempotent(uow: UnitOfWork) -> None:
    per_phase = envelope(
        "env-2",
        unit=LimitUnit.A,
        limit=63.0,
        phases=frozenset({Phase.L1, Phase.L3}),
        mode=EnvelopeMode.FALLBACK,
        end=None,
        priority=3,
        direction=Direction.EXPORT,
    )
    assert uow.envelopes.put(envelope()) is True
    assert uow.envelopes.put(per_phase) is True
    assert uow.envelopes.put(envelope()) is False
    assert uow.envelopes.get("env-2") == per_phase
    assert uow.envelopes.all() == [envelope(), per_phase]
    with pytest.raises(EnvelopeConflict, match="env-1"):
        uow.envelopes.put(envelope(limit=100.0))
    assert uow.envelopes.get("env-1") == envelope()
    assert uow.envelopes.get("nope") is None


def test_an_envelope_with_a_limit_that_is_not_a_number_is_refused(uow: UnitOfWork) -> None:
    with pytest.raises(ValueError, match="finite"):
        uow.envelopes.put(envelope(limit=float("nan")))
    assert uow.envelopes.all() == []


def test_open_envelopes_leave_out_ended_and_withdrawn_ones(uow: UnitOfWork) -> None:
    uow.envelopes.put(envelope("ended", end=at(10)))
    uow.envelopes.put(envelope("open", end=None))
    uow.envelopes.put(envelope("later", end=at(60)))
    uow.envelopes.put(envelope("pulled", end=at(60)))
    withdrawn = uow.envelopes.withdraw("pulled", at=at(5))
    assert withdrawn.withdrawn_at == at(5)
    assert uow.envelopes.withdraw("pulled", at=at(8)).withdrawn_at == at(5)
    assert [e.id for e in uow.envelopes.all(open_at=at(10))] == ["later", "open"]
    assert [e.id for e in uow.envelopes.all(open_at=at(4))] == [
        "ended",
        "later",
        "open",
        "pulled",
    ]
    with pytest.raises(UnknownEnvelope):
        uow.envelopes.withdraw("nope", at=at(1))


def test_envelope_states_start_received_and_survive_reopening(db: Path) -> None:
    with Store.open(db) as store:
        UnitOfWork(store).envelopes.put(envelope("env-1"))
        UnitOfWork(store).envelopes.put(envelope("env-2"))
        assert UnitOfWork(store).envelopes.states()["env-1"].state is EnvelopeState.RECEIVED
        UnitOfWork(store).envelopes.set_states(
            {"env-1": EnvelopeStatus(EnvelopeState.ACTIVE, "in window")}
        )
        with pytest.raises(UnknownEnvelope):
            UnitOfWork(store).envelopes.set_states(
                {
                    "env-2": EnvelopeStatus(EnvelopeState.PENDING, "later"),
                    "ghost": EnvelopeStatus(EnvelopeState.ACTIVE, "?"),
                }
            )
    with Store.open(db) as store:
        assert UnitOfWork(store).envelopes.states() == {
            "env-1": EnvelopeStatus(EnvelopeState.ACTIVE, "in window"),
            "env-2": EnvelopeStatus(EnvelopeState.RECEIVED, ""),
        }
