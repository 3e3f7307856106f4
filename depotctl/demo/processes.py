"""The demo's subprocesses, ``depotctl serve``, ``depotctl sim chargers`` and, for
each OSCP envelope source, ``depotctl sim derms``: started on free loopback ports,
waited for, and always stopped (SIGTERM, then kill)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from depotctl.api.state_dir import StateDir
from depotctl.domain.refusal import Refusal

STOP_TIMEOUT_S = 10.0


class StartError(Refusal):
    """A subprocess that did not come up, with the tail of its log (exit code 3)."""


@dataclass
class Child:
    """One subprocess, its log file (stderr) and, for the simulator, its stdout."""

    name: str
    process: subprocess.Popen[bytes]
    log: Path
    stdout: Path | None = None
    _files: list[IO[bytes]] = field(default_factory=list)

    @property
    def pid(self) -> int:
        return self.process.pid

    def running(self) -> bool:
        return self.process.poll() is None

    def stop(self) -> int | None:
        """SIGTERM, wait; kill after :data:`STOP_TIMEOUT_S`. The exit code."""
        if self.running():
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(STOP_TIMEOUT_S)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        for handle in self._files:
            handle.close()
        self._files.clear()
        return self.process.returncode

    def log_tail(self, lines: int = 8) -> str:
        try:
            text = self.log.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


def _depotctl(*args: str) -> list[str]:
    return [sys.executable, "-m", "depotctl", *args]


def _die_with_parent() -> None:
    """In the child, before exec (Linux): SIGTERM when the demo dies, however it dies,
    so that no controller or charger outlives it."""
    try:
        import ctypes

        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _spawn(
    name: str, command: list[str], log: Path, env: dict[str, str], stdout: Path | None = None
) -> Child:
    err: IO[bytes] = log.open("wb")
    out: IO[bytes] | None = stdout.open("wb") if stdout else None
    process = subprocess.Popen(
        command,
        stdin=subprocess.DEVNULL,
        stdout=out or subprocess.DEVNULL,
        stderr=err,
        env=env,
        # its own process group: the terminal's Ctrl-C reaches the demo only, which
        # then stops its children in order
        start_new_session=True,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,
    )
    return Child(name, process, log, stdout, [err] + ([out] if out else []))


def start_controller(
    state_dir: Path, site: Path, *, speed: float, tick_s: float, env: dict[str, str]
) -> tuple[Child, dict[str, str]]:
    """``depotctl serve --clock sim`` on free ports; returns once ``endpoints.json``
    is written (its content), or raises :class:`StartError`."""
    paths = StateDir(state_dir)
    child = _spawn(
        "controller",
        _depotctl(
            "serve",
            "--state-dir",
            str(state_dir),
            "--site",
            str(site),
            "--listen",
            "127.0.0.1:0",
            "--ocpp-listen",
            "127.0.0.1:0",
            "--oscp-listen",
            "127.0.0.1:0",
            "--clock",
            "sim",
            "--speed",
            f"{speed:g}",
            "--tick",
            f"{tick_s:g} s",
        ),
        state_dir / "controller.log",
        env,
    )
    _await(child, paths.endpoints.exists)
    return child, {key: str(value) for key, value in paths.running_endpoints().items()}


def start_chargers(
    state_dir: Path,
    site: Path,
    scenario: Path,
    *,
    meter_interval_s: float,
    duration_s: float | None,
    env: dict[str, str],
    misbehave: tuple[str, ...] = (),
    seed: int | None = None,
) -> Child:
    """``depotctl sim chargers`` against the demo's controller, its JSON report on
    ``chargers.json`` when it stops."""
    args = [
        "sim",
        "chargers",
        "-f",
        str(site),
        "--state-dir",
        str(state_dir),
        "--vehicles",
        str(scenario),
        "--meter-interval",
        f"{meter_interval_s:g} s",
        "--format",
        "json",
    ]
    if duration_s is not None:
        args += ["--duration", f"{duration_s:g} s"]
    for mode in misbehave:
        args += ["--misbehave", mode]
    if seed is not None:
        args += ["--seed", str(seed)]
    return _spawn(
        "chargers",
        _depotctl(*args),
        state_dir / "chargers.log",
        env,
        stdout=state_dir / "chargers.json",
    )


def start_derms(
    state_dir: Path, site: Path, profile: Path, source: str, env: dict[str, str]
) -> Child:
    """``depotctl sim derms`` for the site's OSCP ``source``, on the controller's clock,
    sending ``profile``; its JSON summary on ``derms-SOURCE.json`` when it stops."""
    return _spawn(
        f"sim derms for {source}",
        _depotctl(
            "sim",
            "derms",
            "-f",
            str(site),
            "--state-dir",
            str(state_dir),
            "--profile",
            str(profile),
            "--source",
            source,
            "--format",
            "json",
        ),
        state_dir / f"derms-{source}.log",
        env,
        stdout=state_dir / f"derms-{source}.json",
    )


def await_listening(child: Child) -> None:
    """Return once ``sim derms`` says it listens (its log), or raise :class:`StartError`
    with the tail of its log: the demo's cut would never arrive."""
    _await(child, lambda: "listening at" in child.log_tail(20))


def _await(child: Child, ready: Callable[[], bool], timeout_s: float = 30.0) -> None:
    """Poll ``ready`` until true; stop ``child`` and raise :class:`StartError` with the
    tail of its log if it exits or ``timeout_s`` passes first."""
    deadline = time.monotonic() + timeout_s
    while not ready():
        if not child.running() or time.monotonic() > deadline:
            child.stop()
            raise StartError(
                f"the {child.name} did not start (exit {child.process.returncode}):\n"
                + child.log_tail(),
                3,
            )
        time.sleep(0.05)


def child_env(password: str, tokens: dict[str, str] | None = None) -> dict[str, str]:
    """The environment of every child: the chargers' password, the OSCP sources'
    initial tokens (variable → token), no colour."""
    from depotctl.demo.site import PASSWORD_ENV

    return {**os.environ, PASSWORD_ENV: password, **(tokens or {}), "NO_COLOR": "1"}
