"""A simulated Capacity Provider run in the test's process (its own thread and event
loop) against a real ``depotctl serve``: the site's OSCP base URL names the provider's
listener, bound before the controller starts."""

from __future__ import annotations

import asyncio
import shutil
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path

from depotctl.sim.controller_ref import ControllerRef
from depotctl.sim.derms.run import Options, Setup, prepare, run
from tests.conftest import SITES
from tests.controller.test_serve import Process, serve

SOURCE = "ausgrid-oscp"
GROUP = "BUS-DEPOT-LV-0042"
TOKEN_ENV = "AUSGRID_OSCP_TOKEN"
INITIAL_TOKEN = "dnsp-initial-token"


def free_socket() -> socket.socket:
    """A listening socket on loopback, a free port."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    return sock


@dataclass
class Depot:
    """A test's bus depot: the provider's socket (bound first, so that the site can
    name its port), the site, the profile and the controller's state directory."""

    sock: socket.socket
    port: int
    site: Path
    profile: Path
    state_dir: Path

    def options(self) -> Options:
        return Options(
            site=self.site, profile=self.profile, where=ControllerRef(state_dir=self.state_dir)
        )

    def serve(self, speed: int = 300) -> AbstractContextManager[Process]:
        """``depotctl serve`` of the site, its clock ``speed`` times real time."""
        return serve(
            self.state_dir, "--site", str(self.site), "--clock", "sim", "--speed", str(speed)
        )


def depot(directory: Path, profile_text: str) -> Depot:
    """The bus depot in ``directory``, with a profile of ``profile_text``."""
    sock = free_socket()
    profile = directory / "profile.yaml"
    profile.write_text(profile_text)
    state = directory / "state"
    state.mkdir()
    port = sock.getsockname()[1]
    return Depot(sock, port, bus_depot(directory, port), profile, state)


def bus_depot(directory: Path, port: int) -> Path:
    """The bus depot, its DNSP's Capacity Provider at ``127.0.0.1:port``."""
    shutil.copytree(SITES / "carbon", directory / "carbon", dirs_exist_ok=True)
    text = (SITES / "au-bus-depot.yaml").read_text()
    site = directory / "site.yaml"
    site.write_text(
        text.replace(
            "https://oscp.dnsp.example/oscp/cp/2.0", f"http://127.0.0.1:{port}/oscp/cp/2.0"
        )
    )
    return site


class RunningProvider:
    """``sim derms`` in a thread: ``setup`` once prepared; :meth:`stop` ends it."""

    def __init__(self, options: Options, sock: socket.socket) -> None:
        self.options = options
        self.sock = sock
        self.setup: Setup | None = None
        self.error: BaseException | None = None
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stop: asyncio.Event | None = None
        self._thread = threading.Thread(target=self._main, daemon=True)

    def start(self) -> Setup:
        self._thread.start()
        assert self._ready.wait(60), "the provider did not start"
        if self.error is not None:
            raise self.error
        assert self.setup is not None
        return self.setup

    def _main(self) -> None:
        async def main() -> None:
            self._loop = asyncio.get_running_loop()
            self._stop = asyncio.Event()
            try:
                self.setup = await prepare(self.options, self.sock)
            except BaseException as error:
                self.error = error
                raise
            finally:
                self._ready.set()
            await run(self.setup, self._stop)

        try:
            asyncio.run(main())
        except BaseException as error:
            self.error = self.error or error

    def stop(self) -> None:
        if self._loop is not None and self._stop is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(30)
        assert not self._thread.is_alive(), "the provider did not stop"


@contextmanager
def provider(options: Options, sock: socket.socket) -> Iterator[Setup]:
    """The provider running until the block ends."""
    running = RunningProvider(options, sock)
    setup = running.start()
    try:
        yield setup
    finally:
        running.stop()
    if running.error is not None:
        raise running.error


def same_port(port: int) -> socket.socket:
    """A new listening socket on ``port`` (its last one closed by a run)."""
    again = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    again.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    again.bind(("127.0.0.1", port))
    again.listen(64)
    return again


def eventually(check: Callable[[], object], what: str, within_s: float = 60.0) -> object:
    """Poll ``check`` until it returns something true; the bound only tells a hang from
    a busy machine."""
    deadline = time.monotonic() + within_s
    while True:
        found = check()
        if found:
            return found
        assert time.monotonic() < deadline, f"never: {what}"
        time.sleep(0.05)
