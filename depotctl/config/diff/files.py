"""Read the two sides of a diff: a site file with one ``kind: Site`` document, and the
tariff file it names by ``ref`` (relative to the site file).

Nothing here raises for a bad file: a file that cannot be used comes back as its
report, with diagnostics as validate would print them. A side must validate as
``depotctl validate`` has it (warnings allowed): a diff of a site with an unknown
parent or a parent loop would show a "move" where the file is simply wrong.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel

from depotctl.config.diagnostics import Diagnostic, FileReport, Severity
from depotctl.config.load import LoadedFile, load_file
from depotctl.config.rules import IO_NOT_FOUND, SCHEMA_UNKNOWN_KIND
from depotctl.config.schema import Site, TariffDocument, TariffRef, TariffSpec
from depotctl.config.secret_scan import report_secrets
from depotctl.config.tariff_value import read_tariff_ref
from depotctl.config.validate import semantic_findings

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True, slots=True)
class SiteFile:
    """A schema-valid site, and the content of the tariff it names by ``ref``, if any."""

    display: str
    site: Site
    tariff: TariffSpec | None = None


def read_site(
    path: Path, display: str | None = None, *, semantic_rules: bool = True
) -> SiteFile | FileReport:
    """The site in ``path``, or the report of the file (site or tariff) that is unusable.

    ``semantic_rules`` False reads any schema-valid site (the diff engine's own tests
    compare sites that break a rule); the CLI always validates."""
    if not path.exists() and not path.is_symlink():
        return _not_found(path, display or str(path))
    loaded = load_file(path, display)
    if semantic_rules:
        report_secrets(loaded)
    site = _only(loaded, Site, "Site")
    if site is None:
        return loaded.report
    tariff: TariffSpec | None = None
    reference = site.spec.tariff
    if isinstance(reference, TariffRef) and reference.format == "acnportal":
        try:
            tariff = read_tariff_ref(reference, path.parent)
        except (OSError, ValueError):  # the site's semantic rules say why
            tariff = None
    elif isinstance(reference, TariffRef):
        tariff_path = path.parent / reference.ref
        if not tariff_path.exists():
            return _not_found(tariff_path, os.path.normpath(tariff_path))
        tariff_file = load_file(tariff_path, os.path.normpath(tariff_path))
        document = _only(tariff_file, TariffDocument, "Tariff")
        if document is None:
            return tariff_file.report
        tariff = document.spec
    if semantic_rules and not _semantically_valid(loaded, path):
        return loaded.report
    return SiteFile(loaded.report.file, site, tariff)


def _semantically_valid(loaded: LoadedFile, path: Path) -> bool:
    """Whether the site passes validate's semantic rules; when it does not, every
    diagnostic (warnings too) is in its report, in validate's order."""
    [document] = loaded.documents
    assert document.model is not None
    loaded.add(document, semantic_findings(document.model, path))
    loaded.report.diagnostics.sort(key=lambda d: d.sort_key)
    return loaded.report.errors == 0


def _not_found(path: Path, display: str) -> FileReport:
    report = FileReport(display)
    report.diagnostics.append(
        Diagnostic(
            display, None, IO_NOT_FOUND.severity, IO_NOT_FOUND.id, "no such file", IO_NOT_FOUND.hint
        )
    )
    return report


def _only(loaded: LoadedFile, model_class: type[M], kind: str) -> M | None:
    """The file's single document as ``model_class``; None (with a diagnostic) otherwise."""
    if any(d.severity is Severity.ERROR for d in loaded.report.diagnostics):
        return None
    documents = loaded.documents
    if len(documents) == 1 and isinstance(documents[0].model, model_class):
        return documents[0].model
    if len(documents) > 1:
        culprit = documents[1]
        message = f"holds {len(documents)} documents; diff compares files with one kind: {kind}"
    else:
        culprit = documents[0]
        data = culprit.document.data
        found = data.get("kind") if isinstance(data, dict) else None
        message = f"holds a kind: {found} document where a kind: {kind} is expected"
    loaded.add(
        culprit,
        [SCHEMA_UNKNOWN_KIND.at(("kind",), message, f"give diff a file with one kind: {kind}")],
    )
    return None
