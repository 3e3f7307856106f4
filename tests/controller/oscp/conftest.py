"""The DNSP's initial OSCP token, where the bus depot's site says it is kept."""

from __future__ import annotations

import pytest

from tests.controller.oscp.rig import INITIAL_TOKEN, TOKEN_ENV


@pytest.fixture(autouse=True)
def _initial_token(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv(TOKEN_ENV, INITIAL_TOKEN)
