"""The controller's HTTP API over real HTTP: the app on uvicorn (127.0.0.1, a free
port, in a background thread) with a real SQLite store in ``tmp_path``, talked to
with httpx."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import APIRouter, Body, FastAPI

from depotctl.config import compile_site
from depotctl.controller.app import create_app, include_api
from depotctl.controller.auth import Tokens, load_or_create_tokens
from depotctl.controller.clock import SimClock
from depotctl.controller.errors import MAX_BODY_BYTES
from depotctl.controller.service import Controller, checked_site
from depotctl.controller.store import Store, site_hash
from tests.conftest import SITES

AU_DEPOT = SITES / "au-bus-depot.yaml"
START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


@contextmanager
def serving(app: FastAPI) -> Iterator[str]:
    """Serve ``app`` on 127.0.0.1 (a free port) until the block ends; yields its URL."""
    # IPPROTO_TCP: asyncio then sets TCP_NODELAY (else ~40 ms a request: Nagle, delayed ACK)
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(
        uvicorn.Config(app, log_config=None, access_log=False, lifespan="off", log_level="error")
    )
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 60  # a hang, not a busy machine's slow start
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "server did not start"
        time.sleep(0.01)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(10)
        sock.close()


def _test_routes() -> APIRouter:
    """A mutating endpoint and a failing one, mounted like every later API endpoint."""
    router = APIRouter()

    @router.post("/test/echo")
    def echo(payload: dict[str, Any] = Body(...)) -> dict[str, Any]:  # noqa: B008
        return {"received": len(payload)}

    @router.get("/test/boom")
    def boom() -> None:
        raise RuntimeError("the engine fell over")

    return router


@dataclass
class Running:
    url: str
    tokens: Tokens
    clock: SimClock
    controller: Controller

    def client(self, token: str | None = "admin") -> httpx.Client:
        value = {"admin": self.tokens.admin, "readonly": self.tokens.readonly}.get(
            token or "", token
        )
        headers = {"Authorization": f"Bearer {value}"} if value else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=10)


@pytest.fixture(scope="module")
def depot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Running]:
    """The AU bus depot seeded into a fresh store, served with a clock at 60x."""
    state_dir = tmp_path_factory.mktemp("state")
    store = Store.open(state_dir / "depotctl.sqlite")
    clock = SimClock(START, speed=60)
    controller = Controller(store, clock, base_dir=AU_DEPOT.parent)
    controller.seed(AU_DEPOT, AU_DEPOT.read_text(encoding="utf-8"), author="test")
    tokens = load_or_create_tokens(state_dir)
    app = create_app(controller, tokens)
    include_api(app, _test_routes())
    with serving(app) as url:
        yield Running(url, tokens, clock, controller)
    controller.close()


# Open endpoints


def test_healthz_needs_no_token_and_names_the_revision(depot: Running) -> None:
    response = httpx.get(depot.url + "/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "revision": 1}


def test_metrics_count_allocations_without_a_token(depot: Running) -> None:
    def allocations() -> float:
        text = httpx.get(depot.url + "/metrics").text
        line = next(li for li in text.splitlines() if li.startswith("depotctl_allocations_total"))
        return float(line.split()[1])

    before = allocations()
    with depot.client() as client:
        assert client.get("/api/v1/state").status_code == 200
    assert allocations() == before + 1
    response = httpx.get(depot.url + "/metrics")
    assert response.headers["content-type"].startswith("text/plain")
    assert "depotctl_site_revision 1.0" in response.text


def test_openapi_is_published_with_the_bearer_scheme(depot: Running) -> None:
    document = httpx.get(depot.url + "/openapi.json").json()
    assert {"/api/v1/state", "/api/v1/clock", "/api/v1/journal"} <= set(document["paths"])
    schemes = document["components"]["securitySchemes"]
    assert any(s.get("scheme") == "bearer" for s in schemes.values())


def test_openapi_declares_the_error_shape_on_every_api_operation(depot: Running) -> None:
    # the fuzz's conformance checks (test_fuzz.py) need the errors declared; FastAPI's
    # own 422 body ({"detail": [...]}) is not this API's
    document = httpx.get(depot.url + "/openapi.json").json()
    operations = [
        operation
        for path, item in document["paths"].items()
        if path.startswith("/api/v1/")
        for operation in item.values()
    ]
    assert operations
    for operation in operations:
        error = operation["responses"]["4XX"]["content"]["application/json"]["schema"]
        assert error == {"$ref": "#/components/schemas/ErrorBody"}
        assert "422" not in operation["responses"]
    assert document["components"]["schemas"]["ErrorBody"]["required"] == ["code", "message"]
    assert "HTTPValidationError" not in document["components"]["schemas"]


# Tokens


def test_api_without_a_token_is_401_json(depot: Running) -> None:
    with depot.client(None) as client:
        response = client.get("/api/v1/state")
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


def test_api_with_a_wrong_token_is_401_json(depot: Running) -> None:
    with depot.client("not-a-token") as client:
        response = client.get("/api/v1/clock")
    assert response.status_code == 401
    assert response.json() == {"code": "unauthorized", "message": "invalid token"}


@pytest.mark.parametrize(
    ("method", "path", "content"),
    [
        ("POST", "/api/v1/test/echo", b"{not json"),
        ("DELETE", "/api/v1/clock", None),
        ("GET", "/api/v1/nothing-here", None),
        ("POST", "/api/v1/test/echo", b"x" * (MAX_BODY_BYTES + 1)),
    ],
    ids=["malformed-body", "wrong-method", "unknown-path", "huge-body"],
)
def test_without_a_token_nothing_but_401_is_told(
    depot: Running, method: str, path: str, content: bytes | None
) -> None:
    # found by the API fuzz (test_fuzz.py): the body was parsed (422), the route looked
    # up (404, 405) and the size checked (413) before the token
    with depot.client(None) as client:
        response = client.request(
            method, path, content=content, headers={"content-type": "application/json"}
        )
    assert response.status_code == 401
    assert response.json()["code"] == "unauthorized"
    assert response.headers["www-authenticate"] == "Bearer"


def test_a_readonly_write_is_403_whatever_its_body(depot: Running) -> None:
    with depot.client("readonly") as client:
        response = client.post(
            "/api/v1/test/echo", content=b"{not json", headers={"content-type": "application/json"}
        )
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_readonly_token_reads(depot: Running) -> None:
    with depot.client("readonly") as client:
        assert client.get("/api/v1/state").status_code == 200


def test_readonly_token_is_forbidden_to_change_anything(depot: Running) -> None:
    with depot.client("readonly") as client:
        response = client.post("/api/v1/test/echo", json={"a": 1})
    assert response.status_code == 403
    assert response.json()["code"] == "forbidden"


def test_admin_token_may_change_things(depot: Running) -> None:
    with depot.client() as client:
        response = client.post("/api/v1/test/echo", json={"a": 1, "b": 2})
    assert response.status_code == 200
    assert response.json() == {"received": 2}


# Errors


def test_a_body_over_one_mib_is_refused_with_413_json(depot: Running) -> None:
    with depot.client() as client:
        response = client.post(
            "/api/v1/test/echo",
            content=b"x" * (MAX_BODY_BYTES + 1),
            headers={"content-type": "application/json"},
        )
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_a_chunked_body_over_one_mib_is_refused_with_413_json(depot: Running) -> None:
    def chunks() -> Iterator[bytes]:
        for _ in range(17):
            yield b" " * 65536

    with depot.client() as client:
        response = client.post(
            "/api/v1/test/echo", content=chunks(), headers={"content-type": "application/json"}
        )
    assert "content-length" not in response.request.headers
    assert response.status_code == 413
    assert response.json()["code"] == "too_large"


def test_malformed_json_is_invalid_request(depot: Running) -> None:
    with depot.client() as client:
        response = client.post(
            "/api/v1/test/echo", content=b"{not json", headers={"content-type": "application/json"}
        )
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_request"
    assert body["problems"][0]["where"].startswith("body")


def test_an_unexpected_exception_is_a_json_500(depot: Running) -> None:
    with depot.client() as client:
        response = client.get("/api/v1/test/boom")
    assert response.status_code == 500
    assert response.json()["code"] == "internal"
    assert "RuntimeError" in response.json()["message"]


def test_an_unknown_path_is_404_json(depot: Running) -> None:
    with depot.client() as client:
        response = client.get("/api/v1/nothing-here")
    assert response.status_code == 404
    assert response.json()["code"] == "not_found"


def test_a_wrong_method_is_405_json(depot: Running) -> None:
    with depot.client() as client:
        response = client.delete("/api/v1/clock")
    assert response.status_code == 405
    assert response.json()["code"] == "invalid_request"


# Clock, site, revisions


def test_clock_is_the_controllers_simulated_clock(depot: Running) -> None:
    with depot.client() as client:
        outer_start = time.monotonic()
        first = client.get("/api/v1/clock").json()
        inner_start = time.monotonic()
        time.sleep(0.3)
        inner_end = time.monotonic()
        second = client.get("/api/v1/clock").json()
        outer_end = time.monotonic()
    assert first["kind"] == "sim" and first["speed"] == 60
    advanced = (
        datetime.fromisoformat(second["time"]) - datetime.fromisoformat(first["time"])
    ).total_seconds()
    # 60 clock seconds per real second, within the time the two requests took
    assert 60 * (inner_end - inner_start) <= advanced <= 60 * (outer_end - outer_start)


def test_site_is_the_seeded_revision_with_its_text(depot: Running) -> None:
    text = AU_DEPOT.read_text(encoding="utf-8")
    with depot.client("readonly") as client:
        body = client.get("/api/v1/site").json()
    assert body["number"] == 1
    assert body["hash"] == site_hash(text)
    assert body["name"] == "au-bus-depot"
    assert body["text"] == text
    assert body["author"] == "test"


def test_revisions_list_the_seeded_revision(depot: Running) -> None:
    with depot.client() as client:
        body = client.get("/api/v1/revisions").json()
    assert body["current"] == 1
    assert [r["number"] for r in body["revisions"]] == [1]
    assert "text" not in body["revisions"][0]


# State and explain


def test_state_has_every_evse_and_node_of_the_site(depot: Running) -> None:
    topology, _ = compile_site(
        checked_site(AU_DEPOT.read_text(encoding="utf-8"), path=AU_DEPOT), AU_DEPOT.parent
    )
    with depot.client() as client:
        body = client.get("/api/v1/state").json()
    assert {e["id"] for e in body["evses"]} == set(topology.evses)
    assert {n["id"] for n in body["nodes"]} == set(topology.nodes)
    grid = next(n for n in body["nodes"] if n["type"] == "grid_connection")
    for field in ("effective_limit", "source", "reserved", "allocated", "headroom"):
        assert grid[field] is not None, field
    for evse in body["evses"]:
        assert {"limit_a", "limit_kw", "state", "binding"} <= set(evse)
    assert body["revision"]["number"] == 1
    at = datetime.fromisoformat(body["time"])
    assert abs((at - depot.clock.now()).total_seconds()) < 120


def test_explain_of_a_real_evse_gives_its_candidates(depot: Running) -> None:
    with depot.client("readonly") as client:
        response = client.get("/api/v1/explain/dc-01%2F1")
    assert response.status_code == 200
    evse = response.json()["evse"]
    assert evse["id"] == "dc-01/1"
    assert evse["candidates"], "explain lists the candidate limits"
    assert "binding" in evse


def test_explain_of_an_unknown_evse_is_404_with_did_you_mean(depot: Running) -> None:
    with depot.client() as client:
        response = client.get("/api/v1/explain/dc-01%2F9")
    assert response.status_code == 404
    body = response.json()
    assert body["code"] == "not_found"
    assert body["evse"] == "dc-01/9"
    assert body["did_you_mean"] == "dc-01/1"
    assert 'did you mean "dc-01/1"' in body["message"]


# Journal


def test_journal_holds_the_seeding_and_filters(depot: Running) -> None:
    with depot.client() as client:
        entries = client.get("/api/v1/journal").json()["entries"]
        assert [e["kind"] for e in entries] == ["revision.applied"]
        assert entries[0]["data"]["revision"] == 1
        none = {"entries": [], "next": None, "remaining": 0, "next_at": None}
        assert client.get("/api/v1/journal", params={"evse": "dc-01/1"}).json() == none
        later = client.get("/api/v1/journal", params={"since": "2099-01-01T00:00:00Z"})
        assert later.json() == none


@pytest.mark.parametrize(
    "params",
    [
        {"since": "2026-01-01T00:00:00"},
        {"limit": "0"},
        {"since": "yesterday"},
        # found by the API fuzz (test_fuzz.py): OverflowError converting to UTC, a 500
        {"since": "0001-01-01T00:00:00+01:00"},
        {"until": "9999-12-31T23:00:00-05:00"},
    ],
    ids=["naive-since", "limit-0", "not-a-time", "since-year-1", "until-year-9999"],
)
def test_journal_refuses_bad_queries_with_422(depot: Running, params: dict[str, str]) -> None:
    with depot.client() as client:
        response = client.get("/api/v1/journal", params=params)
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_request"


# A controller without a site


def test_without_a_site_state_is_404_and_healthz_says_none(tmp_path: Path) -> None:
    store = Store.open(tmp_path / "depotctl.sqlite")
    controller = Controller(store, SimClock(START), base_dir=tmp_path)
    tokens = load_or_create_tokens(tmp_path)
    try:
        with serving(create_app(controller, tokens)) as url:
            assert httpx.get(url + "/healthz").json()["revision"] is None
            headers = {"Authorization": f"Bearer {tokens.admin}"}
            response = httpx.get(url + "/api/v1/state", headers=headers)
            assert response.status_code == 404
            assert response.json()["code"] == "not_found"
            assert "--site" in response.json()["message"]
    finally:
        controller.close()


def test_whoami_names_the_tokens_role(depot: Running) -> None:
    for token, role, may_write in (("admin", "admin", True), ("readonly", "readonly", False)):
        with depot.client(token) as client:
            response = client.get("/api/v1/whoami")
        assert response.status_code == 200
        assert response.json() == {"role": role, "may_write": may_write}
    with depot.client(None) as client:
        assert client.get("/api/v1/whoami").status_code == 401
