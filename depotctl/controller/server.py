"""Running the controller: open the state directory, seed the site, serve the API on
uvicorn, write ``endpoints.json``, and shut down cleanly on Ctrl-C or SIGTERM."""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import os
import signal
import socket
import sqlite3
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import uvicorn
from starlette.applications import Starlette

from depotctl.api.authors import local_author
from depotctl.api.state_dir import StateDir
from depotctl.controller.app import create_app
from depotctl.controller.auth import load_or_create_tokens
from depotctl.controller.clock import Clock, clock_for
from depotctl.controller.decisions import envelope_lead
from depotctl.controller.dispatch import ShadowDispatcher
from depotctl.controller.generation_sim import SimulatedGenerators
from depotctl.controller.log_lines import TextLines, configure_logging
from depotctl.controller.loop import ControlLoop
from depotctl.controller.migrations import StoreVersionError
from depotctl.controller.ocpp_events import ControllerChargerEvents
from depotctl.controller.oscp.serving import OscpServing
from depotctl.controller.planning import Planning
from depotctl.controller.routes.events import end_event_streams
from depotctl.controller.service import Controller, Seeding, SiteInvalid
from depotctl.controller.settings import Settings
from depotctl.controller.sim_password import sharing_password
from depotctl.controller.startup import (
    Listeners,
    Prechecked,
    StartRefused,
    api_url,
    in_use,
    precheck,
    refuse,
)
from depotctl.controller.state_lock import StateDirInUse, StateLock
from depotctl.controller.storage import Batteries
from depotctl.controller.store import Store, StoreError, UnitOfWork
from depotctl.credentials import TokenFileError
from depotctl.protocols.ocpp.dispatcher import OcppDispatcher
from depotctl.protocols.ocpp.queue import Timing
from depotctl.protocols.ocpp.server import OcppServer

log = logging.getLogger("depotctl.controller")


def run(settings: Settings, checked: Prechecked | None = None) -> int:
    """Serve until stopped; the exit code (0 clean, 1 invalid site, 3 unusable state
    directory, site file or address, 4 the state directory is in use by another
    controller). Everything that can be checked is checked before anything is created
    (:func:`~depotctl.controller.startup.precheck`, done already when ``checked`` is
    given); a refusal is one sentence on stderr."""
    if checked is None:
        try:
            checked = precheck(settings)
        except StartRefused as refused:
            return refuse(refused)
    formatter = configure_logging(settings.log_format)
    try:
        return _run_in(settings, checked.site_text, checked.listeners, formatter)
    except StartRefused as refused:
        return refuse(refused)
    finally:
        checked.listeners.close()


def _run_in(
    settings: Settings, site_text: str | None, listeners: Listeners, formatter: logging.Formatter
) -> int:
    """Create the state directory if need be, lock it and open its store; then serve."""
    try:
        settings.state_dir.mkdir(mode=0o700, parents=True, exist_ok=True)
        # before anything else in the directory: one controller per state directory
        lock = StateLock.acquire(settings.state_dir)
    except StateDirInUse as busy:  # a controller that started since the check
        raise StartRefused(in_use(busy.state_dir, str(busy.holder)), 4) from None
    except OSError as error:
        raise StartRefused(
            f"cannot use the state directory {settings.state_dir}: "
            f"{(error.strerror or str(error)).lower()}; give --state-dir another path",
            3,
        ) from None
    with lock:
        store_path = StateDir(settings.state_dir).store
        try:
            store = Store.open(store_path)
        except (OSError, sqlite3.Error, StoreError, StoreVersionError) as error:
            raise StartRefused(
                f"cannot open the store {store_path}: {error}; move it aside or give "
                "--state-dir another directory",
                3,
            ) from None
        try:
            return _run_with_store(settings, store, site_text, listeners, formatter)
        finally:
            store.close()
            log.info("store closed", extra={"store": str(store_path)})


def _run_with_store(
    settings: Settings,
    store: Store,
    site_text: str | None,
    listeners: Listeners,
    formatter: logging.Formatter,
) -> int:
    start = _resume_time(settings.state_dir, store) if settings.clock == "sim" else None
    clock = clock_for(settings.clock, speed=settings.speed, start=start)
    base_dir = settings.site_file.parent if settings.site_file else Path.cwd()
    # a charger that never connected is a hazard (nobody knows what it draws), except
    # in shadow mode, where another system commands the chargers
    try:
        controller = Controller(
            store,
            clock,
            base_dir=base_dir,
            unseen_chargers_controllable=settings.shadow,
            envelope_lead=envelope_lead(settings.tick_s, clock.speed),
        )
    except SiteInvalid as error:
        raise _invalid(
            error, f"the store's current revision in {settings.state_dir}", "apply a valid one"
        ) from None
    _show_times_of(controller, formatter)
    if settings.site_file is not None and site_text is not None:
        try:
            _seed(controller, settings.site_file, site_text, formatter)
        except SiteInvalid as error:
            raise _invalid(
                error, f"the site file {settings.site_file} (--site)", "fix it and start again"
            ) from None
    try:
        tokens = load_or_create_tokens(settings.state_dir)
    except TokenFileError as error:
        raise StartRefused(str(error), 3) from None
    application = create_app(controller, tokens)
    # the chargers' endpoint: ocpp.links() are the connected chargers by id, and
    # ocpp.on_connected(callback) is told when one can take calls (boot, reconnect)
    charger_events = ControllerChargerEvents(controller)
    roster = charger_events.roster
    if settings.charger_password_env is not None:
        roster = sharing_password(roster, settings.charger_password_env)
        controller.shared_charger_password_env = settings.charger_password_env
        log.warning(
            "simulation: every charger authenticates with the password in $%s "
            "(--charger-password-env), not the site's password_env/password_file",
            settings.charger_password_env,
        )
    ocpp = OcppServer(roster, charger_events, controller.clock.now)
    oscp = OscpServing(
        controller,
        StateDir(settings.state_dir),
        settings.oscp_listen,
        base_url=settings.oscp_base_url,
    )
    if oscp.wanted:  # else once an apply adds an OSCP source
        oscp.bind_now()
    # limits go to the chargers over OCPP, each charger's on a queue of its own: a
    # charger that is not connected answers "offline" (uncontrollable)
    dispatch = OcppDispatcher(
        controller.clock,
        dispatch_timing(settings.tick_s, clock.speed),
        on_connect=lambda report: control.charger_connected(report),
    )
    if not settings.shadow:
        ocpp.on_connected(dispatch.on_connected)
    control = ControlLoop(
        controller,
        ShadowDispatcher() if settings.shadow else dispatch,
        tick_s=settings.tick_s,
        retention=settings.retention,
    )
    Planning.for_site(controller)  # the site's planner: (off unless enabled)
    if controller.applied is not None:  # the site's simulated batteries, steered each cycle
        Batteries.simulated(controller).attach(control)
    config = uvicorn.Config(
        application, log_config=None, access_log=False, lifespan="off", server_header=False
    )
    server = _Server(config)
    asyncio.run(
        _serve(
            server,
            listeners.api,
            settings,
            control,
            ocpp,
            listeners.ocpp,
            charger_events,
            dispatch,
            oscp,
        )
    )
    return 0


def _invalid(error: SiteInvalid, what: str, fix: str) -> StartRefused:
    from depotctl.config import ValidationRun, render_diagnostics

    count = error.report.errors
    return StartRefused(
        f"{what} is invalid ({count} error{'s' if count != 1 else ''} above); {fix}",
        1,
        render_diagnostics(ValidationRun([error.report])),
    )


def dispatch_timing(tick_s: float, speed: float) -> Timing:
    """The dispatcher's times for a controller ticking every ``tick_s`` on a clock
    ``speed`` times faster than real time. A dynamic profile holds for six ticks (at
    least 30 s) — and at least 10 s of wall time, which a fast simulated clock would
    otherwise shrink below what renewals can keep up with; a call times out after 5 s,
    but never before the chargers' answers usually come, in wall time: at least 2 s, up
    to 30 s on a loaded machine (``RoundTrips``: what a late answer is not); retries
    start after 5 s, at least 1 s of wall time."""
    return Timing(
        timeout_s=5.0,
        min_wall_timeout_s=2.0,
        max_wall_timeout_s=30.0,
        validity_s=max(30.0, 6 * tick_s, 10.0 * speed),
        retry_initial_s=max(5.0, 1.0 * speed),
        retry_max_s=max(300.0, 10.0 * speed),
    )


def _show_times_of(controller: Controller, formatter: logging.Formatter) -> None:
    """Text log lines show times in the site's zone, once there is a site."""
    if isinstance(formatter, TextLines) and controller.applied is not None:
        formatter.zone = ZoneInfo(controller.applied.topology.timezone)


def _seed(controller: Controller, site_file: Path, text: str, formatter: logging.Formatter) -> None:
    outcome = controller.seed(site_file, text, author=local_author())
    _show_times_of(controller, formatter)
    applied = controller.applied
    number = applied.revision.number if applied is not None else None
    if outcome is Seeding.SEEDED:
        log.info("seeded revision %s from %s", number, site_file, extra={"revision": number})
    elif outcome is Seeding.DIFFERS:
        log.warning(
            "site file %s differs from the store's revision %s; the store is the truth: "
            "run `depotctl plan -f %s` then `depotctl apply` to change the site",
            site_file,
            number,
            site_file,
            extra={"revision": number},
        )
    else:
        log.info("site file %s is revision %s", site_file, number, extra={"revision": number})


def _resume_time(state_dir: Path, store: Store) -> datetime:
    """Where a simulated clock starts: never before the time it had reached in an
    earlier run (its checkpoint) nor before the journal's latest entry, so that time
    does not run backwards across a restart; else now."""
    candidates = [datetime.now(UTC)]
    with contextlib.suppress(OSError, ValueError):
        candidates.append(datetime.fromisoformat(StateDir(state_dir).sim_clock.read_text().strip()))
    latest = UnitOfWork(store).journal.entries(latest=True, limit=1)
    if latest:
        candidates.append(latest[-1].at)
    return max(candidates)


async def _checkpoint_clock(controller_clock: Clock, state_dir: Path, stop: asyncio.Event) -> None:
    """Write a simulated clock's time every tenth of a second of wall time."""
    path, scratch = StateDir(state_dir).sim_clock, StateDir(state_dir).sim_clock_partial
    while not stop.is_set():
        scratch.write_text(controller_clock.now().isoformat())
        scratch.replace(path)
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), 0.1)


async def _serve(
    server: uvicorn.Server,
    sock: socket.socket,
    settings: Settings,
    control: ControlLoop,
    ocpp: OcppServer,
    ocpp_sock: socket.socket,
    charger_events: ControllerChargerEvents,
    dispatch: OcppDispatcher,
    oscp: OscpServing,
) -> None:
    await ocpp.start(sock=ocpp_sock)
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    stop = asyncio.Event()
    generating = (  # the site's generators on their forecasts, metered each tick
        asyncio.create_task(SimulatedGenerators(control.controller).run(stop, settings.tick_s))
        if settings.clock == "sim"
        else None
    )
    cycling = asyncio.create_task(control.run(stop))
    checkpointing = (
        asyncio.create_task(_checkpoint_clock(control.controller.clock, settings.state_dir, stop))
        if settings.clock == "sim"
        else None
    )
    while not server.started and not serving.done():
        await asyncio.sleep(0.01)
    oscp_task: asyncio.Task[None] | None = None
    if server.started:
        port = sock.getsockname()[1]
        endpoints = write_endpoints(
            settings.state_dir,
            settings.listen[0],
            port,
            settings,
            ocpp_port=ocpp.port,
            oscp_url=oscp.url,
        )

        def oscp_listening(url: str) -> None:
            if endpoints.get("oscp") != url:  # an apply added the first OSCP source
                endpoints["oscp"] = url
                _write_endpoints_file(settings.state_dir, endpoints)

        oscp_task = asyncio.create_task(oscp.run(stop, oscp_listening))
        log.info(
            "serving",
            extra={
                **endpoints,
                "state_dir": str(settings.state_dir),
                "clock": settings.clock,
                "speed": settings.speed,
                "tick_s": settings.tick_s,
            },
        )
    await serving
    await ocpp.stop()  # every charger disconnected (and journaled) while the store is open
    charger_events.flush()
    stop.set()
    await cycling
    if oscp_task is not None:
        await oscp_task
    await dispatch.close()
    if checkpointing is not None:
        await checkpointing
    if generating is not None:
        await generating
    log.info("stopped")


def ocpp_url(host: str, port: int) -> str:
    """The chargers' endpoint (``/ocpp/{charge point id}`` below it); a wildcard
    address is given as loopback, as for the API."""
    return "ws" + api_url(host, port).removeprefix("http") + "/ocpp"


def write_endpoints(
    state_dir: Path,
    host: str,
    port: int,
    settings: Settings,
    *,
    ocpp_port: int,
    oscp_url: str | None = None,
) -> dict[str, str]:
    """Write ``endpoints.json`` atomically, with the ports bound (never 0)."""
    endpoints = {
        "api": api_url(host, port),
        "ocpp": ocpp_url(settings.ocpp_listen[0], ocpp_port),
    }
    if oscp_url is not None:
        endpoints["oscp"] = oscp_url
    _write_endpoints_file(state_dir, endpoints)
    return endpoints


def _write_endpoints_file(state_dir: Path, endpoints: dict[str, str]) -> None:
    target, partial = StateDir(state_dir).endpoints, StateDir(state_dir).endpoints_partial
    partial.write_text(json.dumps(endpoints, indent=2) + "\n", encoding="utf-8")
    os.replace(partial, target)


class _Server(uvicorn.Server):
    """uvicorn's server, stopping on SIGINT/SIGTERM without re-raising the signal
    afterwards (so the process exits 0 after a clean shutdown), and ending the open
    event streams when it stops."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        if threading.current_thread() is not threading.main_thread():
            yield
            return
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    async def shutdown(self, sockets: list[socket.socket] | None = None) -> None:
        if isinstance(self.config.app, Starlette):  # open event streams would hold it up
            end_event_streams(self.config.app)
        await super().shutdown(sockets)
