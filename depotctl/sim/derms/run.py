"""``depotctl sim derms`` from files and flags to a running provider: the site's OSCP
source, the listener, the controller's clock and endpoints, the profile, the silence.

Where the provider listens: ``--listen HOST:PORT``, else the host and port of the
source's ``base_url`` in the site (an ``http://`` URL: the controller registers
there first, so the two must agree; behind a proxy, give ``--listen``). It announces
its own listener's URL in its ``register``.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

import uvicorn

from depotctl.api.state_dir import EndpointsUnreadable, StateDir
from depotctl.credentials import CredentialMissing, read_password
from depotctl.domain.charge_points import PasswordRef
from depotctl.domain.instants import InstantError, parse_instant
from depotctl.domain.refusal import Refusal
from depotctl.protocols.oscp.messages import (
    HandshakeAcknowledge,
    MeasurementConfiguration,
    RequiredBehaviour,
)
from depotctl.protocols.oscp.peer import CapacityProviderClient
from depotctl.sim.chargers.run import clock_reader
from depotctl.sim.chargers.simtime import ClockFollower, Reading, SimTime
from depotctl.sim.controller_ref import NOWHERE, ControllerRef
from depotctl.sim.derms.link import LinkSettings, ProviderLink, Silence
from depotctl.sim.derms.profile import read_profile
from depotctl.sim.derms.provider import BASE_PATH, CapacityProvider, provider_app


class SetupError(Refusal):
    """The provider cannot start: one line and the exit code (1 invalid, 2 usage, 3
    I/O)."""


@dataclass(frozen=True)
class Options:
    """What ``sim derms`` was given; times as typed (read in the site's zone, looking
    ahead from the controller's time at the start)."""

    site: Path
    profile: Path
    #: where the controller is (its clock), and its OSCP base URL, where the provider
    #: registers if not registered
    where: ControllerRef = NOWHERE
    controller: str | None = None
    #: the site's OSCP source to play (where it has several) and where to listen
    source: str | None = None
    listen: tuple[str, int] | None = None
    #: the cues: silent from ``silent_at`` for ``silent_for_s``; stop at ``until``
    silent_at: str | None = None
    silent_for_s: float | None = None
    until: str | None = None


@dataclass(frozen=True, slots=True)
class SiteSource:
    """The site's OSCP source the provider plays, and what the summary needs."""

    site_name: str
    source: str
    #: as the site declares it: where the controller registers, the group, the token
    base_url: str
    group_id: str
    token: PasswordRef
    #: the site's timing: offline after this silence; heartbeats every
    offline_after_s: float | None
    heartbeat_interval_s: float | None
    #: the site's zone, nominal line-to-neutral voltage and phases (a capacity in A)
    zone: ZoneInfo
    voltage_v: float
    phases: int


@dataclass
class Setup:
    """Everything resolved, ready to run."""

    site: SiteSource
    url: str
    sock: socket.socket
    time: SimTime
    link: ProviderLink
    follower: ClockFollower | None


def site_source(path: Path, wanted: str | None) -> SiteSource:
    """The OSCP source ``wanted`` of the site (the only one, when None)."""
    from depotctl.config import Site, SiteError, load_file, load_site

    try:
        topology, _ = load_site(path)
    except SiteError as error:
        raise SetupError(f"cannot simulate {path}", 3 if error.io else 1, error.text) from None
    site = next(d.model for d in load_file(path).documents if isinstance(d.model, Site))
    sources = {s.id: s for s in site.spec.envelope_sources if s.protocol == "oscp" and s.oscp}
    if not sources:
        raise SetupError(f"{path} declares no OSCP envelope source to simulate", 1)
    if wanted is None and len(sources) > 1:
        raise SetupError(
            f"{path} declares OSCP sources {', '.join(sources)}; choose one with --source ID", 2
        )
    chosen = sources.get(wanted) if wanted is not None else next(iter(sources.values()))
    if chosen is None or chosen.oscp is None:
        raise SetupError(
            f"--source {wanted}: {path} has no OSCP source {wanted!r}; it has {', '.join(sources)}",
            2,
        )
    settings = chosen.oscp
    token_file = Path(settings.token_file) if settings.token_file else None
    if token_file is not None and not token_file.is_absolute():
        token_file = path.parent / token_file
    return SiteSource(
        site_name=site.metadata.name,
        source=chosen.id,
        base_url=settings.base_url,
        group_id=settings.group_id,
        token=PasswordRef(env=settings.token_env, file=token_file),
        offline_after_s=chosen.offline_after.seconds if chosen.offline_after else None,
        heartbeat_interval_s=(
            chosen.heartbeat_interval.seconds if chosen.heartbeat_interval else None
        ),
        zone=ZoneInfo(topology.timezone),
        voltage_v=site.spec.electrical.voltage.base,
        phases=site.spec.electrical.phases,
    )


def listen_address(source: SiteSource, listen: tuple[str, int] | None) -> tuple[str, int]:
    """``--listen``, else the host and port of the source's ``http://`` base URL."""
    if listen is not None:
        return listen
    parts = urlsplit(source.base_url)
    if parts.scheme != "http" or parts.hostname is None:
        raise SetupError(
            f"source {source.source}'s base_url is {source.base_url}: not a plain http:// "
            "address to listen on; give --listen HOST:PORT (and a proxy from that URL to it)",
            2,
        )
    return parts.hostname, parts.port or 80


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (0: a free port), or a refusal naming it."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)  # for TCP_NODELAY
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(64)
    except OSError as error:
        sock.close()
        raise SetupError(
            f"cannot listen on {host}:{port}: {error.strerror or error}; give --listen "
            "another address (port 0 picks a free one, which the site's base_url must name)",
            3,
        ) from None
    return sock


async def prepare(options: Options, sock: socket.socket | None = None) -> Setup:
    """Resolve the site, the controller, its clock, the profile and the listener
    (``sock``: one already bound). What cannot be is a :class:`Refusal`."""
    source = site_source(options.site, options.source)
    try:
        initial_token = read_password(source.token)
    except CredentialMissing as error:
        raise SetupError(
            f"source {source.source}: {error} (the initial OSCP token, which the controller "
            "reads from the same place)",
            2 if source.token.env is not None else 3,
        ) from None
    controller_url, reader = _controller(options)
    time, follower = await _following(reader)
    start = time.now()
    plan = read_profile(options.profile, group_id=source.group_id, start=start, zone=source.zone)
    silence = None
    if options.silent_at is not None:
        begins = _instant("--silent-at", options.silent_at, start, source.zone)
        ends = begins + timedelta(seconds=options.silent_for_s) if options.silent_for_s else None
        silence = Silence(begins, ends)
    until = _instant("--until", options.until, start, source.zone) if options.until else None
    if sock is None:
        sock = bind(*listen_address(source, options.listen))
    host, port = sock.getsockname()[:2]
    url = f"http://{_host(host)}:{port}{BASE_PATH}"
    asks = HandshakeAcknowledge(
        required_behaviour=RequiredBehaviour(
            heartbeat_interval=source.heartbeat_interval_s,
            measurement_configuration=[MeasurementConfiguration.INTERMITTENT],
        )
    )
    provider = CapacityProvider(source.group_id, url, initial_token, time.now, asks=asks)
    settings = LinkSettings(controller_url, source.offline_after_s, silence, until)
    client = CapacityProviderClient(timeout_s=10.0)
    link = ProviderLink(provider, client, time, plan, settings, start)
    return Setup(source, url, sock, time, link, follower)


async def _following(
    reader: Callable[[], Awaitable[Reading]] | None,
) -> tuple[SimTime, ClockFollower | None]:
    """The controller's clock, read once and then followed (None: real time)."""
    if reader is None:
        return SimTime.real(), None
    # standing still at the epoch until the first reading, which it takes whole
    follower = ClockFollower(SimTime(datetime.fromtimestamp(0, UTC), 0.0), reader)
    try:
        await follower.sync()
    except Exception as error:
        raise SetupError(f"cannot read the controller's clock: {error}", 3) from None
    return follower.time, follower


def _host(host: str) -> str:
    if host in ("0.0.0.0", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


def _instant(flag: str, text: str, now: datetime, zone: ZoneInfo) -> datetime:
    try:
        return parse_instant(text, now=now, zone=zone, ahead=True)
    except InstantError as error:
        raise SetupError(f"{flag} {text!r}: {error.message}; {error.hint}", 2) from None


def _controller(options: Options) -> tuple[str | None, Callable[[], Awaitable[Reading]] | None]:
    """The controller's OSCP base URL (None: unknown, wait for its registration) and
    how to read its clock (None: real time)."""
    from depotctl.client.contexts import ContextError, from_state_dir, resolve

    where = options.where
    url, server, token_file = options.controller, where.server, where.token_file
    if where.state_dir is not None:
        try:
            announced = StateDir(where.state_dir).running_endpoints().get("oscp")
            server, token_file = from_state_dir(where.state_dir)
        except (EndpointsUnreadable, ContextError) as error:
            raise SetupError(str(error), 3) from None
        url = url or (str(announced) if announced else None)
    if server is None and where.context is None:
        return url, None
    target = resolve(context=where.context, server=server, token_file=token_file)
    return url, clock_reader(target.server, target.token)


async def run(setup: Setup, stop: asyncio.Event | None = None) -> None:
    """Serve the endpoints and run the link until ``--until``, ``stop``, Ctrl-C or
    SIGTERM."""
    stop = stop or asyncio.Event()
    app = provider_app(setup.link.provider)
    server = _QuietServer(uvicorn.Config(app, log_config=None, access_log=False, lifespan="off"))
    serving = asyncio.create_task(server.serve(sockets=[setup.sock]))
    following = asyncio.create_task(setup.follower.run()) if setup.follower else None
    with _stopping_on_signals(stop):
        try:
            await setup.link.run(stop)
        finally:
            if following is not None:
                following.cancel()
            server.should_exit = True
            await serving
            await setup.link.client.aclose()
            setup.sock.close()


@contextlib.contextmanager
def _stopping_on_signals(stop: asyncio.Event) -> Iterator[None]:
    loop = asyncio.get_running_loop()
    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, stop.set)
            handled.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            pass
    try:
        yield
    finally:
        for sig in handled:
            loop.remove_signal_handler(sig)


class _QuietServer(uvicorn.Server):
    """A uvicorn server that leaves the signals to the provider's run."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield
