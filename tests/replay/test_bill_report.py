"""The cost part of a replay's report: the bill of the steps' energy, as text and JSON."""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from zoneinfo import ZoneInfo

import pytest

from depotctl.replay.bill_report import bill_json, bill_text, replay_bill
from tests.replay.conftest import acnportal_tariff

LA = ZoneInfo("America/Los_Angeles")


def test_the_bill_of_the_steps_prices_each_period_and_charges_the_quarter_hour_peak() -> None:
    # 0.10 /kWh before 10:00 local, 0.40 from then; 12 /kW on the month's peak
    tariff = acnportal_tariff([0, 10], [0.10, 0.40], demand=12.0)
    start = datetime(2019, 5, 13, 9, 45, tzinfo=LA)
    # six 5-minute steps: 09:45–10:00 draws 1 + 2 + 3 kWh, 10:00–10:15 draws 0.5 each
    steps = (1000.0, 2000.0, 3000.0, 500.0, 500.0, 500.0)
    bill = replay_bill(steps, start, 300.0, LA, tariff)
    # 6 kWh × 0.10 + 1.5 kWh × 0.40 = 1.20; peak 6 kWh / 0.25 h = 24 kW × 12 = 288.00
    assert bill.energy_amount == Decimal("1.20")
    assert bill.demand[0].peak == pytest.approx(24.0)
    assert bill.demand_amount == Decimal("288.00")
    assert bill.total == Decimal("289.20")
    data = bill_json(bill)
    assert data is not None
    assert (data["energy"], data["demand_charge"], data["total"]) == (1.2, 288.0, 289.2)
    assert data["energy_kwh"] == pytest.approx(7.5)
    assert data["demand_lines"][0]["peak_start"] == "2019-05-13T16:45:00Z"
    text = "\n".join(bill_text(bill, LA))
    assert "peak 24.0 kW from 2019-05-13 09:45:00-07:00 × 12 /kW" in text
    assert "total              289.20" in text
    assert bill_json(None) is None
