"""A real controller for the API's models: the AU bus depot in a fresh SQLite store,
served over HTTP on loopback, populated through the API (sessions, envelopes, a meter
reading, an operator's pause) on a simulated clock that stands still. ``Raw`` sends
requests with httpx and keeps the JSON as it came."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import pytest

from tests.console.conftest import Depot, populated_depot


@dataclass
class Raw:
    """One answer of the real app: its status and its JSON, untouched."""

    status: int
    body: Any


@dataclass
class Api:
    """The populated controller, spoken to with plain httpx."""

    depot: Depot

    def send(
        self,
        method: str,
        path: str,
        *,
        token: str | None = "admin",
        **kwargs: Any,
    ) -> Raw:
        tokens = self.depot.tokens
        headers = dict(kwargs.pop("headers", {}))
        if token is not None:
            value = tokens.admin if token == "admin" else tokens.readonly
            headers["Authorization"] = f"Bearer {value}"
        with httpx.Client(base_url=self.depot.url, timeout=60) as client:
            response = client.request(method, path, headers=headers, **kwargs)
        return Raw(response.status_code, response.json())


@pytest.fixture(scope="module")
def api(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Api]:
    with populated_depot(tmp_path_factory.mktemp("api")) as depot:
        yield Api(depot)
