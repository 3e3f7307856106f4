"""``validate``: files and directories in, one report per file out."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

from depotctl.config.checks import SITE_CHECKS, TARIFF_CHECKS, SiteContext, TariffContext
from depotctl.config.diagnostics import Diagnostic, FileReport
from depotctl.config.load import load_file
from depotctl.config.rules import IO_NO_SITE_FILES, IO_NOT_FOUND, Finding
from depotctl.config.schema import Site, TariffDocument, TariffSpec
from depotctl.config.secret_scan import report_secrets

SITE_SUFFIXES = (".yaml", ".yml")


@dataclass(slots=True)
class ValidationRun:
    """The reports of every file validated, in order."""

    reports: list[FileReport] = field(default_factory=list)

    @property
    def diagnostics(self) -> list[Diagnostic]:
        return [d for report in self.reports for d in report.diagnostics]

    @property
    def errors(self) -> int:
        return sum(r.errors for r in self.reports)

    @property
    def warnings(self) -> int:
        return sum(r.warnings for r in self.reports)

    @property
    def has_io_failure(self) -> bool:
        """A path could not be found or read at all (exit code 3, not 1)."""
        return any(d.rule in _IO_FAILURES for d in self.diagnostics)

    def failed(self, *, strict: bool) -> bool:
        return self.errors > 0 or (strict and self.warnings > 0)


_IO_FAILURES = {IO_NOT_FOUND.id, IO_NO_SITE_FILES.id, "io/unreadable"}


def site_files(paths: Iterable[Path]) -> Iterator[tuple[Path, FileReport | None]]:
    """Each file to validate; a directory is walked for ``*.yaml``/``*.yml`` (sorted).

    Yields ``(path, report)`` where ``report`` already says why the path is unusable.
    """
    for path in paths:
        if path.is_dir():
            found = sorted(
                p for p in path.rglob("*") if p.suffix in SITE_SUFFIXES and not _hidden(p, path)
            )
            if not found:
                report = FileReport(str(path))
                report.diagnostics.append(
                    Diagnostic(
                        str(path),
                        None,
                        IO_NO_SITE_FILES.severity,
                        IO_NO_SITE_FILES.id,
                        "directory holds no .yaml or .yml files",
                        IO_NO_SITE_FILES.hint,
                    )
                )
                yield path, report
            for file in found:
                yield file, None
        elif path.exists() or path.is_symlink():
            yield path, None
        else:
            report = FileReport(str(path))
            report.diagnostics.append(
                Diagnostic(
                    str(path),
                    None,
                    IO_NOT_FOUND.severity,
                    IO_NOT_FOUND.id,
                    "no such file or directory",
                    IO_NOT_FOUND.hint,
                )
            )
            yield path, report


def _hidden(path: Path, root: Path) -> bool:
    return any(part.startswith(".") for part in path.relative_to(root).parts)


#: Below this many files, starting worker processes costs more than it saves.
PARALLEL_THRESHOLD = 24


def validate_paths(paths: Iterable[Path], *, jobs: int | None = None) -> ValidationRun:
    """Validate every site file under ``paths``, in order.

    Many files are shared among ``jobs`` worker processes (default: one per CPU);
    the reports come back in the same order as with one process.
    """
    entries = list(site_files(paths))
    readable = [path for path, unusable in entries if unusable is None]
    workers = min(jobs or os.cpu_count() or 1, len(readable))
    if workers > 1 and len(readable) >= PARALLEL_THRESHOLD:
        reports = iter(_validate_in_workers(readable, workers))
    else:
        reports = (validate_file(path) for path in readable)
    return ValidationRun([unusable or next(reports) for _, unusable in entries])


def _validate_in_workers(files: list[Path], workers: int) -> list[FileReport]:
    methods = multiprocessing.get_all_start_methods()
    # fork shares the already-imported schema and rules with the workers
    context = multiprocessing.get_context("fork" if "fork" in methods else None)
    chunk = max(1, len(files) // (workers * 4))
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(validate_file, files, chunksize=chunk))


def validate_file(path: Path, display: str | None = None) -> FileReport:
    """Every diagnostic for one file: reading, YAML, schema and semantic rules."""
    loaded = load_file(path, display)
    report_secrets(loaded)
    for document in loaded.documents:
        if document.model is not None:
            loaded.add(document, semantic_findings(document.model, path))
    loaded.report.diagnostics.sort(key=lambda d: d.sort_key)
    return loaded.report


def semantic_findings(model: object, path: Path) -> list[Finding]:
    """Run the semantic checks that apply to a schema-valid document."""
    findings: list[Finding] = []
    tariffs: list[TariffContext] = []
    if isinstance(model, Site):
        ctx = SiteContext(model, path.parent, path)
        for check in SITE_CHECKS:
            findings.extend(check(ctx))
        if isinstance(model.spec.tariff, TariffSpec):
            tariffs.append(TariffContext(model.spec.tariff, ("spec", "tariff")))
    elif isinstance(model, TariffDocument):
        tariffs.append(TariffContext(model.spec, ("spec",)))
    for tariff in tariffs:
        for tariff_check in TARIFF_CHECKS:
            findings.extend(tariff_check(tariff))
    return findings


def exit_code(run: ValidationRun, *, strict: bool) -> int:
    """0 valid, 1 invalid, 3 a path could not be read."""
    if run.has_io_failure:
        return 3
    return 1 if run.failed(strict=strict) else 0
