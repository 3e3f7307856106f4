"""The writers of the crash drill (``test_crash_drill.py``): threads, each with its
own HTTP client, that apply site revisions, submit and withdraw envelopes, post
telemetry and start, schedule and end sessions through a controller's API until it is
killed, and the :class:`Ledger` of every write they sent and which were acknowledged.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx

from depotctl.controller.store import site_hash
from tests.conftest import SITES

AU_DEPOT = SITES / "au-bus-depot.yaml"
#: The two site texts the applier alternates: the AU bus depot, and the same depot with
#: its north DC board's breaker at 760 A instead of 800 A.
SITE_TEXTS = (
    AU_DEPOT.read_text(encoding="utf-8"),
    AU_DEPOT.read_text(encoding="utf-8").replace(
        "limits: {current: 800 A}", "limits: {current: 760 A}", 1
    ),
)
#: Telemetry goes to meters and a board (charger readings come over OCPP).
READ_NODES = ("m-main", "m-workshop", "db-dc-north")
#: The north board's EVSEs, where the sessions run.
EVSES = tuple(f"dc-{n:02d}/1" for n in range(1, 13))
#: How long anything may take before it is a hang (a loaded machine is slow, not stuck).
HANG_S = 120.0


# What was written


@dataclass
class Write:
    """One write request: who sent it, what it names and sends, and the controller's
    answer once it acknowledged the write (``None``: no answer, the kill took it)."""

    writer: str
    kind: str  # apply, envelope, withdraw, telemetry, session, requirement, end
    key: str  # the revision hash, envelope id or session id ("" for telemetry)
    body: Any
    run: int
    answer: Any = None

    @property
    def acknowledged(self) -> bool:
        return self.answer is not None


class Ledger:
    """Every write the drill sent, in the order each writer sent them, and which were
    acknowledged; wakes the drill when one is. Refusals (a non-2xx answer) and errors
    in a writer are kept to fail the test: no write here should be refused."""

    def __init__(self) -> None:
        self.writes: list[Write] = []
        self.refusals: list[str] = []
        self.errors: list[str] = []
        self._changed = threading.Condition()

    def sent(self, write: Write) -> Write:
        with self._changed:
            self.writes.append(write)
        return write

    def answered(self, write: Write, response: httpx.Response) -> bool:
        """Record the answer; whether the write was acknowledged."""
        if not response.is_success:
            self.refused(
                f"{write.kind} {write.key} (run {write.run}): {response.status_code} "
                f"{response.text[:300]}"
            )
            return False
        with self._changed:
            write.answer = response.json()
            self._changed.notify_all()
        return True

    def refused(self, what: str) -> None:
        with self._changed:
            self.refusals.append(what)
            self._changed.notify_all()

    def failed(self, writer: str, error: BaseException) -> None:
        with self._changed:
            self.errors.append(f"{writer}: {error!r}")
            self._changed.notify_all()

    def of(self, *kinds: str, acknowledged: bool | None = None) -> list[Write]:
        with self._changed:
            return [
                w
                for w in self.writes
                if w.kind in kinds and (acknowledged is None or w.acknowledged is acknowledged)
            ]

    def acknowledged_in(self, run: int, writer: str) -> int:
        with self._changed:
            return sum(
                1 for w in self.writes if (w.run, w.writer) == (run, writer) and w.acknowledged
            )

    def summary(self) -> str:
        """How many writes of each kind were acknowledged, and how many lost their answer."""
        with self._changed:
            sent = Counter(w.kind for w in self.writes)
            acknowledged = Counter(w.kind for w in self.writes if w.acknowledged)
        return "; ".join(
            f"{kind} {acknowledged[kind]} acknowledged, {sent[kind] - acknowledged[kind]} lost"
            for kind in sorted(sent)
        )

    def wait_until(self, condition: Callable[[], bool], *, what: str) -> None:
        deadline = time.monotonic() + HANG_S
        with self._changed:
            while not condition():
                assert not self.errors, self.errors
                assert not self.refusals, self.refusals
                left = deadline - time.monotonic()
                assert left > 0, f"{what} within {HANG_S} s"
                self._changed.wait(min(left, 1.0))


@dataclass(frozen=True)
class SimTime:
    """The controller's simulated time as a writer may stamp it: read once per run,
    then advanced by the wall clock at the clock's speed from the moment the answer
    came. The controller's clock had at least that time when it answered, so the
    estimate is never ahead of it (a reading is never "in the future")."""

    at: datetime
    speed: float
    read_at: float

    def now(self) -> datetime:
        return self.at + timedelta(seconds=self.speed * (time.monotonic() - self.read_at))


# The writers


@dataclass
class Stamps:
    """Reading times and values used so far, across runs: each node's readings have
    distinct times (a tie would make "the latest" ambiguous) and every value is new."""

    used: set[tuple[str, datetime]] = field(default_factory=set)
    sequence: int = 0

    def next(self, node: str, at: datetime) -> tuple[datetime, int]:
        at = at.astimezone(UTC).replace(microsecond=at.microsecond // 1000 * 1000)
        while (node, at) in self.used:
            at += timedelta(milliseconds=1)
        self.used.add((node, at))
        self.sequence += 1
        return at, self.sequence


@dataclass
class Writer:
    """A thread writing through the API until the controller dies (or ``stop``)."""

    name: str
    ledger: Ledger
    api: str
    token: str
    run: int
    clock: SimTime
    #: reading times and values so far (the meterer's; shared across runs)
    stamps: Stamps
    stop: threading.Event = field(default_factory=threading.Event)
    thread: threading.Thread | None = None

    def start(self) -> None:
        self.thread = threading.Thread(target=self._run, name=self.name, daemon=True)
        self.thread.start()

    def _run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        try:
            with httpx.Client(base_url=self.api + "/api/v1", headers=headers, timeout=60) as api:
                self.begin(api)
                n = 0
                while not self.stop.is_set():
                    self.step(api, n)
                    n += 1
        except httpx.TransportError:
            return  # the controller was killed: what was in flight has no answer
        except BaseException as error:  # pragma: no cover - reported by the drill
            self.ledger.failed(self.name, error)

    def send(
        self,
        api: httpx.Client,
        kind: str,
        key: str,
        method: str,
        path: str,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> Write:
        write = self.ledger.sent(Write(self.name, kind, key, body, self.run))
        self.ledger.answered(write, api.request(method, path, json=body, headers=headers))
        return write

    def begin(self, api: httpx.Client) -> None:
        """What the writer does first in each run."""

    def step(self, api: httpx.Client, n: int) -> None:
        raise NotImplementedError


class Applier(Writer):
    """Plan, then apply with ``If-Match`` the revision planned against: the two site
    texts in turn."""

    def step(self, api: httpx.Client, n: int) -> None:
        text = SITE_TEXTS[n % 2]
        planned = api.post("/plan", json={"site": text, "path": "sites/au-bus-depot.yaml"})
        if planned.status_code != 200:
            self.ledger.refused(
                f"plan (run {self.run}): {planned.status_code} {planned.text[:300]}"
            )
            self.stop.set()
            return
        base = planned.json()["base_revision"]
        self.send(
            api,
            "apply",
            site_hash(text),
            "POST",
            "/apply",
            {"site": text, "message": f"drill run {self.run} apply {n}", "author": "drill"},
            {"If-Match": f'"{base}"'},
        )


class Enveloper(Writer):
    """Envelopes on the grid connection, every other one withdrawn once stored."""

    def step(self, api: httpx.Client, n: int) -> None:
        envelope_id = f"drill-{self.run}-{n}"
        start = self.clock.now() - timedelta(minutes=10)
        body = {
            "id": envelope_id,
            "target": "gc-main",
            "limit": f"{900 + n} kW",
            "start": start.isoformat(),
            "end": (start + timedelta(days=1)).isoformat(),
        }
        stored = self.send(api, "envelope", envelope_id, "POST", "/envelopes", body)
        if stored.acknowledged and n % 2 == 0:
            self.send(api, "withdraw", envelope_id, "POST", f"/envelopes/{envelope_id}/withdraw")


class Meterer(Writer):
    """A batch of readings per request, one per node, each with a value never sent
    before (its power in W)."""

    def step(self, api: httpx.Client, n: int) -> None:
        now = self.clock.now()
        readings = []
        for node in READ_NODES:
            at, value = self.stamps.next(node, now)
            readings.append({"node": node, "at": at.isoformat(), "power": f"{value} W"})
        self.send(api, "telemetry", "", "POST", "/telemetry", {"readings": readings})


class Scheduler(Writer):
    """Sessions on the north board's EVSEs in turn: start (needing 250 kWh), set the
    fleet's requirement (300 kWh), end. First, it ends the sessions a kill left open."""

    def begin(self, api: httpx.Client) -> None:
        response = api.get("/sessions")
        assert response.status_code == 200, response.text
        for session in response.json()["sessions"]:
            self.send(api, "end", session["id"], "POST", f"/sessions/{session['id']}/end", {})

    def step(self, api: httpx.Client, n: int) -> None:
        session_id = f"drill-{self.run}-{n}"
        departure = self.clock.now() + timedelta(hours=6)
        started = self.send(
            api,
            "session",
            session_id,
            "POST",
            "/sessions",
            {
                "id": session_id,
                "evse": EVSES[n % len(EVSES)],
                "requirement": {"energy": "250 kWh", "departure": departure.isoformat()},
            },
        )
        if not started.acknowledged:
            return
        path = f"/sessions/{session_id}"
        requirement = {
            "energy": "300 kWh",
            "departure": (departure + timedelta(hours=1)).isoformat(),
        }
        self.send(api, "requirement", session_id, "PUT", path + "/requirement", requirement)
        self.send(api, "end", session_id, "POST", path + "/end", {"energy_delivered": "12 kWh"})


WRITERS: dict[str, type[Writer]] = {
    "applier": Applier,
    "enveloper": Enveloper,
    "meterer": Meterer,
    "scheduler": Scheduler,
}
