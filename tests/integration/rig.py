"""End-to-end rig: a real ``depotctl serve`` process on fixed loopback ports (so a
restarted controller is found where its chargers left it), and the simulated
chargers of ``depotctl sim chargers`` as an asyncio fleet on a thread of their own,
following the controller's clock. What the chargers received is read from their
receive logs; what the controller decided, from its HTTP API."""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import httpx
import pytest

from depotctl.sim.chargers.charger import Received, SimulatedCharger
from depotctl.sim.chargers.fleet import Fleet
from depotctl.sim.chargers.run import Options, prepare
from depotctl.sim.controller_ref import ControllerRef

T = TypeVar("T")

#: the chargers' password variables and their values (set for both processes)
PASSWORDS = {"IT_CP16_PASSWORD": "sixteen-secret", "IT_CP201_PASSWORD": "two-o-one-secret"}

#: two chargers under one board: CP-16 speaks 1.6, CP-201 2.0.1
SITE = """\
apiVersion: depotctl/v1
kind: Site
metadata: {name: integration-depot, timezone: Australia/Sydney}
spec:
  electrical: {voltage: 230 V, phases: 3}
  nodes:
    - id: gc-main
      type: grid_connection
      limits: {import: 100 kW, current: 160 A}
    - id: db-1
      type: circuit
      parent: gc-main
      limits: {current: 100 A}
    - id: chg-16
      type: charger
      parent: db-1
      ocpp: {id: CP-16, protocol: ocpp1.6, password_env: IT_CP16_PASSWORD}
      rating: {power: 22 kW, current: 32 A}
      phases: 3
      fallback: 10 A
      evses: [{id: 1, connectors: [{id: 1, type: Type2}]}]
    - id: chg-201
      type: charger
      parent: db-1
      ocpp: {id: CP-201, protocol: ocpp2.0.1, password_env: IT_CP201_PASSWORD}
      rating: {power: 22 kW, current: 32 A}
      phases: 3
      fallback: 10 A
      evses: [{id: 1, connectors: [{id: 1, type: Type2}]}]
"""


def site_text(boards: dict[str, tuple[str, list[tuple[str, str]]]], grid: str = "160 A") -> str:
    """A site: boards (id → current limit, chargers as (OCPP id, protocol)) under one
    grid connection; every charger 22 kW / 32 A three-phase with a 10 A fallback,
    node id ``chg-`` + its OCPP id in lower case."""
    nodes = [
        "    - id: gc-main\n      type: grid_connection\n"
        f"      limits: {{import: 400 kW, current: {grid}}}\n"
    ]
    for board, (limit, chargers) in boards.items():
        nodes.append(
            f"    - id: {board}\n      type: circuit\n      parent: gc-main\n"
            f"      limits: {{current: {limit}}}\n"
        )
        for ocpp_id, protocol in chargers:
            password = "IT_CP16_PASSWORD" if protocol == "ocpp1.6" else "IT_CP201_PASSWORD"
            nodes.append(
                f"    - id: {node_of(ocpp_id)}\n      type: charger\n      parent: {board}\n"
                f"      ocpp: {{id: {ocpp_id}, protocol: {protocol}, password_env: {password}}}\n"
                "      rating: {power: 22 kW, current: 32 A}\n      phases: 3\n"
                "      fallback: 10 A\n"
                "      evses: [{id: 1, connectors: [{id: 1, type: Type2}]}]\n"
            )
    return (
        "apiVersion: depotctl/v1\nkind: Site\n"
        "metadata: {name: integration-depot, timezone: Australia/Sydney}\n"
        "spec:\n  electrical: {voltage: 230 V, phases: 3}\n  nodes:\n" + "".join(nodes)
    )


def node_of(ocpp_id: str) -> str:
    """The charger node of an OCPP id in :func:`site_text`'s sites."""
    return "chg-" + ocpp_id.lower().removeprefix("cp-")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


#: the logs of the controllers started by the running test (shown when it fails)
SERVE_LOGS: list[Path] = []

#: every wait's bound is a hang detector, never a speed requirement: a busy CI machine
#: may be this many times slower than the bound a test names
PATIENCE = 4


def wait_for(check: Callable[[], T], *, within_s: float, what: str) -> T:
    """Poll ``check`` until it returns something true; fail naming ``what`` only when
    it never does (``within_s`` × :data:`PATIENCE`: a hang, not a slow machine)."""
    deadline = time.monotonic() + within_s * PATIENCE
    while not (result := check()):
        if time.monotonic() > deadline:
            pytest.fail(f"{what}: not within {within_s * PATIENCE:g} s")
        time.sleep(0.05)
    return result


@dataclass
class Serve:
    """``depotctl serve`` as a process, restartable on the same state and ports."""

    state_dir: Path
    site: Path
    flags: tuple[str, ...]
    api_port: int
    ocpp_port: int
    process: subprocess.Popen[str] | None = None
    _client: httpx.Client | None = None

    @property
    def log(self) -> Path:
        """The controller's log (stderr), appended across restarts: a file, never a pipe
        nobody reads — a full pipe would block the controller's next log line."""
        return self.state_dir.with_name(self.state_dir.name + "-serve.log")

    def _log_file(self) -> int:
        SERVE_LOGS.append(self.log)
        return os.open(self.log, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)

    @property
    def api(self) -> str:
        return f"http://127.0.0.1:{self.api_port}"

    def start(self) -> None:
        endpoints = self.state_dir / "endpoints.json"
        endpoints.unlink(missing_ok=True)
        log = self._log_file()
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "depotctl",
                "serve",
                "--state-dir",
                str(self.state_dir),
                "--site",
                str(self.site),
                "--listen",
                f"127.0.0.1:{self.api_port}",
                "--ocpp-listen",
                f"127.0.0.1:{self.ocpp_port}",
                "--oscp-listen",
                "127.0.0.1:0",
                *self.flags,
            ],
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
            env={**os.environ, **PASSWORDS, "NO_COLOR": "1"},
        )
        os.close(log)
        deadline = time.monotonic() + 20 * PATIENCE
        while not endpoints.exists():
            if self.process.poll() is not None:
                pytest.fail(f"serve exited {self.process.returncode}: {self.log.read_text()}")
            assert time.monotonic() < deadline, "serve wrote no endpoints.json"
            time.sleep(0.05)
        token = (self.state_dir / "tokens" / "admin.token").read_text().strip()
        self._client = httpx.Client(
            base_url=self.api + "/api/v1", headers={"Authorization": f"Bearer {token}"}, timeout=10
        )

    def stop(self, *, kill: bool = False) -> int:
        """SIGTERM (or SIGKILL); the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
        try:
            self.process.communicate(timeout=15)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.communicate(timeout=10)
        if self._client is not None:
            self._client.close()
        return self.process.returncode

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    # the API

    def get(self, path: str, **params: Any) -> Any:
        assert self._client is not None
        response = self._client.get(path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        assert self._client is not None
        response = self._client.post(path, json=body)
        assert response.status_code in (200, 201), response.text
        return response.json()

    def put(self, path: str, body: dict[str, Any]) -> Any:
        assert self._client is not None
        response = self._client.put(path, json=body)
        assert response.status_code == 200, response.text
        return response.json()

    def now(self) -> datetime:
        return datetime.fromisoformat(self.get("/clock")["time"])

    def journal(self, **params: Any) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.get("/journal", limit=10_000, **params)["entries"]
        return entries

    def state(self) -> dict[str, Any]:
        state: dict[str, Any] = self.get("/state")
        return state

    def evse(self, evse_id: str) -> dict[str, Any]:
        return next(e for e in self.state()["evses"] if e["id"] == evse_id)

    def node(self, node_id: str) -> dict[str, Any]:
        return next(n for n in self.state()["nodes"] if n["id"] == node_id)

    def submit_envelope(
        self, envelope_id: str, target: str, limit: str, *, hours: float = 12
    ) -> dict[str, Any]:
        now = self.now()
        envelope: dict[str, Any] = self.post(
            "/envelopes",
            {
                "id": envelope_id,
                "source": "local",
                "target": target,
                "limit": limit,
                "start": (now - timedelta(minutes=1)).isoformat(),
                "end": (now + timedelta(hours=hours)).isoformat(),
            },
        )
        return envelope


@contextmanager
def serving(
    tmp_path: Path, site_text: str = SITE, *, flags: tuple[str, ...] = ()
) -> Iterator[Serve]:
    """A controller on ``site_text`` until the block ends."""
    site = tmp_path / "site.yaml"
    site.write_text(site_text)
    state_dir = tmp_path / "state"
    controller = Serve(state_dir, site, flags, free_port(), free_port())
    controller.start()
    try:
        yield controller
    finally:
        if controller.process is not None and controller.process.poll() is None:
            controller.stop(kill=True)


class FleetThread:
    """The simulated chargers of a site on their own event loop, in a thread.
    :meth:`call` runs a function on that loop (the fleet is not thread-safe)."""

    def __init__(self, fleet: Fleet, loop: asyncio.AbstractEventLoop) -> None:
        self.fleet = fleet
        self.loop = loop

    def call(self, function: Callable[[], T]) -> T:
        async def run() -> T:
            return function()

        return asyncio.run_coroutine_threadsafe(run(), self.loop).result(timeout=10 * PATIENCE)

    def charger(self, ocpp_id: str) -> SimulatedCharger:
        return next(c for c in self.fleet.chargers if c.ocpp_id == ocpp_id)

    def received(self, ocpp_id: str, action: str = "SetChargingProfile") -> list[Received]:
        """What the charger received of ``action``, oldest first (copies)."""
        charger = self.charger(ocpp_id)
        return self.call(
            lambda: [
                Received(r.wall_s, r.at, r.action, r.payload, r.verdict, r.answered_wall_s)
                for r in charger.received
                if r.action == action
            ]
        )

    def draw_a(self, ocpp_id: str, evse: int = 1) -> float:
        """What the EVSE draws now, in amps per line."""
        charger = self.charger(ocpp_id)

        def draw() -> float:
            charger.station.advance(charger.time.now())
            return charger.charge_point.amps(charger.station.evses[evse].draw_w)

        return self.call(draw)

    def online(self, ocpp_id: str) -> bool:
        charger = self.charger(ocpp_id)
        return self.call(lambda: charger.online)


@contextmanager
def fleet(
    site: Path,
    state_dir: Path,
    *,
    misbehave: tuple[str, ...] = (),
    meter_interval_s: float = 10.0,
) -> Iterator[FleetThread]:
    """The site's chargers against the controller of ``state_dir`` until the block
    ends (then they stop their transactions and close cleanly)."""
    for name, value in PASSWORDS.items():
        os.environ.setdefault(name, value)
    loop = asyncio.new_event_loop()
    ready = threading.Event()
    holder: list[FleetThread] = []
    failure: list[BaseException] = []

    async def main() -> None:
        try:
            setup = await prepare(
                Options(
                    site=site,
                    where=ControllerRef(state_dir=state_dir),
                    misbehave=misbehave,
                    meter_interval_s=meter_interval_s,
                )
            )
        except BaseException as error:
            failure.append(error)
            ready.set()
            return
        holder.append(FleetThread(setup.fleet, loop))
        ready.set()
        await setup.fleet.run()

    thread = threading.Thread(target=loop.run_until_complete, args=(main(),), daemon=True)
    thread.start()
    assert ready.wait(20 * PATIENCE), "the fleet did not start"
    if failure:
        raise failure[0]
    try:
        yield holder[0]
    finally:
        loop.call_soon_threadsafe(holder[0].fleet.stop)
        thread.join(20)
        loop.close()


# What a SetChargingProfile says


def purpose(request: Received) -> str:
    profile = _profile(request)
    return str(profile["chargingProfilePurpose"])


def stack_level(request: Received) -> int:
    return int(_profile(request)["stackLevel"])


def limit_a(request: Received, watts_per_amp: float = 3 * 230.0) -> float:
    """The first period's limit, in amps per line."""
    profile = _profile(request)
    schedule = profile["chargingSchedule"]
    if isinstance(schedule, list):  # 2.0.1: a list of schedules
        schedule = schedule[0]
    limit = float(schedule["chargingSchedulePeriod"][0]["limit"])
    return limit / watts_per_amp if schedule["chargingRateUnit"] == "W" else limit


def is_fallback(request: Received) -> bool:
    return purpose(request) == "TxDefaultProfile" and stack_level(request) == 0


def is_dynamic(request: Received) -> bool:
    return purpose(request) in ("TxProfile", "TxDefaultProfile") and stack_level(request) > 0


def accepted(request: Received) -> bool:
    return request.verdict is not None and request.verdict.accepted


def _profile(request: Received) -> dict[str, Any]:
    payload = request.payload
    profile = payload.get("csChargingProfiles", payload.get("chargingProfile"))
    assert isinstance(profile, dict), json.dumps(payload)
    return profile
