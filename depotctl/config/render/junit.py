"""``validate --format junit``: one test case per file, for CI test-report views.

Each file is a ``<testcase classname="depotctl.validate" name="FILE">``; it fails
(``<failure>``) when it has errors, or warnings under ``--strict``, and the failure
text lists them one per line as ``file:line:col: severity: message [rule]``. Warnings
that do not fail the file go to the test case's ``<system-out>``.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET

from depotctl.config.diagnostics import Diagnostic, FileReport, Severity
from depotctl.config.validate import ValidationRun

CLASSNAME = "depotctl.validate"

#: Characters XML 1.0 cannot carry at all, even escaped.
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


def render_junit(run: ValidationRun, *, strict: bool = False) -> str:
    cases = [_testcase(report, strict=strict) for report in run.reports]
    failures = sum(1 for case in cases if case.find("failure") is not None)
    counts = {"tests": str(len(cases)), "failures": str(failures), "errors": "0"}
    suites = ET.Element("testsuites", {"name": "depotctl validate", **counts})
    suite = ET.SubElement(suites, "testsuite", {"name": CLASSNAME, **counts, "skipped": "0"})
    suite.extend(cases)
    ET.indent(suites)
    return ET.tostring(suites, encoding="unicode", xml_declaration=True) + "\n"


def _testcase(report: FileReport, *, strict: bool) -> ET.Element:
    case = ET.Element("testcase", {"classname": CLASSNAME, "name": _xml_text(report.file)})
    failing = [d for d in report.diagnostics if _fails(d, strict=strict)]
    passing = [d for d in report.diagnostics if not _fails(d, strict=strict)]
    if failing:
        errors = sum(d.severity is Severity.ERROR for d in failing)
        counts = ((errors, "error"), (len(failing) - errors, "warning"))
        message = ", ".join(f"{n} {noun}{'s' * (n != 1)}" for n, noun in counts if n)
        failure = ET.SubElement(
            case, "failure", {"message": message, "type": failing[0].severity.value}
        )
        failure.text = _lines(failing)
    if passing:
        ET.SubElement(case, "system-out").text = _lines(passing)
    return case


def _fails(diagnostic: Diagnostic, *, strict: bool) -> bool:
    return diagnostic.severity is Severity.ERROR or strict


def _lines(diagnostics: list[Diagnostic]) -> str:
    lines = []
    for d in diagnostics:
        lines.append(f"{d.location}: {d.severity.value}: {d.message} [{d.rule}]")
        if d.hint:
            lines.append(f"  hint: {d.hint}")
    return _xml_text("\n".join(lines))


def _xml_text(text: str) -> str:
    """``text`` with characters XML cannot hold replaced by U+FFFD."""
    return _NOT_XML.sub("\ufffd", text)
