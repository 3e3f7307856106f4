"""Price series files: the bundled Dutch day-ahead prices read as is (gzip, EUR/MWh,
negative prices), the header's currency and unit, and each problem at its line."""

from __future__ import annotations

import datetime as dt
import gzip
from decimal import Decimal
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from depotctl.config.load import load_file
from depotctl.config.price_files import PriceFileError, read_price_series, site_price_series
from depotctl.config.schema import Site
from depotctl.domain.bill import BillingWindow, LoadProfile, bill
from depotctl.domain.tariff import EnergyPeriod, Tariff, TariffSeason
from depotctl.domain.tariff_calendar import DailyWindow

ROOT = Path(__file__).resolve().parents[2]
NL = ROOT / "sites" / "prices" / "nl_day_ahead_2023-2024.csv.gz"
UTC = dt.UTC


def test_the_dutch_day_ahead_file_reads_as_is() -> None:
    series = read_price_series(NL)
    assert (series.name, series.currency, len(series.starts)) == (NL.name, "EUR", 17542)
    assert series.starts[0] == dt.datetime(2023, 1, 1, tzinfo=UTC)
    assert series.end == dt.datetime(2025, 1, 1, tzinfo=UTC)
    assert series.price_at(dt.datetime(2023, 1, 1, 2, 30, tzinfo=UTC)) == pytest.approx(-0.005)


def test_a_site_billed_at_day_ahead_prices_gets_paid_for_negative_hours(tmp_path: Path) -> None:
    # 10 kW from 00:00 to 03:00 UTC on 2023-01-01: -1.46, -1.52, -5.0 EUR/MWh
    series = read_price_series(NL)
    flat = TariffSeason(
        "year", 0, 365, (EnergyPeriod("all", DailyWindow.parse(("all",), "00:00", "24:00"), 0.3),)
    )
    start = dt.datetime(2023, 1, 1, tzinfo=UTC)
    window = BillingWindow(start, start + dt.timedelta(hours=3), ZoneInfo("Europe/Amsterdam"))
    profile = LoadProfile.from_power([(start, 10.0)], window.end)
    result = bill(profile, Tariff("EUR", (flat,)), window, prices=series)
    assert result.energy_amount == Decimal("-0.08")  # 10 × (−1.46 − 1.52 − 5.0) / 1000


def test_the_header_names_currency_and_unit(tmp_path: Path) -> None:
    path = tmp_path / "p.csv.gz"
    path.write_bytes(
        gzip.compress(b"# spot\nstart_utc,price_AUD_per_kWh\n2024-01-01T00:00:00+10:00,0.25\n")
    )
    series = read_price_series(path, "spot")
    assert (series.currency, series.prices, series.end) == (
        "AUD",
        (0.25,),
        dt.datetime(2023, 12, 31, 15, tzinfo=UTC),
    )


def test_a_site_names_its_series_relative_to_the_site_file(tmp_path: Path) -> None:
    text = (ROOT / "examples" / "minimal.yaml").read_text() + "  prices: {series: p.csv}\n"
    (tmp_path / "site.yaml").write_text(text)
    (tmp_path / "p.csv").write_text("start_utc,price_eur_per_mwh\n2024-01-01T00:00:00Z,50\n")
    (site,) = load_file(tmp_path / "site.yaml").documents
    assert isinstance(site.model, Site)
    series = site_price_series(site.model, tmp_path)
    assert series is not None and series.prices == (0.05,)


@pytest.mark.parametrize(
    ("text", "kind", "line", "message"),
    [
        ("", "malformed", None, "the file is empty"),
        ("time,price\n", "malformed", 1, 'header "time,price" is not start_utc,price_<currency>'),
        ("start_utc,price_eur_per_mwh\n", "malformed", None, "has a header but no prices"),
        (
            "start_utc,price_eur_per_mwh\nyesterday,1\n",
            "malformed",
            2,
            '"yesterday" is not an ISO 8601',
        ),
        (
            "start_utc,price_eur_per_mwh\n2024-01-01T00:00:00Z,cheap\n",
            "malformed",
            2,
            '"cheap" is not a price',
        ),
        (
            "start_utc,price_eur_per_mwh\n2024-01-01T00:00:00Z,nan\n",
            "malformed",
            2,
            '"nan" is not a price',
        ),
        (
            "start_utc,price_eur_per_mwh\n2024-01-01T00:00:00,1\n",
            "unordered-series",
            2,
            "has no UTC offset",
        ),
        (
            "start_utc,price_eur_per_mwh\n\n2024-01-01T01:00:00Z,1\n2024-01-01T01:00:00Z,2\n",
            "unordered-series",
            4,
            "is not after the row before it",
        ),
    ],
)
def test_each_problem_is_named_at_its_line(
    tmp_path: Path, text: str, kind: str, line: int | None, message: str
) -> None:
    path = tmp_path / "p.csv"
    path.write_text(text)
    with pytest.raises(PriceFileError) as caught:
        read_price_series(path)
    assert (caught.value.kind, caught.value.line) == (kind, line)
    assert message in caught.value.problem


def test_a_missing_or_broken_gzip_file(tmp_path: Path) -> None:
    with pytest.raises(PriceFileError) as caught:
        read_price_series(tmp_path / "none.csv")
    assert caught.value.kind == "missing-file"
    (tmp_path / "bad.csv.gz").write_bytes(b"not gzip")
    with pytest.raises(PriceFileError, match="cannot be read"):
        read_price_series(tmp_path / "bad.csv.gz")
