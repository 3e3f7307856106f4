"""``GET /api/v1/events`` over real HTTP: the journal as server-sent events, resumed
with ``Last-Event-ID`` or ``?since_id=``, ended by the client or by the server
stopping. The app runs on uvicorn in a thread (no control loop) or as a real
``depotctl serve`` process (with its control loop)."""

from __future__ import annotations

import json
import signal
import socket
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from depotctl.controller.app import create_app, include_api
from depotctl.controller.auth import load_or_create_tokens
from depotctl.controller.errors import install_error_handlers
from depotctl.controller.routes.events import event_routes
from tests.controller.test_app import AU_DEPOT, Running, serving
from tests.controller.test_inputs import fresh_controller
from tests.controller.test_serve import Process, serve


@dataclass(frozen=True)
class Event:
    """One server-sent event, or a comment line (``comment`` set, the rest None)."""

    id: int | None = None
    kind: str | None = None
    data: dict[str, Any] | None = None
    comment: str | None = None


def read_events(response: httpx.Response) -> Iterator[Event]:
    """The events and comments of an ``text/event-stream`` response, as they arrive."""
    fields: dict[str, str] = {}
    for line in response.iter_lines():
        if line.startswith(":"):
            yield Event(comment=line[1:].strip())
        elif line == "":
            if fields:
                yield Event(
                    id=int(fields["id"]) if "id" in fields else None,
                    kind=fields.get("event"),
                    data=json.loads(fields["data"]) if "data" in fields else None,
                )
            fields = {}
        else:
            name, _, value = line.partition(":")
            fields[name] = value.removeprefix(" ")


def events_until(
    stream: Iterator[Event], done: Callable[[Event], bool], *, within_s: float = 30
) -> list[Event]:
    """The events (not comments) read from ``stream`` until one satisfies ``done``
    (included); ``within_s`` tells a stream that never delivers from a busy machine."""
    deadline = time.monotonic() + within_s
    seen = []
    for event in stream:
        assert time.monotonic() < deadline, f"no matching event within {within_s} s: {seen}"
        if event.comment is not None:
            continue
        seen.append(event)
        if done(event):
            return seen
    pytest.fail(f"the stream ended before a matching event: {seen}")


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


def session(session_id: str, evse: str) -> dict[str, Any]:
    return {"id": session_id, "evse": evse, "vehicle_max_current": "200 A"}


@pytest.fixture
def depot(tmp_path: Path) -> Iterator[Running]:
    """The AU bus depot (revision 1 journaled as entry 1) served in a thread, its clock
    standing still; no control loop."""
    controller, clock = fresh_controller(tmp_path)
    tokens = load_or_create_tokens(tmp_path)
    try:
        with serving(create_app(controller, tokens)) as url:
            yield Running(url, tokens, clock, controller)
    finally:
        controller.close()


def start_sessions(depot: Running, *evses: str) -> list[int]:
    """Start a session on each EVSE; the journal ids of their ``session.started``."""
    ids = []
    with depot.client() as client:
        for evse in evses:
            session_id = "bus-" + evse.replace("/", "-")
            assert (
                client.post("/api/v1/sessions", json=session(session_id, evse)).status_code == 201
            )
            [entry] = client.get("/api/v1/journal", params={"session": session_id}).json()[
                "entries"
            ]
            ids.append(entry["id"])
    return ids


def test_a_new_session_is_an_event_with_its_journal_id_kind_and_json(depot: Running) -> None:
    with depot.client() as client, client.stream("GET", "/api/v1/events") as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        assert response.headers["cache-control"] == "no-cache"
        [started] = start_sessions(depot, "dc-01/1")
        [event] = events_until(read_events(response), lambda e: True)
        [entry] = client.get("/api/v1/journal", params={"session": "bus-dc-01-1"}).json()["entries"]
    # the first event is the new entry: the seeding (entry 1) is not replayed
    assert (event.id, event.kind) == (started, "session.started")
    assert event.data == entry
    assert event.data["evse"] == "dc-01/1"


def test_last_event_id_resumes_after_that_entry_without_repeats(depot: Running) -> None:
    first, second, third = start_sessions(depot, "dc-01/1", "dc-02/1", "dc-03/1")
    headers = {"Last-Event-ID": str(first)}
    with depot.client() as client, client.stream("GET", "/api/v1/events", headers=headers) as r:
        [fourth] = start_sessions(depot, "dc-04/1")
        seen = events_until(read_events(r), lambda e: e.id == fourth)
    assert [e.id for e in seen] == [second, third, fourth]
    assert [e.data["session"] for e in seen if e.data] == [
        "bus-dc-02-1",
        "bus-dc-03-1",
        "bus-dc-04-1",
    ]


def test_since_id_zero_replays_the_whole_journal_from_the_seeding(depot: Running) -> None:
    [started] = start_sessions(depot, "dc-01/1")
    with depot.client() as client, client.stream("GET", "/api/v1/events?since_id=0") as r:
        seen = events_until(read_events(r), lambda e: e.id == started)
    assert [(e.id, e.kind) for e in seen] == [(1, "revision.applied"), (started, "session.started")]
    assert seen[0].data is not None and seen[0].data["data"]["revision"] == 1


def test_last_event_id_wins_over_since_id(depot: Running) -> None:
    first, second = start_sessions(depot, "dc-01/1", "dc-02/1")
    headers = {"Last-Event-ID": str(first)}
    with (
        depot.client() as client,
        client.stream("GET", "/api/v1/events?since_id=0", headers=headers) as response,
    ):
        [event] = events_until(read_events(response), lambda e: True)
    assert event.id == second


def test_the_journal_route_follows_with_after_id(depot: Running) -> None:
    first, second = start_sessions(depot, "dc-01/1", "dc-02/1")
    with depot.client() as client:
        entries = client.get("/api/v1/journal", params={"after_id": first}).json()["entries"]
    assert [e["id"] for e in entries] == [second]


def test_events_need_a_token_and_the_readonly_one_may_follow(depot: Running) -> None:
    response = httpx.get(depot.url + "/api/v1/events")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    with depot.client("readonly") as client, client.stream("GET", "/api/v1/events") as stream:
        assert stream.status_code == 200


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({"Last-Event-ID": "abc"}, ""),
        ({"Last-Event-ID": "-3"}, ""),
        ({}, "?since_id=-1"),
        ({}, "?since_id=99999999999999999999"),
    ],
    ids=["id-not-a-number", "id-negative", "since-negative", "since-too-large"],
)
def test_a_bad_resume_point_is_a_json_422(
    depot: Running, headers: dict[str, str], query: str
) -> None:
    with depot.client() as client:
        response = client.get("/api/v1/events" + query, headers=headers)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"


def test_a_quiet_stream_gets_keep_alive_comments(tmp_path: Path) -> None:
    controller, _ = fresh_controller(tmp_path)
    tokens = load_or_create_tokens(tmp_path)
    app = FastAPI()
    app.state.controller = controller
    app.state.tokens = tokens
    install_error_handlers(app)
    include_api(app, event_routes(poll_s=0.02, keep_alive_s=0.2))
    try:
        with (
            serving(app) as url,
            httpx.stream("GET", url + "/api/v1/events", headers=bearer(tokens.admin)) as response,
        ):
            started = time.monotonic()
            first = next(read_events(response))
            waited = time.monotonic() - started
    finally:
        controller.close()
    assert first == Event(comment="keep-alive")
    assert 0.15 <= waited < 30  # not before its interval; the bound only tells a hang


def test_a_client_that_disconnects_ends_its_stream(tmp_path: Path) -> None:
    """uvicorn stops only once every request has finished: the stream must end when
    its client goes."""
    controller, _ = fresh_controller(tmp_path)
    tokens = load_or_create_tokens(tmp_path)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(
        uvicorn.Config(
            create_app(controller, tokens),
            log_config=None,
            access_log=False,
            lifespan="off",
            log_level="error",
        )
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        while not server.started:
            assert thread.is_alive()
            time.sleep(0.01)
        url = f"http://127.0.0.1:{sock.getsockname()[1]}/api/v1/events?since_id=0"
        with httpx.stream("GET", url, headers=bearer(tokens.admin)) as response:
            [event] = events_until(read_events(response), lambda e: True)
            assert event.kind == "revision.applied"
        # the client is gone; a stream still running would hold the shutdown up
        server.should_exit = True
        thread.join(5)
        assert not thread.is_alive(), "the server is still waiting for the stream to end"
    finally:
        server.should_exit = True
        thread.join(5)
        sock.close()
        controller.close()


# A real `depotctl serve`: the control loop journals allocations


def token(process: Process, role: str = "admin") -> str:
    return (process.state_dir / "tokens" / f"{role}.token").read_text().strip()


def test_serve_streams_a_session_then_its_allocation_and_stops_with_a_stream_open(
    tmp_path: Path,
) -> None:
    # shadow mode: no charger connects here, and only in shadow mode is a charger that
    # never connected decided for (elsewhere it counts at its rating, uncontrollable)
    with serve(
        tmp_path, "--site", str(AU_DEPOT), "--clock", "sim", "--speed", "60", "--shadow"
    ) as running:
        headers = bearer(token(running))
        with httpx.stream(
            "GET", running.api + "/api/v1/events", headers=headers, timeout=10
        ) as response:
            stream = read_events(response)
            created = httpx.post(
                running.api + "/api/v1/sessions",
                json=session("bus-0417", "dc-01/1"),
                headers=headers,
            )
            assert created.status_code == 201
            seen = events_until(
                stream,
                lambda e: (
                    e.kind == "allocation.changed"
                    and e.data is not None
                    and e.data["evse"] == "dc-01/1"
                ),
            )
            kinds = [e.kind for e in seen]
            assert "session.started" in kinds
            assert kinds.index("session.started") < kinds.index("allocation.changed")
            allocation = seen[-1].data
            assert allocation is not None
            assert (allocation["evse"], allocation["session"]) == ("dc-01/1", "bus-0417")
            assert allocation["data"]["limit_a"] > 0
            # SIGTERM with the stream open: the server ends the stream and exits
            stopped = time.monotonic()
            running.process.send_signal(signal.SIGTERM)
            rest = list(stream)  # returns once the server closes it
            assert all(e.kind != "session.started" for e in rest)
        code = running.process.wait(timeout=30)
        assert code == 0
        # a stream held open would keep it up for good; a busy machine is only slow
        assert time.monotonic() - stopped < 30
