"""``validate --format github``: workflow-command annotations and their escaping."""

from __future__ import annotations

from depotctl.config.diagnostics import Diagnostic, Severity, Span
from depotctl.config.render import render_github
from depotctl.config.render.github import annotation, escape_data, escape_property
from depotctl.config.validate import ValidationRun
from tests.config.render.conftest import CYCLE, NOT_FOUND, UNUSED


def test_error_on_one_line_gives_columns_with_inclusive_end() -> None:
    assert annotation(CYCLE) == (
        "::error file=sites/depot.yaml,line=16,col=15,endColumn=18,title=topology/cycle"
        "::parents form a loop: db-1 → db-2 → db-1"
        "%0Ahint: break the loop: one of these nodes must be fed from outside it"
    )


def test_warning_over_several_lines_gives_lines_only() -> None:
    assert annotation(UNUSED) == (
        "::warning file=sites/depot.yaml,line=30,endLine=32,title=envelope/unused-source"
        '::envelope source "dso" is named by no node'
        "%0Ahint: name it in a node's envelope_source, or remove it"
    )


def test_file_level_problem_names_the_file_only() -> None:
    assert annotation(NOT_FOUND) == (
        "::error file=sites/missing.yaml,title=io/not-found"
        "::no such file or directory%0Ahint: check the path"
    )


def test_message_and_properties_are_escaped() -> None:
    diagnostic = Diagnostic(
        "sites/a,b:c%.yaml",
        Span.point(3, 1),
        Severity.ERROR,
        "schema/invalid-value",
        "100% sure\r\nsecond line: a, b",
        None,
    )

    assert annotation(diagnostic) == (
        "::error file=sites/a%2Cb%3Ac%25.yaml,line=3,col=1,endColumn=1,"
        "title=schema/invalid-value::100%25 sure%0D%0Asecond line: a, b"
    )


def test_escaping_encodes_percent_first() -> None:
    assert escape_data("%0A\n") == "%250A%0A"
    assert escape_property("%3A:,") == "%253A%3A%2C"


def test_one_annotation_per_diagnostic_then_a_summary(run: ValidationRun) -> None:
    lines = render_github(run).splitlines()

    assert [line.split(" ", 1)[0] for line in lines[:-1]] == ["::error", "::warning", "::error"]
    assert lines[-1] == "depotctl validate: 2 errors, 1 warning in 2 of 3 files (invalid)"


def test_summary_says_strict_decides(warnings_only: ValidationRun) -> None:
    assert render_github(warnings_only).splitlines()[-1].endswith("in 1 of 2 files (valid)")
    assert (
        render_github(warnings_only, strict=True)
        .splitlines()[-1]
        .endswith("in 1 of 2 files (invalid, --strict)")
    )


def test_cli_exit_codes(depot_files, validate_cli, tmp_path) -> None:
    valid = validate_cli("--format", "github", depot_files["valid"])
    invalid = validate_cli("--format", "github", depot_files["error"])
    missing = validate_cli("--format", "github", tmp_path / "nope.yaml")

    assert valid.exit_code == 0
    assert valid.stdout == "depotctl validate: 0 errors, 0 warnings in 0 of 1 file (valid)\n"
    assert invalid.exit_code == 1
    assert invalid.stdout.startswith(f"::error file={depot_files['error']},line=20,col=15,")
    assert "title=topology/unknown-parent::" in invalid.stdout
    assert missing.exit_code == 3
    assert "title=io/not-found::no such file or directory" in missing.stdout


def test_cli_defaults_to_github_under_actions(depot_files, validate_cli, monkeypatch) -> None:
    monkeypatch.setenv("GITHUB_ACTIONS", "true")

    result = validate_cli(depot_files["warning"])

    assert result.exit_code == 0
    assert result.stdout.startswith("::warning file=")
