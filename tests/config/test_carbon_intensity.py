"""A site's ``carbon:`` as the domain's intensity: a constant, an inline or file
profile in the site's zone, a series file; the Caltech site's MOER series."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from depotctl.config import CarbonFileError, carbon_file_intensity, site_file_carbon_intensity
from depotctl.domain.carbon import (
    ConstantIntensity,
    HourlyIntensity,
    SeriesIntensity,
    UncoveredError,
)
from tests.conftest import ROOT, SITES

MOER = ROOT / "data" / "carbon" / "caiso-sce-moer-2019-05-08.csv.gz"


def _site(tmp_path: Path, minimal_site_text: str, section: str) -> Path:
    path = tmp_path / "site.yaml"
    path.write_text(minimal_site_text + "  carbon:\n" + f"    {section}\n")
    return path


def test_no_carbon_is_none(tmp_path: Path, minimal_site_text: str) -> None:
    path = tmp_path / "site.yaml"
    path.write_text(minimal_site_text)
    assert site_file_carbon_intensity(path) is None


def test_a_constant_in_grams_is_kg_per_kwh(tmp_path: Path, minimal_site_text: str) -> None:
    intensity = site_file_carbon_intensity(
        _site(tmp_path, minimal_site_text, "constant: 660 g/kWh")
    )
    assert intensity == ConstantIntensity(pytest.approx(0.66))


def test_an_inline_profile_holds_in_the_sites_zone(tmp_path: Path, minimal_site_text: str) -> None:
    values = ", ".join(f"{h + 1}00 g/kWh" for h in range(24))
    intensity = site_file_carbon_intensity(
        _site(tmp_path, minimal_site_text, f"profile: [{values}]")
    )
    assert isinstance(intensity, HourlyIntensity)
    zone = intensity.zone.key
    assert zone == "Australia/Sydney"  # examples/minimal.yaml's zone
    # 2019-05-13 00:30 UTC is 10:30 AEST: hour 10, the 11th value
    assert intensity.at(datetime(2019, 5, 13, 0, 30, tzinfo=UTC)) == pytest.approx(1.1)


def test_a_series_file_is_read_relative_to_the_site(tmp_path: Path, minimal_site_text: str) -> None:
    (tmp_path / "carbon").mkdir()
    (tmp_path / "carbon" / "s.csv").write_text(
        "time,intensity\n2019-05-01T00:00:00-07:00,412 g/kWh\n2019-05-01T00:30:00-07:00,398 g/kWh\n"
    )
    intensity = site_file_carbon_intensity(
        _site(tmp_path, minimal_site_text, "series: carbon/s.csv")
    )
    assert isinstance(intensity, SeriesIntensity)
    # the last value holds for the spacing before it: to 01:00 local
    assert intensity.end == datetime(2019, 5, 1, 8, 0, tzinfo=UTC)
    # 1 kWh over 00:15–00:45 local: half at 0.412, half at 0.398
    start, end = datetime(2019, 5, 1, 7, 15, tzinfo=UTC), datetime(2019, 5, 1, 7, 45, tzinfo=UTC)
    assert intensity.emissions_kg(start, end, 1000) == pytest.approx(0.405)


def test_an_unreadable_file_is_a_carbon_file_error(tmp_path: Path, minimal_site_text: str) -> None:
    with pytest.raises(CarbonFileError, match="no such file"):
        site_file_carbon_intensity(_site(tmp_path, minimal_site_text, "series: absent.csv"))


def test_the_moer_file_covers_may_to_august_2019() -> None:
    intensity = carbon_file_intensity(MOER, ZoneInfo("America/Los_Angeles"))
    assert isinstance(intensity, SeriesIntensity)
    assert intensity.start == datetime(2019, 4, 30, tzinfo=UTC)
    assert intensity.end == datetime(2019, 9, 2, tzinfo=UTC)
    assert len(intensity.times) == 36_000
    # the first value of the published May file, as published
    assert intensity.at(datetime(2019, 4, 30, 0, 2, tzinfo=UTC)) == 0.227729886264435
    with pytest.raises(UncoveredError):
        intensity.at(datetime(2019, 9, 2, tzinfo=UTC))


def test_a_carbon_file_is_a_profile_by_its_header() -> None:
    zone = ZoneInfo("Australia/Sydney")
    intensity = carbon_file_intensity(SITES / "carbon" / "nsw-daily-profile.csv", zone)
    assert isinstance(intensity, HourlyIntensity) and intensity.zone == zone
    assert intensity.at(datetime(2019, 5, 13, 14, 30, tzinfo=UTC)) == pytest.approx(0.71)


def test_a_carbon_file_that_is_neither_is_named_with_its_line(tmp_path: Path) -> None:
    path = tmp_path / "c.csv"
    path.write_text("# a note\nwhen,value\n")
    with pytest.raises(CarbonFileError, match=r'line 2 of .*c\.csv: the header is "when,value"'):
        carbon_file_intensity(path, ZoneInfo("UTC"))
