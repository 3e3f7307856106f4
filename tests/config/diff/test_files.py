"""Reading the two sides: one site per file, its referenced tariff, and the reports of
files that cannot be used."""

from __future__ import annotations

import shutil
from pathlib import Path

from depotctl.config.diagnostics import FileReport
from depotctl.config.diff import SiteFile, read_site
from tests.config.diff.sites import FIXTURES, copy_base, edited


def rules(report: object) -> list[str]:
    assert isinstance(report, FileReport)
    return [d.rule for d in report.diagnostics]


def test_a_site_with_a_referenced_tariff_is_read_with_its_content(tmp_path: Path) -> None:
    side = read_site(copy_base("depot", tmp_path / "d"))
    assert isinstance(side, SiteFile)
    assert side.tariff is not None and side.tariff.currency == "AUD"


def test_a_missing_file(tmp_path: Path) -> None:
    report = read_site(tmp_path / "gone.yaml")
    assert rules(report) == ["io/not-found"]


def test_a_file_that_is_not_yaml(tmp_path: Path) -> None:
    broken = tmp_path / "site.yaml"
    broken.write_text("spec: {nodes: [\n")
    assert rules(read_site(broken)) == ["yaml/syntax"]


def test_a_tariff_file_is_not_a_site() -> None:
    report = read_site(FIXTURES / "tariffs" / "ea-tou.yaml")
    assert rules(report) == ["schema/unknown-kind"]
    assert isinstance(report, FileReport)
    assert "kind: Tariff document where a kind: Site is expected" in report.diagnostics[0].message


def test_a_schema_invalid_site(tmp_path: Path) -> None:
    site = copy_base("minimal", tmp_path / "m")
    site.write_text(edited(site.read_text(), [("fallback: 16 A", "fallback: 16")]))
    assert "quantity/missing-unit" in rules(read_site(site))


def test_a_missing_tariff_ref_is_reported_on_the_tariff_file(tmp_path: Path) -> None:
    site = copy_base("depot", tmp_path / "d")
    shutil.rmtree(site.parent / "tariffs")
    report = read_site(site)
    assert rules(report) == ["io/not-found"]
    assert isinstance(report, FileReport) and report.file.endswith("tariffs/ea-tou.yaml")


def test_a_side_that_fails_the_semantic_rules_is_its_report(tmp_path: Path) -> None:
    """A typo in a parent would otherwise diff as a move to a node that does not exist."""
    site = copy_base("minimal", tmp_path / "m")
    site.write_text(edited(site.read_text(), [("parent: gc-main", "parent: row1")]))
    report = read_site(site)
    assert rules(report) == ["topology/unknown-parent"]
    assert isinstance(report, FileReport) and report.diagnostics[0].span is not None
    assert report.diagnostics[0].span.line == 16


def test_a_side_with_only_warnings_is_read(tmp_path: Path) -> None:
    site = copy_base("minimal", tmp_path / "m")
    site.write_text(
        edited(site.read_text(), [("limits: {current: 100 A}", "limits: {current: 200 A}")])
    )
    side = read_site(site)
    assert isinstance(side, SiteFile), rules(side)
