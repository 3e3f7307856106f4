"""``validate --format junit``: one test case per file, counts that add up."""

from __future__ import annotations

import xml.etree.ElementTree as ET

from depotctl.config.diagnostics import Diagnostic, FileReport, Severity, Span
from depotctl.config.render import render_junit
from depotctl.config.validate import ValidationRun
from tests.config.render.conftest import CLEAN, DEPOT, MISSING


def _suite(xml: str) -> ET.Element:
    root = ET.fromstring(xml)
    assert root.tag == "testsuites"
    suite = root.find("testsuite")
    assert suite is not None
    return suite


def _cases(suite: ET.Element) -> dict[str, ET.Element]:
    return {case.get("name", ""): case for case in suite.iter("testcase")}


def test_one_testcase_per_file_and_counts_match(run: ValidationRun) -> None:
    xml = render_junit(run)
    root = ET.fromstring(xml)
    suite = _suite(xml)
    cases = _cases(suite)

    assert list(cases) == [DEPOT, CLEAN, MISSING]
    assert {case.get("classname") for case in cases.values()} == {"depotctl.validate"}
    failed = [name for name, case in cases.items() if case.find("failure") is not None]
    assert failed == [DEPOT, MISSING]
    for element in (root, suite):
        assert element.get("tests") == "3"
        assert element.get("failures") == "2"
        assert element.get("errors") == "0"


def test_failure_holds_errors_and_warnings_go_to_system_out(run: ValidationRun) -> None:
    depot = _cases(_suite(render_junit(run)))[DEPOT]
    failure = depot.find("failure")

    assert failure is not None
    assert failure.get("message") == "1 error"
    assert failure.text is not None
    assert "sites/depot.yaml:16:15: error: parents form a loop" in failure.text
    assert "[topology/cycle]" in failure.text
    assert "hint: break the loop" in failure.text
    assert "envelope/unused-source" not in failure.text
    assert "[envelope/unused-source]" in (depot.findtext("system-out") or "")


def test_strict_puts_warnings_in_the_failure(run: ValidationRun) -> None:
    depot = _cases(_suite(render_junit(run, strict=True)))[DEPOT]
    failure = depot.find("failure")

    assert failure is not None
    assert failure.get("message") == "1 error, 1 warning"
    assert "[envelope/unused-source]" in (failure.text or "")
    assert depot.find("system-out") is None


def test_warnings_only_fail_only_when_strict(warnings_only: ValidationRun) -> None:
    assert _suite(render_junit(warnings_only)).get("failures") == "0"
    assert _suite(render_junit(warnings_only, strict=True)).get("failures") == "1"


def test_file_level_problem_is_a_failure(run: ValidationRun) -> None:
    missing = _cases(_suite(render_junit(run)))[MISSING]

    assert "sites/missing.yaml: error: no such file or directory [io/not-found]" in (
        missing.findtext("failure") or ""
    )


def test_markup_and_control_characters_survive_as_well_formed_xml() -> None:
    name = 'sites/<depot> & "co".yaml'
    message = "limit <100 A> & 'more' \x1b[31m"
    report = FileReport(
        name, [Diagnostic(name, Span.point(1, 1), Severity.ERROR, "schema/invalid-value", message)]
    )

    case = _cases(_suite(render_junit(ValidationRun([report]))))[name]

    assert "limit <100 A> & 'more' \ufffd[31m" in (case.findtext("failure") or "")


def test_cli_exit_codes(depot_files, validate_cli, tmp_path) -> None:
    valid = validate_cli("--format", "junit", depot_files["valid"])
    invalid = validate_cli("--format", "junit", depot_files["error"], depot_files["warning"])
    missing = validate_cli("--format", "junit", tmp_path / "nope.yaml")

    assert valid.exit_code == 0
    assert _suite(valid.stdout).get("failures") == "0"
    assert invalid.exit_code == 1
    suite = _suite(invalid.stdout)
    assert (suite.get("tests"), suite.get("failures")) == ("2", "1")
    assert missing.exit_code == 3
    assert _suite(missing.stdout).get("failures") == "1"
