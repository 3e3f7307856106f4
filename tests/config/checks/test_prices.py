"""Dynamic prices: the series file is read as validate reads it; its problems are named
at spec.prices.series with the file's line."""

from __future__ import annotations

from pathlib import Path

from tests.config.checks.validating import diagnostics, only

NL = Path(__file__).resolve().parents[3] / "sites" / "prices" / "nl_day_ahead_2023-2024.csv.gz"


def test_the_bundled_day_ahead_series_is_valid(tmp_path: Path, minimal_site_text: str) -> None:
    assert diagnostics(tmp_path, minimal_site_text + f"  prices: {{series: {NL}}}\n") == []


def test_a_row_out_of_order_is_named_with_its_line(tmp_path: Path, minimal_site_text: str) -> None:
    (tmp_path / "p.csv").write_text(
        "# day-ahead\nstart_utc,price_eur_per_mwh\n2024-01-01T01:00:00Z,1\n2024-01-01T00:00:00Z,2\n"
    )
    found = only(
        diagnostics(tmp_path, minimal_site_text + "  prices: {series: p.csv}\n"),
        "prices/unordered-series",
    )
    assert found.message == (
        "p.csv:4: 2024-01-01T00:00:00Z is not after the row before it (2024-01-01T01:00:00+00:00)"
    )


def test_a_series_in_another_currency_than_a_referenced_tariff(
    tmp_path: Path, minimal_site_text: str
) -> None:
    acnportal = NL.parents[1] / "tariffs" / "acnportal" / "pge_a10_tou_aug_2019.json"
    text = minimal_site_text + (
        f"  tariff: {{ref: {acnportal}, format: acnportal}}\n  prices: {{series: {NL}}}\n"
    )
    found = only(diagnostics(tmp_path, text), "prices/currency-mismatch")
    assert found.message.endswith(
        "is in EUR and the site's tariff in USD; a bill is in one currency"
    )
