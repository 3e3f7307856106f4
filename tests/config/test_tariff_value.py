"""A tariff file's spec → the domain's tariff: periods, demand windows (by period or by
clock time), fixed charges by unit; the bundled YAML of PG&E A-10 and its acnportal JSON
price a summer weekday alike."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from depotctl.config.acnportal_tariff import read_acnportal_tariff
from depotctl.config.load import load_file
from depotctl.config.schema import Site, TariffDocument, TariffSpec
from depotctl.config.tariff_value import site_tariff, tariff_of
from depotctl.domain.tariff import TariffGapError

SITES = Path(__file__).resolve().parents[2] / "sites"


def _spec(path: Path) -> TariffSpec:
    (document,) = load_file(path).documents
    model = document.model
    if isinstance(model, TariffDocument):
        return model.spec
    assert isinstance(model, Site) and isinstance(model.spec.tariff, TariffSpec)
    return model.spec.tariff


def test_a_demand_window_by_period_holds_in_that_period_on_its_days() -> None:
    tariff = tariff_of(_spec(SITES / "au-bus-depot.yaml"))
    assert (tariff.currency, tariff.fixed_per_day, tariff.fixed_per_month) == ("AUD", 3.5, 0.0)
    tuesday_peak = tariff.at(dt.datetime(2026, 6, 2, 15, 0))
    assert (tuesday_peak.period.name, tuesday_peak.period.price) == ("peak", 0.38)
    assert [c.label for c in tuesday_peak.demand] == ["all-year peak-demand"]
    saturday = tariff.at(dt.datetime(2026, 6, 6, 15, 0))
    assert (saturday.period.name, saturday.demand) == ("shoulder-weekend", ())
    assert tariff.at(dt.datetime(2026, 6, 2, 23, 0)).period.name == "off-peak"


def test_a_demand_window_by_clock_time_and_seasons_that_wrap_the_year() -> None:
    tariff = tariff_of(_spec(SITES / "tariffs" / "nsw-business-tou-seasonal.yaml"))
    names = [s.name for s in tariff.seasons]
    assert len(names) == 4
    for day in (
        dt.datetime(2026, 1, 5, 17),
        dt.datetime(2026, 4, 6, 17),
        dt.datetime(2026, 12, 31, 17),
    ):
        assert tariff.at(day).demand, day
    assert tariff.fixed_per_day == 6.8


def test_the_bundled_pge_a10_yaml_and_its_acnportal_json_price_summer_alike() -> None:
    yaml = tariff_of(_spec(SITES / "tariffs" / "pge-a10-tou-2019.yaml"))
    json = tariff_of(
        read_acnportal_tariff(
            (SITES / "tariffs" / "acnportal" / "pge_a10_tou_aug_2019.json").read_text()
        )
    )
    start = dt.datetime(2019, 8, 1)
    for minutes in range(0, 7 * 24 * 60, 15):
        local = start + dt.timedelta(minutes=minutes)
        assert yaml.at(local).period.price == json.at(local).period.price, local
        assert [c.price for c in yaml.at(local).demand] == [c.price for c in json.at(local).demand]


def test_a_time_no_season_prices_is_named() -> None:
    spec = _spec(SITES / "tariffs" / "pge-a10-tou-2019.yaml")
    summer_only = spec.model_copy(update={"seasons": spec.seasons[:1]})
    with pytest.raises(TariffGapError, match="no season of the tariff covers 12-01"):
        tariff_of(summer_only).at(dt.datetime(2019, 12, 1, 12))


def test_a_site_tariff_by_acnportal_ref_is_the_json_tariff(tmp_path: Path) -> None:
    site_text = (SITES.parent / "examples" / "minimal.yaml").read_text()
    site_text += "  tariff: {ref: acnportal/pge_a10_tou_aug_2019.json, format: acnportal}\n"
    (tmp_path / "site.yaml").write_text(site_text)
    (site,) = load_file(tmp_path / "site.yaml").documents
    assert isinstance(site.model, Site)
    tariff = site_tariff(site.model, SITES / "tariffs")
    assert tariff is not None
    noon = tariff.at(dt.datetime(2019, 8, 2, 12, 0))
    assert (noon.period.name, noon.period.price) == ("Summer-Weekday 12:00–18:00", 0.23223)
    inline = tariff_of(_spec(SITES / "au-bus-depot.yaml"))
    (bus,) = load_file(SITES / "au-bus-depot.yaml").documents
    assert isinstance(bus.model, Site)
    assert site_tariff(bus.model, SITES) == inline
