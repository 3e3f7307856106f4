"""Tariff rules: day names, time-of-use and season coverage, demand windows, currency;
in a site's inline tariff and in a ``kind: Tariff`` file alike."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from depotctl.config.checks import TARIFF_CHECKS, TariffContext
from depotctl.config.checks.tariff import CURRENCIES, suggest_currency, suggest_day
from depotctl.config.rules import Finding
from depotctl.config.schema import TariffSpec
from depotctl.config.validate import validate_file
from tests.config.checks.validating import diagnostics, only

AT = ("spec", "tariff")


def energy(name: str, days: str | list[str], start: str, end: str) -> dict[str, Any]:
    return {"name": name, "days": days, "from": start, "to": end, "price": "0.2 /kWh"}


def demand(name: str, **fields: str) -> dict[str, Any]:
    return {"name": name, "price": "10 /kW/month", **fields}


SKETCH = [
    energy("peak", "weekdays", "15:00", "21:00"),
    energy("shoulder", "weekdays", "07:00", "15:00"),
    energy("shoulder-we", "weekends", "07:00", "21:00"),
    energy("off-peak", "all", "21:00", "07:00"),
]


def season(
    name: str = "all-year", start: str = "01-01", end: str = "12-31", **fields: Any
) -> dict[str, Any]:
    return {
        "name": name,
        "from": start,
        "to": end,
        "energy": fields.pop("energy", SKETCH),
        **fields,
    }


def check(*seasons: dict[str, Any], currency: str = "AUD", **fields: Any) -> list[Finding]:
    spec = TariffSpec.model_validate(
        {"currency": currency, "seasons": list(seasons) or [season()], **fields}
    )
    context = TariffContext(spec, AT)
    return [finding for tariff_check in TARIFF_CHECKS for finding in tariff_check(context)]


def rules(findings: list[Finding]) -> list[str]:
    return [f.rule.id for f in findings]


def test_the_design_sketch_tariff_is_clean() -> None:
    assert (
        check(
            season(
                demand=[demand("peak-demand", days="weekdays", **{"from": "15:00", "to": "21:00"})]
            )
        )
        == []
    )


# Day names


def test_a_capitalised_day_is_unknown_and_the_lowercase_one_suggested() -> None:
    windows = [
        energy("all-day", ["Mon", "tue", "wed", "thu", "fri", "sat", "sun"], "00:00", "24:00")
    ]
    (finding,) = check(season(energy=windows))
    assert finding.rule.id == "tariff/unknown-day"
    assert finding.path == (*AT, "seasons", 0, "energy", 0, "days", 0)
    assert finding.message == 'window "all-day" names day "Mon", which is not a day name'
    assert finding.hint is not None and finding.hint.startswith('did you mean "mon"?')


def test_an_unknown_day_as_a_single_string_points_at_days() -> None:
    windows = [*SKETCH[:1], energy("shoulder", "weekday", "07:00", "15:00"), *SKETCH[2:]]
    (finding,) = check(season(energy=windows))
    assert finding.path == (*AT, "seasons", 0, "energy", 1, "days")
    assert finding.hint is not None and finding.hint.startswith('did you mean "weekdays"?')


def test_unknown_days_in_demand_windows_are_found_too() -> None:
    findings = check(demand=[demand("network", days=["mon", "funday"])])
    assert rules(findings) == ["tariff/unknown-day"]
    assert findings[0].path == (*AT, "demand", 0, "days", 1)


@pytest.mark.parametrize(
    ("written", "meant"),
    [
        ("Mon", "mon"),
        ("weekday", "weekdays"),
        ("Weekend", "weekends"),
        ("Tuesday", "tue"),
        ("thurs", "thu"),
        ("everyday", "all"),
        ("ALL", "all"),
        ("xyz", None),
    ],
)
def test_suggest_day(written: str, meant: str | None) -> None:
    assert suggest_day(written) == meant


# Time of use


def test_overlapping_windows_are_named_with_their_days_and_times() -> None:
    windows = [*SKETCH[:1], energy("shoulder", "weekdays", "07:00", "16:00"), *SKETCH[2:]]
    (finding,) = check(season("summer", energy=windows))
    assert finding.rule.id == "tariff/tou-overlap"
    assert finding.path == (*AT, "seasons", 0, "energy", 1)
    assert finding.message == (
        'season "summer": energy windows "peak" and "shoulder" both price '
        "mon, tue, wed, thu, fri 15:00–16:00"
    )


def test_a_window_over_midnight_overlapping_another_names_the_wrapped_range() -> None:
    windows = [energy("day", "all", "06:00", "23:00"), energy("night", "all", "22:00", "07:00")]
    messages = [f.message for f in check(season(energy=windows))]
    assert messages == [
        'season "all-year": energy windows "day" and "night" both price every day '
        "06:00–07:00, 22:00–23:00"
    ]


def test_a_gap_names_the_season_the_days_and_the_uncovered_range() -> None:
    windows = [
        energy("peak", "weekdays", "07:00", "21:00"),
        energy("off-peak", "weekdays", "21:00", "07:00"),
        energy("weekend", "weekends", "07:00", "21:00"),
    ]
    (finding,) = check(season("summer", energy=windows))
    assert finding.rule.id == "tariff/tou-gap"
    assert finding.path == (*AT, "seasons", 0, "energy")
    assert finding.at_key
    assert finding.message == 'season "summer": no energy price on sat, sun 21:00–07:00'


def test_gaps_on_different_days_are_listed_day_group_by_day_group() -> None:
    windows = [
        energy("weekdays", "weekdays", "00:00", "23:00"),
        energy("weekend", "weekends", "01:00", "24:00"),
    ]
    (finding,) = check(season(energy=windows))
    assert finding.message == (
        'season "all-year": no energy price on '
        "mon, tue, wed, thu, fri 23:00–24:00; sat, sun 00:00–01:00"
    )


def test_a_window_from_a_time_to_the_same_time_covers_nothing() -> None:
    (finding,) = check(season(energy=[energy("flat", "all", "00:00", "00:00")]))
    assert finding.message == 'season "all-year": no energy price on every day 00:00–24:00'


def test_an_unknown_day_does_not_also_report_the_gap_it_causes() -> None:
    windows = [energy("flat", "al", "00:00", "24:00")]
    assert rules(check(season(energy=windows))) == ["tariff/unknown-day"]


# Seasons


def test_a_season_wrapping_the_year_end_with_its_complement_is_clean() -> None:
    assert check(season("winter", "10-01", "05-31"), season("summer", "06-01", "09-30")) == []


def test_overlapping_seasons_name_both_and_the_dates() -> None:
    (finding,) = check(season("summer", "11-01", "03-31"), season("winter", "03-01", "10-31"))
    assert finding.rule.id == "tariff/season-overlap"
    assert finding.path == (*AT, "seasons", 1)
    assert finding.message == 'seasons "summer" and "winter" both cover 03-01–03-31'


def test_a_gap_between_seasons_names_the_dates() -> None:
    (finding,) = check(season("summer", "12-01", "02-29"), season("rest", "03-01", "10-31"))
    assert finding.rule.id == "tariff/season-gap"
    assert finding.message == "no season covers 11-01–11-30"
    assert finding.path == (*AT, "seasons")


def test_the_leap_day_counts_and_gets_its_own_hint() -> None:
    (finding,) = check(season("summer", "12-01", "02-28"), season("rest", "03-01", "11-30"))
    assert finding.message == "no season covers 02-29"
    assert finding.hint is not None and "02-29" in finding.hint


def test_a_date_no_year_has_is_an_invalid_value_and_stops_the_season_checks() -> None:
    (finding,) = check(season("spring", "02-30", "12-31"))
    assert finding.rule.id == "schema/invalid-value"
    assert finding.path == (*AT, "seasons", 0, "from")
    assert "02-30" in finding.message


# Demand windows


def test_a_season_demand_period_must_name_an_energy_window_of_that_season() -> None:
    summer = season("summer", "11-01", "03-31", demand=[demand("summer-peak", period="evening")])
    winter = season(
        "winter",
        "04-01",
        "10-31",
        energy=[
            energy("evening", "all", "17:00", "21:00"),
            energy("rest", "all", "21:00", "17:00"),
        ],
    )
    (finding,) = check(summer, winter)
    assert finding.rule.id == "tariff/demand-outside-tariff"
    assert finding.path == (*AT, "seasons", 0, "demand", 0, "period")
    assert finding.message == (
        'demand window "summer-peak" names period "evening", '
        'which is not an energy window of season "summer"'
    )


def test_a_tariff_level_demand_period_may_name_an_energy_window_of_any_season() -> None:
    summer = season("summer", "11-01", "03-31")
    winter = season(
        "winter",
        "04-01",
        "10-31",
        energy=[
            energy("evening", "all", "17:00", "21:00"),
            energy("rest", "all", "21:00", "17:00"),
        ],
    )
    assert check(summer, winter, demand=[demand("network", period="evening")]) == []
    (finding,) = check(summer, winter, demand=[demand("network", period="evning")])
    assert finding.path == (*AT, "demand", 0, "period")
    assert "of any season" in finding.message
    assert finding.hint is not None and finding.hint.startswith('did you mean "evening"?')


def test_a_demand_window_with_both_a_period_and_times_is_outside_the_tariff() -> None:
    (finding,) = check(season(demand=[demand("peak-demand", period="peak", to="21:00")]))
    assert finding.rule.id == "tariff/demand-outside-tariff"
    assert finding.path == (*AT, "seasons", 0, "demand", 0)
    assert 'gives both period "peak" and to' in finding.message


def test_a_demand_window_that_covers_no_time_is_outside_the_tariff() -> None:
    (finding,) = check(demand=[demand("network", **{"from": "08:00", "to": "08:00"})])
    assert finding.rule.id == "tariff/demand-outside-tariff"
    assert finding.path == (*AT, "demand", 0)
    assert "covers no time" in finding.message


def test_a_demand_window_without_period_or_times_covers_the_whole_day() -> None:
    assert check(demand=[demand("network")]) == []


# Currency


def test_an_unknown_currency_is_a_warning_with_a_suggestion() -> None:
    (finding,) = check(currency="AUS")
    assert finding.rule.id == "tariff/invalid-currency"
    assert finding.rule.severity == "warning"
    assert finding.path == (*AT, "currency")
    assert finding.hint is not None and finding.hint.startswith('did you mean "AUD"?')


@pytest.mark.parametrize(
    ("code", "meant"), [("AUS", "AUD"), ("GPB", "GBP"), ("EUE", "EUR"), ("XYZ", None)]
)
def test_suggest_currency(code: str, meant: str | None) -> None:
    assert suggest_currency(code) == meant


def test_the_common_currencies_are_known() -> None:
    assert len(CURRENCIES) >= 30
    assert {
        "AUD",
        "USD",
        "EUR",
        "GBP",
        "NZD",
        "CAD",
        "JPY",
        "CHF",
        "SEK",
        "NOK",
        "DKK",
    } <= CURRENCIES
    assert check(currency="NZD") == []


# Whole documents


TARIFF_FILE = """\
apiVersion: depotctl/v1
kind: Tariff
metadata: {name: shared-tou}
spec:
  currency: AUD
  seasons:
    - name: all-year
      from: "01-01"
      to: "12-31"
      energy:
        - {name: day, days: all, from: "07:00", to: "22:00", price: 0.30 /kWh}
        - {name: night, days: all, from: "22:00", to: "06:00", price: 0.10 /kWh}
      demand:
        - {name: day-demand, period: dya, price: 9 /kW/month}
"""


def position(text: str, line_text: str, needle: str) -> tuple[int, int]:
    """1-based line and column of ``needle`` on the line that contains ``line_text``."""
    for number, line in enumerate(text.splitlines(), start=1):
        if line_text in line:
            return number, line.index(needle) + 1
    raise AssertionError(line_text)


def tariff_positions(path: Path) -> set[tuple[str, int, int]]:
    return {
        (d.rule, d.span.line, d.span.column)
        for d in validate_file(path).diagnostics
        if d.span and d.rule.startswith("tariff/")
    }


def test_a_tariff_file_is_checked_with_positions_in_that_file(tmp_path: Path) -> None:
    path = tmp_path / "tariff.yaml"
    path.write_text(TARIFF_FILE)
    assert [d.rule for d in validate_file(path).diagnostics] == [
        "tariff/tou-gap",
        "tariff/demand-outside-tariff",
    ]
    assert tariff_positions(path) == {
        ("tariff/tou-gap", *position(TARIFF_FILE, "energy:", "energy")),
        ("tariff/demand-outside-tariff", *position(TARIFF_FILE, "period: dya", "dya")),
    }


def test_a_site_inline_tariff_is_checked_with_positions_in_the_site(
    tmp_path: Path, minimal_site_text: str
) -> None:
    tariff = "".join(f"  {line}\n" for line in TARIFF_FILE.split("spec:\n", 1)[1].splitlines())
    text = minimal_site_text + "  tariff:\n" + tariff
    path = tmp_path / "site.yaml"
    path.write_text(text)
    assert tariff_positions(path) == {
        ("tariff/tou-gap", *position(text, "energy:", "energy")),
        ("tariff/demand-outside-tariff", *position(text, "period: dya", "dya")),
    }


ACNPORTAL = Path(__file__).resolve().parents[3] / "sites" / "tariffs" / "acnportal"


def test_a_site_may_name_an_acnportal_tariff_json_read_as_is(
    tmp_path: Path, minimal_site_text: str
) -> None:
    (tmp_path / "tariffs").mkdir()
    source = ACNPORTAL / "sce_tou_ev_8_june_2019.json"
    (tmp_path / "tariffs" / source.name).write_text(source.read_text())
    text = minimal_site_text + f"  tariff: {{ref: tariffs/{source.name}, format: acnportal}}\n"
    assert diagnostics(tmp_path, text) == []


@pytest.mark.parametrize(
    ("entry", "message"),
    [
        (
            '"dow_mask": "HOLIDAYS"',
            'is not an acnportal tariff: schedule[0] ("Summer"): dow_mask "HOLIDAYS" is not one '
            "of ALL, WEEKDAYS, WEEKENDS",
        ),
        (
            '"dow_mask": "WEEKDAYS"',
            '(format: acnportal) breaks tariff/tou-gap: season "Summer": no energy price on '
            "sat, sun 00:00–24:00",
        ),
    ],
)
def test_an_acnportal_tariff_that_is_not_one_is_named_at_the_ref(
    tmp_path: Path, minimal_site_text: str, entry: str, message: str
) -> None:
    (tmp_path / "tariff.json").write_text(
        '{"schedule": [{"id": "Summer", "effective_start": "1-1", "effective_end": "12-31", '
        f'{entry}, "times": [0], "tariffs": [0.1], "demand_charge": 0}}]}}'
    )
    text = minimal_site_text + "  tariff: {ref: tariff.json, format: acnportal}\n"
    found = only(diagnostics(tmp_path, text), "reference/invalid-tariff")
    assert found.message == f'tariff file "tariff.json" {message}'
