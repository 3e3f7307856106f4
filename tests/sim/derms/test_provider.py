"""The simulated Capacity Provider's endpoints over real HTTP: OSCP's token rules (the
initial token for register only, a handed-out token good once the controller has it,
the one before it then dead), request ids, bodies refused with the field named and
nothing recorded, and silence answered 503."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from depotctl.protocols.oscp import Heartbeat, Register, UpdateGroupMeasurements
from depotctl.sim.derms.provider import CapacityProvider, provider_app
from tests.controller.test_app import serving
from tests.protocols.oscp.schemas import assert_conforms

NOW = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
INITIAL = "initial-token"
FP_URL = "http://fp.example/oscp/fp/2.0"


@pytest.fixture
def cp() -> Iterator[tuple[CapacityProvider, str]]:
    provider = CapacityProvider("GROUP-1", "http://cp.example/oscp/cp/2.0", INITIAL, lambda: NOW)
    with serving(provider_app(provider)) as url:  # type: ignore[arg-type]
        yield provider, url


def _post(
    url: str,
    endpoint: str,
    body: object,
    token: str | None,
    *,
    request_id: str | None = None,
    scheme: str = "Token",
    correlation_id: str | None = None,
) -> httpx.Response:
    headers = {"X-Request-ID": request_id or str(uuid.uuid4())}
    if token is not None:
        headers["Authorization"] = f"{scheme} {token}"
    if correlation_id is not None:
        headers["X-Correlation-ID"] = correlation_id
    content = body if isinstance(body, bytes) else json.dumps(body).encode()
    return httpx.post(f"{url}/oscp/cp/2.0/{endpoint}", content=content, headers=headers)


def _register_body(token: str = "fp-token-1") -> dict[str, object]:
    return {"token": token, "version_url": [{"version": "2.0", "base_url": FP_URL}]}


BEAT = {"offline_mode_at": "2026-03-02T07:05:00Z"}
MEASUREMENTS = {
    "group_id": "GROUP-1",
    "measurements": [
        {
            "value": 12.5,
            "phase": "ALL",
            "unit": "KWH",
            "direction": "IMPORT",
            "measure_time": "2026-03-02T07:00:00Z",
            "initial_measure_time": "2026-03-02T06:45:00Z",
        }
    ],
}


def test_the_controllers_registration_is_recorded_and_answered_with_a_new_token(
    cp: tuple[CapacityProvider, str],
) -> None:
    provider, url = cp
    answer = _post(url, "register", _register_body(), INITIAL, request_id="r-1")
    assert answer.status_code == 204, answer.text
    assert (provider.theirs, provider.fp_url) == ("fp-token-1", FP_URL)
    [queued] = provider.answers
    assert queued.correlation_id == "r-1" and isinstance(queued.message, Register)
    assert_conforms("Register", queued.message.to_wire())
    assert queued.message.version_url[0].base_url == provider.base_url
    handed_out = queued.message.token
    # pending until the controller presents it (or acknowledges the answer)
    assert provider.ours is None and provider.pending == [handed_out]
    assert _post(url, "heartbeat", BEAT, handed_out).status_code == 204
    assert provider.ours == handed_out and not provider.pending
    assert provider.fp_offline_at == datetime(2026, 3, 2, 7, 5, tzinfo=UTC)


def test_a_new_token_replaces_the_one_before_at_once(cp: tuple[CapacityProvider, str]) -> None:
    provider, url = cp
    first = provider.new_token()
    provider.token_acknowledged(first)
    assert _post(url, "heartbeat", BEAT, first).status_code == 204
    second = provider.new_token()
    provider.token_acknowledged(second)
    stale = _post(url, "heartbeat", BEAT, first)
    assert stale.status_code == 401 and "not valid" in stale.json()["message"]
    assert _post(url, "heartbeat", BEAT, second).status_code == 204


def test_a_register_presented_with_the_exchanged_token_is_an_answer_not_answered_again(
    cp: tuple[CapacityProvider, str],
) -> None:
    provider, url = cp
    ours = provider.new_token()
    answer = _post(url, "register", _register_body("fp-2"), ours, correlation_id="ours-1")
    assert answer.status_code == 204
    assert provider.theirs == "fp-2" and provider.answers == []
    [received] = provider.received
    assert received.correlation_id == "ours-1"


@pytest.mark.parametrize(
    ("token", "scheme", "status", "says"),
    [
        (None, "Token", 401, "Authorization is missing"),
        ("nobodys", "Token", 401, "not valid"),
        (INITIAL, "Bearer", 401, "scheme 'Bearer'"),
    ],
    ids=["no-token", "unknown-token", "wrong-scheme"],
)
def test_a_request_without_a_valid_token_is_401_and_records_nothing(
    cp: tuple[CapacityProvider, str], token: str | None, scheme: str, status: int, says: str
) -> None:
    provider, url = cp
    answer = _post(url, "register", _register_body(), token, scheme=scheme)
    assert answer.status_code == status and says in answer.json()["message"]
    assert provider.received == [] and provider.theirs is None


def test_the_initial_token_is_for_register_only(cp: tuple[CapacityProvider, str]) -> None:
    provider, url = cp
    refused = _post(url, "heartbeat", BEAT, INITIAL)
    assert refused.status_code == 403 and "register first" in refused.json()["message"]
    assert provider.received == []


def test_bad_requests_are_4xx_naming_what_is_wrong_and_record_nothing(
    cp: tuple[CapacityProvider, str],
) -> None:
    provider, url = cp
    token = provider.new_token()
    missing = _post(url, "update_group_measurements", {"group_id": "GROUP-1"}, token)
    assert missing.status_code == 400
    assert "measurements: required, missing" in missing.json()["message"]
    not_a_number = json.dumps(MEASUREMENTS).replace("12.5", "NaN").encode()
    nan = _post(url, "update_group_measurements", not_a_number, token)
    assert nan.status_code == 400
    huge = _post(url, "heartbeat", b"{" + b" " * (2 * 1024 * 1024) + b"}", token)
    assert huge.status_code == 413
    no_id = httpx.post(
        f"{url}/oscp/cp/2.0/heartbeat", json=BEAT, headers={"Authorization": f"Token {token}"}
    )
    assert no_id.status_code == 400 and "X-Request-ID" in no_id.json()["message"]
    nowhere = _post(url, "update_group_capacity_forecast", {}, token)
    assert nowhere.status_code == 404 and "/oscp/cp/2.0/" in nowhere.json()["message"]
    assert provider.received == []


def test_a_repeated_request_id_is_answered_again_and_recorded_once(
    cp: tuple[CapacityProvider, str],
) -> None:
    provider, url = cp
    token = provider.new_token()
    for _ in range(2):
        assert (
            _post(
                url, "update_group_measurements", MEASUREMENTS, token, request_id="m-1"
            ).status_code
            == 204
        )
    [measurements] = provider.of(UpdateGroupMeasurements)
    assert measurements.measurements[0].value == 12.5


def test_a_silent_provider_answers_503_and_records_nothing(
    cp: tuple[CapacityProvider, str],
) -> None:
    provider, url = cp
    token = provider.new_token()
    provider.silent = True
    assert _post(url, "heartbeat", BEAT, token).status_code == 503
    provider.silent = False
    assert _post(url, "heartbeat", BEAT, token).status_code == 204
    assert len(provider.of(Heartbeat)) == 1 and provider.refused == 1
