"""``validate --format json``: a versioned report for scripts and dashboards.

The contract (``"version": 1``; a breaking change bumps it, new fields do not)::

    {
      "version": 1,
      "files": [
        {"file": "sites/depot.yaml", "documents": 1, "errors": 1, "warnings": 0}
      ],
      "diagnostics": [
        {
          "file": "sites/depot.yaml",
          "line": 16, "column": 15, "end_line": 16, "end_column": 19,
          "severity": "error",
          "rule": "topology/cycle",
          "message": "parents form a loop: db-1 → db-2 → db-1",
          "hint": "break the loop: one of these nodes must be fed from outside it"
        }
      ],
      "summary": {"files": 1, "errors": 1, "warnings": 0, "valid": false, "strict": false}
    }

- ``files``: every file validated, in order, with how many YAML documents it held
  and its error and warning counts. A path that could not be read still has an
  entry (with ``documents: 0``).
- ``diagnostics``: every diagnostic, file by file, in position order. ``line`` and
  ``column`` are 1-based; ``end_column`` is exclusive (the column just past the
  region). All four are ``null`` when the diagnostic has no position (a missing or
  unreadable file). ``severity`` is ``"error"`` or ``"warning"``; ``rule`` is a
  stable id (``depotctl validate --list-rules``); ``hint`` may be ``null``.
- ``summary.valid`` is false when there are errors, or warnings under ``--strict``
  (``summary.strict`` says which); it agrees with the exit code (0 when valid).

See ``docs/validate-json.md`` for the field-by-field reference.
"""

from __future__ import annotations

import json
from typing import Any

from depotctl.config.diagnostics import Diagnostic, FileReport
from depotctl.config.validate import ValidationRun

#: The version of this report's shape.
JSON_REPORT_VERSION = 1


def render_json(run: ValidationRun, *, strict: bool = False) -> str:
    return json.dumps(json_report(run, strict=strict), indent=2) + "\n"


def json_report(run: ValidationRun, *, strict: bool = False) -> dict[str, Any]:
    """The report as plain data (what :func:`render_json` serialises)."""
    return {
        "version": JSON_REPORT_VERSION,
        "files": [_file(report) for report in run.reports],
        "diagnostics": [_diagnostic(d) for d in run.diagnostics],
        "summary": {
            "files": len(run.reports),
            "errors": run.errors,
            "warnings": run.warnings,
            "valid": not run.failed(strict=strict),
            "strict": strict,
        },
    }


def _file(report: FileReport) -> dict[str, Any]:
    return {
        "file": report.file,
        "documents": report.documents,
        "errors": report.errors,
        "warnings": report.warnings,
    }


def _diagnostic(diagnostic: Diagnostic) -> dict[str, Any]:
    span = diagnostic.span
    return {
        "file": diagnostic.file,
        "line": span.line if span else None,
        "column": span.column if span else None,
        "end_line": span.end_line if span else None,
        "end_column": span.end_column if span else None,
        "severity": diagnostic.severity.value,
        "rule": diagnostic.rule,
        "message": diagnostic.message,
        "hint": diagnostic.hint,
    }
