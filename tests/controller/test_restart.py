"""A power cut: ``depotctl serve`` killed with SIGKILL while its control loop is busy,
then started again on the same state directory (a real process, a real SQLite file).
Nothing acknowledged is lost, the stale lock is taken over and control resumes at
once. (The simulated clock across a restart: test_serve.py.)"""

from __future__ import annotations

import json
import sqlite3
import time
from contextlib import closing
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import httpx

from tests.controller.test_app import AU_DEPOT
from tests.controller.test_serve import Process, serve

#: A cycle every simulated second at 60×: one every ~17 ms of wall time.
FLAGS = ("--clock", "sim", "--speed", "60", "--tick", "1s", "--shadow")  # no chargers here
#: After the restart, a tick of a simulated hour (a minute of wall time at 60×): what the
#: controller sends before then, it sends at once, not at a tick.
RESTART_FLAGS = ("--clock", "sim", "--speed", "60", "--tick", "1h", "--shadow")
#: How long a wait for what the controller does at once may take (a slow machine's
#: Python start-up included); shorter than a tick after the restart.
PROMPTLY_S = 30
EVSES = [f"dc-0{n}/1" for n in range(1, 7)]
#: What an envelope is, as the API lists it (its state depends on the time asked).
_ENVELOPE_RECORD = ("id", "source", "target", "limit", "start", "end", "mode", "received_at")


class Api:
    """The admin API of one ``serve`` process."""

    def __init__(self, process: Process) -> None:
        admin = (process.state_dir / "tokens" / "admin.token").read_text().strip()
        self.client = httpx.Client(
            base_url=process.api, headers={"Authorization": f"Bearer {admin}"}, timeout=10
        )

    def get(self, path: str, **params: Any) -> Any:
        response = self.client.get("/api/v1" + path, params=params)
        assert response.status_code == 200, response.text
        return response.json()

    def post(self, path: str, body: dict[str, Any]) -> Any:
        response = self.client.post("/api/v1" + path, json=body)
        assert response.status_code == 201, response.text
        return response.json()

    def now(self) -> datetime:
        return datetime.fromisoformat(self.get("/clock")["time"])

    def journal(self, **params: Any) -> list[dict[str, Any]]:
        entries: list[dict[str, Any]] = self.get("/journal", limit=10_000, **params)["entries"]
        return sorted(entries, key=lambda entry: entry["id"])

    def allocations_total(self) -> float:
        text = self.client.get("/metrics").text
        line = next(li for li in text.splitlines() if li.startswith("depotctl_allocations_total"))
        return float(line.split()[1])


def session(evse: str, now: datetime) -> dict[str, Any]:
    return {
        "id": "bus-" + evse.replace("/", "-"),
        "evse": evse,
        "energy_delivered": "20 kWh",
        "requirement": {"energy": "250 kWh", "departure": (now + timedelta(hours=5)).isoformat()},
        "vehicle_max_current": "250 A",
    }


def wait_for(check: Any, *, within_s: float, what: str) -> Any:
    deadline = time.monotonic() + within_s
    while not (result := check()):
        assert time.monotonic() < deadline, f"{what} within {within_s} s"
        time.sleep(0.02)
    return result


def tokens(state_dir: Path) -> dict[str, str]:
    return {
        str(p.relative_to(state_dir)): p.read_text()
        for p in (state_dir / "tokens").rglob("*")
        if p.is_file()
    }


def test_a_kill_9_during_busy_cycles_loses_nothing_and_control_resumes_within_a_tick(
    tmp_path: Path,
) -> None:
    with serve(tmp_path, "--site", str(AU_DEPOT), *FLAGS) as first:
        api = Api(first)
        now = api.now()
        api.post(
            "/envelopes",
            {
                "id": "dnsp-evening",
                "target": "gc-main",
                "limit": "400 kW",
                "start": (now - timedelta(minutes=10)).isoformat(),
                "end": (now + timedelta(hours=12)).isoformat(),
            },
        )
        for evse in EVSES[:-1]:
            api.post("/sessions", session(evse, now))
        wait_for(
            lambda: len({e["evse"] for e in api.journal(kind="allocation.changed")}) >= 5,
            within_s=PROMPTLY_S,
            what="every session's limit journaled",
        )
        before_journal = api.journal()
        before_envelopes = api.get("/envelopes")["envelopes"]
        # one more session, acknowledged, then the power cut while its cycle runs
        last = api.post("/sessions", session(EVSES[-1], now))
        before_sessions = _stored_sessions(api.get("/sessions"))
        assert last["id"] in before_sessions
        first.process.kill()
        first.process.wait(timeout=10)
        assert _lock_pid(tmp_path) == first.process.pid, "a stale lock file is left behind"
        # what the dead controller had, read from its files
        before_tokens = tokens(tmp_path)
        with closing(sqlite3.connect(tmp_path / "depotctl.sqlite")) as db:
            last_id = db.execute("SELECT max(id) FROM journal").fetchone()[0]
        assert last_id >= before_journal[-1]["id"] + 1, "the last session is journaled"
    with serve(tmp_path, *RESTART_FLAGS) as second:  # no --site: the store is the truth
        assert _lock_pid(tmp_path) == second.process.pid != first.process.pid, "lock taken over"
        api = Api(second)
        journal = api.journal()
        assert tokens(tmp_path) == before_tokens
        site = api.get("/site")
        assert (site["number"], site["text"]) == (1, AU_DEPOT.read_text(encoding="utf-8"))
        open_sessions = _stored_sessions(api.get("/sessions"))
        assert open_sessions == before_sessions
        assert set(open_sessions) == {"bus-" + e.replace("/", "-") for e in EVSES}
        [envelope] = api.get("/envelopes")["envelopes"]
        assert {k: envelope[k] for k in _ENVELOPE_RECORD} == {
            k: before_envelopes[0][k] for k in _ENVELOPE_RECORD
        }
        assert envelope["withdrawn_at"] is None
        ids = [entry["id"] for entry in journal]
        assert ids == list(range(1, len(ids) + 1)), "journal ids are contiguous"
        assert journal[: len(before_journal)] == before_journal
        kinds = [entry["kind"] for entry in journal]
        assert kinds[0] == "revision.applied"
        assert kinds.count("session.started") == len(EVSES)
        assert kinds.count("envelope.received") == 1
        assert kinds.count("allocation.changed") >= len(EVSES) - 1
        # control resumes at once, not at the first tick (a simulated hour away): a
        # cycle of this process, and every open session's limit sent again
        wait_for(
            lambda: (
                {e["evse"] for e in api.journal(kind="allocation.changed", after_id=last_id)}
                >= set(EVSES)
            ),
            within_s=PROMPTLY_S,
            what="every session's limit journaled again after the restart",
        )
        assert api.allocations_total() >= 1, "a control cycle of the restarted controller"
        second.stop()


def _lock_pid(state_dir: Path) -> int:
    pid: int = json.loads((state_dir / "serve.lock").read_text())["pid"]
    return pid


def _stored_sessions(listed: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """The listed sessions as stored: without their outlook and readiness, which are
    computed at the controller's time (and move with it)."""
    computed = ("outlook", "readiness")
    return {s["id"]: {k: v for k, v in s.items() if k not in computed} for s in listed["sessions"]}
