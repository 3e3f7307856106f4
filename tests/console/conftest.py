"""A real controller for the console: the AU bus depot in a fresh SQLite store,
served over HTTP on loopback (uvicorn in a thread), on a simulated clock that stands
still (so every screen is deterministic), with sessions, envelopes, a meter reading
and an operator's pause submitted through the API."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from depotctl.client.api import AsyncControllerClient
from depotctl.console.app import ConsoleApp
from depotctl.console.coordinator import Coordinator
from depotctl.controller.app import create_app
from depotctl.controller.auth import Tokens, load_or_create_tokens
from depotctl.controller.clock import SimClock
from depotctl.controller.service import Controller
from tests.controller.test_inputs import fresh_controller

#: How long a wait for the console or its server may take before the test fails: long
#: enough for a machine busy with other work (a failure here means a hang, not a slow
#: run); a passing test waits only as long as the condition takes.
PATIENCE_S = 60.0


@contextmanager
def serving_at(app: FastAPI, port: int = 0) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1:``port`` (0: a free one) until the block ends; the
    same port can be served again afterwards (``SO_REUSEADDR``)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", log_level="error")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + PATIENCE_S
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


@dataclass
class Depot:
    url: str
    tokens: Tokens
    clock: SimClock
    controller: Controller
    app: FastAPI

    def http(self, token: str = "admin") -> httpx.Client:
        value = self.tokens.admin if token == "admin" else self.tokens.readonly
        return httpx.Client(
            base_url=self.url + "/api/v1", headers={"Authorization": f"Bearer {value}"}
        )

    def journal(self, **params: str) -> list[dict[str, Any]]:
        with self.http() as client:
            entries: list[dict[str, Any]] = client.get("/journal", params=params).json()["entries"]
        return entries

    def console(self, token: str = "admin", *, read_only: bool = False, **kw: Any) -> ConsoleApp:
        """A console app on this controller, polling fast (tests wait for it); a slow
        answer on a busy machine is not a lost controller (a gone one is refused at once)."""
        value = self.tokens.admin if token == "admin" else self.tokens.readonly
        client = AsyncControllerClient(self.url, value, timeout=PATIENCE_S)
        coordinator = Coordinator(
            client, interval=0.2, first_backoff=0.1, max_backoff=0.3, read_only=read_only
        )
        return ConsoleApp(coordinator, **kw)


def populate(depot: Depot) -> None:
    """Eight buses on row 1 and 2, an active envelope that binds at the grid connection
    and a pending one, a workshop meter reading, and dc-02 paused by an operator."""
    with depot.http() as client:
        responses = [
            client.post(
                "/envelopes",
                json={
                    "id": "E-17",
                    "target": "gc-main",
                    "limit": "300 kW",
                    "start": "2026-03-02T13:00:00Z",
                    "end": "2026-03-02T18:00:00Z",
                },
            ),
            client.post(
                "/envelopes",
                json={
                    "id": "E-18",
                    "target": "db-dc-north",
                    "limit": "400 A",
                    "start": "2026-03-02T16:00:00Z",
                    "end": "2026-03-02T17:30:00Z",
                },
            ),
        ]
        for i in range(1, 9):
            responses.append(
                client.post(
                    "/sessions",
                    json={
                        "id": f"bus-{i:04d}",
                        "evse": f"dc-{i:02d}/1",
                        "energy_delivered": f"{5 * i} kWh",
                        "requirement": {
                            "energy": f"{120 + 10 * i} kWh",
                            "departure": f"2026-03-02T{17 + i % 4:02d}:30:00Z",
                        },
                        "vehicle_max_current": "200 A",
                    },
                )
            )
        responses.append(
            client.post(
                "/telemetry",
                json={
                    "readings": [
                        {"node": "workshop", "at": "2026-03-02T14:00:00Z", "power": "42 kW"}
                    ]
                },
            )
        )
        responses.append(
            client.put(
                "/evses/dc-02%2F1/override",
                json={"paused": True, "cap": None, "reason": "cable check"},
            )
        )
    for response in responses:
        assert response.is_success, response.text


@contextmanager
def populated_depot(state_dir: Path) -> Iterator[Depot]:
    """A populated controller with its store in ``state_dir``, served until the block
    ends (the API's, the client's and the console's tests all use one)."""
    controller, clock = fresh_controller(state_dir)
    tokens = load_or_create_tokens(state_dir)
    app = create_app(controller, tokens)
    try:
        with serving_at(app) as url:
            running = Depot(url, tokens, clock, controller, app)
            populate(running)
            yield running
    finally:
        controller.close()


@pytest.fixture(scope="module")
def depot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Depot]:
    """One populated controller for a module's read-only tests (the clock stands at
    START: nothing on screen moves)."""
    with populated_depot(tmp_path_factory.mktemp("console")) as running:
        yield running


@pytest.fixture
def fresh_depot(tmp_path: Path) -> Iterator[Depot]:
    """A populated controller of the test's own (for tests that change it)."""
    with populated_depot(tmp_path) as running:
        yield running


async def loaded(pilot: Any, app: ConsoleApp, *, timeout: float = PATIENCE_S) -> None:
    """Wait until the console has shown a model from the controller."""
    await wait_for(pilot, lambda: app.model.loaded and app.applied_polls >= 0, timeout)
    await pilot.pause()


async def wait_for(pilot: Any, condition: Any, timeout: float = PATIENCE_S) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "timed out waiting for the console"
        await pilot.pause(0.05)


def heard(app: ConsoleApp) -> list[str]:
    """What the console says in notifications from now on, in order."""
    said: list[str] = []
    app.notify = lambda message, **_: said.append(str(message))  # type: ignore[method-assign]
    return said


def shown(widget: Any) -> str:
    """The plain text a Static (or a Tree label, a cell) shows now."""
    from rich.console import Console

    content = getattr(widget, "content", widget)
    if hasattr(content, "plain"):
        return str(content.plain)
    console = Console(width=160, record=True, color_system=None, file=open("/dev/null", "w"))  # noqa: SIM115
    console.print(content)
    return console.export_text()


@pytest.fixture
def anyio_backend() -> str:
    """The console's tests are async (Textual's Pilot) and run on asyncio, with the
    anyio pytest plugin that httpx brings along."""
    return "asyncio"
