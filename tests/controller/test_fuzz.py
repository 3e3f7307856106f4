"""The controller's published OpenAPI, fuzzed with schemathesis against a real server.

Each test serves a fresh controller (uvicorn on 127.0.0.1, its own SQLite file in
``tmp_path``, the AU bus depot with open and ended sessions and an envelope), loads
``/openapi.json`` from it and runs schemathesis's examples, coverage and fuzzing phases
over every operation but the event stream (which never ends): once with the admin
token, once with the read-only token, once with none. Every response must be below
500, and every error JSON with a message and a stable code; a read-only write is 403,
a request without a valid token 401.

The run is short and the same every time: a fixed seed, derandomized generation, no
example database, no health check that times generation, ``MAX_EXAMPLES`` fuzzed cases
per operation with the admin token (the run that reaches the handlers) and a third of
them with the others (whose answer is decided by the token before any handler runs; the
coverage phase still sends them every kind of malformed input, and the token must win
over all of it). Each test's ``[deep]`` run (``pytest -m slow``, and CI's deep-fuzz
stage on a smaller budget) sends ``DEEP_EXAMPLES`` fuzzed cases (a third of them without
the admin token) and only those. Now and then a case's
named fields take values from a fuzz dictionary (``DICTIONARY``): the depot's real ids,
so that the case gets past "not found" into the handler, and edge values (times at the
ends of ``datetime``, integers beyond SQLite's) that a short random run seldom draws.
Checked: no 5xx (``not_a_server_error``), every error JSON with a stable code and a
message, and every response's status, content type and body as the OpenAPI document
declares them.
"""

from __future__ import annotations

import os
import re
from collections import defaultdict
from collections.abc import Iterator
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import strategies as st
from schemathesis import BaseSchema, Case, CheckContext, CheckFunction, HookContext, Response
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_schema_conformance,
    status_code_conformance,
)
from schemathesis.config import HealthCheck

from depotctl.controller.app import API_PREFIX, create_app
from depotctl.controller.auth import READ_METHODS, Tokens, load_or_create_tokens
from tests.controller.test_app import AU_DEPOT, serving
from tests.controller.test_inputs import START, fresh_controller

#: The run is the same every time; set DEPOTCTL_FUZZ_SEED and DEPOTCTL_FUZZ_EXAMPLES
#: (say 500) for a longer, different run by hand.
SEED = int(os.environ.get("DEPOTCTL_FUZZ_SEED", "20260302"))
#: Fuzzed cases per operation with the admin token; with the read-only token and none, a
#: third of them. The examples and coverage phases add their own, most of the run (about
#: 35 an operation).
MAX_EXAMPLES = int(os.environ.get("DEPOTCTL_FUZZ_EXAMPLES", "5"))
#: the deep runs' budget per operation: 500 (the hardening issue's bar) by hand or in
#: the nightly; CI runs them with a small one (``.ci/run``: DEPOTCTL_DEEP_FUZZ_EXAMPLES)
DEEP_EXAMPLES = int(os.environ.get("DEPOTCTL_DEEP_FUZZ_EXAMPLES", "500"))
#: The server-sent event stream never ends: it has tests of its own (test_events.py).
EVENTS = API_PREFIX + "/events"

_AU_TEXT = AU_DEPOT.read_text(encoding="utf-8")


def _at(minutes: float) -> str:
    return (START + timedelta(minutes=minutes)).isoformat()


#: Valid times at the ends of what ISO 8601 and ``datetime`` can say, and of SQLite's
#: integers: a short random run seldom draws them.
EDGE_TIMES = [
    "0001-01-01T00:00:00+14:00",
    "0999-12-31T23:59:59Z",
    "1969-12-31T23:59:59.999999Z",
    "9999-12-31T23:59:59.999999Z",
    "9999-12-31T23:00:00-12:00",
]
EDGE_INTEGERS = [2**63, -(2**63) - 1, 2**53 + 1]

#: The fuzz dictionary: the depot's real ids, its site text and revision, times around
#: its clock, and the edge values. Now and then every field of a generated path, query,
#: header or body (at any depth) that has one of these names gets one of these values
#: (all such fields of a case at once, so that a case gets past "not found").
DICTIONARY: dict[str, list[Any]] = {
    "session_id": ["bus-0417", "bus-0422", "bus-0399"],
    "envelope_id": ["env-1", "env-0"],
    "evse_id": ["dc-01/1", "dc-02/1", "pan-01/1", "ac-01/1"],
    "evse": ["dc-01/1", "dc-03/1", "pan-01/1", "ac-01/1"],
    "node": ["gc-main", "db-dc-north", "dc-01"],
    "target": ["gc-main", "db-dc-north"],
    "source": ["local", "ausgrid-oscp"],
    "number": [1],
    "revision": [1],
    "site": [_AU_TEXT, _AU_TEXT.replace("import: 1200 kW", "import: 1100 kW", 1)],
    "If-Match": ['"1"'],
    "start": [_at(0), _at(60), *EDGE_TIMES],
    "end": [None, _at(240), *EDGE_TIMES],
    "started": [None, _at(-30), *EDGE_TIMES],
    "ended_at": [None, _at(30), *EDGE_TIMES],
    "departure": [_at(480), *EDGE_TIMES],
    "at": [_at(0), *EDGE_TIMES],
    "since": [_at(-60), *EDGE_TIMES],
    "until": [_at(60), *EDGE_TIMES],
    "priority": [0, *EDGE_INTEGERS],
    "priority_class": [0, *EDGE_INTEGERS],
}
_CODE = re.compile(r"^[a-z][a-z_]*$")


@dataclass
class Fuzzed:
    """A served controller and what the fuzz run sent it: per operation, the status of
    every response to a request carrying ``token``."""

    url: str
    token: str | None
    statuses: dict[str, list[int]] = field(default_factory=lambda: defaultdict(list))

    def sent_token(self, response: Response) -> str | None:
        header = response.request.headers.get("Authorization")
        if isinstance(header, bytes):
            header = header.decode("latin-1")
        return header.removeprefix("Bearer ") if header else None


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[str, Tokens]]:
    """A fresh controller with two open sessions, an ended one, an envelope and a
    withdrawn one, served on loopback; yields its URL and tokens."""
    controller, _ = fresh_controller(tmp_path)
    tokens = load_or_create_tokens(tmp_path)
    app = create_app(controller, tokens)
    try:
        with serving(app) as url:
            _seed(url, tokens.admin)
            yield url, tokens
    finally:
        controller.close()


def _seed(url: str, token: str) -> None:
    writes: list[tuple[str, dict[str, Any] | None]] = [
        ("/sessions", {"id": "bus-0399", "evse": "dc-03/1", "energy_delivered": "40 kWh"}),
        ("/sessions/bus-0399/end", {"energy_delivered": "90 kWh"}),
        (
            "/sessions",
            {
                "id": "bus-0417",
                "evse": "dc-01/1",
                "requirement": {"energy": "180 kWh", "departure": _at(8 * 60)},
            },
        ),
        ("/sessions", {"id": "bus-0422", "evse": "dc-02/1", "vehicle_max_current": "200 A"}),
        ("/envelopes", {"id": "env-0", "target": "gc-main", "limit": "600 kW", "start": _at(0)}),
        ("/envelopes/env-0/withdraw", None),
        (
            "/envelopes",
            {
                "id": "env-1",
                "target": "gc-main",
                "limit": "800 kW",
                "start": _at(60),
                "end": _at(180),
            },
        ),
    ]
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=url + API_PREFIX, headers=headers, timeout=10) as client:
        for path, body in writes:
            response = client.post(path, json=body)
            assert response.status_code in (200, 201), (path, response.text)


@dataclass(frozen=True)
class Budget:
    """A run's fuzzed cases per operation with the admin token (a third of them with the
    others), and its schemathesis phases."""

    admin: int
    phases: tuple[str, ...]

    @property
    def others(self) -> int:
        return max(1, self.admin // 3)


#: The suite's runs: the OpenAPI's examples, the coverage phase's every kind of malformed
#: input (both the same every run) and the fuzzed cases. The deep runs add fuzzed cases
#: only: the others are the suite's already.
SUITE = Budget(MAX_EXAMPLES, ("examples", "coverage", "fuzzing"))
DEEP = Budget(DEEP_EXAMPLES, ("fuzzing",))


@pytest.fixture(
    params=[pytest.param(SUITE, id="suite"), pytest.param(DEEP, id="deep", marks=pytest.mark.slow)]
)
def budget(request: pytest.FixtureRequest) -> Budget:
    chosen: Budget = request.param
    return chosen


def _schema(fuzzed: Fuzzed, max_examples: int, phases: tuple[str, ...]) -> BaseSchema:
    """The server's own OpenAPI, configured for a short deterministic run of ``phases``
    that sends ``fuzzed.token``, ``max_examples`` fuzzed cases per operation."""
    config = schemathesis.Config()
    schema = schemathesis.openapi.from_url(fuzzed.url + "/openapi.json", config=config)
    headers = {"Authorization": f"Bearer {fuzzed.token}"} if fuzzed.token else {}
    schema.config.update(base_url=fuzzed.url, headers=headers, request_timeout=10)
    schema.config.seed = SEED
    # schemathesis builds its own hypothesis settings (never a deadline); a busy machine
    # generates slowly, which says nothing about the API: no health check times it
    schema.config.suppress_health_check = [HealthCheck.too_slow, HealthCheck.data_too_large]
    schema.config.generation.update(max_examples=max_examples, deterministic=True, database="none")
    schema.config.phases.update(phases=list(phases))

    @schema.hook
    def flatmap_path_parameters(context: HookContext, values: Any) -> st.SearchStrategy[Any]:
        return _now_and_then_real(values, _declared(context, "path"))

    @schema.hook
    def flatmap_query(context: HookContext, values: Any) -> st.SearchStrategy[Any]:
        return _now_and_then_real(values, _declared(context, "query"))

    @schema.hook
    def flatmap_headers(context: HookContext, values: Any) -> st.SearchStrategy[Any]:
        return _now_and_then_real(values, _declared(context, "header")).map(_header_texts)

    @schema.hook
    def flatmap_body(context: HookContext, values: Any) -> st.SearchStrategy[Any]:
        return _now_and_then_real(values, _declared(context, "body"))

    return schema


def _declared(context: HookContext, location: str) -> set[str]:
    """The names of the operation's parameters in ``location`` (path, query, header), or
    of its JSON body's properties (body)."""
    operation = context.operation
    assert operation is not None
    raw: dict[str, Any] = operation.definition.raw
    if location != "body":
        return {p["name"] for p in raw.get("parameters", []) if p.get("in") == location}
    content = raw.get("requestBody", {}).get("content", {})
    body = content.get("application/json", {}).get("schema", {})
    ref: str = body.get("$ref", "")
    if ref.startswith("#/components/schemas/"):
        body = operation.schema.raw_schema["components"]["schemas"][ref.rsplit("/", 1)[1]]
    return set(body.get("properties", {}))


def _now_and_then_real(values: Any, declared: set[str]) -> st.SearchStrategy[Any]:
    """``values`` as generated, or with every field named in ``DICTIONARY`` (and every
    such field the operation declares but the case left out) set to one of its
    values."""
    if values is None and declared & DICTIONARY.keys():
        values = {}
    real = _real(values, declared)
    return st.one_of(st.just(values), real) if real is not None else st.just(values)


def _header_texts(values: Any) -> Any:
    """Headers as sent: a value drawn from ``DICTIONARY`` for a header of that name (one
    the case made up: ``number: 1``) is its text, as a header's value always is."""
    if not isinstance(values, dict):
        return values
    return {name: v if v is None or isinstance(v, str) else str(v) for name, v in values.items()}


def _real(value: Any, declared: AbstractSet[str] = frozenset()) -> st.SearchStrategy[Any] | None:
    """``value`` with its fields named in ``DICTIONARY``, at any depth, drawn from it
    (and, at the top, the ``declared`` ones it lacks, now and then); ``None`` when it
    has none."""
    if isinstance(value, list):
        items = [_real(item) for item in value]
        if all(item is None for item in items):
            return None
        drawn = (st.just(v) if item is None else item for item, v in zip(items, value, strict=True))
        return st.tuples(*drawn).map(list)
    if not isinstance(value, dict):
        return None
    fields: dict[Any, st.SearchStrategy[Any] | None] = {
        name: st.sampled_from(DICTIONARY[name]) if name in DICTIONARY else _real(inner)
        for name, inner in value.items()
    }
    missing = {
        name: st.sampled_from(DICTIONARY[name])
        for name in sorted(declared & DICTIONARY.keys())
        if name not in value
    }
    if not missing and all(strategy is None for strategy in fields.values()):
        return None
    given = {name: st.just(value[name]) if s is None else s for name, s in fields.items()}
    return st.fixed_dictionaries(given, optional=missing)


def _fuzzed(served: tuple[str, Tokens], role: str | None) -> Iterator[Fuzzed]:
    url, tokens = served
    token = {"admin": tokens.admin, "readonly": tokens.readonly}.get(role or "")
    fuzzed = Fuzzed(url, token)
    yield fuzzed
    if token is not None:  # the run got past the token check of every operation
        passed = {op: [s for s in codes if s != 401] for op, codes in fuzzed.statuses.items()}
        assert passed and all(passed.values()), f"operations only ever 401: {passed}"


@pytest.fixture
def as_admin(served: tuple[str, Tokens]) -> Iterator[Fuzzed]:
    yield from _fuzzed(served, "admin")


@pytest.fixture
def as_readonly(served: tuple[str, Tokens]) -> Iterator[Fuzzed]:
    yield from _fuzzed(served, "readonly")


@pytest.fixture
def anonymous(served: tuple[str, Tokens]) -> Iterator[Fuzzed]:
    yield from _fuzzed(served, None)


@pytest.fixture
def admin_api(as_admin: Fuzzed, budget: Budget) -> BaseSchema:
    return _schema(as_admin, budget.admin, budget.phases)


@pytest.fixture
def readonly_api(as_readonly: Fuzzed, budget: Budget) -> BaseSchema:
    return _schema(as_readonly, budget.others, budget.phases)


@pytest.fixture
def anonymous_api(anonymous: Fuzzed, budget: Budget) -> BaseSchema:
    return _schema(anonymous, budget.others, budget.phases)


# Checks


def error_is_json_with_a_code(
    ctx: CheckContext, response: Response, case: Case[Any]
) -> bool | None:
    """Every error response is ``{"code": "<stable_code>", "message": "...", ...}``."""
    if response.status_code < 400:
        return None
    content_type = response.headers.get("content-type", [""])[0]
    assert content_type.startswith("application/json"), (
        f"error {response.status_code} is {content_type or 'untyped'}, not JSON"
    )
    body = response.json()
    assert isinstance(body, dict), f"error body is a {type(body).__name__}, not an object"
    code, message = body.get("code"), body.get("message")
    assert isinstance(code, str) and _CODE.match(code), f"error code {code!r} is not stable"
    assert isinstance(message, str) and message.strip(), "error has no message"
    return None


#: Besides those two, the conformance of each response to the OpenAPI document: its
#: status declared (every error is under the declared "4XX"), its content type and body
#: as declared (the errors' ``ErrorBody``).
CHECKS: list[CheckFunction] = [
    not_a_server_error,
    error_is_json_with_a_code,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
]


def _sent(fuzzed: Fuzzed, case: Case[Any]) -> Response:
    """``case`` sent, its response checked and recorded."""
    response = case.call()
    case.validate_response(response, checks=CHECKS)
    if fuzzed.sent_token(response) == fuzzed.token:
        fuzzed.statuses[f"{case.method.upper()} {case.path}"].append(response.status_code)
    return response


def _expect(case: Case[Any], response: Response, status: int, code: str | None = None) -> None:
    shown = f"{case.method.upper()} {case.formatted_path}: {response.status_code}, not {status}"
    assert response.status_code == status, f"{shown}\n{response.text[:300]}"
    if code is not None:
        assert response.json()["code"] == code, f"{shown}\n{response.text[:300]}"


# The runs

admin_schema = schemathesis.pytest.from_fixture("admin_api").exclude(path=EVENTS)
readonly_schema = schemathesis.pytest.from_fixture("readonly_api").exclude(path=EVENTS)
anonymous_schema = schemathesis.pytest.from_fixture("anonymous_api").exclude(path=EVENTS)


@admin_schema.parametrize()
def test_admin_fuzz_has_no_server_errors(case: Case[Any], as_admin: Fuzzed) -> None:
    response = _sent(as_admin, case)
    if as_admin.sent_token(response) == as_admin.token:
        assert response.status_code != 401, f"the admin token was refused: {response.text}"
    elif case.path.startswith(API_PREFIX):  # a case fuzzing the Authorization header
        _expect(case, response, 401, "unauthorized")


@readonly_schema.parametrize()
def test_readonly_fuzz_never_writes(case: Case[Any], as_readonly: Fuzzed) -> None:
    response = _sent(as_readonly, case)
    if not case.path.startswith(API_PREFIX):
        return
    if as_readonly.sent_token(response) != as_readonly.token:
        _expect(case, response, 401, "unauthorized")
    elif case.method.upper() not in READ_METHODS:
        _expect(case, response, 403, "forbidden")
    else:
        assert response.status_code not in (401, 403), f"a read refused: {response.text}"


@anonymous_schema.parametrize()
def test_fuzz_without_a_token_is_always_401(case: Case[Any], anonymous: Fuzzed) -> None:
    response = _sent(anonymous, case)
    if case.path.startswith(API_PREFIX):
        _expect(case, response, 401, "unauthorized")
