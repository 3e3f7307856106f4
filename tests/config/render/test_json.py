"""``validate --format json``: the versioned report contract."""

from __future__ import annotations

import json

from depotctl.config.render import render_json
from depotctl.config.validate import ValidationRun
from tests.config.render.conftest import CLEAN, DEPOT, MISSING


def test_report_has_the_documented_shape(run: ValidationRun) -> None:
    report = json.loads(render_json(run))

    assert set(report) == {"version", "files", "diagnostics", "summary"}
    assert report["version"] == 1
    assert report["files"] == [
        {"file": DEPOT, "documents": 1, "errors": 1, "warnings": 1},
        {"file": CLEAN, "documents": 1, "errors": 0, "warnings": 0},
        {"file": MISSING, "documents": 0, "errors": 1, "warnings": 0},
    ]
    assert report["summary"] == {
        "files": 3,
        "errors": 2,
        "warnings": 1,
        "valid": False,
        "strict": False,
    }


def test_diagnostic_with_a_span_has_one_based_exclusive_end(run: ValidationRun) -> None:
    cycle = json.loads(render_json(run))["diagnostics"][0]

    assert cycle == {
        "file": DEPOT,
        "line": 16,
        "column": 15,
        "end_line": 16,
        "end_column": 19,
        "severity": "error",
        "rule": "topology/cycle",
        "message": "parents form a loop: db-1 → db-2 → db-1",
        "hint": "break the loop: one of these nodes must be fed from outside it",
    }


def test_diagnostics_keep_file_order_and_severities(run: ValidationRun) -> None:
    diagnostics = json.loads(render_json(run))["diagnostics"]

    assert [(d["file"], d["rule"], d["severity"]) for d in diagnostics] == [
        (DEPOT, "topology/cycle", "error"),
        (DEPOT, "envelope/unused-source", "warning"),
        (MISSING, "io/not-found", "error"),
    ]


def test_file_level_problem_has_null_position(run: ValidationRun) -> None:
    missing = json.loads(render_json(run))["diagnostics"][-1]

    assert [missing[k] for k in ("line", "column", "end_line", "end_column")] == [None] * 4
    assert missing["hint"] == "check the path"


def test_warnings_are_valid_unless_strict(warnings_only: ValidationRun) -> None:
    lenient = json.loads(render_json(warnings_only))["summary"]
    strict = json.loads(render_json(warnings_only, strict=True))["summary"]

    assert (lenient["valid"], lenient["strict"]) == (True, False)
    assert (strict["valid"], strict["strict"]) == (False, True)


def test_cli_valid_file_exits_0(depot_files, validate_cli) -> None:
    result = validate_cli("--format", "json", depot_files["valid"])

    assert result.exit_code == 0
    report = json.loads(result.stdout)
    assert report["summary"]["valid"] is True
    assert report["diagnostics"] == []


def test_cli_invalid_file_exits_1(depot_files, validate_cli) -> None:
    result = validate_cli("--format", "json", depot_files["error"], depot_files["warning"])

    assert result.exit_code == 1
    report = json.loads(result.stdout)
    assert {d["rule"] for d in report["diagnostics"]} == {
        "topology/unknown-parent",
        "electrical/child-exceeds-parent",
    }
    assert report["summary"]["valid"] is False


def test_cli_strict_fails_on_warnings(depot_files, validate_cli) -> None:
    assert validate_cli("--format", "json", depot_files["warning"]).exit_code == 0
    result = validate_cli("--format", "json", "--strict", depot_files["warning"])

    assert result.exit_code == 1
    assert json.loads(result.stdout)["summary"] == {
        "files": 1,
        "errors": 0,
        "warnings": 1,
        "valid": False,
        "strict": True,
    }


def test_cli_missing_path_exits_3_with_a_report(tmp_path, validate_cli) -> None:
    result = validate_cli("--format", "json", tmp_path / "nope.yaml")

    assert result.exit_code == 3
    (diagnostic,) = json.loads(result.stdout)["diagnostics"]
    assert diagnostic["rule"] == "io/not-found"
    assert diagnostic["line"] is None
