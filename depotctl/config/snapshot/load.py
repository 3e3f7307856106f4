"""Read a snapshot file, check it against its site, and build the engine's input.

Nothing here raises for a bad file: every problem is a diagnostic at its line and
column, as ``validate`` prints them, so ``allocate`` and ``explain`` can refuse
cleanly — exit 1 for an invalid snapshot or site, 3 for a file that cannot be read.
"""

from __future__ import annotations

import dataclasses
import hashlib
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ValidationError

from depotctl.config.compile import compile_site
from depotctl.config.diagnostics import Diagnostic, FileReport, Severity, Span
from depotctl.config.load import load_file, read_text
from depotctl.config.rules import (
    IO_EMPTY,
    IO_NOT_FOUND,
    IO_UNREADABLE,
    SCHEMA_UNKNOWN_KIND,
    YAML_SYNTAX,
    Finding,
    Rule,
)
from depotctl.config.rules import Path as DataPath
from depotctl.config.schema import API_VERSION, Site
from depotctl.config.schema_errors import findings_from
from depotctl.config.secret_scan import report_secrets
from depotctl.config.snapshot.build import to_snapshot
from depotctl.config.snapshot.checks import SnapshotContext, snapshot_findings
from depotctl.config.snapshot.rules import ONE_DOCUMENT, SITE_NOT_FOUND, SITE_REVISION
from depotctl.config.snapshot.schema import SiteRef, SnapshotDocument
from depotctl.config.source import SourceMap, YamlSyntaxError, diagnostics_of, parse_documents
from depotctl.config.validate import semantic_findings
from depotctl.domain.snapshot import Snapshot

KIND = "Snapshot"
_IO_FAILURES = frozenset({IO_NOT_FOUND.id, IO_UNREADABLE.id})


class SnapshotUsageError(Exception):
    """The command line contradicts the snapshot (``-f`` for a snapshot that embeds its
    site): a usage error, exit 2."""


@dataclass(slots=True)
class LoadedSnapshot:
    """The engine's input, or the reports that say why there is none. ``reports`` may
    hold warnings even when ``snapshot`` is set."""

    snapshot: Snapshot | None
    reports: list[FileReport]
    site: Site | None = None
    #: how the site is named in output: its file as given, or "<snapshot> (embedded)"
    site_display: str | None = None
    #: ``sha256:…`` of the site file used; None for an embedded site
    revision: str | None = None
    #: the snapshot or its site file could not be read at all
    io_failure: bool = False

    @property
    def errors(self) -> int:
        return sum(report.errors for report in self.reports)

    @property
    def exit_code(self) -> int:
        """0 usable, 3 a file cannot be read, 1 invalid."""
        if self.snapshot is not None:
            return 0
        return 3 if self.io_failure else 1


@dataclass(slots=True)
class _Site:
    model: Site
    base_dir: Path
    display: str
    revision: str | None


@dataclass(slots=True)
class _Reader:
    """One snapshot file being read: its report and its source map."""

    path: Path
    report: FileReport
    source: SourceMap = field(default_factory=SourceMap)
    extra: list[FileReport] = field(default_factory=list)
    io_failure: bool = False

    def add(self, findings: list[Finding]) -> None:
        self.report.diagnostics += diagnostics_of(findings, self.source, self.report.file)

    def problem(self, rule: Rule, message: str, span: Span | None = None) -> None:
        self.report.diagnostics.append(rule.diagnostic(self.report.file, message, span))

    def done(self, snapshot: Snapshot | None = None, site: _Site | None = None) -> LoadedSnapshot:
        self.report.diagnostics.sort(key=lambda d: d.sort_key)
        reports = [r for r in (self.report, *self.extra) if r.diagnostics]
        if snapshot is None and not any(r.errors for r in reports):
            raise AssertionError("a snapshot refused without an error")  # pragma: no cover
        return LoadedSnapshot(
            snapshot,
            reports,
            site=site.model if site else None,
            site_display=site.display if site else None,
            revision=site.revision if site else None,
            io_failure=self.io_failure
            or any(d.rule in _IO_FAILURES for r in reports for d in r.diagnostics),
        )

    @property
    def failed(self) -> bool:
        return self.report.errors > 0


def load_snapshot(
    path: Path, site_file: Path | None = None, display: str | None = None
) -> LoadedSnapshot:
    """Read ``path``, check it and its site (``site_file`` overrides the snapshot's
    ``site.path``, and must still match its revision), and build the snapshot.

    Raises :class:`SnapshotUsageError` when ``site_file`` is given for a snapshot that
    embeds its site."""
    reader = _Reader(path, FileReport(display or str(path)))
    document = _read(reader)
    if document is None or reader.failed:
        return reader.done()
    data, model = document
    site = _site(reader, data["site"], site_file)
    if site is None or reader.failed or model is None:
        return reader.done()
    topology, policy = compile_site(site.model, site.base_dir)
    reader.add(snapshot_findings(SnapshotContext(model, site.model, topology, reader.source)))
    if reader.failed:
        return reader.done(site=site)
    return reader.done(to_snapshot(model, topology, policy), site)


def _read(reader: _Reader) -> tuple[dict[str, Any], SnapshotDocument | None] | None:
    """The document's data and model (None when the schema refuses it, with findings);
    None when there is no document to speak of."""
    path = reader.path
    if not path.exists() and not path.is_symlink():
        reader.problem(IO_NOT_FOUND, "no such snapshot file")
        return None
    text = read_text(path, reader.report)
    if text is None:
        return None
    try:
        documents = list(parse_documents(text))
    except YamlSyntaxError as error:
        reader.problem(YAML_SYNTAX, error.message, error.span)
        return None
    if not documents:
        reader.problem(IO_EMPTY, "file is empty (no snapshot in it)")
        return None
    first = documents[0]
    reader.source = first.source
    reader.add(first.findings)
    for extra in documents[1:]:
        reader.problem(
            ONE_DOCUMENT,
            "a second YAML document; a snapshot file holds one snapshot",
            extra.source.span(()),
        )
    data = first.data
    if (
        not isinstance(data, dict)
        or data.get("apiVersion") != API_VERSION
        or data.get("kind") != KIND
    ):
        where: DataPath = ()
        if isinstance(data, dict):
            where = ("apiVersion",) if data.get("kind") == KIND else ("kind",)
        got = (data.get("apiVersion"), data.get("kind")) if isinstance(data, dict) else None
        reader.add(
            [
                SCHEMA_UNKNOWN_KIND.at(
                    where,
                    f"not a snapshot: apiVersion/kind is {got[0]!r}/{got[1]!r}"
                    if got
                    else "a snapshot file must be a mapping with apiVersion and kind",
                    f"a snapshot starts with apiVersion: {API_VERSION} and kind: {KIND}",
                )
            ]
        )
        return None
    model: SnapshotDocument | None = None
    try:
        model = SnapshotDocument.model_validate(data)
    except ValidationError as error:
        reader.add(findings_from(error, data, SnapshotDocument))
    raw_site = data.get("site")
    if isinstance(raw_site, dict):
        reader.add(_validate_site_block(raw_site))
    return data, model


def _embedded(raw_site: dict[str, Any]) -> bool:
    return any(key in raw_site for key in ("apiVersion", "kind", "spec", "metadata"))


def _validate_site_block(raw_site: dict[str, Any]) -> list[Finding]:
    """Schema findings of the ``site`` block, as paths in the snapshot."""
    model_class: type[BaseModel] = Site if _embedded(raw_site) else SiteRef
    try:
        model_class.model_validate(raw_site)
    except ValidationError as error:
        return _under(("site",), findings_from(error, raw_site, model_class))
    return []


def _under(prefix: DataPath, findings: list[Finding]) -> list[Finding]:
    return [dataclasses.replace(f, path=(*prefix, *f.path)) for f in findings]


def _site(reader: _Reader, raw_site: dict[str, Any], site_file: Path | None) -> _Site | None:
    """The site the snapshot goes with, checked; None (with diagnostics) when unusable."""
    if _embedded(raw_site):
        if site_file is not None:
            raise SnapshotUsageError(
                f"{reader.report.file} embeds its site; -f {site_file} cannot replace it "
                "(leave out -f, or use a snapshot that names a site file)"
            )
        model = Site.model_validate(raw_site)
        reader.add(_under(("site",), semantic_findings(model, reader.path)))
        return _Site(model, reader.path.parent, f"{reader.report.file} (embedded)", None)
    ref = SiteRef.model_validate(raw_site)
    if site_file is None and ref.path is None:
        reader.add([SITE_NOT_FOUND.at(("site",), "the snapshot names no site file (site.path)")])
        return None
    if site_file is not None:
        file, display = site_file, str(site_file)
    else:
        assert ref.path is not None
        file = reader.path.parent / ref.path
        display = os.path.normpath(file)
    try:
        raw = file.read_bytes()
    except OSError as error:
        why = error.strerror or str(error)
        if site_file is not None:
            report = FileReport(display)
            rule = IO_NOT_FOUND if isinstance(error, FileNotFoundError) else IO_UNREADABLE
            report.diagnostics.append(
                Diagnostic(display, None, rule.severity, rule.id, f"cannot read: {why}", rule.hint)
            )
            reader.extra.append(report)
        else:
            reader.add(
                [SITE_NOT_FOUND.at(("site", "path"), f"cannot read site file {display}: {why}")]
            )
        reader.io_failure = True
        return None
    revision = "sha256:" + hashlib.sha256(raw).hexdigest()
    if revision != ref.revision:
        reader.add(
            [
                SITE_REVISION.at(
                    ("site", "revision"),
                    f"site file {display} is revision {_short(revision)}, but this snapshot "
                    f"was taken with revision {_short(ref.revision)}",
                    f"the site changed since the snapshot was taken: use the site file of "
                    f"revision {_short(ref.revision)}, or, if the change does not matter, "
                    f"set site.revision to {revision}",
                )
            ]
        )
        return None
    return _checked_site_file(reader, file, display, revision)


def _checked_site_file(reader: _Reader, file: Path, display: str, revision: str) -> _Site | None:
    """The site model of a site file that validates without errors (secrets included:
    a snapshot's site is refused as ``validate`` refuses it)."""
    loaded = load_file(file, display)
    report_secrets(loaded)
    for document in loaded.documents:
        if document.model is not None:
            loaded.add(document, semantic_findings(document.model, file))
    report = loaded.report
    sites = [d.model for d in loaded.documents if isinstance(d.model, Site)]
    if report.errors:
        report.diagnostics = [d for d in report.diagnostics if d.severity is Severity.ERROR]
        report.diagnostics.sort(key=lambda d: d.sort_key)
        reader.extra.append(report)
        return None
    if len(sites) != 1:
        reader.add(
            [
                SITE_NOT_FOUND.at(
                    ("site",),
                    f"{display} holds {len(sites)} Site documents; a snapshot needs exactly one",
                )
            ]
        )
        return None
    return _Site(sites[0], file.parent, display, revision)


def _short(revision: str) -> str:
    return revision[:19] + "…"
