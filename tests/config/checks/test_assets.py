"""Storage and generation rules, and forecasts: each problem named at its value with the
node, and a forecast file read as the compiler reads it (relative to the site file)."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from tests.config.checks.validating import diagnostics, only

BATTERY = """    - id: bess-1
      type: storage
      parent: gc-main
      capacity: 200 kWh
      rating: {power: 100 kW}
"""
PV = """    - id: pv-1
      type: generation
      parent: gc-main
      rating: 50 kW
"""
LOAD = """    - id: office
      type: site_load
      parent: gc-main
      fallback: 20 kW
"""


def site(minimal: str, node: str) -> str:
    """The minimal site (whose nodes come last) with ``node`` appended to its nodes."""
    assert minimal.rstrip().endswith("}]}]")
    return minimal + node


@pytest.mark.parametrize(
    ("extra", "rule", "message"),
    [
        (
            "      soc: {min: 10 %, max: 120 %}\n",
            "storage/soc-bounds",
            'storage "bess-1" soc.max 120 % is outside 0–100 %',
        ),
        (
            "      adapter: {type: simulated, initial_soc: 5 %}\n",
            "storage/soc-bounds",
            'storage "bess-1" adapter initial_soc 5 % is outside its soc window 10 %–90 %',
        ),
        (
            "      efficiency: {discharge: 0 %}\n",
            "storage/efficiency",
            'storage "bess-1" discharge efficiency 0 % is not above 0 % and at most 100 %',
        ),
        (
            "      max_discharge: 120 kW\n",
            "storage/power-exceeds-rating",
            'storage "bess-1" max_discharge 120 kW is above its rating\'s 100 kW',
        ),
    ],
)
def test_a_battery_problem_is_named_with_its_node(
    tmp_path: Path, minimal_site_text: str, extra: str, rule: str, message: str
) -> None:
    found = only(diagnostics(tmp_path, site(minimal_site_text, BATTERY + extra)), rule)
    assert found.message == message


def test_a_battery_of_defaults_is_clean(tmp_path: Path, minimal_site_text: str) -> None:
    assert diagnostics(tmp_path, site(minimal_site_text, BATTERY)) == []


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ("[" + ", ".join(["10 %"] * 11 + ["110 %"] + ["0 %"] * 12) + "]", "hour 11: 110 %"),
        ("[" + ", ".join(["0 kW"] * 12 + ["60 kW"] + ["0 kW"] * 11) + "]", "hour 12: 60 kW"),
    ],
)
def test_a_generation_profile_above_its_peak_names_the_hour(
    tmp_path: Path, minimal_site_text: str, profile: str, message: str
) -> None:
    text = site(minimal_site_text, PV + f"      forecast: {{profile: {profile}}}\n")
    found = only(diagnostics(tmp_path, text), "generation/forecast")
    assert found.message.startswith(f'generation "pv-1" forecast, {message}')


def test_a_site_load_profile_of_zeros_and_powers_is_clean(
    tmp_path: Path, minimal_site_text: str
) -> None:
    profile = "[" + ", ".join(["0 kW"] * 8 + ["12.5 kW"] * 16) + "]"
    text = site(minimal_site_text, LOAD + f"      forecast: {{profile: {profile}}}\n")
    assert diagnostics(tmp_path, text) == []


def test_a_forecast_needs_a_profile_or_a_series_not_both(
    tmp_path: Path, minimal_site_text: str
) -> None:
    profile = "[" + ", ".join(["1 kW"] * 24) + "]"
    text = site(
        minimal_site_text, LOAD + f"      forecast: {{profile: {profile}, series: a.csv}}\n"
    )
    found = only(diagnostics(tmp_path, text), "schema/invalid-value")
    assert "exactly one of profile or series (got profile, series)" in found.message


def test_a_missing_forecast_file_says_where_it_was_looked_for(
    tmp_path: Path, minimal_site_text: str
) -> None:
    text = site(minimal_site_text, LOAD + "      forecast: {series: forecasts/office.csv}\n")
    found = only(diagnostics(tmp_path, text), "site-load/forecast")
    looked = tmp_path / "forecasts" / "office.csv"
    assert found.message == (
        f'site load "office" forecast file "forecasts/office.csv" does not exist (looked for {looked})'
    )
    assert (
        found.span is not None
        and found.span.line
        == text.splitlines().index("      forecast: {series: forecasts/office.csv}") + 1
    )


def test_a_forecast_file_problem_carries_its_line(tmp_path: Path, minimal_site_text: str) -> None:
    (tmp_path / "pv.csv.gz").write_bytes(
        gzip.compress(
            b"# vendor forecast\ntime,power\n2026-12-07T10:00:00+11:00,10 kW\n"
            b"2026-12-07T09:00:00+11:00,12 kW\n"
        )
    )
    text = site(minimal_site_text, PV + "      forecast: {series: pv.csv.gz}\n")
    found = only(diagnostics(tmp_path, text), "generation/forecast")
    assert found.message == (
        'generation "pv-1" forecast: pv.csv.gz:4: 2026-12-07T09:00:00+11:00 is not after the '
        "time on the row before it"
    )


def test_a_generation_series_above_its_peak_names_the_time(
    tmp_path: Path, minimal_site_text: str
) -> None:
    (tmp_path / "pv.csv").write_text(
        "time,power\n2026-12-07T10:00:00+11:00,40 kW\n2026-12-07T11:00:00+11:00,55 kW\n"
    )
    text = site(minimal_site_text, PV + "      forecast: {series: pv.csv}\n")
    found = only(diagnostics(tmp_path, text), "generation/forecast")
    assert found.message == (
        'generation "pv-1" forecast: pv.csv: 55 kW at 2026-12-07T00:00:00+00:00 is above the '
        "rating's 50 kW"
    )


def test_a_battery_feeds_its_phases_like_a_load(tmp_path: Path, minimal_site_text: str) -> None:
    text = site(minimal_site_text, BATTERY + "      phases: 3\n      phase_rotation: L1\n")
    found = only(diagnostics(tmp_path, text), "electrical/invalid-phase-rotation")
    assert found.message.startswith('storage "bess-1" is 3-phase')
