"""Shared fixtures: paths of the repository's own examples, bundled sites and data."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from hypothesis import HealthCheck, settings

from tests.history.postgres import history_database, history_url, postgres  # noqa: F401

ROOT = Path(__file__).resolve().parents[1]
EXAMPLES = ROOT / "examples"
SITES = ROOT / "sites"
#: Real ACN-Data sessions kept in the repository (data/acn/NOTICE.md).
ACN_DATA = ROOT / "data" / "acn"


@pytest.fixture
def minimal_site_text() -> str:
    return (EXAMPLES / "minimal.yaml").read_text()


# Property tests never depend on the machine's speed: no per-example deadline and no
# health check that times generation (a busy runner is slow, and that says nothing about
# the code). CI also runs them derandomized: the same examples every run, so a red build
# is reproducible. HYPOTHESIS_PROFILE=ci picks CI's profile by hand.
_UNTIMED = settings(
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
settings.register_profile("dev", _UNTIMED)
settings.register_profile("ci", _UNTIMED, derandomize=True, print_blob=True)
settings.load_profile(
    os.environ.get("HYPOTHESIS_PROFILE") or ("ci" if os.environ.get("CI") else "dev")
)
