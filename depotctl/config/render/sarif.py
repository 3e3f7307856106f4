"""``validate --format sarif``: SARIF 2.1.0 for code-scanning dashboards.

One run whose driver, ``depotctl``, lists every registered rule (id, summary as
``shortDescription``, hint as ``help``, severity as ``defaultConfiguration.level``).
Each diagnostic is a result pointing at its rule by ``ruleId`` and ``ruleIndex``, at
its file by a relative URI with forward slashes, and at its region (1-based lines and
columns, ``endColumn`` exclusive, as SARIF defines it). A problem with no position (a
missing file) has a location without a region. A hint other than the rule's own
follows the message text on a new line.
"""

from __future__ import annotations

import json
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import Any
from urllib.parse import quote

from depotctl.config.diagnostics import Diagnostic
from depotctl.config.rules import Rule, all_rules
from depotctl.config.validate import ValidationRun, exit_code

SARIF_VERSION = "2.1.0"
SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)


def render_sarif(run: ValidationRun, *, strict: bool = False) -> str:
    return json.dumps(sarif_log(run, strict=strict), indent=2) + "\n"


def sarif_log(run: ValidationRun, *, strict: bool = False) -> dict[str, Any]:
    """The SARIF log as plain data (what :func:`render_sarif` serialises)."""
    rules = all_rules()
    index = {r.id: i for i, r in enumerate(rules)}
    return {
        "$schema": SARIF_SCHEMA,
        "version": SARIF_VERSION,
        "runs": [
            {
                "tool": {
                    "driver": {
                        "name": "depotctl",
                        "version": tool_version(),
                        "rules": [_rule(r) for r in rules],
                    }
                },
                "invocations": [
                    {
                        "executionSuccessful": not run.has_io_failure,
                        "exitCode": exit_code(run, strict=strict),
                        "properties": {"strict": strict},
                    }
                ],
                "columnKind": "unicodeCodePoints",
                "results": [_result(d, rules, index) for d in run.diagnostics],
            }
        ],
    }


def _rule(rule: Rule) -> dict[str, Any]:
    return {
        "id": rule.id,
        "shortDescription": {"text": rule.summary},
        "help": {"text": rule.hint},
        "defaultConfiguration": {"level": rule.severity.value},
    }


def _result(diagnostic: Diagnostic, rules: list[Rule], index: dict[str, int]) -> dict[str, Any]:
    result: dict[str, Any] = {"ruleId": diagnostic.rule}
    rule_index = index.get(diagnostic.rule)
    if rule_index is not None:
        result["ruleIndex"] = rule_index
    text = diagnostic.message
    default_hint = rules[rule_index].hint if rule_index is not None else None
    if diagnostic.hint and diagnostic.hint != default_hint:
        text += f"\nhint: {diagnostic.hint}"
    result["level"] = diagnostic.severity.value  # "error" and "warning" are SARIF levels too
    result["message"] = {"text": text}
    physical: dict[str, Any] = {"artifactLocation": {"uri": artifact_uri(diagnostic.file)}}
    span = diagnostic.span
    if span is not None:
        physical["region"] = {
            "startLine": span.line,
            "startColumn": span.column,
            "endLine": span.end_line,
            "endColumn": span.end_column,
        }
    result["locations"] = [{"physicalLocation": physical}]
    return result


def tool_version() -> str:
    """depotctl's installed version (``unknown`` when run from an uninstalled tree)."""
    try:
        return version("depotctl")
    except PackageNotFoundError:
        return "unknown"


def artifact_uri(file: str) -> str:
    """A URI reference for ``file``: relative to the working directory when it is
    inside it (forward slashes, percent-encoded), else an absolute ``file:`` URI."""
    path = Path(file)
    if path.is_absolute():
        try:
            path = path.relative_to(Path.cwd())
        except ValueError:
            return path.as_uri()
    return quote(path.as_posix(), safe="/")
