"""``depotctl serve`` as a real process: state directory, tokens, endpoints.json,
seeding, restart and a clean stop, over real HTTP."""

from __future__ import annotations

import json
import os
import re
import signal
import stat
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO

import httpx
import pytest

from tests.conftest import EXAMPLES, SITES

AU_DEPOT = SITES / "au-bus-depot.yaml"


@dataclass
class Process:
    process: subprocess.Popen[str]
    state_dir: Path
    api: str
    endpoints: dict[str, str]
    #: its stderr: a file, never a pipe nobody reads (a full pipe would stall its log);
    #: None where the caller keeps the log itself
    log: IO[str] | None = None

    def get(self, path: str, token: str = "admin") -> httpx.Response:
        value = (self.state_dir / "tokens" / f"{token}.token").read_text().strip()
        return httpx.get(self.api + path, headers={"Authorization": f"Bearer {value}"})

    def stop(self) -> tuple[int, str]:
        """SIGTERM; the exit code and the log."""
        self.process.send_signal(signal.SIGTERM)
        self.process.wait(timeout=30)
        if self.log is None:
            return self.process.returncode, ""
        self.log.seek(0)
        return self.process.returncode, self.log.read()


def _command(state_dir: Path, *flags: str) -> list[str]:
    return [
        sys.executable,
        "-m",
        "depotctl",
        "serve",
        "--state-dir",
        str(state_dir),
        "--listen",
        "127.0.0.1:0",
        "--ocpp-listen",
        "127.0.0.1:0",
        "--oscp-listen",
        "127.0.0.1:0",
        *flags,
    ]


@contextmanager
def serve(state_dir: Path, *flags: str) -> Iterator[Process]:
    """``depotctl serve`` until the block ends (then SIGTERM, or kill if still up)."""
    endpoints_file = state_dir / "endpoints.json"
    endpoints_file.unlink(missing_ok=True)
    with tempfile.TemporaryFile("w+", encoding="utf-8") as log:
        process = subprocess.Popen(
            _command(state_dir, *flags),
            stdout=subprocess.DEVNULL,
            stderr=log,
            text=True,
            env={**os.environ, "NO_COLOR": "1"},
        )
        try:
            deadline = time.monotonic() + 60  # a hang, not a busy machine's slow start
            while not endpoints_file.exists():
                if process.poll() is not None:
                    log.seek(0)
                    pytest.fail(f"serve exited {process.returncode}: {log.read()}")
                assert time.monotonic() < deadline, "serve wrote no endpoints.json"
                time.sleep(0.05)
            endpoints = json.loads(endpoints_file.read_text())
            yield Process(process, state_dir, endpoints["api"], endpoints, log)
        finally:
            if process.poll() is None:
                process.kill()
                process.wait(timeout=10)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_serve_seeds_the_site_writes_tokens_and_endpoints_keeps_a_second_out_and_stops(
    tmp_path: Path,
) -> None:
    with serve(tmp_path, "--site", str(AU_DEPOT), "--clock", "sim", "--speed", "60") as running:
        assert running.api.startswith("http://127.0.0.1:")
        assert not running.api.endswith(":0")
        assert running.endpoints["ocpp"].startswith("ws://127.0.0.1:")
        assert not running.endpoints["ocpp"].endswith(":0/ocpp")  # the port bound
        # the site declares an OSCP source: its listener is up, and wants a token
        oscp = running.endpoints["oscp"]
        assert re.fullmatch(r"http://127\.0\.0\.1:[1-9]\d*/oscp/fp/2\.0", oscp)
        refused = httpx.post(oscp + "/heartbeat", json={"offline_mode_at": "2026-01-01T00:00:00Z"})
        assert refused.status_code == 401 and "Token" in refused.json()["message"]
        for name in ("admin.token", "readonly.token"):
            assert _mode(tmp_path / "tokens" / name) == 0o600
        assert httpx.get(running.api + "/healthz").json() == {"status": "ok", "revision": 1}
        assert httpx.get(running.api + "/api/v1/state").status_code == 401
        state = running.get("/api/v1/state", token="readonly").json()
        assert state["site"]["name"] == "au-bus-depot"
        assert state["revision"]["number"] == 1
        asked = time.monotonic()
        clock = running.get("/api/v1/clock").json()
        answered = time.monotonic()
        assert (clock["kind"], clock["speed"]) == ("sim", 60)
        first = datetime.fromisoformat(clock["time"])
        time.sleep(0.5)
        asked_again = time.monotonic()
        second = datetime.fromisoformat(running.get("/api/v1/clock").json()["time"])
        answered_again = time.monotonic()
        # 60 clock seconds a wall second, however long the requests took (the bounds
        # are what the wall clock allows either side; 1 ms for the microsecond format)
        advanced = (second - first).total_seconds()
        assert 60 * (asked_again - answered) - 1e-3 <= advanced
        assert advanced <= 60 * (answered_again - asked) + 1e-3
        _a_second_serve_exits_4_and_changes_nothing(tmp_path, running)
        metrics = httpx.get(running.api + "/metrics").text
        total = next(
            float(line.split()[-1])
            for line in metrics.splitlines()
            if line.startswith("depotctl_allocations_total ")
        )
        # the state request runs one; the control loop one per tick (5 s of clock time
        # at 60×) and at start
        assert total >= 2
        code, log = running.stop()
    assert code == 0
    # off a terminal the log is JSON by default, a line an entry
    entries = [json.loads(line) for line in log.splitlines()]
    messages = [entry["message"] for entry in entries]
    assert "seeded revision 1 from " + str(AU_DEPOT) in messages
    [serving] = [entry for entry in entries if entry["message"] == "serving"]
    assert (serving["api"], serving["ocpp"]) == (running.api, running.endpoints["ocpp"])
    assert messages[-1] == "store closed"


def test_a_restart_keeps_the_tokens_the_revision_and_the_clock_and_a_new_site_file_warns(
    tmp_path: Path,
) -> None:
    """Restarted without --site the store is the truth: its tokens, its one revision, and
    a simulated clock that does not run back (its checkpoint, not the journal, is the
    latest it had reached); restarted with a different site file, a warning, the store
    kept."""
    sim = ("--clock", "sim", "--speed", "60")
    with serve(tmp_path, "--site", str(EXAMPLES / "minimal.yaml"), *sim) as running:
        tokens = {p.name: p.read_text() for p in (tmp_path / "tokens").glob("*.token")}
        hash_before = running.get("/api/v1/site").json()["hash"]
        started = datetime.fromisoformat(running.get("/api/v1/clock").json()["time"])
        deadline = time.monotonic() + 60  # a hang, not a busy machine's slow start
        while (last_seen := _clock(running)) < started + timedelta(minutes=2):
            assert time.monotonic() < deadline, "the simulated clock stands still"
            time.sleep(0.05)
        journaled = running.get("/api/v1/journal").json()["entries"]
        assert max(datetime.fromisoformat(e["at"]) for e in journaled) < last_seen
        assert running.stop()[0] == 0
    with serve(tmp_path, *sim) as running:  # no --site: the store is the truth
        assert _clock(running) >= last_seen, "the simulated clock ran back"
        assert {p.name: p.read_text() for p in (tmp_path / "tokens").glob("*.token")} == tokens
        site = running.get("/api/v1/site").json()
        assert (site["number"], site["hash"]) == (1, hash_before)
        assert [r["number"] for r in running.get("/api/v1/revisions").json()["revisions"]] == [1]
        assert running.stop()[0] == 0
    with serve(tmp_path, "--site", str(AU_DEPOT)) as running:
        assert running.get("/api/v1/site").json()["name"] == "minimal-depot"
        code, log = running.stop()
    assert code == 0
    warnings = [e for e in map(json.loads, log.splitlines()) if e["level"] == "warning"]
    assert len(warnings) == 1
    assert "depotctl plan" in warnings[0]["message"]
    assert "apply" in warnings[0]["message"]


def _clock(running: Process) -> datetime:
    return datetime.fromisoformat(running.get("/api/v1/clock").json()["time"])


def _refused(state_dir: Path, *flags: str, listen: str = "127.0.0.1:0") -> tuple[int, str]:
    """``serve`` that refuses to start: its exit code and stderr."""
    command = _command(state_dir, *flags)
    command[command.index("--listen") + 1] = listen
    result = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,  # a hang, not a busy machine's slow start
        env={**os.environ, "NO_COLOR": "1"},
    )
    assert result.stdout == ""
    return result.returncode, result.stderr


def test_an_invalid_site_refuses_to_start_with_its_diagnostics_creating_nothing(
    tmp_path: Path,
) -> None:
    invalid = EXAMPLES / "invalid" / "topology" / "unknown-parent.yaml"
    code, stderr = _refused(tmp_path / "state", "--site", str(invalid))
    assert code == 1
    assert "[topology/unknown-parent]" in stderr
    assert f"{invalid}:28:15: error: " in stderr
    assert stderr.splitlines()[-1] == (
        f"depotctl serve: the site file {invalid} (--site) is invalid (1 error above); fix "
        f"it (depotctl validate {invalid}) and start again"
    )
    assert list(tmp_path.iterdir()) == []


def test_a_site_file_that_cannot_be_read_is_one_sentence_and_creates_nothing(
    tmp_path: Path,
) -> None:
    code, stderr = _refused(tmp_path / "state", "--site", str(tmp_path / "nope.yaml"))
    assert code == 3
    assert stderr == (
        f"depotctl serve: cannot read the site file {tmp_path / 'nope.yaml'} (--site): no "
        "such file or directory; check the path\n"
    )
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("under", [False, True], ids=["a-file", "under-a-file"])
def test_a_state_directory_that_is_a_file_is_one_sentence_and_creates_nothing(
    tmp_path: Path, under: bool
) -> None:
    afile = tmp_path / "state"
    afile.write_text("not a directory\n")
    state_dir = afile / "depotctl" if under else afile
    code, stderr = _refused(state_dir, "--site", str(AU_DEPOT))
    assert code == 3
    where = f"lies under {afile}, which is a file" if under else "is a file"
    assert stderr == (
        f"depotctl serve: the state directory {state_dir} {where}, not a directory; give "
        "--state-dir a directory (it is created if missing)\n"
    )
    assert list(tmp_path.iterdir()) == [afile]
    assert afile.read_text() == "not a directory\n"


@pytest.mark.parametrize("flag", ["--listen", "--ocpp-listen"])
def test_an_address_in_use_is_one_sentence_and_creates_nothing(tmp_path: Path, flag: str) -> None:
    import socket

    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        address = f"127.0.0.1:{taken.getsockname()[1]}"
        flags = ("--ocpp-listen", address) if flag == "--ocpp-listen" else ()
        code, stderr = _refused(
            tmp_path / "state",
            "--site",
            str(AU_DEPOT),
            *flags,
            listen=address if flag == "--listen" else "127.0.0.1:0",
        )
    assert code == 3
    assert stderr == (
        f"depotctl serve: cannot listen on {address} ({flag}): the address is already in "
        f"use; stop what listens there, or give {flag} another port (port 0 picks a free "
        "one)\n"
    )
    assert list(tmp_path.iterdir()) == []


def test_the_api_and_ocpp_on_one_address_is_refused_before_anything_is_created(
    tmp_path: Path,
) -> None:
    import socket

    with socket.socket() as probe:  # a port free a moment ago
        probe.bind(("127.0.0.1", 0))
        address = f"127.0.0.1:{probe.getsockname()[1]}"
    code, stderr = _refused(tmp_path / "state", "--ocpp-listen", address, listen=address)
    assert code == 3
    assert stderr.startswith(f"depotctl serve: cannot listen on {address} (--ocpp-listen): ")
    assert list(tmp_path.iterdir()) == []


def test_text_logs_are_lines_in_the_site_time(
    tmp_path: Path,
) -> None:
    with serve(tmp_path / "text", "--site", str(AU_DEPOT), "--log-format", "text") as running:
        code, text_log = running.stop()
    assert code == 0
    api, ocpp = running.endpoints["api"], running.endpoints["ocpp"]
    oscp = running.endpoints["oscp"]  # the site declares an OSCP source
    stamp = r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d\+1[01]:00"  # Australia/Sydney
    lines = text_log.splitlines()
    assert any(
        re.fullmatch(rf"{stamp} serving  api={re.escape(api)} ocpp={re.escape(ocpp)} "
                     rf"oscp={re.escape(oscp)} "
                     rf"state_dir={re.escape(str(tmp_path / 'text'))} clock=real .*", line)
        for line in lines
    ), text_log  # fmt: skip
    assert not any(line.startswith("{") for line in lines)
    # JSON, the default off a terminal: the seeding test above


@pytest.mark.parametrize(
    ("flags", "fragment"),
    [
        (("--listen", "localhost"), "HOST:PORT"),
        (("--tick", "5"), "--tick"),
        (("--speed", "60"), "--clock sim"),
        (("--charger-password-env", "DEPOTCTL_TEST_UNSET"), "needs --clock sim"),
        (
            ("--clock", "sim", "--charger-password-env", "DEPOTCTL_TEST_UNSET"),
            "DEPOTCTL_TEST_UNSET is not set",
        ),
    ],
    ids=[
        "listen-without-port",
        "tick-without-unit",
        "speed-without-sim",
        "shared-password-without-sim",
        "shared-password-unset",
    ],
)
def test_bad_flags_are_usage_errors(tmp_path: Path, flags: tuple[str, ...], fragment: str) -> None:
    result = subprocess.run(
        [*_command(tmp_path), *flags], capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 2
    assert fragment in " ".join(result.stderr.split())
    assert list(tmp_path.iterdir()) == []


# One controller per state directory


def _lock_record(state_dir: Path) -> dict[str, object]:
    record: dict[str, object] = json.loads((state_dir / "serve.lock").read_text())
    return record


def _a_second_serve_exits_4_and_changes_nothing(tmp_path: Path, first: Process) -> None:
    """A second ``serve`` on ``first``'s state directory: exit 4 in one line naming the
    holder, and ``first`` still owns the directory (its ports, tokens and lock)."""
    assert _lock_record(tmp_path)["pid"] == first.process.pid
    endpoints = (tmp_path / "endpoints.json").read_bytes()
    kept = {
        path: (path.read_bytes(), path.stat().st_mtime_ns)
        for path in [tmp_path / "serve.lock", *(tmp_path / "tokens").glob("*.token")]
    }
    code, stderr = _refused(tmp_path, "--site", str(AU_DEPOT))
    assert code == 4
    [line] = stderr.splitlines()
    started = str(_lock_record(tmp_path)["started_at"]).replace("+00:00", "Z")[:19]
    assert line == (
        f"depotctl serve: state directory {tmp_path} in use by pid {first.process.pid} "
        f"(started {started}Z); stop that controller first, or give --state-dir another "
        "directory"
    )
    # the first still owns the directory: its ports, its tokens, its lock
    assert (tmp_path / "endpoints.json").read_bytes() == endpoints
    assert json.loads(endpoints)["api"] == first.api
    assert {p: (p.read_bytes(), p.stat().st_mtime_ns) for p in kept} == kept
    assert httpx.get(first.api + "/healthz").json() == {"status": "ok", "revision": 1}


def test_serve_on_a_locked_empty_directory_creates_nothing(tmp_path: Path) -> None:
    from depotctl.controller.state_lock import StateLock

    with StateLock.acquire(tmp_path):
        code, stderr = _refused(tmp_path, "--site", str(AU_DEPOT))
        assert code == 4
        assert f"in use by pid {os.getpid()} (started " in stderr
        # no store, no tokens, no endpoints.json: only the holder's lock file
        assert sorted(p.name for p in tmp_path.iterdir()) == ["serve.lock"]
        assert _lock_record(tmp_path)["pid"] == os.getpid()
