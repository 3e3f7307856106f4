"""Installing and clearing profiles: the rules a real charger checks."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import timedelta

import pytest

from depotctl.domain.charge_points import RateUnit
from depotctl.sim.chargers.profiles import InvalidProfile, Kind, Purpose, from_v16, from_v201
from depotctl.sim.chargers.stack import Capabilities, ClearCriteria, ProfileRejected, ProfileStack
from tests.sim.chargers.builders import START, profile

EVSES = (1, 2)
RUNNING = {1: "101"}


def v16() -> ProfileStack:
    return ProfileStack(Capabilities(v16=True))


def v201() -> ProfileStack:
    return ProfileStack(Capabilities(v16=False))


def reason(stack: ProfileStack, p: object, transactions: dict[int, str | None] = RUNNING) -> str:
    with pytest.raises(ProfileRejected) as caught:
        stack.install(p, EVSES, transactions)  # type: ignore[arg-type]
    return caught.value.reason


def test_a_tx_profile_needs_a_transaction_on_its_evse() -> None:
    dynamic = profile(16, evse=2, purpose=Purpose.TX, transaction_id="101")
    assert reason(v16(), dynamic) == "TxNotFound"


def test_a_tx_profile_for_another_transaction_is_rejected() -> None:
    dynamic = profile(16, evse=1, purpose=Purpose.TX, transaction_id="99")
    assert reason(v16(), dynamic) == "TxNotFound"


@pytest.mark.parametrize("stack", [v16, v201], ids=["v16", "v201"])
@pytest.mark.parametrize("limit", [0.0, 16.0, 7000.0])
def test_a_tx_profile_for_a_transaction_it_does_not_have_is_tx_not_found_first(
    stack: Callable[[], ProfileStack], limit: float
) -> None:
    """Whatever else is wrong with it (here a unit the charger does not take), and
    whatever its limit: the transaction is not there."""
    only_amps = stack()
    only_amps.capabilities = replace(only_amps.capabilities, units=frozenset({RateUnit.AMPS}))
    ended = profile(limit, evse=1, purpose=Purpose.TX, transaction_id="99", unit=RateUnit.WATTS)
    assert reason(only_amps, ended) == "TxNotFound"
    assert reason(only_amps, ended, {}) == "TxNotFound"
    assert only_amps.profiles == []


def test_a_power_cycle_keeps_only_the_persistent_profiles() -> None:
    stack = v16()
    kept = [
        profile(8, id=1, evse=0),  # the fallback
        profile(30, id=2, evse=0, purpose=Purpose.STATION_MAX),
        profile(9, id=3, evse=2),  # a connector's own default, stack 0, no end
    ]
    gone = [
        profile(12, id=4, evse=1, stack_level=1),  # a dynamic default
        profile(6, id=5, evse=1, valid_to=START + timedelta(hours=1)),  # with an end
        profile(16, id=6, evse=1, purpose=Purpose.TX, transaction_id="101"),
    ]
    for p in (*kept, *gone):
        stack.install(p, EVSES, RUNNING)
    assert stack.power_cycle() == len(gone)
    assert stack.profiles == kept


def test_a_16_tx_profile_without_an_id_is_bound_to_the_running_transaction() -> None:
    stack = v16()
    installed = stack.install(profile(16, purpose=Purpose.TX), EVSES, RUNNING)
    assert installed.transaction_id == "101"


def test_a_201_tx_profile_must_name_its_transaction() -> None:
    assert reason(v201(), profile(16, purpose=Purpose.TX)) == "InvalidProfile"


def test_tx_profiles_are_refused_by_a_charger_without_them() -> None:
    stack = ProfileStack(Capabilities(tx_profile=False))
    dynamic = profile(16, purpose=Purpose.TX, transaction_id="101")
    assert reason(stack, dynamic) == "UnsupportedPurpose"


def test_a_charger_wide_maximum_belongs_on_evse_zero() -> None:
    assert reason(v16(), profile(32, evse=1, purpose=Purpose.STATION_MAX)) == "InvalidProfile"
    v16().install(profile(32, evse=0, purpose=Purpose.STATION_MAX), EVSES, RUNNING)


def test_an_unknown_evse_is_rejected() -> None:
    assert reason(v16(), profile(16, evse=7)) == "UnknownEvse"


def test_an_unsupported_rate_unit_is_rejected() -> None:
    amps_only = ProfileStack(Capabilities(units=frozenset({RateUnit.AMPS})))
    assert reason(amps_only, profile(7000, unit=RateUnit.WATTS)) == "UnsupportedRateUnit"


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        ({"stack_level": 9}, "InvalidStackLevel"),
        ({"periods": ((60, 10),)}, "InvalidSchedule"),
        ({"periods": ((0, 10), (600, 12), (300, 8))}, "InvalidSchedule"),
        ({"periods": ((0, -1),)}, "InvalidSchedule"),
        ({"kind": Kind.RECURRING}, "InvalidSchedule"),
    ],
)
def test_malformed_schedules_are_rejected(changes: dict[str, object], expected: str) -> None:
    assert reason(v16(), profile(16, **changes)) == expected  # type: ignore[arg-type]


def test_a_201_absolute_schedule_needs_its_start_but_a_16_one_begins_on_arrival() -> None:
    assert reason(v201(), profile(16, start=None)) == "InvalidSchedule"
    v16().install(profile(16, start=None), EVSES, RUNNING)


def test_the_same_id_replaces_the_old_profile() -> None:
    stack = v16()
    stack.install(profile(16, id=5), EVSES, RUNNING)
    stack.install(profile(10, id=5, stack_level=2), EVSES, RUNNING)
    assert [(p.id, p.schedule.periods[0].limit) for p in stack.profiles] == [(5, 10)]


def test_16_replaces_the_same_evse_purpose_and_stack_level() -> None:
    stack = v16()
    stack.install(profile(16, id=1), EVSES, RUNNING)
    stack.install(profile(10, id=2), EVSES, RUNNING)
    assert [p.id for p in stack.profiles] == [2]


def test_201_rejects_the_same_slot_with_overlapping_validity() -> None:
    stack = v201()
    stack.install(profile(16, id=1, valid_to=START + timedelta(hours=1)), EVSES, RUNNING)
    assert reason(stack, profile(10, id=2)) == "DuplicateProfile"
    later = profile(10, id=3, valid_from=START + timedelta(hours=1))
    stack.install(later, EVSES, RUNNING)
    assert [p.id for p in stack.profiles] == [1, 3]


def test_clear_by_id_or_by_criteria() -> None:
    stack = v16()
    stack.install(profile(8, id=1, evse=0), EVSES, RUNNING)
    stack.install(profile(16, id=2, evse=1, stack_level=1), EVSES, RUNNING)
    stack.install(profile(20, id=3, purpose=Purpose.TX, stack_level=2), EVSES, RUNNING)
    assert stack.clear(ClearCriteria(profile_id=2)) == 1
    assert stack.clear(ClearCriteria(purpose=Purpose.TX)) == 1
    assert stack.clear(ClearCriteria(profile_id=42)) == 0
    assert [p.id for p in stack.profiles] == [1]


def test_a_transaction_takes_its_tx_profiles_with_it() -> None:
    stack = v16()
    stack.install(profile(8, id=1, evse=0), EVSES, RUNNING)
    stack.install(profile(20, id=2, purpose=Purpose.TX), EVSES, RUNNING)
    stack.end_transaction(1)
    assert [p.id for p in stack.profiles] == [1]


def test_payloads_of_both_versions_read_into_the_same_profile() -> None:
    schedule = {
        "charging_rate_unit": "A",
        "start_schedule": "2026-03-02T14:00:00Z",
        "duration": 300,
        "charging_schedule_period": [{"start_period": 0, "limit": 16.0, "number_phases": 3}],
    }
    common = {
        "stack_level": 2,
        "charging_profile_kind": "Absolute",
        "valid_to": "2026-03-02T14:05:00Z",
        "transaction_id": 101,
    }
    old = from_v16(
        1,
        {
            **common,
            "charging_profile_id": 7,
            "charging_profile_purpose": "TxProfile",
            "charging_schedule": schedule,
        },
        START,
    )
    new = from_v201(
        1,
        {
            **common,
            "id": 7,
            "charging_profile_purpose": "TxProfile",
            "charging_schedule": [{"id": 1, **schedule}],
        },
        START,
    )
    assert old == new
    assert old.transaction_id == "101"
    assert old.schedule.duration_s == 300
    max_profile = from_v16(
        0,
        {
            **common,
            "charging_profile_id": 8,
            "charging_profile_purpose": "ChargePointMaxProfile",
            "charging_schedule": schedule,
        },
        START,
    )
    assert max_profile.purpose is Purpose.STATION_MAX


def test_an_unreadable_payload_is_an_invalid_profile() -> None:
    with pytest.raises(InvalidProfile, match="chargingRateUnit"):
        from_v201(
            1,
            {
                "id": 1,
                "stack_level": 0,
                "charging_profile_purpose": "TxDefaultProfile",
                "charging_profile_kind": "Absolute",
                "charging_schedule": [{"charging_rate_unit": "kW", "charging_schedule_period": []}],
            },
            START,
        )
