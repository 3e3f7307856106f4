"""A validation run with one of each kind of problem, for every renderer's tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from depotctl.cli import app
from depotctl.config.diagnostics import Diagnostic, FileReport, Severity, Span
from depotctl.config.validate import ValidationRun
from tests.conftest import EXAMPLES

DEPOT = "sites/depot.yaml"
MISSING = "sites/missing.yaml"
CLEAN = "sites/clean.yaml"

CYCLE = Diagnostic(
    DEPOT,
    Span(16, 15, 16, 19),
    Severity.ERROR,
    "topology/cycle",
    "parents form a loop: db-1 → db-2 → db-1",
    "break the loop: one of these nodes must be fed from outside it",
)
UNUSED = Diagnostic(
    DEPOT,
    Span(30, 7, 32, 20),
    Severity.WARNING,
    "envelope/unused-source",
    'envelope source "dso" is named by no node',
    "name it in a node's envelope_source, or remove it",
)
NOT_FOUND = Diagnostic(
    MISSING, None, Severity.ERROR, "io/not-found", "no such file or directory", "check the path"
)


def make_run(*, with_error: bool = True) -> ValidationRun:
    depot = FileReport(DEPOT, [CYCLE, UNUSED] if with_error else [UNUSED], documents=1)
    reports = [depot, FileReport(CLEAN, documents=1)]
    if with_error:
        reports.append(FileReport(MISSING, [NOT_FOUND]))
    return ValidationRun(reports)


@pytest.fixture
def run() -> ValidationRun:
    """Three files: one with an error and a multi-line warning, one clean, one missing."""
    return make_run()


@pytest.fixture
def warnings_only() -> ValidationRun:
    """Two files, the only problem a warning."""
    return make_run(with_error=False)


@pytest.fixture
def depot_files(tmp_path: Path) -> dict[str, Path]:
    """``examples/minimal.yaml`` as it is (``valid``), with a circuit limit above its
    parent's (``warning``), and with chargers fed from a board that does not exist
    (``error``)."""
    minimal = (EXAMPLES / "minimal.yaml").read_text()
    edits = {
        "valid": minimal,
        "warning": minimal.replace("limits: {current: 100 A}", "limits: {current: 200 A}"),
        "error": minimal.replace("parent: db-1\n", "parent: db-9\n"),
    }
    files = {}
    for name, text in edits.items():
        assert name == "valid" or text != minimal, f"the {name} edit no longer applies"
        files[name] = tmp_path / f"{name}.yaml"
        files[name].write_text(text)
    return files


@pytest.fixture
def validate_cli() -> Callable[..., Result]:
    """Run ``depotctl validate ARGS`` in-process; the result has ``exit_code`` and ``stdout``."""
    runner = CliRunner()

    def invoke(*args: str | Path) -> Result:
        return runner.invoke(app, ["validate", *map(str, args)])

    return invoke
