"""A session's energy from its EVSE's register: the bookkeeping on its own (values
built directly, and a property over every order the reads may arrive in), then what
the real endpoint reports when chargers send their values over real websockets —
out of order, late, for the charger as a whole, with a stop value that is wrong, a
start said only at the end."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from ocpp.v16 import call as call16
from ocpp.v201 import call as call201

from depotctl.protocols.ocpp.meter import format_time
from depotctl.protocols.ocpp.session_energy import SessionEnergy
from tests.protocols.ocpp.chargers import charger
from tests.protocols.ocpp.endpoint_rig import FIRST_TRANSACTION, START, V16, V201, endpoint

# The bookkeeping


def test_the_energy_is_the_highest_read_less_the_start_the_charger_said() -> None:
    energy = SessionEnergy(1_000.0)
    assert energy.energy_wh == 0.0
    assert energy.record(4_000.0) == 3_000.0
    assert energy.record(9_500.5) == 8_500.5
    assert energy.energy_wh == 8_500.5


def test_a_stale_or_lower_read_never_lowers_the_energy() -> None:
    energy = SessionEnergy(1_000.0)
    energy.record(9_000.0)
    assert energy.record(5_000.0) == 8_000.0  # out of order
    assert energy.record(0.0) == 8_000.0  # a stop value of 0 (a meter that failed)
    assert energy.record(9_400.0) == 8_400.0


def test_without_a_start_the_first_read_stands_in_until_the_charger_says_it() -> None:
    energy = SessionEnergy()
    assert energy.energy_wh is None  # nothing tells it yet
    assert energy.record(3_000.0) == 0.0
    assert energy.record(5_000.0) == 2_000.0
    assert energy.record(1_000.0, begins=True) == 4_000.0  # the start, said late
    assert energy.record(900.0, begins=True) == 4_000.0  # said once is said
    assert energy.start_said


def test_after_a_restart_the_start_is_inferred_from_what_was_recorded() -> None:
    energy = SessionEnergy(recorded_wh=5_000.0)
    assert energy.energy_wh == 5_000.0
    assert energy.record(20_000.0) == 5_000.0
    assert energy.record(21_000.0) == 6_000.0
    # the charger's word on the start wins, but never below what was recorded
    assert energy.record(14_500.0, begins=True) == 6_500.0
    assert energy.record(19_000.0, begins=False) == 6_500.0
    restored = SessionEnergy(recorded_wh=5_000.0)
    restored.record(30_000.0, begins=True)
    restored.record(33_000.0)
    assert restored.energy_wh == 5_000.0


@given(
    start=st.floats(min_value=0, max_value=1e9, allow_nan=False),
    steps=st.lists(st.floats(min_value=0, max_value=50_000), min_size=1, max_size=30),
    order=st.randoms(use_true_random=False),
)
def test_the_energy_is_the_same_whatever_order_the_reads_arrive_in(
    start: float, steps: list[float], order: Any
) -> None:
    """A register sampled through a session: the energy after every read, in any
    order, is the last (highest) value less the start, and it never decreased."""
    reads = []
    register = start
    for step in steps:
        register += step
        reads.append(register)
    order.shuffle(reads)
    energy = SessionEnergy(start)
    seen = [energy.record(read) or 0.0 for read in reads]
    assert seen == sorted(seen)  # never lowered
    assert energy.energy_wh == pytest.approx(max(reads) - start, abs=1e-6)


# Through the endpoint: 1.6

pytestmark = pytest.mark.anyio

AT = START + timedelta(minutes=1)


def _register(wh: float, at: datetime, *, context: str | None = None) -> dict[str, Any]:
    value: dict[str, Any] = {"value": f"{wh:.1f}", "measurand": "Energy.Active.Import.Register"}
    if context is not None:
        value["context"] = context
    return {"timestamp": format_time(at), "sampledValue": [{**value, "unit": "Wh"}]}


async def _start16(cp: Any, meter_start: int) -> int:
    await cp.call(call16.BootNotification(charge_point_model="W", charge_point_vendor="V"))
    started = await cp.call(
        call16.StartTransaction(
            connector_id=1, id_tag="BUS-1", meter_start=meter_start, timestamp=format_time(START)
        )
    )
    return int(started.transaction_id)


async def _meter16(cp: Any, connector: int, transaction: int, wh: float, at: datetime) -> None:
    await cp.call(
        call16.MeterValues(
            connector_id=connector, transaction_id=transaction, meter_value=[_register(wh, at)]
        )
    )


async def test_values_for_the_16_charger_as_a_whole_never_count_as_the_sessions() -> None:
    """Connector 0 is the charger's main meter: its register is not the one
    ``meterStart`` was read from."""
    async with endpoint(V16) as rig, charger(rig.url, "CP-16", "ocpp1.6") as cp:
        transaction = await _start16(cp, 1_000)
        await _meter16(cp, 1, transaction, 4_000, AT)
        await _meter16(cp, 0, transaction, 7_654_321, AT + timedelta(minutes=1))
        samples = rig.events.samples
        assert [s.session_energy_wh for s in samples] == [3_000.0, None]
        assert samples[1].energy_wh == 7_654_321  # still reported, as the charger's
        await cp.call(
            call16.StopTransaction(
                meter_stop=6_000,
                timestamp=format_time(AT + timedelta(minutes=5)),
                transaction_id=transaction,
            )
        )
        assert [end[1] for end in rig.events.ends] == [5_000.0]


async def test_a_16_stop_value_below_the_reads_does_not_lose_the_sessions_energy() -> None:
    async with endpoint(V16) as rig, charger(rig.url, "CP-16", "ocpp1.6") as cp:
        transaction = await _start16(cp, 1_000)
        await _meter16(cp, 1, transaction, 9_000, AT)
        await cp.call(
            call16.StopTransaction(
                meter_stop=0,
                timestamp=format_time(AT + timedelta(minutes=1)),
                transaction_id=transaction,
                reason="PowerLoss",
            )
        )
        assert [end[1] for end in rig.events.ends] == [8_000.0]


async def test_a_late_16_value_of_an_ended_transaction_is_not_the_next_sessions() -> None:
    """Queued transaction values can arrive after the transaction ended, and after the
    next one began on the connector: they name their transaction."""
    async with endpoint(V16) as rig, charger(rig.url, "CP-16", "ocpp1.6") as cp:
        first = await _start16(cp, 1_000)
        await cp.call(
            call16.StopTransaction(
                meter_stop=5_000, timestamp=format_time(AT), transaction_id=first
            )
        )
        second = await cp.call(
            call16.StartTransaction(
                connector_id=1, id_tag="BUS-2", meter_start=5_000, timestamp=format_time(AT)
            )
        )
        await _meter16(cp, 1, second.transaction_id, 7_000, AT + timedelta(minutes=2))
        await _meter16(cp, 1, first, 4_800, AT - timedelta(minutes=1))  # late, the first's
        late = rig.events.samples[-1]
        assert late.session_id is None and late.session_energy_wh is None
        assert rig.events.samples[-2].session_id == f"chg-16:{FIRST_TRANSACTION + 1}"
        assert rig.events.samples[-2].session_energy_wh == 2_000.0


# Through the endpoint: 2.0.1


def _event(
    event_type: str,
    seq_no: int,
    at: datetime,
    meter_value: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> Any:
    return call201.TransactionEvent(
        event_type=event_type,
        timestamp=format_time(at),
        trigger_reason="MeterValuePeriodic" if event_type == "Updated" else "CablePluggedIn",
        seq_no=seq_no,
        transaction_info={"transactionId": "tx-1"},
        meter_value=meter_value,
        **extra,
    )


def _register201(wh: float, at: datetime, context: str = "Sample.Periodic") -> dict[str, Any]:
    return {
        "timestamp": format_time(at),
        "sampledValue": [
            {
                "value": wh,
                "measurand": "Energy.Active.Import.Register",
                "context": context,
                "unitOfMeasure": {"unit": "Wh"},
            }
        ],
    }


async def _boot201(cp: Any) -> None:
    await cp.call(
        call201.BootNotification(
            charging_station={"model": "DC", "vendor_name": "V"}, reason="PowerUp"
        )
    )


async def test_201_values_out_of_order_never_lower_the_sessions_energy() -> None:
    """A station delivering a queued (offline) event after live ones, then ending the
    transaction without a meter value."""
    async with endpoint(V201) as rig, charger(rig.url, "CP-201", "ocpp2.0.1") as cp:
        await _boot201(cp)
        evse = {"id": 1, "connectorId": 1}
        await cp.call(
            _event(
                "Started", 0, START, [_register201(1_000, START, "Transaction.Begin")], evse=evse
            )
        )
        later, earlier = START + timedelta(minutes=20), START + timedelta(minutes=10)
        await cp.call(_event("Updated", 2, later, [_register201(5_000, later)]))
        await cp.call(_event("Updated", 1, earlier, [_register201(3_000, earlier)], offline=True))
        await cp.call(_event("Ended", 3, later + timedelta(minutes=1)))
        assert [s.session_energy_wh for s in rig.events.samples] == [0.0, 4_000.0, 4_000.0]
        # the end says no more than the reads: the controller keeps the last (4 kWh;
        # through the store in tests/controller/test_ocpp_events_energy.py)
        [(_, energy, _, _)] = rig.events.ends
        assert energy in (None, 4_000.0)


async def test_a_201_start_said_only_at_the_end_replaces_the_first_read() -> None:
    """A station whose Started event carried no meter value, and whose Ended event
    carries the transaction's begin and end registers."""
    async with endpoint(V201) as rig, charger(rig.url, "CP-201", "ocpp2.0.1") as cp:
        await _boot201(cp)
        await cp.call(_event("Started", 0, START, evse={"id": 1, "connectorId": 1}))
        first = START + timedelta(minutes=10)
        await cp.call(_event("Updated", 1, first, [_register201(3_000, first)]))
        end = START + timedelta(hours=1)
        values = [
            _register201(1_000, START, "Transaction.Begin"),
            _register201(7_000, end, "Transaction.End"),
        ]
        await cp.call(_event("Ended", 2, end, values))
        assert [end[1] for end in rig.events.ends] == [6_000.0]
