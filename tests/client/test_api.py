"""``ControllerClient`` over a mock transport: requests it sends, errors it raises."""

from __future__ import annotations

import json

import httpx
import pytest

from depotctl.client.api import ApiError, ControllerClient, Unreachable


def _client(handler: httpx.MockTransport) -> ControllerClient:
    return ControllerClient("http://controller:8180/", "tok", transport=handler)


def test_requests_carry_the_token_and_encode_evse_ids() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"ok": True})

    with _client(httpx.MockTransport(handle)) as client:
        client.explain("dc-01/1")
    assert seen[0].headers["Authorization"] == "Bearer tok"
    assert seen[0].url.raw_path == b"/api/v1/explain/dc-01%2F1"


def test_apply_sends_if_match_with_the_planned_revision() -> None:
    seen: list[httpx.Request] = []

    def handle(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json={"number": 4})

    with _client(httpx.MockTransport(handle)) as client:
        client.apply(base_revision=3, site_text="x: 1", path="site.yaml", message="m", author="a")
    assert seen[0].headers["If-Match"] == '"3"'
    assert json.loads(seen[0].content) == {
        "site": "x: 1",
        "path": "site.yaml",
        "message": "m",
        "author": "a",
    }


def test_an_error_body_becomes_api_error() -> None:
    def handle(_: httpx.Request) -> httpx.Response:
        return httpx.Response(409, json={"code": "conflict", "message": "revision 4 is current"})

    with _client(httpx.MockTransport(handle)) as client, pytest.raises(ApiError) as raised:
        client.revisions()
    assert (raised.value.status, raised.value.code) == (409, "conflict")
    assert raised.value.message == "revision 4 is current"


def test_a_non_json_error_still_becomes_api_error() -> None:
    def handle(_: httpx.Request) -> httpx.Response:
        return httpx.Response(502, text="Bad Gateway")

    with _client(httpx.MockTransport(handle)) as client, pytest.raises(ApiError) as raised:
        client.state()
    assert (raised.value.status, raised.value.code, raised.value.message) == (
        502,
        "http_error",
        "Bad Gateway",
    )


def test_a_refused_connection_is_unreachable_naming_the_url() -> None:
    def handle(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("Connection refused", request=request)

    with _client(httpx.MockTransport(handle)) as client, pytest.raises(Unreachable) as raised:
        client.clock()
    assert raised.value.url == "http://controller:8180"
    assert "http://controller:8180" in str(raised.value)
