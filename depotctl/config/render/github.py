"""``validate --format github``: GitHub Actions workflow commands, one annotation each.

``::error file=F,line=L,col=C,endLine=L,endColumn=C,title=RULE::MESSAGE`` (``::warning``
for warnings), then a plain summary line. GitHub accepts ``col``/``endColumn`` only on
a single-line region, and its ``endColumn`` is inclusive, so a multi-line region gives
lines only and a one-line region ends at the last character of the span. The hint
follows the message on a new line. Escaping follows the Actions toolkit: in the
message ``%``, CR and LF become ``%25``, ``%0D``, ``%0A``; in properties ``:`` and
``,`` also become ``%3A`` and ``%2C``.
"""

from __future__ import annotations

from depotctl.config.diagnostics import Diagnostic
from depotctl.config.validate import ValidationRun


def render_github(run: ValidationRun, *, strict: bool = False) -> str:
    lines = [annotation(d) for d in run.diagnostics]
    lines.append(summary(run, strict=strict))
    return "\n".join(lines) + "\n"


def annotation(diagnostic: Diagnostic) -> str:
    """The workflow command for one diagnostic."""
    properties: list[tuple[str, str]] = [("file", diagnostic.file)]
    span = diagnostic.span
    if span is not None:
        properties.append(("line", str(span.line)))
        if span.end_line == span.line:
            properties.append(("col", str(span.column)))
            properties.append(("endColumn", str(max(span.column, span.end_column - 1))))
        else:
            properties.append(("endLine", str(span.end_line)))
    properties.append(("title", diagnostic.rule))
    message = diagnostic.message
    if diagnostic.hint:
        message += f"\nhint: {diagnostic.hint}"
    rendered = ",".join(f"{key}={escape_property(value)}" for key, value in properties)
    return f"::{diagnostic.severity.value} {rendered}::{escape_data(message)}"


def escape_data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def escape_property(text: str) -> str:
    return escape_data(text).replace(":", "%3A").replace(",", "%2C")


def summary(run: ValidationRun, *, strict: bool) -> str:
    """``depotctl validate: 1 error, 2 warnings in 2 of 5 files (invalid)``."""
    files = len(run.reports)
    with_problems = sum(1 for report in run.reports if report.diagnostics)
    counts = f"{_count(run.errors, 'error')}, {_count(run.warnings, 'warning')}"
    verdict = "invalid" if run.failed(strict=strict) else "valid"
    mode = ", --strict" if strict else ""
    return (
        f"depotctl validate: {counts} in {with_problems} of {_count(files, 'file')}"
        f" ({verdict}{mode})"
    )


def _count(n: int, noun: str) -> str:
    return f"{n} {noun}{'s' * (n != 1)}"
