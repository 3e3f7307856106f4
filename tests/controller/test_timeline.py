"""Timelines over real HTTP: the real ASGI app served by uvicorn over a real SQLite
store that the real control loop filled on a simulated clock moved by the test (a
session charging, chargers' readings every minute, an envelope that cut the site for
six minutes), and older readings folded into quarter hours by the store's own
compaction. Every expectation is worked out from what the test put in and what the
journal holds, not from the timeline's code."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import httpx
import pytest

from depotctl.controller.clock import SimClock
from depotctl.controller.dispatch import RecordingDispatcher
from depotctl.controller.loop import ControlLoop
from depotctl.controller.service import Controller
from depotctl.controller.store import JournalKind
from depotctl.controller.store.compaction import Compactor
from depotctl.domain.envelopes import Direction, Envelope, LimitUnit
from depotctl.domain.phases import Phase
from depotctl.domain.telemetry import Reading
from tests.controller.test_time_travel import START, arrive, controller_of
from tests.controller.test_vehicles import http_api

#: A day long before the night, whose minutes the test folds into quarter hours.
OLD_DAY = START - timedelta(days=40)


@dataclass
class Depot:
    controller: Controller
    http: httpx.Client
    end: datetime
    #: the amps per line chg-01 read, and the watts each charger read, by minute
    amps: dict[datetime, float] = field(default_factory=dict)
    watts: dict[datetime, float] = field(default_factory=dict)
    old_amps: dict[datetime, float] = field(default_factory=dict)


def cycles(controller: Controller, loop: ControlLoop, seconds: float) -> None:
    """Time passes; a cycle, and a second later the cycle that takes in its outcomes."""
    clock = controller.clock
    assert isinstance(clock, SimClock)
    clock.advance(seconds)
    asyncio.run(loop.cycle("tick"))
    clock.advance(1)
    asyncio.run(loop.cycle("the outcomes"))


def minute_of(at: datetime) -> datetime:
    return at.replace(second=0, microsecond=0)


@pytest.fixture(scope="module")
def depot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Depot]:
    tmp_path: Path = tmp_path_factory.mktemp("timeline")
    controller = controller_of(tmp_path)
    loop = ControlLoop(controller, RecordingDispatcher())
    uow = controller.units()
    found = Depot(controller, httpx.Client(), START)
    cycles(controller, loop, 5)
    arrive(controller, "chg-01/1", "S-1", 40.0, 8.0)
    for m in range(30):
        now = controller.clock.now()
        amps = 10.0 + 0.5 * m
        currents = {Phase.L1: amps, Phase.L2: amps - 1.0, Phase.L3: amps - 2.0}
        uow.telemetry.put(
            [
                Reading("chg-01", now, power_w=690.0 * amps, current_a=currents),
                Reading("chg-02", now, power_w=1_000.0),
            ]
        )
        found.amps[minute_of(now)] = amps
        found.watts[minute_of(now)] = 690.0 * amps + 1_000.0
        if m == 10:  # a cut to 12 kW from 2 minutes on, for 6 minutes
            uow.sources.heard_from("local", now)
            start, end = now + timedelta(minutes=2), now + timedelta(minutes=8)
            uow.envelopes.put(
                Envelope(
                    "E-cut",
                    "local",
                    "gc-main",
                    Direction.IMPORT,
                    12e3,
                    LimitUnit.W,
                    start,
                    end,
                    now,
                )
            )
        cycles(controller, loop, 59)
    for m in range(60):  # an old day's hour, folded into quarter hours below
        at = OLD_DAY + timedelta(minutes=m, seconds=20)
        amps = 5.0 + (m * 7) % 13
        uow.telemetry.put([Reading("chg-01", at, power_w=690.0 * amps, current_a={Phase.L1: amps})])
        found.old_amps[minute_of(at)] = amps
    Compactor(uow.store).downsample_telemetry(
        before=OLD_DAY + timedelta(hours=1), max_minutes=10_000
    )
    found.end = controller.clock.now()
    try:
        with http_api(controller, tmp_path) as http:
            found.http = http
            yield found
    finally:
        controller.close()


def timeline(depot: Depot, subject: str, since: datetime, until: datetime) -> dict[str, Any]:
    response = depot.http.get(
        f"/api/v1/timeline/{subject.replace('/', '%2F')}",
        params={"since": since.isoformat(), "until": until.isoformat()},
    )
    assert response.status_code == 200, response.text
    return response.json()  # type: ignore[no-any-return]


def at_of(point: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(point["at"])


def journaled_limits(depot: Depot) -> list[tuple[datetime, float]]:
    entries = depot.controller.units().journal.entries(
        kind=JournalKind.ALLOCATION_CHANGED, evse="chg-01/1", limit=10_000
    )
    return [(e.at, e.data["limit_a"]) for e in entries]


def test_an_evse_is_its_chargers_amps_against_the_decision_in_force(depot: Depot) -> None:
    answer = timeline(depot, "chg-01/1", START, depot.end)
    assert (answer["kind"], answer["unit"], answer["step_s"]) == ("evse", "A", 60)
    assert answer["meters"] == ["chg-01"]
    points = answer["points"]
    assert len(points) == 31  # 30 min 35 s in whole minutes
    assert {at_of(p): p["load"] for p in points if p["load"] is not None} == depot.amps
    assert all(p["resolution_s"] == 60 for p in points if p["load"] is not None)
    changes = journaled_limits(depot)
    assert len(changes) >= 3  # its first limit, the cut, and after it
    for point in points:
        start = at_of(point)
        end = start + timedelta(minutes=1)
        before = [amps for at, amps in changes if at <= start]
        within = [amps for at, amps in changes if start < at < end]
        held = ([before[-1]] if before else []) + within
        assert point["limit"] == (min(held) if held else None), point
    # the cut shows: the decision under it is below the one before it
    [cut] = answer["envelopes"]
    limits = {at_of(p): p["limit"] for p in points}
    begin = datetime.fromisoformat(cut["begin"])
    before_cut = minute_of(begin) - timedelta(minutes=1)
    assert limits[minute_of(begin) + timedelta(minutes=2)] < limits[before_cut]


def test_a_node_sums_the_meters_below_it_and_the_envelope_tightens_its_limit(
    depot: Depot,
) -> None:
    answer = timeline(depot, "gc-main", START, depot.end)
    assert (answer["kind"], answer["unit"]) == ("node", "W")
    assert answer["meters"] == ["chg-01", "chg-02"]
    points = answer["points"]
    loads = {at_of(p): p["load"] for p in points if p["load"] is not None}
    assert loads == pytest.approx(depot.watts)
    states = depot.controller.units().journal.entries(
        kind=JournalKind.ENVELOPE_STATE, envelope="E-cut", limit=100
    )
    began = next(e.at for e in states if e.data["to"] == "active")
    ended = next(e.at for e in states if e.data["from"] == "active")
    [cut] = answer["envelopes"]
    assert cut == {
        "envelope": "E-cut",
        "source": "local",
        "target": "gc-main",
        "begin": began.isoformat(),
        "end": ended.isoformat(),
        "limit": 12_000.0,
        "unit": "W",
        "mode": "normal",
    }
    for point in points:
        start = at_of(point)
        under = start < ended and start + timedelta(minutes=1) > began
        assert point["limit"] == (12_000.0 if under else 100_000.0), point


def test_a_long_window_keeps_at_most_1500_steps_and_every_peak(depot: Depot) -> None:
    since = depot.end - timedelta(days=3)
    answer = timeline(depot, "chg-01/1", since, depot.end)
    assert answer["step_s"] == 180  # 4,320 minutes in 1,500 steps: 3 minutes each
    assert len(answer["points"]) <= 1500
    loads = [p["load"] for p in answer["points"] if p["load"] is not None]
    assert max(loads) == max(depot.amps.values())
    assert len(loads) == 11  # the 30 minutes in 3-minute steps (and one step they touch)


def test_past_the_raw_retention_the_steps_are_quarter_hours(depot: Depot) -> None:
    answer = timeline(depot, "chg-01/1", OLD_DAY, OLD_DAY + timedelta(hours=1))
    read = [p for p in answer["points"] if p["load"] is not None]
    assert {p["resolution_s"] for p in read} == {900}
    assert len(read) == 60  # every minute of the hour lies in a quarter with readings
    for point in read:
        start = at_of(point)
        quarter = start.replace(minute=start.minute // 15 * 15)
        peak = max(
            a for at, a in depot.old_amps.items() if quarter <= at < quarter + timedelta(minutes=15)
        )
        assert point["load"] == peak


def test_an_unknown_subject_is_a_404_naming_it_and_the_likely_one(depot: Depot) -> None:
    response = depot.http.get("/api/v1/timeline/chg-01%2F9")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found"
    assert '"chg-01/9"' in body["message"]
    assert body["did_you_mean"] == "chg-01/1"


def test_a_window_that_runs_backwards_is_refused_in_words(depot: Depot) -> None:
    response = depot.http.get(
        "/api/v1/timeline/gc-main",
        params={"since": depot.end.isoformat(), "until": START.isoformat()},
    )
    assert response.status_code == 400
    assert "is not before until" in response.json()["message"]


def test_without_a_window_it_is_the_last_12_hours(depot: Depot) -> None:
    answer = depot.http.get("/api/v1/timeline/gc-main").json()
    until = datetime.fromisoformat(answer["until"])
    assert until == depot.end
    assert until - datetime.fromisoformat(answer["since"]) == timedelta(hours=12)
    assert answer["until"].endswith("+00:00")  # UTC in JSON


def test_times_are_utc_whatever_offset_the_window_was_asked_in(depot: Depot) -> None:
    local = timezone(timedelta(hours=11))
    answer = timeline(depot, "gc-main", START.astimezone(local), depot.end.astimezone(local))
    times = [answer["since"], answer["until"], *(p["at"] for p in answer["points"])]
    assert all(t.endswith("+00:00") for t in times)
    assert datetime.fromisoformat(answer["since"]) == START
