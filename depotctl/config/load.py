"""Read a site file safely and turn each of its documents into a schema model.

Nothing here raises for a bad file: every problem becomes a diagnostic at its
position, so validate can report them all and other commands can refuse cleanly.
"""

from __future__ import annotations

import os
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from pydantic import BaseModel, ValidationError

from depotctl.config.diagnostics import Diagnostic, FileReport, Span
from depotctl.config.rules import (
    IO_BINARY,
    IO_EMPTY,
    IO_ENCODING,
    IO_TOO_LARGE,
    IO_UNREADABLE,
    SCHEMA_UNKNOWN_KIND,
    YAML_SYNTAX,
    Finding,
    Rule,
)
from depotctl.config.schema import API_VERSION, DOCUMENT_KINDS
from depotctl.config.schema_errors import findings_from
from depotctl.config.source import (
    Document,
    SourceMap,
    YamlSyntaxError,
    diagnostics_of,
    parse_documents,
)

MAX_BYTES = 5 * 1024 * 1024


@dataclass(slots=True)
class LoadedDocument:
    """One document of a file: its model when it is schema-valid, and its findings."""

    document: Document
    model: BaseModel | None
    findings: list[Finding] = field(default_factory=list)

    @property
    def source(self) -> SourceMap:
        return self.document.source


@dataclass(slots=True)
class LoadedFile:
    """A file's documents, and the report its problems go into."""

    path: Path
    report: FileReport
    documents: list[LoadedDocument] = field(default_factory=list)

    def add(self, document: LoadedDocument, findings: Iterable[Finding]) -> None:
        self.report.diagnostics += diagnostics_of(findings, document.source, self.report.file)


def _file_problem(report: FileReport, rule: Rule, message: str, span: Span | None = None) -> None:
    report.diagnostics.append(rule.diagnostic(report.file, message, span))


def read_text(path: Path, report: FileReport) -> str | None:
    """The file's text, or None with a diagnostic saying why it cannot be parsed."""
    try:
        size = os.stat(path).st_size
        if size > MAX_BYTES:
            _file_problem(
                report,
                IO_TOO_LARGE,
                f"file is {size / 2**20:.1f} MiB, over the 5 MiB limit; not parsed",
            )
            return None
        with open(path, "rb") as stream:
            raw = stream.read(MAX_BYTES + 1)
    except IsADirectoryError:
        _file_problem(report, IO_UNREADABLE, "is a directory, not a file")
        return None
    except OSError as error:
        _file_problem(report, IO_UNREADABLE, f"cannot read: {error.strerror or error}")
        return None
    if len(raw) > MAX_BYTES:
        _file_problem(report, IO_TOO_LARGE, "file is over the 5 MiB limit; not parsed")
        return None
    if b"\x00" in raw[:8192]:
        _file_problem(report, IO_BINARY, "binary file (it holds NUL bytes); not a site file")
        return None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line = raw[: error.start].count(b"\n") + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        _file_problem(
            report,
            IO_ENCODING,
            f"not UTF-8: byte 0x{raw[error.start]:02x} at offset {error.start} cannot be decoded",
            Span.point(line, column),
        )
        return None
    report.text = text
    return text


def load_file(path: Path, display: str | None = None) -> LoadedFile:
    """Read, parse and schema-validate every document of ``path``."""
    loaded = LoadedFile(path, FileReport(display or str(path)))
    text = read_text(path, loaded.report)
    if text is None:
        return loaded
    return _load_text(loaded, text)


def load_text(text: str, path: Path, display: str | None = None) -> LoadedFile:
    """Parse and schema-validate every document of ``text`` (a site held elsewhere than
    in a file, such as a stored revision); ``path`` places its relative references."""
    loaded = LoadedFile(path, FileReport(display or str(path)))
    loaded.report.text = text
    return _load_text(loaded, text)


def _load_text(loaded: LoadedFile, text: str) -> LoadedFile:
    try:
        documents = list(parse_documents(text))
    except YamlSyntaxError as error:
        hint = error.hint or YAML_SYNTAX.hint
        if "':'" in error.message and "plain scalar" in error.message:
            hint = 'quote values that contain ":", such as times: from: "15:00"'
        loaded.report.diagnostics.append(
            Diagnostic(
                loaded.report.file,
                error.span,
                YAML_SYNTAX.severity,
                YAML_SYNTAX.id,
                error.message,
                hint,
            )
        )
        return loaded
    if not documents:
        _file_problem(loaded.report, IO_EMPTY, "file is empty (no YAML document in it)")
        return loaded
    loaded.report.documents = len(documents)
    for document in documents:
        loaded.report.hidden += [Span(*span) for span in document.source.hidden]
        model, findings = _validate_document(document)
        entry = LoadedDocument(document, model)
        loaded.documents.append(entry)
        loaded.add(entry, [*document.findings, *findings])
    return loaded


def _validate_document(document: Document) -> tuple[BaseModel | None, list[Finding]]:
    data = document.data
    if not isinstance(data, dict):
        return None, [
            SCHEMA_UNKNOWN_KIND.at(
                (), "a site file document must be a mapping with apiVersion and kind"
            )
        ]
    kind = data.get("kind")
    model_class = DOCUMENT_KINDS.get(kind) if isinstance(kind, str) else None
    if data.get("apiVersion") != API_VERSION or model_class is None:
        where = ("kind",) if model_class is None else ("apiVersion",)
        return None, [
            SCHEMA_UNKNOWN_KIND.at(
                where,
                f"unknown document apiVersion/kind: {data.get('apiVersion')!r}/{kind!r}",
                f"use apiVersion: {API_VERSION} with kind: {' or '.join(DOCUMENT_KINDS)}",
            )
        ]
    try:
        return model_class.model_validate(data), []
    except ValidationError as error:
        return None, findings_from(error, data, model_class)
