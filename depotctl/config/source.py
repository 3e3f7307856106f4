"""YAML text → plain Python values, keeping where every key and value stood.

The C parser of ``ruamel.yaml.clib`` composes the node graph with marks; we turn
it into dicts, lists and scalars ourselves so that each value's span, each key's
span and each duplicate key are known. This is several times faster than the
round-trip loader on a large site.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode

from depotctl.config.diagnostics import Span
from depotctl.config.rules import YAML_DUPLICATE_KEY, YAML_SYNTAX, Finding, Path

_TAG = "tag:yaml.org,2002:"


@dataclass(slots=True)
class SourceMap:
    """Spans of the values (and of the keys) of one document, by data path."""

    values: dict[Path, Span] = field(default_factory=dict)
    keys: dict[Path, Span] = field(default_factory=dict)

    def span(self, path: Path, *, at_key: bool = False) -> Span:
        """The span of ``path``; of its nearest ancestor when it is not in the source
        (a missing key points at the mapping that should hold it)."""
        if at_key and path in self.keys:
            return self.keys[path]
        while path not in self.values and path:
            path = path[:-1]
        return self.values.get(path, Span.point(1, 1))


@dataclass(slots=True)
class Document:
    """One YAML document: its data, where everything in it stands, and problems found
    while reading it (duplicate keys)."""

    data: Any
    source: SourceMap
    findings: list[Finding]


class YamlSyntaxError(Exception):
    """The YAML does not parse; ``span`` points at the problem."""

    def __init__(self, message: str, span: Span) -> None:
        super().__init__(message)
        self.message = message
        self.span = span


def _span(node: Node) -> Span:
    start, end = node.start_mark, node.end_mark
    return Span(start.line + 1, start.column + 1, end.line + 1, end.column + 1)


def _scalar(node: ScalarNode) -> Any:
    tag, value = node.tag, node.value
    if tag == _TAG + "str":
        return value
    if tag == _TAG + "int":
        text = value.replace("_", "")
        try:
            return int(text, 0) if text[:2].lower() in ("0x", "0o", "0b") else int(text)
        except ValueError:
            return value
    if tag == _TAG + "float":
        text = value.replace("_", "").lower()
        if text in (".inf", "+.inf"):
            return math.inf
        if text == "-.inf":
            return -math.inf
        if text == ".nan":
            return math.nan
        try:
            return float(text)
        except ValueError:
            return value
    if tag == _TAG + "bool":
        return value.lower() in ("true", "yes", "on")
    if tag == _TAG + "null":
        return None
    return value  # timestamps and custom tags stay text; the schema decides


class _Builder:
    def __init__(self) -> None:
        self.source = SourceMap()
        self.findings: list[Finding] = []
        self._active: set[int] = set()

    def build(self, node: Node, path: Path) -> Any:
        self.source.values[path] = _span(node)
        if isinstance(node, ScalarNode):
            return _scalar(node)
        if id(node) in self._active:  # a recursive alias: keep the graph finite
            return None
        self._active.add(id(node))
        try:
            if isinstance(node, SequenceNode):
                return [self.build(item, (*path, i)) for i, item in enumerate(node.value)]
            if isinstance(node, MappingNode):
                return self._mapping(node, path)
            return None
        finally:
            self._active.discard(id(node))

    def _mapping(self, node: MappingNode, path: Path) -> dict[Any, Any]:
        result: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            key = _scalar(key_node) if isinstance(key_node, ScalarNode) else str(key_node.value)
            if isinstance(key, float | bool) or key is None:
                key = key_node.value
            child = (*path, key)
            if key in result:
                first = self.source.keys[child]
                self.findings.append(
                    YAML_DUPLICATE_KEY.at(
                        child,
                        f'duplicate key "{key}" (first at line {first.line}); '
                        "YAML would silently keep only the last value",
                        at_key=True,
                    )
                )
                self.source.keys[child] = _span(key_node)
                continue
            self.source.keys[child] = _span(key_node)
            result[key] = self.build(value_node, child)
        return result


def parse_documents(text: str) -> Iterator[Document]:
    """Yield each YAML document of ``text`` (a multi-document file yields several).

    The C parser (libyaml) is fast but follows YAML 1.1 in places: it refuses a
    ``:`` inside a plain scalar in flow style (``{base_url: https://x}``), which
    YAML 1.2 allows. When it fails, the pure-Python YAML 1.2 parser decides.
    Raises :class:`YamlSyntaxError` at the first real syntax error.
    """
    try:
        documents = list(_compose(text, pure=False))
    except MarkedYAMLError:
        try:
            documents = list(_compose(text, pure=True))
        except MarkedYAMLError as error:
            raise _syntax_error(error) from None
    yield from documents


def _compose(text: str, *, pure: bool) -> Iterator[Document]:
    yaml = YAML(typ="safe", pure=pure)
    for node in yaml.compose_all(text):
        if node is None:
            continue
        builder = _Builder()
        data = builder.build(node, ())
        yield Document(data, builder.source, builder.findings)


def _syntax_error(error: MarkedYAMLError) -> YamlSyntaxError:
    mark = error.problem_mark or error.context_mark
    span = Span.point(mark.line + 1, mark.column + 1) if mark else Span.point(1, 1)
    problem = error.problem or "invalid YAML"
    context = f" {error.context}" if error.context else ""
    return YamlSyntaxError(f"{problem}{context}".strip(), span)


__all__ = ["YAML_SYNTAX", "Document", "SourceMap", "YamlSyntaxError", "parse_documents"]
