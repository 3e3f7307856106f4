"""acnportal's tariff JSON read as is, and the quality bar: two bills equal, to the cent,
the ones derived by hand in docs/bills-by-hand.md."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from depotctl.config.acnportal_tariff import AcnportalTariffError, read_acnportal_tariff
from depotctl.config.tariff_value import tariff_of
from depotctl.domain.bill import BillingWindow, LoadProfile, bill
from depotctl.domain.tariff import Tariff

ROOT = Path(__file__).resolve().parents[2]
ACNPORTAL = ROOT / "sites" / "tariffs" / "acnportal"
LOS_ANGELES = ZoneInfo("America/Los_Angeles")

#: docs/bills-by-hand.md's blocks: (day 0 = Friday or 1 = Saturday, from, to, kW)
BLOCKS = [
    (0, "00:00", "06:00", 20.0),
    (0, "08:00", "09:15", 40.0),
    (0, "11:30", "12:30", 36.0),
    (0, "15:30", "16:30", 50.0),
    (0, "17:50", "18:05", 90.0),
    (0, "20:45", "21:45", 50.0),
    (1, "00:00", "04:00", 25.0),
    (1, "15:00", "17:00", 40.0),
    (1, "22:00", "24:00", 10.0),
]


def _tariff(name: str) -> Tariff:
    return tariff_of(read_acnportal_tariff((ACNPORTAL / name).read_text()))


def _profile(friday: dt.date) -> tuple[LoadProfile, BillingWindow]:
    def at(day: int, clock: str) -> dt.datetime:
        hours, minutes = map(int, clock.split(":"))
        midnight = dt.datetime.combine(friday + dt.timedelta(days=day), dt.time(), LOS_ANGELES)
        return midnight + dt.timedelta(hours=hours, minutes=minutes)

    steps: list[tuple[dt.datetime, float]] = [(at(0, "00:00"), 0.0)]
    for day, start, end, kw in BLOCKS:
        steps += [(at(day, start), kw), (at(day, end), 0.0)]
    window = BillingWindow(at(0, "00:00"), at(2, "00:00"), LOS_ANGELES)
    return LoadProfile.from_power(steps, window.end), window


def test_sce_tou_ev_8_june_2019_bills_the_profile_as_derived_by_hand() -> None:
    profile, window = _profile(dt.date(2019, 6, 7))
    result = bill(profile, _tariff("sce_tou_ev_8_june_2019.json"), window)
    assert profile.energy == pytest.approx(528.5)
    assert [(e.period, round(e.energy, 6), e.amount) for e in result.energy] == [
        ("Summer-Weekday 00:00–16:00", 231.0, Decimal("29.10")),
        ("Summer-Weekday 16:00–21:00", 60.0, Decimal("29.77")),
        ("Summer-Weekday 21:00–24:00", 37.5, Decimal("4.72")),
        ("Summer-Weekend 00:00–16:00", 140.0, Decimal("17.64")),
        ("Summer-Weekend 16:00–21:00", 40.0, Decimal("10.23")),
        ("Summer-Weekend 21:00–24:00", 20.0, Decimal("2.52")),
    ]
    assert result.demand == () and result.fixed == ()
    assert (result.energy_amount, result.total) == (Decimal("93.98"), Decimal("93.98"))


def test_pge_a10_august_2019_bills_the_profile_as_derived_by_hand() -> None:
    profile, window = _profile(dt.date(2019, 8, 2))
    result = bill(profile, _tariff("pge_a10_tou_aug_2019.json"), window)
    assert [(e.period, round(e.energy, 6), e.amount) for e in result.energy] == [
        ("Summer-Weekday 00:00–08:30", 140.0, Decimal("20.86")),
        ("Summer-Weekday 08:30–12:00", 48.0, Decimal("8.50")),
        ("Summer-Weekday 12:00–18:00", 83.0, Decimal("19.28")),
        ("Summer-Weekday 18:00–21:30", 45.0, Decimal("7.97")),
        ("Summer-Weekday 21:30–24:00", 12.5, Decimal("1.86")),
        ("Summer-Weekend 00:00–24:00", 200.0, Decimal("29.81")),
    ]
    (demand,) = result.demand
    assert demand.peak == pytest.approx(60.0)
    assert demand.peak_start == dt.datetime(2019, 8, 2, 17, 45, tzinfo=LOS_ANGELES)
    assert demand.amount == Decimal("1199.40")
    assert result.energy_amount == Decimal("88.28")
    assert result.total == Decimal("1287.68")
    assert result.describe()[-1] == "Total: 1287.68 USD"


@pytest.mark.parametrize("path", sorted(ACNPORTAL.glob("*.json")), ids=lambda p: p.stem)
def test_every_bundled_acnportal_file_prices_every_minute_of_the_year_once(path: Path) -> None:
    tariff = _tariff(path.name)
    day = dt.datetime(2020, 1, 1, tzinfo=dt.UTC)
    for hour in range(0, 366 * 24, 7):  # every day of a leap year, at hours across the day
        tariff.at(day + dt.timedelta(hours=hour, minutes=hour % 60))


def test_pge_a10_winter_follows_the_later_of_two_all_days_schedules() -> None:
    # both winter schedules say dow_mask ALL; the later, flat one prices every day
    tariff = _tariff("pge_a10_tou_aug_2019.json")
    winter_weekday_noon = dt.datetime(2019, 12, 4, 12, 0)
    now = tariff.at(winter_weekday_noon)
    assert (now.season.name, now.period.name, now.period.price) == (
        "Winter",
        "Winter-Weekend 00:00–24:00",
        0.13064,
    )
    assert [c.price for c in tariff.demand_charges] == [19.99, 11.66]


def _document(**change: object) -> str:
    entry = {
        "id": "Summer",
        "effective_start": "01-01",
        "effective_end": "12-31",
        "dow_mask": "ALL",
        "times": [0, 8.5],
        "tariffs": [0.1, 0.2],
        "demand_charge": 0,
    }
    entry.update(change)
    return json.dumps({"name": "test", "schedule": [entry]})


def test_a_half_hour_boundary_is_kept() -> None:
    tariff = tariff_of(read_acnportal_tariff(_document()))
    assert tariff.at(dt.datetime(2019, 3, 1, 8, 29)).period.price == 0.1
    assert tariff.at(dt.datetime(2019, 3, 1, 8, 30)).period.price == 0.2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"dow_mask": "HOLIDAYS"}, 'schedule[0] ("Summer"): dow_mask "HOLIDAYS" is not one of'),
        ({"times": [0, 8.5, 12]}, "times and tariffs must be lists of the same length"),
        ({"times": [6, 8.5]}, "times must start at 0 and increase: [6, 8.5]"),
        ({"times": [0, 8.51]}, "time 8.51 is not a whole minute"),
        ({"effective_end": "June"}, '"June" is not a month-day like "06-01"'),
        ({"demand_charge": "15"}, "demand_charge '15' is not a number"),
        ({"tariffs": [0.1, 1e12]}, "seasons.0.energy.1.price"),
    ],
)
def test_a_file_acnportal_could_not_mean_is_refused_naming_the_schedule(
    change: dict[str, object], message: str
) -> None:
    with pytest.raises(AcnportalTariffError) as caught:
        read_acnportal_tariff(_document(**change))
    assert message in str(caught.value)


def test_a_file_that_is_not_an_acnportal_tariff_is_refused() -> None:
    with pytest.raises(AcnportalTariffError, match="not JSON: Expecting value at line 1"):
        read_acnportal_tariff("schedule:")
    with pytest.raises(AcnportalTariffError, match="has no schedule list"):
        read_acnportal_tariff('{"name": "x"}')
