"""The site in force and the secrets rules: a new site with a secret written in it is
refused (seed, apply); a revision stored before the rules grew starts all the same,
with a warning that never shows the secret."""

from __future__ import annotations

import logging
from datetime import UTC, datetime
from pathlib import Path

import pytest

from depotctl.controller.clock import SimClock
from depotctl.controller.service import Controller, SiteInvalid
from depotctl.controller.store import Store, UnitOfWork
from tests.conftest import EXAMPLES

SECRET = "Zq8-stored-label-secret"
MINIMAL = (EXAMPLES / "minimal.yaml").read_text()
WITH_SECRET = MINIMAL.replace(
    "  timezone: Australia/Sydney\n",
    f"  timezone: Australia/Sydney\n  labels: {{grafana_token: {SECRET}}}\n",
)
START = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)


def _controller(state_dir: Path) -> Controller:
    store = Store.open(state_dir / "depotctl.sqlite")
    return Controller(store, SimClock(START, monotonic=lambda: 0.0), base_dir=EXAMPLES)


def test_a_site_with_a_secret_is_not_seeded(tmp_path: Path) -> None:
    controller = _controller(tmp_path)
    try:
        with pytest.raises(SiteInvalid) as refused:
            controller.seed(EXAMPLES / "minimal.yaml", WITH_SECRET, author="test")
        [diagnostic] = refused.value.report.diagnostics
        assert diagnostic.rule == "secrets/inline-secret"
        assert controller.units().revisions.current() is None
    finally:
        controller.close()


def test_a_stored_revision_with_a_secret_starts_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    store = Store.open(tmp_path / "depotctl.sqlite")
    UnitOfWork(store).revisions.add(
        WITH_SECRET, author="old", message="before", at=START, expected_current=None
    )
    store.close()
    with caplog.at_level(logging.WARNING):
        controller = _controller(tmp_path)
    try:
        assert controller.applied is not None and controller.applied.revision.number == 1
        [warning] = [r.getMessage() for r in caplog.records if "secrets/" in r.getMessage()]
        assert "metadata.labels.grafana_token" in warning and SECRET not in warning
    finally:
        controller.close()
