"""Diagnostics: what is wrong, where (file:line:col, 1-based), by which rule, and what to do."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

_INLINE_SECRET = re.compile(
    r"""(?P<key>(?:^|[\s{,])["']?(?:password|token)["']?\s*:[ \t]*)(?P<value>"[^"]*"|'[^']*'|[^,}\s#]+)"""
)


def mask_secrets(line: str) -> str:
    """A source line with the value of any inline ``password:`` or ``token:`` hidden,
    so that quoting the line in a diagnostic never leaks a secret."""
    return _INLINE_SECRET.sub(lambda m: m["key"] + "*" * 8, line)


class Severity(StrEnum):
    ERROR = "error"
    WARNING = "warning"


class Span(NamedTuple):
    """A region of a source file; lines and columns are 1-based, ``end_column`` exclusive.

    A tuple, because a large site has tens of thousands of them."""

    line: int
    column: int
    end_line: int
    end_column: int

    @classmethod
    def point(cls, line: int, column: int) -> Span:
        return cls(line, column, line, column + 1)


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """One finding in one file. ``span`` is None only when there is no position at all
    (a file that cannot be read)."""

    file: str
    span: Span | None
    severity: Severity
    rule: str
    message: str
    hint: str | None = None

    @property
    def sort_key(self) -> tuple[str, int, int, str]:
        span = self.span or Span(0, 0, 0, 0)
        return (self.file, span.line, span.column, self.rule)

    @property
    def location(self) -> str:
        """``file:line:col`` (or just the file when there is no position)."""
        if self.span is None:
            return self.file
        return f"{self.file}:{self.span.line}:{self.span.column}"


@dataclass(slots=True)
class FileReport:
    """Everything validate found in one file, with its text for rendering."""

    file: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    text: str | None = None
    documents: int = 0
    _lines: list[str] | None = field(default=None, repr=False)

    @property
    def errors(self) -> int:
        return sum(d.severity is Severity.ERROR for d in self.diagnostics)

    @property
    def warnings(self) -> int:
        return sum(d.severity is Severity.WARNING for d in self.diagnostics)

    def source_line(self, line: int) -> str | None:
        """The 1-based ``line`` of the file's text, without its newline."""
        if self.text is None or line < 1:
            return None
        if self._lines is None:
            self._lines = [mask_secrets(line) for line in self.text.splitlines()]
        return self._lines[line - 1] if line <= len(self._lines) else None
