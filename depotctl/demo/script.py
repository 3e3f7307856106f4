"""What happens around the controller during the demo, over its API: the grid
operator's envelope cut posted 15 minutes before its start (at a fast clock's speed,
at least 2 s of wall time; at once if that is past),
or, where an OSCP source sends it, watched for until the controller has it; the fleet's
schedule for sessions whose vehicle does not say what it needs (OCPP 1.6), and a
record of ``/state`` through the night for the summary."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from depotctl.api import json_of
from depotctl.client.api import ApiError, ControllerClient, Unreachable
from depotctl.demo.scenario import Cut, Vehicle

POLL_S = 0.2
#: how long before its start the operator sends the evening cut (a grid operator's
#: envelopes arrive ahead of their window, as OSCP's capacity forecasts do) ...
NOTICE = timedelta(minutes=15)
#: ... and at least this much wall time before it at any speed: at ×7200 15 minutes are
#: 0.125 s, which a busy machine's scheduling (the script's poll, the simulated grid
#: operator's pass, an HTTP round trip) can outrun, so the cut would land in its window
NOTICE_WALL_S = 2.0


def notice(speed: float) -> timedelta:
    """How long before its window the cut is sent at ``speed`` times real time."""
    return max(NOTICE, timedelta(seconds=NOTICE_WALL_S * speed))


@dataclass(frozen=True, slots=True)
class LimitSample:
    """One node limit as ``/state`` showed it at ``at``."""

    at: datetime
    node: str
    kind: str
    unit: str
    effective: float
    reserved: float
    allocated: float
    source: str


@dataclass
class Script:
    """Runs in a thread until :meth:`stop`; everything it did is kept for the summary."""

    client: ControllerClient
    cuts: list[Cut]
    fleet: list[Vehicle]
    #: how long before its window a cut is posted, or looked for (:func:`notice`)
    lead: timedelta = NOTICE
    samples: list[LimitSample] = field(default_factory=list)
    #: each cut the controller has, with when: posted by the script, or received from
    #: its OSCP source (the cut's ``id`` then the envelope's, SOURCE:REQUEST:BLOCK:TARGET)
    posted: list[tuple[Cut, datetime]] = field(default_factory=list)
    schedules: dict[str, str] = field(default_factory=dict)  # session → vehicle
    errors: list[str] = field(default_factory=list)
    clock: datetime | None = None
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="demo-script", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(5)

    def _run(self) -> None:
        while not self._stop.is_set():
            try:
                self.step()
            except Unreachable:
                pass  # the controller is stopping, or busy; try again
            except ApiError as error:
                self._note(f"{error.code}: {error}")
            self._stop.wait(POLL_S)

    def step(self) -> None:
        """One round: read the state, post a cut that is due (or look for one an OSCP
        source sends), schedule new sessions."""
        state = json_of(self.client.state())
        at = datetime.fromisoformat(state["time"])
        self.clock = at
        self._record(at, state)
        done = {(c.source, c.target, c.start) for c, _ in self.posted}
        due = [
            cut
            for cut in self.cuts
            if cut.start - self.lead <= at < cut.end
            and (cut.source, cut.target, cut.start) not in done
        ]
        for cut in due:
            if cut.source == "local":
                self._post(cut, at)
        if any(cut.source != "local" for cut in due):
            self._find_received([cut for cut in due if cut.source != "local"], at)
        self._schedule()

    def _record(self, at: datetime, state: dict[str, Any]) -> None:
        for node in state.get("nodes", []):
            for limit in node.get("limits") or []:
                if limit.get("effective_limit") is None:
                    continue
                self.samples.append(
                    LimitSample(
                        at,
                        node["id"],
                        limit["kind"],
                        limit["unit"],
                        float(limit["effective_limit"]),
                        float(limit.get("reserved") or 0.0),
                        float(limit.get("allocated") or 0.0),
                        limit["source"]["text"],
                    )
                )

    def _post(self, cut: Cut, at: datetime) -> None:
        self.client.submit_envelope(
            envelope_id=cut.id,
            target=cut.target,
            limit=f"{cut.limit_w / 1000:g} kW",
            start=max(cut.start, at),
            end=cut.end,
            source="local",
        )
        self.posted.append((cut, at))

    def _find_received(self, cuts: list[Cut], at: datetime) -> None:
        """Each of ``cuts`` the controller has received from its source: the envelope of
        that source on the cut's target over its window, at the cut's limit."""
        envelopes = json_of(self.client.envelopes())["envelopes"]
        for cut in cuts:
            for envelope in envelopes:
                if (
                    envelope["source"] == cut.source
                    and envelope["target"] == cut.target
                    and envelope["direction"] == "import"
                    and envelope["mode"] == "normal"
                    and datetime.fromisoformat(envelope["start"]) == cut.start
                ):
                    received = datetime.fromisoformat(envelope["received_at"])
                    self.posted.append((replace(cut, id=envelope["id"]), received))
                    break

    def _schedule(self) -> None:
        by_evse = {v.evse: v for v in self.fleet}
        for session in json_of(self.client.sessions())["sessions"]:
            if session["id"] in self.schedules or session.get("requirement"):
                continue
            vehicle = by_evse.get(session["evse"])
            if vehicle is None:
                continue
            self.client.set_requirement(
                session["id"],
                energy=f"{vehicle.energy_wh / 1000:g} kWh",
                departure=vehicle.departure,
            )
            self.schedules[session["id"]] = vehicle.id

    def _note(self, message: str) -> None:
        if message not in self.errors:
            self.errors.append(message)
