"""Shared fixtures: paths of the repository's own examples and bundled sites."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import settings

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SITES = ROOT / "sites"
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def minimal_site_text() -> str:
    return (EXAMPLES / "minimal.yaml").read_text()


# Property tests: CI runs them derandomized (the same examples every run, so a red
# build is reproducible) and without per-example deadlines (a busy runner is slow).
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
