"""actionlint-style text: ``file:line:col: message [rule]``, the line, a caret, a hint."""

from __future__ import annotations

from depotctl.config.diagnostics import Diagnostic, FileReport, Severity
from depotctl.config.validate import ValidationRun

_STYLES = {
    "bold": "\x1b[1m",
    "red": "\x1b[31m",
    "yellow": "\x1b[33m",
    "cyan": "\x1b[36m",
    "green": "\x1b[32m",
    "dim": "\x1b[2m",
}
_RESET = "\x1b[0m"


class _Paint:
    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, *styles: str) -> str:
        if not self.color or not styles:
            return text
        return "".join(_STYLES[s] for s in styles) + text + _RESET


def render_text(run: ValidationRun, *, color: bool = False, strict: bool = False) -> str:
    paint = _Paint(color)
    blocks = [
        _diagnostic(diagnostic, report, paint)
        for report in run.reports
        for diagnostic in report.diagnostics
    ]
    blocks.append(_summary(run, paint, strict=strict))
    return "\n".join(blocks) + "\n"


def _diagnostic(diagnostic: Diagnostic, report: FileReport, paint: _Paint) -> str:
    severity_style = "red" if diagnostic.severity is Severity.ERROR else "yellow"
    head = (
        f"{paint(diagnostic.location, 'bold')}: "
        f"{paint(diagnostic.severity.value, severity_style, 'bold')}: {diagnostic.message} "
        f"{paint('[' + diagnostic.rule + ']', 'cyan')}"
    )
    lines = [head]
    span = diagnostic.span
    source = report.source_line(span.line) if span else None
    if span is not None and source is not None:
        gutter = " " * len(str(span.line))
        source = source.expandtabs(1)
        start = min(span.column - 1, len(source))
        end = span.end_column - 1 if span.end_line == span.line else len(source)
        end = max(start + 1, min(end, len(source)))
        underline = "^" + "~" * (end - start - 1)
        lines += [
            paint(f"{gutter} |", "dim"),
            f"{paint(f'{span.line} |', 'dim')} {source}",
            f"{paint(f'{gutter} |', 'dim')} {' ' * start}{paint(underline, severity_style)}",
        ]
    if diagnostic.hint:
        lines.append(
            f"{' ' * (len(str(span.line)) if span else 0)} = {paint('hint', 'bold')}: {diagnostic.hint}"
        )
    return "\n".join(lines)


def _summary(run: ValidationRun, paint: _Paint, *, strict: bool) -> str:
    files = len(run.reports)
    noun = "file" if files == 1 else "files"
    if not run.diagnostics:
        return paint(f"✓ {files} {noun} valid, no problems", "green", "bold")
    with_problems = sum(1 for r in run.reports if r.diagnostics)
    errors, warnings = run.errors, run.warnings
    parts = [f"{errors} error{'s' * (errors != 1)}", f"{warnings} warning{'s' * (warnings != 1)}"]
    verdict = "✗" if run.failed(strict=strict) else "✓"
    style = "red" if run.failed(strict=strict) else "yellow"
    tail = " (warnings fail with --strict)" if warnings and not errors and not strict else ""
    return paint(
        f"{verdict} {', '.join(parts)} in {with_problems} of {files} {noun}{tail}", style, "bold"
    )
