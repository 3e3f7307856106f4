"""The OSCP listener and link of a running controller.

The listener (``serve --oscp-listen``, default ``127.0.0.1:9100``) runs while the
site in force declares an OSCP source: from the start, or from the ``apply`` that
adds the first one (which then registers at once). Its address goes into
``endpoints.json`` as ``oscp``. The base URL announced at ``register`` is
``--oscp-base-url`` — the depot's public address, usually a TLS-terminating proxy in
front of the listener — or else the listener's own ``http://HOST:PORT/oscp/fp/2.0``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Callable, Iterator

import uvicorn

from depotctl.api.state_dir import StateDir
from depotctl.controller.oscp.events import ControllerCapacityProviderEvents
from depotctl.controller.oscp.link import OscpLink
from depotctl.controller.oscp.tokens import OscpTokens
from depotctl.controller.service import Controller
from depotctl.controller.startup import StartRefused, api_url, bind
from depotctl.protocols.oscp.endpoints import BASE_PATH, oscp_app
from depotctl.protocols.oscp.peer import CapacityProviderClient

log = logging.getLogger("depotctl.oscp")

#: Wall time between looks at the site in force for a new OSCP source.
WATCH_S = 0.5
#: Wall time before binding again after the address could not be had.
REBIND_S = 30.0


def oscp_url(host: str, port: int) -> str:
    """The listener's base URL (a wildcard address is given as loopback)."""
    return api_url(host, port) + BASE_PATH


class OscpServing:
    """Listens for the Capacity Providers and runs the link to them (see the module
    docstring). ``on_listening(url)`` is told the listener's URL once it is bound."""

    def __init__(
        self,
        controller: Controller,
        state_dir: StateDir,
        listen: tuple[str, int],
        *,
        base_url: str | None = None,
        client: CapacityProviderClient | None = None,
    ) -> None:
        self.listen = listen
        self.announced = base_url
        self.events = ControllerCapacityProviderEvents(
            controller, OscpTokens(state_dir), base_url=base_url or ""
        )
        self.link = OscpLink(self.events, client or CapacityProviderClient())
        self.sock: socket.socket | None = None
        self.url: str | None = None

    @property
    def wanted(self) -> bool:
        """Whether the site in force declares an OSCP source."""
        return bool(self.events.peers())

    def bind_now(self) -> None:
        """Bind the listener (``StartRefused`` naming ``--oscp-listen``, exit 3)."""
        self.sock = bind(*self.listen, flag="--oscp-listen")
        self.url = oscp_url(self.listen[0], self.sock.getsockname()[1])
        if not self.announced:
            self.events.base_url = self.url

    async def run(self, stop: asyncio.Event, on_listening: Callable[[str], None]) -> None:
        """Serve and run the link while the site declares an OSCP source, until
        ``stop``; then shut both down."""
        server: uvicorn.Server | None = None
        serving: asyncio.Task[None] | None = None
        linking: asyncio.Task[None] | None = None
        link_stop = asyncio.Event()
        while not stop.is_set():
            if serving is None and self.wanted:
                server, serving = await self._start(on_listening)
                if serving is not None:
                    linking = asyncio.create_task(self.link.run(link_stop))
            delay = WATCH_S if serving is not None or self.sock is None else REBIND_S
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), delay)
        link_stop.set()
        if linking is not None:
            await linking
        if server is not None and serving is not None:
            server.should_exit = True
            await serving
        if self.sock is not None:
            self.sock.close()

    async def _start(
        self, on_listening: Callable[[str], None]
    ) -> tuple[uvicorn.Server | None, asyncio.Task[None] | None]:
        if self.sock is None:
            try:
                self.bind_now()
            except StartRefused as refused:
                log.error("OSCP listener not started: %s", refused.sentence)
                return None, None
        assert self.sock is not None and self.url is not None
        config = uvicorn.Config(
            oscp_app(self.events),
            log_config=None,
            access_log=False,
            lifespan="off",
            server_header=False,
        )
        server = _QuietServer(config)
        serving = asyncio.create_task(server.serve(sockets=[self.sock]))
        while not server.started and not serving.done():
            await asyncio.sleep(0.01)
        log.info("OSCP listening", extra={"oscp": self.url, "announced": self.events.base_url})
        on_listening(self.url)
        return server, serving


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves the signals to the API's server (which stops the
    whole controller)."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
