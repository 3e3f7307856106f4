"""Carbon rules: a site's constant, inline profile, or profile/series file, checked
where the site names it, with the CSV's own line numbers in the message."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from depotctl.config.diagnostics import Diagnostic
from depotctl.config.validate import validate_file

SERIES = [
    "time,intensity",
    "2019-05-01T00:00:00+00:00,0.2277 kg/kWh",
    "2019-05-01T00:05:00+00:00,0.2249 kg/kWh",
    "2019-05-01T00:10:00+00:00,0.2291 kg/kWh",
]
PROFILE = ["hour,intensity", *(f"{h},0.{60 + h} kg/kWh" for h in range(24))]


class Depot:
    """A site in ``tmp_path`` with a carbon section, and its carbon diagnostics."""

    def __init__(self, tmp_path: Path, site_text: str) -> None:
        self.dir = tmp_path
        self.site_text = site_text

    def file(self, name: str, *lines: str) -> None:
        path = self.dir / name
        path.parent.mkdir(parents=True, exist_ok=True)
        text = "\n".join(lines) + "\n"
        if name.endswith(".gz"):
            path.write_bytes(gzip.compress(text.encode()))
        else:
            path.write_text(text)

    def carbon(self, section: str) -> list[Diagnostic]:
        self.text = (
            self.site_text
            + "  carbon:\n"
            + "".join(f"    {line}\n" for line in section.splitlines())
        )
        path = self.dir / "site.yaml"
        path.write_text(self.text)
        return [d for d in validate_file(path).diagnostics if d.rule.startswith("carbon/")]

    def line_of(self, text: str) -> int:
        return next(n for n, line in enumerate(self.text.splitlines(), 1) if text in line)


@pytest.fixture
def depot(tmp_path: Path, minimal_site_text: str) -> Depot:
    return Depot(tmp_path, minimal_site_text)


def test_a_constant_needs_no_file(depot: Depot) -> None:
    assert depot.carbon("constant: 0.66 kg/kWh") == []


def test_a_good_series_and_a_good_profile_are_clean(depot: Depot) -> None:
    depot.file("carbon/moer.csv", *SERIES)
    depot.file("carbon/profile.csv.gz", *PROFILE)
    assert depot.carbon("series: carbon/moer.csv") == []
    assert depot.carbon("profile: carbon/profile.csv.gz") == []


def test_a_missing_file_names_the_path_it_looked_for(depot: Depot) -> None:
    (found,) = depot.carbon("series: carbon/nsw-2025.csv")
    assert found.rule == "carbon/missing-file"
    assert found.message == (
        f'carbon series file "carbon/nsw-2025.csv" does not exist '
        f"(looked for {depot.dir / 'carbon' / 'nsw-2025.csv'})"
    )
    assert found.span is not None
    assert (found.span.line, found.span.column) == (depot.line_of("series:"), 13)


def test_a_file_above_the_site_directory_resolves_relative_to_the_site(depot: Depot) -> None:
    (found,) = depot.carbon("profile: ../shared/profile.csv")
    assert f"looked for {depot.dir.parent / 'shared' / 'profile.csv'}" in found.message


def test_a_malformed_row_is_reported_with_the_csv_line(depot: Depot) -> None:
    rows = list(SERIES)
    rows[2] = "2019-05-01T00:05:00+00:00,0.2249"
    depot.file("carbon/x.csv", *rows)
    (found,) = depot.carbon("series: carbon/x.csv")
    assert found.rule == "carbon/malformed"
    assert found.message.startswith('line 3 of carbon/x.csv: "0.2249" has no unit')
    assert found.hint is not None and "time,intensity" in found.hint


def test_a_profile_file_missing_an_hour_is_incomplete(depot: Depot) -> None:
    depot.file("p.csv", *PROFILE[:20], *PROFILE[21:])
    (found,) = depot.carbon("profile: p.csv")
    assert found.rule == "carbon/incomplete-profile"
    assert found.message == "p.csv: no value for hour 19"


def test_an_inline_profile_of_23_values_is_incomplete(depot: Depot) -> None:
    values = ", ".join(["0.7 kg/kWh"] * 23)
    (found,) = depot.carbon(f"profile: [{values}]")
    assert found.rule == "carbon/incomplete-profile"
    assert "got 23" in found.message


def test_an_inline_profile_in_two_units_points_at_the_first_odd_value(depot: Depot) -> None:
    values = ["0.7 kg/kWh"] * 24
    values[5] = "700 g/kWh"
    (found,) = depot.carbon("profile: [" + ", ".join(values) + "]")
    assert found.rule == "carbon/mixed-units"
    assert found.span is not None
    line = depot.text.splitlines()[found.span.line - 1]
    assert line[found.span.column - 1 :].startswith("700 g/kWh")


def test_an_unordered_series_names_the_first_offending_line(depot: Depot) -> None:
    depot.file("s.csv.gz", SERIES[0], SERIES[1], SERIES[3], SERIES[2])
    (found,) = depot.carbon("series: s.csv.gz")
    assert found.rule == "carbon/unordered-series"
    assert found.message.startswith("line 4 of s.csv.gz: time 2019-05-01T00:05:00+00:00 is before")


def test_a_series_without_offsets_is_unordered(depot: Depot) -> None:
    depot.file("s.csv", "time,intensity", "2019-05-01 00:00:00,0.2 kg/kWh")
    (found,) = depot.carbon("series: s.csv")
    assert found.rule == "carbon/unordered-series"
    assert "no UTC offset" in found.message


def test_a_series_in_two_units_is_mixed(depot: Depot) -> None:
    depot.file("s.csv", *SERIES, "2019-05-01T00:15:00+00:00,231 g/kWh")
    (found,) = depot.carbon("series: s.csv")
    assert found.rule == "carbon/mixed-units"
    assert found.message.startswith("line 5 of s.csv:")


def test_a_carbon_price_in_another_currency_hints_at_the_tariffs() -> None:
    """The hint names the currency to write (it said "like 85 EUR/t for a tariff in
    EUR" to a site that wrote 85 EUR/t under a tariff in AUD)."""
    site = Path(__file__).parents[3] / "examples" / "invalid" / "carbon" / "price-currency.yaml"
    (found,) = validate_file(site).diagnostics
    assert found.rule == "carbon/price-currency"
    assert found.hint is not None and "in AUD" in found.hint and "AUD/t" in found.hint
