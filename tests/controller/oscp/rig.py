"""A controller's OSCP side over real HTTP, both ways: the Flexibility Provider's
endpoints on uvicorn (loopback, a free port) in front of a controller with a real
SQLite store and a simulated clock the test advances, and a recording Capacity
Provider on uvicorn that the link sends to. The link runs one pass at a time, when
the test says: nothing waits on the wall clock."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from depotctl.api.state_dir import StateDir
from depotctl.controller.clock import SimClock
from depotctl.controller.oscp.serving import OscpServing
from depotctl.controller.service import Controller
from depotctl.controller.store import Store
from depotctl.protocols.oscp import MESSAGES
from depotctl.protocols.oscp.endpoints import oscp_app
from tests.conftest import SITES
from tests.controller.test_app import serving
from tests.protocols.oscp.schemas import schema_problems

START = datetime(2026, 3, 2, 6, 0, tzinfo=UTC)
SOURCE = "ausgrid-oscp"
GROUP = "BUS-DEPOT-LV-0042"
INITIAL_TOKEN = "initial-token-from-the-dnsp"
TOKEN_ENV = "AUSGRID_OSCP_TOKEN"


@dataclass
class Received:
    """A request the Capacity Provider received."""

    endpoint: str
    path: str
    method: str
    headers: dict[str, str]
    body: dict[str, Any] | None


#: The message each endpoint takes, by the path the controller sends it to.
_MESSAGE_AT = {model.endpoint: name for name, model in MESSAGES.items()} | {
    "handshake_acknowledgment": "HandshakeAcknowledge"  # pyoscp's path (a quirk)
}


@dataclass
class CapacityProvider:
    """A recording Capacity Provider: answers every request ``status`` (204), and checks
    every body against its OSCP 2.0 schema (``conformance``), keeping what is wrong in
    ``problems`` (the rig fails a test that leaves any)."""

    received: list[Received] = field(default_factory=list)
    status: int = 204
    conformance: bool = True
    problems: list[str] = field(default_factory=list)

    def app(self) -> Starlette:
        async def receive(request: Request) -> Response:
            raw = await request.body()
            endpoint = request.path_params["endpoint"]
            if self.conformance and raw:
                name = _MESSAGE_AT.get(endpoint, endpoint)
                self.problems += [f"{name}: {p}" for p in schema_problems(name, raw)]
            self.received.append(
                Received(
                    request.path_params["endpoint"],
                    request.url.path,
                    request.method,
                    {k.lower(): v for k, v in request.headers.items()},
                    json.loads(raw) if raw else None,
                )
            )
            return Response(status_code=self.status)

        methods = ["POST", "PUT", "DELETE"]
        return Starlette(  # a trailing slash is a path of its own here, not a redirect
            routes=[
                Route("/oscp/cp/2.0/{endpoint}", receive, methods=methods),
                Route("/oscp/cp/2.0/{endpoint}/", receive, methods=methods),
            ]
        )

    def of(self, endpoint: str) -> list[Received]:
        return [r for r in self.received if r.endpoint == endpoint]


class Rig:
    """The controller, its OSCP endpoints (``fp``: base URL) and the provider (``cp``)."""

    def __init__(
        self, state_dir: Path, provider: CapacityProvider, cp_url: str, clock: SimClock
    ) -> None:
        self.state_dir = state_dir
        self.provider = provider
        self.clock = clock
        self.loop = asyncio.new_event_loop()
        self.store = Store.open(StateDir(state_dir).store)
        self.controller = Controller(self.store, clock, base_dir=SITES)
        self.serving = OscpServing(self.controller, StateDir(state_dir), ("127.0.0.1", 0))
        self.events = self.serving.events
        self.cp_url = cp_url
        self.fp = ""

    def seed(self, site_text: str) -> None:
        self.controller.seed(SITES / "au-bus-depot.yaml", site_text, author="test")

    def link_pass(self) -> None:
        """One pass of the link: register, deliver what is due, heartbeats."""
        self.loop.run_until_complete(self.serving.link.one_pass())

    def post(
        self,
        endpoint: str,
        body: object,
        *,
        token: str | None,
        request_id: str | None = None,  # "": none sent
        method: str = "POST",
        scheme: str = "Token",
    ) -> httpx.Response:
        headers = {} if request_id == "" else {"X-Request-ID": request_id or str(uuid.uuid4())}
        if token is not None:
            headers["Authorization"] = f"{scheme} {token}"
        content = body if isinstance(body, bytes) else json.dumps(body).encode()
        return httpx.request(
            method,
            f"{self.fp}/oscp/fp/2.0/{endpoint}",
            headers=headers,
            content=content,
            timeout=30,
        )

    def register(self) -> str:
        """Register the provider as it would (its own ``register`` with the initial
        token); the token the controller gave it."""
        body = {
            "token": "cp-token-1",
            "version_url": [{"version": "2.0", "base_url": f"{self.cp_url}/oscp/cp/2.0"}],
        }
        answer = self.post("register", body, token=INITIAL_TOKEN)
        assert answer.status_code == 204, answer.text
        self.link_pass()
        token = self.provider.of("register")[-1].body
        assert token is not None
        return str(token["token"])

    def close(self) -> None:
        self.loop.run_until_complete(self.serving.link.client.aclose())
        self.loop.close()
        self.controller.close()
        assert self.provider.problems == [], "sent against the OSCP 2.0 schemas"

    def journal(self, kind: str | None = None) -> list[Any]:
        entries = self.controller.units().journal.entries(limit=10_000)
        return [e for e in entries if kind is None or e.kind == kind]


def site_text(cp_url: str, quirks: str | None = None) -> str:
    """The bus depot, its DNSP's Capacity Provider at ``cp_url`` (with ``quirks``: the
    flow mapping of the source's ``oscp.quirks``)."""
    text = (SITES / "au-bus-depot.yaml").read_text()
    text = text.replace("https://oscp.dnsp.example/oscp/cp/2.0", f"{cp_url}/oscp/cp/2.0")
    if quirks is not None:
        line = f"        token_env: {TOKEN_ENV}\n"
        assert line in text
        text = text.replace(line, line + f"        quirks: {quirks}\n")
    return text


@contextmanager
def oscp_rig(
    tmp_path: Path, provider: CapacityProvider | None = None, *, quirks: str | None = None
) -> Iterator[Rig]:
    """A seeded controller with its endpoints and a provider, both served."""
    provider = provider or CapacityProvider()
    with serving(provider.app()) as cp_url, rig_at(tmp_path, cp_url, provider, quirks) as rig:
        yield rig


@contextmanager
def rig_at(
    state_dir: Path, cp_url: str, provider: CapacityProvider, quirks: str | None = None
) -> Iterator[Rig]:
    """A seeded controller with its endpoints served, its provider at ``cp_url`` (the
    recording ``provider``, or another one served there)."""
    clock = SimClock(START, monotonic=lambda: 0.0)
    rig = Rig(state_dir, provider, cp_url, clock)
    rig.seed(site_text(cp_url, quirks))
    with serving(oscp_app(rig.events)) as fp_url:
        rig.fp = fp_url
        rig.events.base_url = f"{fp_url}/oscp/fp/2.0"
        try:
            yield rig
        finally:
            rig.close()
