"""Diagnostics: what is wrong, where (file:line:col, 1-based), by which rule, and what to do."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from depotctl.config.secret_text import MASK, mask_line

#: A source line with every secret value and URL credential masked (line by line).
mask_secrets = mask_line


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
    """Everything validate found in one file, with its text for rendering.

    ``hidden`` are the spans of values never to be quoted (secrets, found by the
    reader); a quoted line shows ``********`` there, and every line is masked by
    :func:`mask_secrets` as well (a file that does not parse has no spans)."""

    file: str
    diagnostics: list[Diagnostic] = field(default_factory=list)
    text: str | None = None
    documents: int = 0
    hidden: list[Span] = field(default_factory=list)
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
            lines = masked_spans(self.text.splitlines(), self.hidden)
            self._lines = [mask_secrets(text) for text in lines]
        return self._lines[line - 1] if line <= len(self._lines) else None


def masked_spans(lines: list[str], spans: Iterable[tuple[int, int, int, int]]) -> list[str]:
    """``lines`` with the text of each span replaced by ``********`` (a span over several
    lines masks each of its lines' text, indentation kept)."""
    cuts: dict[int, list[tuple[int, int]]] = {}
    for line, column, end_line, end_column in spans:
        for number in range(line, min(end_line, len(lines)) + 1):
            text = lines[number - 1]
            start = column - 1 if number == line else len(text) - len(text.lstrip())
            end = end_column - 1 if number == end_line else len(text)
            if text[start:end].strip():
                cuts.setdefault(number, []).append((start, end))
    masked = list(lines)
    for number, pieces in cuts.items():
        text = masked[number - 1]
        for start, end in sorted(_merged(pieces), reverse=True):
            text = text[:start] + MASK + text[end:]
        masked[number - 1] = text
    return masked


def _merged(pieces: list[tuple[int, int]]) -> list[tuple[int, int]]:
    """Overlapping ``(start, end)`` pieces of one line joined."""
    merged: list[tuple[int, int]] = []
    for start, end in sorted(pieces):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged
