"""Shared fixtures: paths of the repository's own examples and bundled sites."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SITES = ROOT / "sites"
SHARED_DATA = ROOT.parent / "shared" / "data"


@pytest.fixture
def minimal_site_text() -> str:
    return (EXAMPLES / "minimal.yaml").read_text()
