"""Fixtures of recorded sessions: a small ACN-Data file, the real one, and the Caltech
site their stations map onto."""

from __future__ import annotations

from pathlib import Path

import pytest

from depotctl.config import load_site
from depotctl.domain.policy import Policy
from depotctl.domain.topology import Topology
from tests.conftest import ACN_DATA, SITES

HERE = Path(__file__).parent
#: Five sessions written for these tests: one the evening before 2019-05-13, one
#: capped by its 2 h window, one in the morning, one at a station the site lacks,
#: one the next day.
FIXTURE_CSV = HERE / "sessions.csv"
#: The real ACN-Data file (Caltech, May–August 2019); see data/acn/NOTICE.md.
CALTECH_CSV = ACN_DATA / "caltech_2019-05-01_2019-08-31.csv.gz"
CALTECH_SITE = SITES / "caltech-acn.yaml"


@pytest.fixture(scope="session")
def caltech() -> tuple[Topology, Policy]:
    return load_site(CALTECH_SITE)
