"""The demo, assembled: a temporary state directory, the site's copy, the scenario,
the controller, a simulated Capacity Provider for each OSCP envelope source (sending
its cuts as capacity forecasts) and the simulated chargers as subprocesses, and the
script; always
torn down (children stopped and waited for, the directory removed unless kept)."""

from __future__ import annotations

import json
import secrets
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import TracebackType
from typing import Any

from depotctl.api import json_of
from depotctl.api.state_dir import StateDir
from depotctl.client.api import ControllerClient
from depotctl.demo import scenario as night
from depotctl.demo.forecast_profile import write_profile
from depotctl.demo.processes import (
    Child,
    await_listening,
    child_env,
    start_chargers,
    start_controller,
    start_derms,
)
from depotctl.demo.script import Script, notice
from depotctl.demo.site import PASSWORD_ENV, DemoSite, add_vehicles, prepare_site, resolve_site
from depotctl.domain.refusal import Refusal

DEFAULT_SPEED = 300.0
#: the controller's tick and the chargers' meter interval, in wall seconds at any speed
TICK_WALL_S = 0.1
METER_WALL_S = 0.2
#: how much simulated time the start-up may take: the clock starts this much before
#: 16:30 (bounded), so no vehicle arrives before the chargers are up
STARTUP_WALL_S = 4.0
#: the headless run goes on until this long after the last departure
AFTER_LAST_DEPARTURE = timedelta(minutes=15)
#: the start-up is given at most this much simulated time before 16:30 (the vehicles and
#: the cut are of the evening after the clock's start)
MAX_MARGIN = timedelta(hours=6)
#: the fastest the demo runs: its control cycle, TICK_WALL_S of wall time, spans 12
#: simulated minutes here (less than a plan's block; the evening cut is sent at least
#: script.NOTICE_WALL_S of wall time ahead), and MAX_MARGIN leaves the start-up 3 s;
#: faster, the cycle outruns the cut's window and the clock can pass the evening, or the
#: whole night, before the chargers are up
MAX_SPEED = 7200.0


class NightPassed(Refusal):
    """The simulated clock passed the night's last departure during the start-up."""


@dataclass(frozen=True, slots=True)
class Options:
    site: str | None = None
    speed: float = DEFAULT_SPEED
    #: simulated seconds the chargers run for; None: until stopped
    duration_s: float | None = None
    keep: bool = False
    #: run until the last departure when no duration is given (headless)
    whole_night: bool = False
    #: ``depotctl sim chargers --misbehave`` modes, and the seed of their random draws
    #: (fault drills, benchmarks/fault_night.py)
    misbehave: tuple[str, ...] = ()
    seed: int | None = None


@dataclass
class Demo:
    """``with Demo(options) as demo:`` — everything runs inside the block."""

    options: Options
    state_dir: Path = field(init=False)
    site: DemoSite = field(init=False)
    start: datetime = field(init=False)
    fleet: list[night.Vehicle] = field(init=False)
    cuts: list[night.Cut] = field(init=False)
    endpoints: dict[str, str] = field(init=False)
    client: ControllerClient = field(init=False)
    script: Script = field(init=False)
    controller: Child | None = None
    chargers: Child | None = None
    #: a simulated Capacity Provider per OSCP source with a cut, by source id
    derms: dict[str, Child] = field(default_factory=dict)
    duration_s: float | None = None
    started_wall: float = 0.0

    @property
    def tick_s(self) -> float:
        return max(5.0, TICK_WALL_S * self.options.speed)

    @property
    def meter_interval_s(self) -> float:
        return max(10.0, METER_WALL_S * self.options.speed)

    @property
    def admin_token_file(self) -> Path:
        return StateDir(self.state_dir).admin_token

    def __enter__(self) -> Demo:
        self.state_dir = Path(tempfile.mkdtemp(prefix="depotctl-demo-"))
        try:
            self._set_up()
        except BaseException:
            self.close()
            raise
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def _set_up(self) -> None:
        options = self.options
        self.site = prepare_site(resolve_site(options.site), self.state_dir)
        topology = self.site.topology
        if not 1.0 <= options.speed <= MAX_SPEED:
            raise ValueError(f"the demo runs at ×1 to ×{MAX_SPEED:g}, not ×{options.speed:g}")
        seconds = min(max(STARTUP_WALL_S * options.speed, 600.0), MAX_MARGIN.total_seconds())
        margin = timedelta(seconds=seconds)
        self.start = night.start_time(datetime.now(UTC) + margin, topology.timezone) - margin
        self.fleet = night.vehicles(topology, self.start)
        add_vehicles(self.site.path, ((v.id, v.id_tag) for v in self.fleet))
        self.cuts = night.cuts(topology, self.start, self.site.oscp)
        scenario = self.state_dir / "scenario.yaml"
        night.write_scenario(self.fleet, scenario, topology.site)
        # the simulated clock resumes from this checkpoint (never before the wall clock)
        StateDir(self.state_dir).sim_clock.write_text(self.start.astimezone(UTC).isoformat())
        tokens = {peer.token_env: secrets.token_urlsafe(18) for peer in self.site.oscp.values()}
        env = child_env(secrets.token_urlsafe(18), tokens)
        self.controller, self.endpoints = start_controller(
            self.state_dir, self.site.path, speed=options.speed, tick_s=self.tick_s, env=env
        )
        for source in sorted({cut.source for cut in self.cuts} & self.site.oscp.keys()):
            profile = self.state_dir / f"derms-{source}.yaml"
            cuts = [c for c in self.cuts if c.source == source]
            write_profile(cuts, profile, notice(options.speed), self.start)
            self.derms[source] = start_derms(self.state_dir, self.site.path, profile, source, env)
        for child in self.derms.values():
            await_listening(child)
        token = self.admin_token_file.read_text(encoding="utf-8").strip()
        self.client = ControllerClient(self.endpoints["api"], token, timeout=10.0)
        self.script = Script(self.client, self.cuts, self.fleet, lead=notice(options.speed))
        self.duration_s = options.duration_s
        if self.duration_s is None and options.whole_night:
            last = max((v.departure for v in self.fleet), default=self.start)
            now = self.client.clock().time
            self.duration_s = (last + AFTER_LAST_DEPARTURE - now).total_seconds()
            if self.duration_s <= 0:
                raise NightPassed(
                    f"the simulated clock (×{options.speed:g}) reads {now.isoformat()} once "
                    f"the controller is up, past the night's last departure "
                    f"({last.isoformat()}): the start-up took longer than the "
                    f"{margin.total_seconds() / 3600:g} h of simulated time it was given; "
                    "run the demo again with a lower --speed",
                    3,
                )
        self.chargers = start_chargers(
            self.state_dir,
            self.site.path,
            scenario,
            meter_interval_s=self.meter_interval_s,
            duration_s=self.duration_s,
            env=env,
            misbehave=options.misbehave,
            seed=options.seed,
        )
        self.script.start()  # after the last fork: no thread runs while a child is made
        self.started_wall = time.monotonic()

    def wait_for_chargers(self) -> int | None:
        """Until the simulated chargers stop (their ``--duration``); their exit code."""
        assert self.chargers is not None
        return self.chargers.process.wait()

    def chargers_report(self) -> dict[str, Any] | None:
        try:
            data = json.loads((self.state_dir / "chargers.json").read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        return data if isinstance(data, dict) else None

    def summary(self) -> dict[str, Any]:
        """The summary of the run so far, from the controller's API and the
        simulators' reports (call after the chargers stopped, before :meth:`close`;
        stops the simulated grid operators)."""
        from depotctl.demo.night_account import fetch, surely_urgent_s
        from depotctl.demo.summary import Inputs, summarise

        self.script.stop()
        report = self.chargers_report()
        end = datetime.fromisoformat(
            report["to"] if report and report.get("to") else self.client.clock().time.isoformat()
        )
        chargers = sorted({e.charger_id for e in self.site.topology.evses.values()})
        telemetry = {c: json_of(self.client.telemetry_history(c))["minutes"] for c in chargers}
        # the batteries' and generators' meters: measurements for the independent check
        topology = self.site.topology
        meters = [b.meter or b.id for b in topology.storage.values()]
        meters += [g.meter or g.id for g in topology.generation.values()]
        assets = {m: json_of(self.client.telemetry_history(m))["minutes"] for m in meters}
        return summarise(
            Inputs(
                topology=self.site.topology,
                start=self.start,
                end=end,
                speed=self.options.speed,
                chargers=report,
                sessions=json_of(self.client.sessions(include_ended=True))["sessions"],
                telemetry=telemetry,
                samples=list(self.script.samples),
                cuts=list(self.script.posted),
                unreceived=self._unreceived(end),
                grid_operators=self._grid_operators(),
                night=fetch(self.client, self.start, end),
                surely_urgent_s=surely_urgent_s(self.site.policy, self.site.planner),
                assets=assets,
            )
        )

    def _grid_operators(self) -> tuple[dict[str, Any], ...]:
        """Each ``sim derms``'s JSON summary, written as it stops (stopped here)."""
        out: list[dict[str, Any]] = []
        for child in self.derms.values():
            child.stop()
            try:
                assert child.stdout is not None
                report = json.loads(child.stdout.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                continue
            if isinstance(report, dict):
                out.append(report)
        return tuple(out)

    def _unreceived(self, end: datetime) -> tuple[night.Cut, ...]:
        """The cuts from an OSCP source whose window began by ``end``, never received."""
        received = {(c.source, c.target, c.start) for c, _ in self.script.posted}
        return tuple(
            cut
            for cut in self.cuts
            if cut.source != "local"
            and cut.start <= end
            and (cut.source, cut.target, cut.start) not in received
        )

    def console_app(self, *, interval: float = 1.0) -> Any:
        """The console (a Textual app, not yet running) on the demo's controller, with
        the admin token."""
        from depotctl.client.api import AsyncControllerClient
        from depotctl.console.app import ConsoleApp
        from depotctl.console.coordinator import Coordinator

        token = self.admin_token_file.read_text(encoding="utf-8").strip()
        client = AsyncControllerClient(self.endpoints["api"], token)
        return ConsoleApp(Coordinator(client, interval=interval, read_only=False))

    def close(self) -> None:
        """Stop the script, the chargers and the controller (in that order), then
        remove the state directory unless kept."""
        script = getattr(self, "script", None)
        if script is not None:
            script.stop()
        for child in (self.chargers, *self.derms.values(), self.controller):
            if child is not None:
                child.stop()
        client = getattr(self, "client", None)
        if client is not None:
            client.close()
        if not self.options.keep and hasattr(self, "state_dir"):
            shutil.rmtree(self.state_dir, ignore_errors=True)


__all__ = ["PASSWORD_ENV", "Demo", "Options"]
