"""``depotctl sim chargers`` from files and flags to a running fleet: the site's
chargers, the controller's OCPP endpoint and clock, the scenario, misbehaviour."""

from __future__ import annotations

import asyncio
import os
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

from depotctl.api.state_dir import EndpointsUnreadable, StateDir
from depotctl.credentials import CredentialMissing, read_password
from depotctl.domain.charge_points import ChargePoint, PasswordRef
from depotctl.domain.refusal import Refusal
from depotctl.domain.topology import Topology
from depotctl.sim.chargers.charger import Settings, SimulatedCharger
from depotctl.sim.chargers.drills import drawn_faults
from depotctl.sim.chargers.fleet import Fleet
from depotctl.sim.chargers.misbehaviour import (
    NONE,
    Misbehaviour,
    MisbehaviourError,
    parse_assignment,
)
from depotctl.sim.chargers.scenario import Place, Scenario, ScenarioError, read_scenario
from depotctl.sim.chargers.simtime import ClockFollower, Reading, SimTime
from depotctl.sim.controller_ref import NOWHERE, ControllerRef


class SetupError(Refusal):
    """The simulator cannot start: one line, and the exit code (contract: 1 invalid,
    2 usage, 3 I/O). ``details`` are printed before it (diagnostics)."""


@dataclass(frozen=True)
class Options:
    """What ``sim chargers`` was given: the site, where the controller is (its OCPP URL,
    a state directory, or a context or server whose clock to follow), the scenario and
    the misbehaviour, durations in the controller's seconds."""

    site: Path
    controller: str | None = None
    where: ControllerRef = NOWHERE
    vehicles: Path | None = None
    misbehave: tuple[str, ...] = ()
    meter_interval_s: float = 10.0
    duration_s: float | None = None
    first: date | None = None
    last: date | None = None
    #: draws the random fault drills (reboot=random, offline=…@random): the same seed,
    #: the same drill
    seed: int = 0
    #: every charger's password from this environment variable, not the site's
    #: password_env/password_file (a controller run with serve --charger-password-env)
    password_env: str | None = None


@dataclass
class Setup:
    """Everything resolved, ready to run."""

    site_name: str
    url: str
    time: SimTime
    fleet: Fleet
    scenario: Scenario
    follower: ClockFollower | None = None
    #: controller seconds to run once the fleet is up (None: until stopped)
    duration_s: float | None = None
    charge_points: Mapping[str, ChargePoint] = field(default_factory=dict)


def load_charge_points(path: Path) -> tuple[str, Topology, dict[str, ChargePoint]]:
    """The site's name, topology and chargers (by OCPP id), from a valid site file."""
    from depotctl.config import Site, SiteError, load_file, load_site, site_charge_points

    try:
        topology, _ = load_site(path)
    except SiteError as error:
        raise SetupError(f"cannot simulate {path}", 3 if error.io else 1, error.text) from None
    site = next(d.model for d in load_file(path).documents if isinstance(d.model, Site))
    return site.metadata.name, topology, site_charge_points(site, topology, path.parent)


async def prepare(options: Options) -> Setup:
    """Resolve the site, the controller, the clock, the scenario and misbehaviour; what
    cannot be is a :class:`Refusal` (:class:`SetupError`, or the context's)."""
    site_name, topology, charge_points = load_charge_points(options.site)
    if not charge_points:
        raise SetupError(f"{options.site} has no chargers to simulate", 1)
    if options.password_env is not None:
        charge_points = _sharing_password(charge_points, options.password_env)
    _check_passwords(charge_points, options.password_env)
    url, reader = _controller(options)
    follower = None
    if reader is None:
        time = SimTime.real()
    else:
        try:
            reading, speed, kind = await reader()
        except Exception as error:
            raise SetupError(f"cannot read the controller's clock: {error}", 3) from None
        time = SimTime(reading, speed)
        time.kind = kind
        follower = ClockFollower(time, reader)
    start = time.now()
    place = Place.of(topology, charge_points.values())
    scenario = Scenario()
    if options.vehicles is not None:
        try:
            scenario = read_scenario(
                options.vehicles,
                start=start,
                zone=ZoneInfo(topology.timezone),
                topology=topology,
                place=place,
                first=options.first,
                last=options.last,
            )
        except ScenarioError as error:
            raise SetupError(
                f"{options.vehicles} is not a valid scenario", 1, error.text()
            ) from None
        except OSError as error:
            raise SetupError(
                f"cannot read {options.vehicles}: {error.strerror or error}", 3
            ) from None
    misbehaviour = _misbehaviour(options.misbehave, scenario, place)
    drawn = drawn_faults(
        misbehaviour, [cp.charger_id for cp in charge_points.values()], options.seed
    )
    settings = Settings(url=url, meter_interval_s=options.meter_interval_s)
    chargers = [
        SimulatedCharger(
            cp,
            time,
            settings,
            misbehaviour.get("*", NONE)
            .merged(misbehaviour.get(cp.charger_id, NONE))
            .merged(drawn.get(cp.charger_id, NONE)),
            dc=any(
                topology.evses[e.evse_id].supply == "dc"
                for e in cp.evses
                if e.evse_id in topology.evses
            ),
            started_at=start,
        )
        for cp in charge_points.values()
    ]
    fleet = Fleet(chargers, time, scenario.vehicles, follower, ZoneInfo(topology.timezone))
    duration = options.duration_s or None
    return Setup(site_name, url, time, fleet, scenario, follower, duration, charge_points)


def _sharing_password(
    charge_points: Mapping[str, ChargePoint], variable: str
) -> dict[str, ChargePoint]:
    """The chargers, each with its password in ``variable`` (``--password-env``)."""
    ref = PasswordRef(env=variable)
    return {ocpp_id: replace(cp, password=ref) for ocpp_id, cp in charge_points.items()}


def _check_passwords(charge_points: Mapping[str, ChargePoint], shared: str | None) -> None:
    if shared is not None:
        if not os.environ.get(shared):
            raise SetupError(
                f"--password-env {shared}: the environment variable {shared} is not set; "
                f"export {shared}=PASSWORD, the password the controller expects (one started "
                f"with serve --charger-password-env {shared} reads the same variable)",
                2,
            )
        return
    for cp in charge_points.values():
        if cp.password is None:
            continue
        try:
            read_password(cp.password)
        except CredentialMissing as error:
            code = 2 if cp.password.env is not None else 3
            raise SetupError(
                f"charger {cp.ocpp_id}: {error} (its OCPP password); to simulate the "
                "site's chargers without their secrets, give them one password with "
                "--password-env VAR, and the controller the same with serve --clock sim "
                "--charger-password-env VAR",
                code,
            ) from None


def _controller(options: Options) -> tuple[str, Callable[[], Awaitable[Reading]] | None]:
    """The OCPP base URL, and how to read the controller's clock (None: real time); a
    context that names no controller is its ``ContextError`` (a :class:`Refusal` too)."""
    from depotctl.client.contexts import check_server, read_token, resolve

    url = options.controller
    api: tuple[str, str] | None = None
    where = options.where
    if where.state_dir is not None:
        endpoints, token = _state_dir(where.state_dir)
        url = url or endpoints.get("ocpp")
        if endpoints.get("api"):
            api = (check_server(endpoints["api"]), read_token(token))
    if where.context is not None or where.server is not None:
        target = resolve(context=where.context, server=where.server, token_file=where.token_file)
        api = (target.server, target.token)
    if url is None:
        raise SetupError(
            "no controller given: pass --controller ws://HOST:PORT/ocpp or --state-dir DIR", 2
        )
    parts = urlsplit(url)
    if parts.scheme not in ("ws", "wss") or not parts.netloc:
        raise SetupError(f"{url!r} is not an OCPP URL (e.g. ws://127.0.0.1:9000/ocpp)", 2)
    return url.rstrip("/"), None if api is None else clock_reader(*api)


def _state_dir(state_dir: Path) -> tuple[dict[str, str], Path]:
    paths = StateDir(state_dir)
    try:
        endpoints = paths.running_endpoints()
    except EndpointsUnreadable as error:
        raise SetupError(str(error), 3) from None
    token = paths.readonly_token
    return {k: str(v) for k, v in endpoints.items()}, token if token.exists() else paths.admin_token


def clock_reader(server: str, token: str) -> Callable[[], Awaitable[Reading]]:
    """How to read the clock of the controller whose API is at ``server``."""
    from depotctl.client.api import ControllerClient

    client = ControllerClient(server, token, timeout=5.0)

    async def read() -> Reading:
        clock = await asyncio.to_thread(client.clock)
        return clock.time, clock.speed, clock.kind

    return read


def _misbehaviour(
    flags: tuple[str, ...], scenario: Scenario, place: Place
) -> dict[str, Misbehaviour]:
    """By charger node id (``*``: every charger): the scenario's, then the flags'."""
    found: dict[str, Misbehaviour] = dict(scenario.misbehaviour)
    for text in flags:
        try:
            charger, behaviour = parse_assignment(text)
        except MisbehaviourError as error:
            raise SetupError(f"--misbehave {error}", 2) from None
        if charger != "*":
            if charger not in place.chargers:
                raise SetupError(f"--misbehave {text!r}: no charger {charger!r} in the site", 2)
            charger = place.chargers[charger]
        found[charger] = found[charger].merged(behaviour) if charger in found else behaviour
    return found


async def run(
    setup: Setup,
    live: Callable[[str], None] | None = None,
    live_every_s: float = 1.0,
) -> None:
    """Run the fleet until Ctrl-C, SIGTERM or the end of ``--duration``; ``live``
    gets the one-line summary every ``live_every_s`` wall seconds."""
    import signal

    from depotctl.sim.chargers.report import live_line

    loop = asyncio.get_running_loop()
    main = asyncio.current_task()

    def interrupted() -> None:
        """The first signal shuts down cleanly; a second one does not wait."""
        if setup.fleet.stopping and main is not None:
            main.cancel()
        setup.fleet.stop()

    handled = []
    for sig in (signal.SIGINT, signal.SIGTERM):
        try:
            loop.add_signal_handler(sig, interrupted)
            handled.append(sig)
        except (NotImplementedError, RuntimeError, ValueError):  # not the main thread
            pass

    async def show() -> None:
        while live is not None:
            await asyncio.sleep(live_every_s)
            live(live_line(setup.fleet))

    ticker = asyncio.create_task(show())
    try:
        await setup.fleet.run(duration_s=setup.duration_s)
    finally:
        ticker.cancel()
        for sig in handled:
            loop.remove_signal_handler(sig)
