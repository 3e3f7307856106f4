"""The clients against the real app over real HTTP (the AU depot, populated through the
API): every endpoint answers its model, the sync and the async client alike; requests
carry the token, encode ids and send ``If-Match``; the controller's errors are
:class:`ApiError` with their body typed, and a controller that cannot be reached, or
answers what is not its API, is :class:`Unreachable`."""

from __future__ import annotations

import asyncio
import re
import socket
from collections.abc import Callable, Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest

from depotctl import api as models
from depotctl.client.api import ApiError, AsyncControllerClient, ControllerClient, Unreachable
from tests.console.conftest import Depot, populated_depot
from tests.controller.test_app import AU_DEPOT, START


@pytest.fixture(scope="module")
def depot(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Depot]:
    with populated_depot(tmp_path_factory.mktemp("client")) as running:
        yield running


def client(depot: Depot, token: str = "admin") -> ControllerClient:
    value = depot.tokens.admin if token == "admin" else depot.tokens.readonly
    return ControllerClient(depot.url, value, timeout=60)


#: Reads: the call on either client, and the model it answers.
READS: list[tuple[str, Callable[[Any], Any], type[Any]]] = [
    ("health", lambda c: c.health(), models.Health),
    ("whoami", lambda c: c.whoami(), models.WhoAmI),
    ("clock", lambda c: c.clock(), models.Clock),
    ("site", lambda c: c.site(), models.SiteRevision),
    ("revisions", lambda c: c.revisions(), models.Revisions),
    ("revision", lambda c: c.revision(1), models.RevisionText),
    ("state", lambda c: c.state(), models.State),
    ("explain", lambda c: c.explain("dc-02/1"), models.Explanation),
    ("snapshot", lambda c: c.snapshot(), models.SnapshotDocument),
    ("alerts", lambda c: c.alerts(include_cleared=True, since=START), models.Alerts),
    ("chargers", lambda c: c.chargers(), models.Chargers),
    ("journal", lambda c: c.journal(evse="dc-02/1", since=START, limit=5), models.Journal),
    ("envelopes", lambda c: c.envelopes(), models.Envelopes),
    ("sessions", lambda c: c.sessions(include_ended=True), models.Sessions),
    ("session", lambda c: c.session("bus-0001"), models.SessionAt),
    ("history", lambda c: c.telemetry_history("workshop", limit=10), models.TelemetryHistory),
    ("overrides", lambda c: c.overrides(), models.Overrides),
]


@pytest.mark.parametrize(("name", "call", "model"), READS, ids=[r[0] for r in READS])
def test_every_read_answers_its_model_on_both_clients(
    depot: Depot, name: str, call: Callable[[Any], Any], model: type[Any]
) -> None:
    with client(depot, "readonly") as sync:
        answer = call(sync)
    assert isinstance(answer, model)

    async def read() -> Any:
        asynchronous = AsyncControllerClient(depot.url, depot.tokens.readonly, timeout=60)
        try:
            return await call(asynchronous)
        finally:
            await asynchronous.aclose()

    assert asyncio.run(read()) == answer


def test_the_chargers_read_typed_every_charger_of_the_site(depot: Depot) -> None:
    with client(depot, "readonly") as readonly:
        listed = readonly.chargers()
    topology = depot.controller.require_site().topology
    assert [c.id for c in listed.chargers] == sorted(
        {e.charger_id for e in topology.evses.values()}
    )
    assert all(c.evses == [e.id for e in topology.chargers_evses(c.id)] for c in listed.chargers)
    assert listed.uncontrollable == sum(1 for c in listed.chargers if not c.controllable)
    assert listed.time == START and listed.timezone == "Australia/Sydney"


def test_an_evse_id_is_one_path_segment_and_the_token_is_sent(depot: Depot) -> None:
    with client(depot, "readonly") as readonly:
        assert readonly.explain("dc-02/1").evse.id == "dc-02/1"
        assert readonly.whoami().role == "readonly"
    with ControllerClient(depot.url, "not-a-token") as stranger, pytest.raises(ApiError) as raised:
        stranger.state()
    assert (raised.value.status, raised.value.code) == (401, "unauthorized")


def test_inputs_are_sent_and_answered(depot: Depot) -> None:
    with client(depot) as admin:
        now = admin.clock().time
        envelope = admin.submit_envelope(
            envelope_id="E-client", target="db-dc-south", limit="300 A", start=now,
            end=now + timedelta(hours=2), phases=["L1", "L2"], priority=3,
        )  # fmt: skip
        assert isinstance(envelope, models.Envelope)
        assert (envelope.phases, envelope.priority, envelope.mode) == (["L1", "L2"], 3, "normal")
        assert admin.withdraw_envelope("E-client").state == "withdrawn"
        started = admin.start_session(
            session_id="bus-client", evse="dc-13/1", energy_delivered="2 kWh", energy="80 kWh",
            departure=now + timedelta(hours=6), vehicle_max_current="125 A", priority_class=1,
        )  # fmt: skip
        assert isinstance(started, models.SessionRecord) and started.requirement is not None
        assert (started.requirement.energy_wh, started.priority_class) == (80000.0, 1)
        later = now + timedelta(hours=8)
        scheduled = admin.set_requirement("bus-client", energy="90 kWh", departure=later)
        assert scheduled.requirement is not None and scheduled.requirement.departure == later
        ended = admin.end_session("bus-client", energy_delivered="40 kWh")
        assert not ended.open and ended.energy_delivered_wh == 40000.0
        readings = [{"node": "workshop", "at": now.isoformat(), "power": "12 kW"}]
        assert admin.submit_readings(readings) == models.TelemetryAccepted(
            accepted=1, nodes=["workshop"]
        )


def test_an_override_is_set_and_cleared(depot: Depot) -> None:
    with client(depot) as admin:
        capped = admin.set_override("dc-14/1", cap="20 A", reason="client", author="test")
        assert isinstance(capped, models.OverrideSet) and capped.override.cap_a == 20.0
        assert capped.allocation is not None and capped.allocation.override is not None
        cleared = admin.clear_override("dc-14/1", author="test")
        assert isinstance(cleared, models.OverrideCleared) and cleared.cleared.author == "test"
        with pytest.raises(ApiError) as raised:
            admin.clear_override("dc-14/1")
    assert (raised.value.status, raised.value.code) == (404, "no_override")


def _changed_site() -> str:
    text = AU_DEPOT.read_text(encoding="utf-8")
    return re.sub(r"limits: \{current: 800 A\}", "limits: {current: 700 A}", text, count=1)


def test_plan_apply_with_if_match_and_rollback(depot: Depot) -> None:
    text = _changed_site()
    with client(depot) as admin:
        plan = admin.plan(text, "sites/au-bus-depot.yaml")
        assert isinstance(plan, models.Plan) and plan.changes
        dry = admin.dry_run(text, "sites/au-bus-depot.yaml")
        assert isinstance(dry, models.DryRun) and dry.new_hash == plan.new_hash
        with pytest.raises(ApiError) as stale:
            admin.apply(base_revision=plan.base_revision + 7, site_text=text)
        assert (stale.value.status, stale.value.code) == (409, "conflict")
        assert stale.value.body.current_revision == plan.base_revision
        assert stale.value.body.expected_revision == plan.base_revision + 7
        applied = admin.apply(base_revision=plan.base_revision, plan=plan, message="saved plan")
        assert isinstance(applied, models.AppliedRevision) and applied.hash == plan.new_hash
        assert applied.previous_revision == plan.base_revision
        rolled = admin.rollback(plan.base_revision, base_revision=applied.number)
        assert isinstance(rolled, models.RolledBackRevision)
        assert rolled.rollback_of == plan.base_revision


def test_an_error_keeps_its_code_message_and_typed_body(depot: Depot) -> None:
    with client(depot) as admin, pytest.raises(ApiError) as unknown:
        admin.explain("dc-1/1")
    error = unknown.value
    assert (error.status, error.code) == (404, "not_found")
    assert error.message.startswith('site has no EVSE "dc-1/1"')
    assert error.body.did_you_mean == "dc-01/1"
    assert str(error) == f"404 not_found: {error.message}"
    with client(depot) as admin, pytest.raises(ApiError) as refused:
        admin.submit_envelope(envelope_id="E-bad", target="gc-main", limit="500", start=START)
    assert refused.value.status == 422 and refused.value.body.problems
    assert refused.value.body.problems[0].where == "body.limit"
    with client(depot, "readonly") as readonly, pytest.raises(ApiError) as forbidden:
        readonly.withdraw_envelope("E-17")
    assert (forbidden.value.status, forbidden.value.code) == (403, "forbidden")


def test_a_controller_that_is_not_there_is_unreachable_naming_the_url() -> None:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    url = f"http://127.0.0.1:{sock.getsockname()[1]}"
    sock.close()  # nothing listens there now
    with ControllerClient(url + "/", "tok") as nobody, pytest.raises(Unreachable) as raised:
        nobody.clock()
    assert raised.value.url == url
    assert "connection refused or no route" in str(raised.value) and url in str(raised.value)


# What no controller answers: a proxy's error page, something that is not its API.


def _answering(response: httpx.Response) -> ControllerClient:
    transport = httpx.MockTransport(lambda _: response)
    return ControllerClient("http://controller:8180", "tok", transport=transport)


def test_an_error_that_is_not_json_is_still_an_api_error() -> None:
    proxied = _answering(httpx.Response(502, text="Bad Gateway"))
    with proxied, pytest.raises(ApiError) as raised:
        proxied.state()
    assert (raised.value.status, raised.value.code, raised.value.message) == (
        502,
        "http_error",
        "Bad Gateway",
    )


@pytest.mark.parametrize(
    ("response", "reason"),
    [
        (httpx.Response(200, text="<html>hello</html>"), "is not JSON; is it a controller?"),
        (httpx.Response(200, json=[1, 2]), "is not an object"),
        (httpx.Response(200, json={"time": "noon"}), "is not what this depotctl reads (time: "),
    ],
    ids=["html", "list", "other-shape"],
)
def test_an_answer_that_is_not_the_apis_is_unreachable(
    response: httpx.Response, reason: str
) -> None:
    with _answering(response) as other, pytest.raises(Unreachable) as raised:
        other.clock()
    assert f"the answer to /api/v1/clock {reason}" in raised.value.reason
