"""``edit_diff``: diff a base site against an edited copy of itself."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pytest

from depotctl.config.diff import SiteDiff
from tests.config.diff.sites import DiffEdits, Edit, diff_edits


@pytest.fixture
def edit_diff(tmp_path: Path) -> DiffEdits:
    """``edit_diff(("100 A", "80 A"), base="minimal", tariff=[...], old=[...])`` → the diff."""

    def run(
        *edits: Edit, base: str = "minimal", tariff: Sequence[Edit] = (), old: Sequence[Edit] = ()
    ) -> SiteDiff:
        return diff_edits(tmp_path, *edits, base=base, tariff=tariff, old=old)

    return run
