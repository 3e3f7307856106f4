"""Meter values into base units, and a charger's EVSEs into one reading on the site's
phases; transaction ids into session ids and back."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from depotctl.domain.charge_points import OcppVersion
from depotctl.domain.phases import Phase
from depotctl.protocols.ocpp.meter import ChargerMeter, Measured, parse_meter_values, parse_time
from depotctl.protocols.ocpp.transactions import session_id_of, transaction_id_of
from tests.protocols.ocpp.endpoint_rig import charge_point

NOW = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)


def entry(*values: dict[str, Any], timestamp: str | None = "2026-03-02T18:00:00Z") -> Any:
    return [{"timestamp": timestamp, "sampled_value": list(values)}]


@pytest.mark.parametrize(
    ("sampled", "field", "expected"),
    [
        ({"value": "1234"}, "energy_wh", 1234.0),  # 1.6 default measurand and unit
        ({"value": "1.5", "unit": "kWh"}, "energy_wh", 1500.0),
        ({"value": 2.5, "unit_of_measure": {"unit": "kWh"}}, "energy_wh", 2500.0),
        ({"value": 25, "unit_of_measure": {"unit": "Wh", "multiplier": 2}}, "energy_wh", 2500.0),
        ({"value": "7.2", "measurand": "Power.Active.Import", "unit": "kW"}, "power_w", 7200.0),
        ({"value": "55", "measurand": "SoC", "unit": "Percent"}, "soc_percent", 55.0),
        ({"value": "12", "measurand": "Current.Import"}, "current_unphased_a", 12.0),
    ],
)
def test_values_are_read_in_base_units(
    sampled: dict[str, Any], field: str, expected: float
) -> None:
    [measured] = parse_meter_values(entry(sampled), NOW)
    assert getattr(measured, field) == pytest.approx(expected)


@pytest.mark.parametrize(
    "sampled",
    [
        {"value": "12", "unit": "varh"},  # not an energy unit we read
        {"value": "not a number"},
        {"value": "NaN"},
        {"value": True},
        {"value": "0102AB", "format": "SignedData"},
        {"value": "7", "measurand": "Power.Active.Import", "location": "EV"},
        {"value": "7", "measurand": "Voltage"},
        {"value": "7", "measurand": "Current.Import", "phase": "N"},
        # 2.0.1: a multiplier no meter has (10**400 would overflow a float)
        {
            "value": "7",
            "measurand": "Power.Active.Import",
            "unit_of_measure": {"unit": "W", "multiplier": 400},
        },
    ],
)
def test_values_that_cannot_be_read_are_skipped(sampled: dict[str, Any]) -> None:
    assert parse_meter_values(entry(sampled), NOW) == []


def test_phase_powers_sum_when_no_total_is_given_and_entries_come_oldest_first() -> None:
    later = entry(
        {"value": "1000", "measurand": "Power.Active.Import", "phase": "L1-N"},
        {"value": "2000", "measurand": "Power.Active.Import", "phase": "L2-N"},
        timestamp="2026-03-02T18:10:00Z",
    )
    earlier = entry({"value": "5"}, timestamp=None)  # no timestamp: now
    first, second = parse_meter_values(later + earlier, NOW)
    assert (first.at, first.energy_wh) == (NOW, 5)
    assert (second.at, second.power_w) == (NOW + timedelta(minutes=10), 3000)


def test_a_register_read_at_the_start_of_a_transaction_is_marked() -> None:
    [measured] = parse_meter_values(entry({"value": "9", "context": "Transaction.Begin"}), NOW)
    assert measured.begins


def test_times_without_an_offset_are_utc_and_unreadable_ones_are_now() -> None:
    assert parse_time("2026-03-02T19:00:00", NOW) == datetime(2026, 3, 2, 19, tzinfo=UTC)
    assert parse_time("2026-03-03T05:00:00+10:00", NOW) == datetime(2026, 3, 2, 19, tzinfo=UTC)
    assert parse_time("yesterday", NOW) == NOW
    assert parse_time(None, NOW) == NOW


def _measured(at_minute: int, power: float | None, **currents: float) -> Measured:
    return Measured(
        NOW + timedelta(minutes=at_minute),
        power_w=power,
        current_a={int(k[1]) - 1: v for k, v in currents.items()},
    )


def test_a_reading_beyond_what_any_charger_draws_is_no_reading() -> None:
    """1e300 W is a broken meter (docs/quantities.md): it must not reach the store,
    where it would be refused and take the other chargers' readings with it."""
    meter = ChargerMeter(charge_point("CP", "chg", OcppVersion.V16))
    assert meter.record(1, _measured(0, 1e300, l1=10, l2=10, l3=10)) is None
    assert meter.record(1, _measured(1, 6900, l1=10, l2=10, l3=10)) is not None


def test_a_rotated_three_phase_charger_reports_on_the_sites_phases() -> None:
    meter = ChargerMeter(charge_point("CP", "chg", OcppVersion.V16, connection="L2-L3-L1"))
    reading = meter.record(1, _measured(0, 6900, l1=10, l2=11, l3=12))
    assert reading is not None and reading.node == "chg"
    assert reading.current_a == {Phase.L2: 10, Phase.L3: 11, Phase.L1: 12}


@pytest.mark.parametrize(
    ("connection", "lines"),
    [("L3", {Phase.L3}), ("L1-L2", {Phase.L1, Phase.L2}), (None, set(Phase))],
    ids=["line-to-neutral", "line-to-line", "phase-unknown"],
)
def test_a_single_phase_chargers_current_lands_on_its_lines(
    connection: str | None, lines: set[Phase]
) -> None:
    meter = ChargerMeter(charge_point("CP", "chg", OcppVersion.V16, connection=connection))
    reading = meter.record(1, Measured(NOW, current_unphased_a=16))
    assert reading is not None and reading.current_a == dict.fromkeys(lines, 16)


def test_a_dc_chargers_currents_are_not_line_currents() -> None:
    meter = ChargerMeter(charge_point("CP", "chg", OcppVersion.V201, dc=True))
    reading = meter.record(1, _measured(0, 50_000, l1=120))
    assert reading is not None and (reading.power_w, reading.current_a) == (50_000, None)
    assert meter.record(1, Measured(NOW, current_unphased_a=300)) is None


def test_evses_sum_into_the_charger_stamped_with_the_oldest_part() -> None:
    meter = ChargerMeter(charge_point("CP", "chg", OcppVersion.V201, evses=2))
    meter.record(1, _measured(0, 7000, l1=10, l2=10, l3=10))
    reading = meter.record(2, _measured(5, 3000, l1=4, l2=5, l3=6))
    assert reading is not None
    assert (reading.at, reading.power_w) == (NOW, 10_000)
    assert reading.current_a == {Phase.L1: 14, Phase.L2: 15, Phase.L3: 16}
    # an EVSE without a power reading leaves the total unknown rather than too low
    reading = meter.record(1, _measured(6, None, l1=9, l2=9, l3=9))
    assert reading is not None and reading.power_w is None
    # once its session ended, an EVSE no longer counts
    meter.forget(1)
    reading = meter.record(2, _measured(7, 2000))
    assert reading is not None and (reading.at, reading.power_w) == (
        NOW + timedelta(minutes=7),
        2000,
    )


def test_a_whole_charger_value_is_the_chargers_reading() -> None:
    meter = ChargerMeter(charge_point("CP", "chg", OcppVersion.V16, evses=2))
    meter.record(1, _measured(0, 7000))
    reading = meter.record(None, _measured(1, 9000))
    assert reading is not None and (reading.power_w, reading.at) == (
        9000,
        NOW + timedelta(minutes=1),
    )


@pytest.mark.parametrize("transaction_id", ["1042", "3f1c-77.a:b_c"])
def test_plain_transaction_ids_read_back_from_their_session_id(transaction_id: str) -> None:
    session_id = session_id_of("chg-01", transaction_id)
    assert session_id == f"chg-01:{transaction_id}"
    assert transaction_id_of("chg-01", session_id) == transaction_id
    assert transaction_id_of("chg-02", session_id) is None


@pytest.mark.parametrize("transaction_id", ["with space", "ä", "x" * 65, "h.abc"])
def test_other_transaction_ids_are_hashed_into_a_safe_session_id(transaction_id: str) -> None:
    session_id = session_id_of("chg-01", transaction_id)
    assert session_id.startswith("chg-01:h.") and len(session_id) == len("chg-01:h.") + 16
    assert session_id == session_id_of("chg-01", transaction_id)
    assert transaction_id_of("chg-01", session_id) is None
