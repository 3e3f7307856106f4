"""References: meters and nodes by id, and tariff files by ref."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from depotctl.config.checks import references
from depotctl.config.checks.context import TariffContext
from depotctl.config.diagnostics import Diagnostic, FileReport, Severity
from depotctl.config.load import LoadedFile
from depotctl.config.rules import Finding, Rule
from tests.config.checks.validating import diagnostics, only

METERED = """\
apiVersion: depotctl/v1
kind: Site
metadata: {name: depot-north, timezone: Australia/Sydney}
spec:
  electrical: {voltage: 230 V, phases: 3}
  nodes:
    - id: gc-main
      type: grid_connection
      limits: {import: 100 kW, current: 160 A}
      meter: m-main
    - id: office
      type: site_load
      parent: gc-main
      meter: m-office
      fallback: 20 kW
  meters:
    - {id: m-main, node: gc-main}
    - {id: m-office, node: office}
"""

TARIFF = """\
apiVersion: depotctl/v1
kind: Tariff
metadata: {name: depot-tou}
spec:
  currency: AUD
  seasons:
    - name: all-year
      from: "01-01"
      to: "12-31"
      energy:
        - {name: flat, days: all, from: "00:00", to: "24:00", price: 0.25 /kWh}
"""

WITH_TARIFF = """\
apiVersion: depotctl/v1
kind: Site
metadata: {name: depot-north, timezone: Australia/Sydney}
spec:
  electrical: {voltage: 230 V, phases: 3}
  nodes:
    - {id: gc-main, type: grid_connection, limits: {import: 100 kW}}
  tariff:
    ref: REF
"""


def where(d: Diagnostic) -> tuple[int, int]:
    assert d.span is not None
    return d.span.line, d.span.column


def site_with_ref(tmp_path: Path, ref: str) -> list[Diagnostic]:
    return diagnostics(tmp_path / "sites" / "north.yaml", WITH_TARIFF.replace("REF", ref))


# meters and nodes


def test_nodes_and_meters_that_name_each_other_are_clean(tmp_path: Path) -> None:
    assert diagnostics(tmp_path / "site.yaml", METERED) == []


def test_an_unknown_meter_points_at_the_name_and_suggests_a_close_one(tmp_path: Path) -> None:
    text = METERED.replace("meter: m-office", "meter: m-ofice")
    d = only(diagnostics(tmp_path / "site.yaml", text), "reference/unknown-meter")
    assert where(d) == (14, 14)
    assert 'site load "office"' in d.message and '"m-ofice"' in d.message
    assert d.hint == 'did you mean "m-office"?'


def test_an_unknown_node_on_a_meter_points_at_its_node(tmp_path: Path) -> None:
    found = diagnostics(tmp_path / "site.yaml", METERED.replace("node: office}", "node: ofice}"))
    d = only(found, "reference/unknown-node")
    assert where(d) == (18, 28)
    assert d.hint == 'did you mean "office"?'


def test_a_meter_that_measures_another_node_is_a_mismatch(tmp_path: Path) -> None:
    found = diagnostics(tmp_path / "site.yaml", METERED.replace("meter: m-office", "meter: m-main"))
    d = only(found, "reference/meter-mismatch")
    assert where(d) == (14, 14)
    assert 'grid connection "gc-main"' in d.message
    assert "m-office" in (d.hint or "")


def test_a_mismatch_with_no_meter_of_its_own_suggests_adding_one(tmp_path: Path) -> None:
    text = METERED.replace("meter: m-office", "meter: m-main").replace(
        "    - {id: m-office, node: office}\n", ""
    )
    d = only(diagnostics(tmp_path / "site.yaml", text), "reference/meter-mismatch")
    assert "node: office" in (d.hint or "")


# tariff references


def test_a_tariff_ref_with_dotdot_resolves_from_the_site_file(tmp_path: Path) -> None:
    (tmp_path / "tariffs").mkdir()
    (tmp_path / "tariffs" / "tou.yaml").write_text(TARIFF)
    assert site_with_ref(tmp_path, "../tariffs/tou.yaml") == []


def test_a_missing_tariff_points_at_the_ref_value(tmp_path: Path) -> None:
    d = only(site_with_ref(tmp_path, "../tariffs/tou.yaml"), "reference/tariff-not-found")
    assert where(d) == (9, 10)
    assert '"../tariffs/tou.yaml"' in d.message


def test_a_missing_tariff_suggests_a_file_with_a_close_name(tmp_path: Path) -> None:
    (tmp_path / "sites" / "tariffs").mkdir(parents=True)
    (tmp_path / "sites" / "tariffs" / "ausgrid-ea302.yaml").write_text(TARIFF)
    d = only(site_with_ref(tmp_path, "tariff/ausgrid-ea302.yaml"), "reference/tariff-not-found")
    assert d.hint == 'did you mean "tariffs/ausgrid-ea302.yaml"?'


def test_a_tariff_ref_to_a_directory_is_not_found(tmp_path: Path) -> None:
    (tmp_path / "sites" / "tariffs").mkdir(parents=True)
    d = only(site_with_ref(tmp_path, "tariffs"), "reference/tariff-not-found")
    assert "directory" in d.message


@pytest.mark.parametrize("ref", ['"tou\\0.yaml"', "x" * 5000 + ".yaml"])
def test_a_ref_that_is_no_usable_path_is_not_found(tmp_path: Path, ref: str) -> None:
    only(site_with_ref(tmp_path, ref), "reference/tariff-not-found")


@pytest.mark.skipif(not hasattr(os, "mkfifo"), reason="needs named pipes")
def test_a_ref_to_a_pipe_is_refused_without_reading_it(tmp_path: Path) -> None:
    (tmp_path / "sites").mkdir()
    os.mkfifo(tmp_path / "sites" / "tou.yaml")
    d = only(site_with_ref(tmp_path, "tou.yaml"), "reference/tariff-not-found")
    assert "not a regular file" in d.message


@pytest.mark.skipif(os.name != "posix" or os.geteuid() == 0, reason="needs file permissions")
def test_an_unreadable_tariff_is_not_found(tmp_path: Path) -> None:
    tariff = tmp_path / "sites" / "tou.yaml"
    tariff.parent.mkdir(parents=True)
    tariff.write_text(TARIFF)
    tariff.chmod(0)
    try:
        d = only(site_with_ref(tmp_path, "tou.yaml"), "reference/tariff-not-found")
    finally:
        tariff.chmod(0o644)
    assert "cannot read" in d.message


def test_a_tariff_the_loader_cannot_read_is_not_found(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def unreadable(path: Path, display: str | None = None) -> LoadedFile:
        report = FileReport(display or str(path))
        denied = Diagnostic(
            report.file, None, Severity.ERROR, "io/unreadable", "cannot read: Permission denied"
        )
        report.diagnostics.append(denied)
        return LoadedFile(path, report)

    monkeypatch.setattr(references, "load_file", unreadable)
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / "tou.yaml").write_text(TARIFF)
    d = only(site_with_ref(tmp_path, "tou.yaml"), "reference/tariff-not-found")
    assert "Permission denied" in d.message


def test_an_invalid_tariff_gives_its_error_count_and_first_error(tmp_path: Path) -> None:
    broken = TARIFF.replace("0.25 /kWh", "0.25 /kW").replace("currency: AUD", "currency: aud")
    (tmp_path / "sites" / "tariffs").mkdir(parents=True)
    (tmp_path / "sites" / "tariffs" / "tou.yaml").write_text(broken)
    d = only(site_with_ref(tmp_path, "tariffs/tou.yaml"), "reference/invalid-tariff")
    assert where(d) == (9, 10)
    assert "(2 errors)" in d.message
    first = os.path.join(tmp_path, "sites", "tariffs", "tou.yaml") + ":5:13"
    assert f"the first: {first}: " in d.message
    assert "[schema/invalid-value]" in d.message


def test_a_site_file_is_not_a_tariff(tmp_path: Path) -> None:
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / "other.yaml").write_text(METERED)
    d = only(site_with_ref(tmp_path, "other.yaml"), "reference/invalid-tariff")
    assert "kind: Site" in d.message


def test_a_site_that_refers_to_itself_does_not_recurse(tmp_path: Path) -> None:
    d = only(site_with_ref(tmp_path, "north.yaml"), "reference/invalid-tariff")
    assert "kind: Site" in d.message


def test_a_tariff_file_holds_one_document(tmp_path: Path) -> None:
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / "tou.yaml").write_text(TARIFF + "---\n" + TARIFF)
    d = only(site_with_ref(tmp_path, "tou.yaml"), "reference/invalid-tariff")
    assert "2 documents" in d.message


def test_an_empty_tariff_file_is_invalid(tmp_path: Path) -> None:
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / "tou.yaml").write_text("# nothing yet\n")
    d = only(site_with_ref(tmp_path, "tou.yaml"), "reference/invalid-tariff")
    assert "[io/empty]" in d.message


def test_semantic_tariff_errors_count_but_warnings_do_not(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    gap = Rule("test/gap", Severity.ERROR, "a gap", "close it")
    odd = Rule("test/odd", Severity.WARNING, "odd", "look")

    def fake_check(ctx: TariffContext) -> list[Finding]:
        return [gap.at((*ctx.path, "seasons", 0), "a gap"), odd.at(ctx.path, "odd")]

    monkeypatch.setattr(references, "TARIFF_CHECKS", [fake_check])
    (tmp_path / "sites").mkdir()
    (tmp_path / "sites" / "tou.yaml").write_text(TARIFF)
    d = only(site_with_ref(tmp_path, "tou.yaml"), "reference/invalid-tariff")
    assert "(1 error)" in d.message and "[test/gap]" in d.message and "odd" not in d.message


def test_an_inline_tariff_is_not_a_reference(tmp_path: Path) -> None:
    spec = TARIFF.split("spec:\n")[1].splitlines()
    inline = WITH_TARIFF.replace(
        "  tariff:\n    ref: REF\n", "  tariff:\n" + "".join(f"  {line}\n" for line in spec)
    )
    assert "ref:" not in inline and "currency: AUD" in inline
    assert diagnostics(tmp_path / "site.yaml", inline) == []
