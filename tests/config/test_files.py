"""Files that cannot be parsed get a diagnostic, never an exception."""

from __future__ import annotations

from pathlib import Path

from depotctl.config.load import MAX_BYTES
from depotctl.config.validate import exit_code, validate_file, validate_paths


def rules_of(path: Path) -> list[str]:
    return [d.rule for d in validate_file(path).diagnostics]


def test_a_file_over_five_mib_is_not_parsed(tmp_path: Path) -> None:
    big = tmp_path / "big.yaml"
    big.write_bytes(b"# padding\n" * (MAX_BYTES // 10 + 1))
    report = validate_file(big)
    assert [d.rule for d in report.diagnostics] == ["io/too-large"]
    assert "5 MiB" in report.diagnostics[0].message
    assert report.text is None


def test_a_file_of_exactly_five_mib_is_parsed(tmp_path: Path) -> None:
    exact = tmp_path / "exact.yaml"
    exact.write_bytes(b"#" * (MAX_BYTES - 1) + b"\n")
    assert rules_of(exact) == ["io/empty"]


def test_a_missing_path_is_an_io_failure(tmp_path: Path) -> None:
    run = validate_paths([tmp_path / "nope.yaml"])
    assert [d.rule for d in run.diagnostics] == ["io/not-found"]
    assert exit_code(run, strict=False) == 3


def test_a_directory_is_walked_for_yaml_files(tmp_path: Path, minimal_site_text: str) -> None:
    (tmp_path / "a.yaml").write_text(minimal_site_text)
    (tmp_path / "nested").mkdir()
    (tmp_path / "nested" / "b.yml").write_text(minimal_site_text)
    (tmp_path / "notes.txt").write_text("not a site")
    (tmp_path / ".hidden").mkdir()
    (tmp_path / ".hidden" / "c.yaml").write_text("broken: [")
    run = validate_paths([tmp_path])
    assert [Path(r.file).name for r in run.reports] == ["a.yaml", "b.yml"]
    assert exit_code(run, strict=False) == 0


def test_a_directory_without_site_files_is_reported(tmp_path: Path) -> None:
    run = validate_paths([tmp_path])
    assert [d.rule for d in run.diagnostics] == ["io/no-site-files"]
    assert exit_code(run, strict=False) == 3


def test_a_directory_named_like_a_site_file_is_unreadable(tmp_path: Path) -> None:
    (tmp_path / "site.yaml").mkdir()
    (tmp_path / "real.yaml").write_text("kind: Site\n")
    run = validate_paths([tmp_path])
    by_file = {Path(r.file).name: [d.rule for d in r.diagnostics] for r in run.reports}
    assert by_file["site.yaml"] == ["io/unreadable"]
    assert exit_code(run, strict=False) == 3


def test_a_dangling_symlink_is_unreadable(tmp_path: Path) -> None:
    link = tmp_path / "gone.yaml"
    link.symlink_to(tmp_path / "missing-target.yaml")
    assert rules_of(link) == ["io/unreadable"]


def test_whitespace_only_is_empty(tmp_path: Path) -> None:
    blank = tmp_path / "blank.yaml"
    blank.write_text("\n   \n\n")
    assert rules_of(blank) == ["io/empty"]


def test_a_byte_order_mark_is_accepted(tmp_path: Path, minimal_site_text: str) -> None:
    bom = tmp_path / "bom.yaml"
    bom.write_bytes(b"\xef\xbb\xbf" + minimal_site_text.encode())
    assert rules_of(bom) == []


def test_a_scalar_document_is_not_a_site(tmp_path: Path) -> None:
    scalar = tmp_path / "scalar.yaml"
    scalar.write_text("just a string\n")
    report = validate_file(scalar)
    assert [d.rule for d in report.diagnostics] == ["schema/unknown-kind"]
    assert report.diagnostics[0].span is not None


def test_every_document_of_a_multi_document_file_is_validated(
    tmp_path: Path, minimal_site_text: str
) -> None:
    broken = minimal_site_text.replace("limits: {current: 100 A}", "limits: {current: 100}")
    multi = tmp_path / "multi.yaml"
    multi.write_text(minimal_site_text + "---\n" + broken)
    report = validate_file(multi)
    assert report.documents == 2
    [diagnostic] = report.diagnostics
    assert diagnostic.rule == "quantity/missing-unit"
    second_document_line = minimal_site_text.count("\n") + 2
    assert diagnostic.span is not None and diagnostic.span.line > second_document_line


def test_a_recursive_alias_does_not_hang(tmp_path: Path) -> None:
    loop = tmp_path / "loop.yaml"
    loop.write_text("a: &x [*x]\n")
    assert rules_of(loop) == ["schema/unknown-kind"]
