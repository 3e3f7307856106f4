"""YAML text → plain Python values, keeping where every key and value stood.

The C parser of ``ruamel.yaml.clib`` produces events with marks; we compose them
into dicts, lists and scalars ourselves so that each value's span, each key's
span and each duplicate key are known. This is about ten times faster than the
round-trip loader on a large site.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.clib._ruamel_yaml import CParser  # type: ignore[import-not-found]
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
)
from ruamel.yaml.reader import ReaderError

from depotctl.config.diagnostics import Diagnostic, Span
from depotctl.config.rules import YAML_DUPLICATE_KEY, YAML_SYNTAX, Finding, Path
from depotctl.config.secret_text import is_reference_key, is_secret_key
from depotctl.config.syntax_errors import located

_TAG = "tag:yaml.org,2002:"


@dataclass(slots=True)
class SourceMap:
    """Spans of the values (and of the keys) of one document, by data path.

    Spans are stored as plain 4-tuples (a large site has tens of thousands);
    :meth:`span` hands out :class:`Span` values. ``tags`` holds the explicit tag of
    every value written with one (``!!binary``, ``!vault``), ``hidden`` the span of
    every value that must never be quoted: whatever stands under a key that names a
    secret, and a tagged value under a reference to one (a duplicate key's too)."""

    values: dict[Path, tuple[int, int, int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int, int, int]] = field(default_factory=dict)
    tags: dict[Path, str] = field(default_factory=dict)
    hidden: list[tuple[int, int, int, int]] = field(default_factory=list)

    def span(self, path: Path, *, at_key: bool = False) -> Span:
        """The span of ``path``; of its nearest ancestor when it is not in the source
        (a missing key points at the mapping that should hold it)."""
        if at_key and path in self.keys:
            return Span(*self.keys[path])
        while path not in self.values and path:
            path = path[:-1]
        found = self.values.get(path)
        return Span(*found) if found is not None else Span.point(1, 1)


def diagnostics_of(findings: Iterable[Finding], source: SourceMap, file: str) -> list[Diagnostic]:
    """Findings placed in ``file`` at the spans ``source`` recorded for their paths."""
    return [
        Diagnostic(
            file,
            source.span(finding.path, at_key=finding.at_key),
            finding.rule.severity,
            finding.rule.id,
            finding.message,
            finding.hint,
        )
        for finding in findings
    ]


@dataclass(slots=True)
class Document:
    """One YAML document: its data, where everything in it stands, and problems found
    while reading it (duplicate keys)."""

    data: Any
    source: SourceMap
    findings: list[Finding]


class YamlSyntaxError(Exception):
    """The YAML does not parse; ``span`` points at the problem, ``hint`` (when known)
    says what to do."""

    def __init__(self, message: str, span: Span, hint: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.span = span
        self.hint = hint


#: How deep mappings and lists may nest. A site needs about a dozen levels; the
#: limit keeps a hostile file (50,000 ``[``) from costing minutes to compose.
MAX_DEPTH = 100

# YAML 1.2 core schema, as ruamel.yaml resolves it.
_NULL = frozenset({"", "~", "null", "Null", "NULL"})
_BOOL = {"true": True, "True": True, "TRUE": True, "false": False, "False": False, "FALSE": False}
_INT = re.compile(r"[-+]?[0-9][0-9_]*|0o[0-7_]+|0x[0-9a-fA-F_]+")
_FLOAT = re.compile(r"[-+]?(?:\.[0-9]+|[0-9][0-9_]*(?:\.[0-9_]*)?)(?:[eE][-+]?[0-9]+)?")
_SPECIAL_FLOAT = {
    ".inf": math.inf, ".Inf": math.inf, ".INF": math.inf,
    "+.inf": math.inf, "+.Inf": math.inf, "+.INF": math.inf,
    "-.inf": -math.inf, "-.Inf": -math.inf, "-.INF": -math.inf,
    ".nan": math.nan, ".NaN": math.nan, ".NAN": math.nan,
}  # fmt: skip


def _plain(value: str) -> Any:
    """A plain scalar typed by the YAML 1.2 core schema (ints, floats, bools, null)."""
    if value in _NULL:
        return None
    first = value[0]
    if first.isdigit() or first in "+-.":
        if _INT.fullmatch(value):
            text = value.replace("_", "")
            return int(text, 0) if text[:2] in ("0x", "0o") else int(text)
        if _FLOAT.fullmatch(value):
            return float(value.replace("_", ""))
        special = _SPECIAL_FLOAT.get(value)
        if special is not None:
            return special
        return value
    return _BOOL.get(value, value)


def _event_scalar(event: Any) -> Any:
    """A scalar event's value: plain scalars by the core schema, quoted ones as text,
    explicitly tagged ones by their tag."""
    implicit = event.implicit
    if implicit[0] and event.ctag is None:
        return _plain(event.value)
    if event.ctag is None:
        return event.value
    tag = str(event.tag)
    value = event.value
    if tag == _TAG + "int":
        text = value.replace("_", "")
        try:
            return int(text, 0) if text[:2].lower() in ("0x", "0o", "0b") else int(text)
        except ValueError:
            return value
    if tag == _TAG + "float":
        try:
            return float(value.replace("_", ""))
        except ValueError:
            return _SPECIAL_FLOAT.get(value, value)
    if tag == _TAG + "bool":
        return _BOOL.get(value, value)
    if tag == _TAG + "null":
        return None
    return value  # strings, timestamps and custom tags stay text; the schema decides


def _tag_of(event: Any) -> str | None:
    """The tag an event was written with (``tag:yaml.org,2002:binary``, ``!vault``)."""
    return None if event.tag is None else str(event.tag)


_NO_KEY: Any = object()


_VARIABLE = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def _names_a_variable(key: str, value: Any) -> bool:
    """A ``*_env`` reference that holds no variable name may be a pasted secret (never
    shown); ``*_file`` references are paths."""
    if not key.lower().endswith("env"):
        return True
    return isinstance(value, str) and _VARIABLE.fullmatch(value) is not None


@dataclass(slots=True)
class _Frame:
    """A mapping or sequence being composed."""

    container: dict[Any, Any] | list[Any]
    path: Path
    start: tuple[int, int]
    anchor: str | None
    tag: str | None = None
    key: Any = _NO_KEY
    key_span: Span | None = None


class _Composer:
    """Builds plain values from parser events, recording spans and duplicate keys.

    Working on events rather than ruamel's node graph skips a Node, a Tag and a
    resolver call per scalar: composing is most of validate's time on a big site.
    Iterative, so a deeply nested file cannot exhaust the recursion limit.
    """

    def __init__(self) -> None:
        self.source = SourceMap()
        self.findings: list[Finding] = []
        self.anchors: dict[str, Any] = {}
        self.stack: list[_Frame] = []
        self.root: Any = None
        self.duplicates = 0

    @classmethod
    def documents(cls, events: Iterable[Any]) -> Iterator[Document]:
        """Each document of an event stream."""
        composer = cls()
        for event in events:
            if type(event) is DocumentEndEvent:
                yield Document(composer.root, composer.source, composer.findings)
                composer = cls()
            else:
                composer.feed(event)

    def feed(self, event: Any) -> None:
        kind = type(event)
        if kind is ScalarEvent:
            start, end = event.start_mark, event.end_mark
            # a plain tuple is a Span (a NamedTuple) to every reader, and cheaper to build
            span: Any = (start.line + 1, start.column + 1, end.line + 1, end.column + 1)
            value = (
                _plain(event.value)
                if event.ctag is None and event.implicit[0]
                else _event_scalar(event)
            )
            if event.anchor is not None:
                self.anchors[event.anchor] = value
            self._place(value, span, event.value, _tag_of(event))
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            self._open({} if kind is MappingStartEvent else [], event)
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            self._close(event)
        elif kind is AliasEvent:
            start, end = event.start_mark, event.end_mark
            span = Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)
            # an alias to a container still open (a recursive one) stays None: finite data
            self._place(self.anchors.get(event.anchor), span, f"*{event.anchor}")

    def _child_path(self) -> Path:
        if not self.stack:
            return ()
        frame = self.stack[-1]
        if isinstance(frame.container, list):
            return (*frame.path, len(frame.container))
        if frame.key is _NO_KEY:
            return (*frame.path, "<key>")
        child = (*frame.path, frame.key)
        if frame.key in frame.container:  # a duplicate: compose it out of the way
            self.duplicates += 1
            return (*frame.path, f"\0duplicate-{self.duplicates}")
        return child

    def _open(self, container: dict[Any, Any] | list[Any], event: Any) -> None:
        mark = event.start_mark
        if len(self.stack) >= MAX_DEPTH:
            raise YamlSyntaxError(
                f"mappings and lists nested more than {MAX_DEPTH} deep; a site needs a "
                "dozen levels at most (is a bracket unclosed?)",
                Span.point(mark.line + 1, mark.column + 1),
            )
        if event.anchor is not None:
            self.anchors[event.anchor] = None
        self.stack.append(
            _Frame(
                container,
                self._child_path(),
                (mark.line + 1, mark.column + 1),
                event.anchor,
                _tag_of(event),
            )
        )

    def _close(self, event: Any) -> None:
        frame = self.stack.pop()
        end = event.end_mark
        span = Span(*frame.start, end.line + 1, end.column + 1)
        if frame.anchor is not None:
            self.anchors[frame.anchor] = frame.container
        self._place(frame.container, span, None, frame.tag)

    def _place(self, value: Any, span: Span, raw: str | None, tag: str | None = None) -> None:
        if not self.stack:
            self.root = value
            self.source.values[()] = span
            return
        frame = self.stack[-1]
        container = frame.container
        if isinstance(container, list):
            self.source.values[(*frame.path, len(container))] = span
            container.append(value)
            return
        if frame.key is _NO_KEY:
            if isinstance(value, dict | list) or raw is None:
                value = repr(value)
            elif isinstance(value, float | bool) or value is None:
                value = raw  # keys stay as written: "1.0", "true", "~"
            frame.key, frame.key_span = value, span
            return
        key, frame.key = frame.key, _NO_KEY
        path = (*frame.path, key)
        if tag is not None:
            self.source.tags[path] = tag
        if (
            is_secret_key(key)
            or (tag is not None and is_reference_key(key))
            or (is_reference_key(key) and not _names_a_variable(key, value))
        ):
            self.source.hidden.append(span)
        if key in container:
            first_line = self.source.keys[path][0]
            self.findings.append(
                YAML_DUPLICATE_KEY.at(
                    path,
                    f'duplicate key "{key}" (first at line {first_line}); '
                    "YAML would silently keep only the last value",
                    at_key=True,
                )
            )
            assert frame.key_span is not None
            self.source.keys[path] = frame.key_span
            return
        assert frame.key_span is not None
        self.source.keys[path] = frame.key_span
        self.source.values[path] = span
        container[key] = value


def parse_documents(text: str) -> Iterator[Document]:
    """Yield each YAML document of ``text`` (a multi-document file yields several).

    The C parser (libyaml) is fast but follows YAML 1.1 in places: it refuses a
    ``:`` inside a plain scalar in flow style (``{base_url: https://x}``), which
    YAML 1.2 allows. When it fails, the pure-Python YAML 1.2 parser decides.
    Raises :class:`YamlSyntaxError` at the first real syntax error.
    """
    try:
        documents = list(_Composer.documents(_c_events(text)))
    except ReaderError as error:  # a character YAML forbids (a control character)
        raise _reader_error(error, text) from None
    except MarkedYAMLError:
        try:
            documents = list(_Composer.documents(YAML(typ="safe", pure=True).parse(text)))
        except MarkedYAMLError as error:
            raise _syntax_error(error, text) from None
    yield from (document for document in documents if document.data is not None)


def _c_events(text: str) -> Iterator[Any]:
    """The C parser's events, without ruamel's Python-level wrapper around them."""
    parser = CParser(text)
    try:
        while parser.check_event():
            yield parser.get_event()
    finally:
        parser.dispose()


def _reader_error(error: ReaderError, text: str) -> YamlSyntaxError:
    """libyaml's error for a forbidden character; its ``position`` counts UTF-8 bytes."""
    position = len(text.encode("utf-8")[: int(error.position)].decode("utf-8", "ignore"))
    line = text.count("\n", 0, position) + 1
    column = position - (text.rfind("\n", 0, position) + 1) + 1
    character = error.character
    shown = f"#x{character:04x}" if isinstance(character, int) else repr(character)
    return YamlSyntaxError(
        f"unacceptable character {shown}: {error.reason}", Span.point(line, column)
    )


def _syntax_error(error: MarkedYAMLError, text: str) -> YamlSyntaxError:
    """The error where the mistake is (:mod:`depotctl.config.syntax_errors`)."""
    found = located(error, text)
    return YamlSyntaxError(found.message, Span.point(found.line, found.column), found.hint)


__all__ = [
    "YAML_SYNTAX",
    "Document",
    "SourceMap",
    "YamlSyntaxError",
    "diagnostics_of",
    "parse_documents",
]
