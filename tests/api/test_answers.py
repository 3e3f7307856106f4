"""Every route's answer, from the real app over real HTTP, reads into its model and
back to the very JSON the controller sent — every field of it modelled (a field the
controller adds without a model here fails), errors included."""

from __future__ import annotations

import re
from typing import Any

import pytest
from pydantic import BaseModel

from depotctl import api as models
from depotctl.api import ApiModel, json_of
from tests.api.conftest import Api, Raw
from tests.controller.test_app import AU_DEPOT

V1 = "/api/v1"


def unmodelled(answer: BaseModel, where: str = "") -> list[str]:
    """The fields of ``answer`` (and of every model in it) that no model declares."""
    found = [f"{where}{name}" for name in answer.model_extra or {}]
    for name in type(answer).model_fields:
        found += _unmodelled_in(getattr(answer, name), f"{where}{name}.")
    return found


def _unmodelled_in(value: Any, where: str) -> list[str]:
    if isinstance(value, BaseModel):
        return unmodelled(value, where)
    if isinstance(value, list):
        return [f for item in value for f in _unmodelled_in(item, where)]
    return []


def read_back(model: type[ApiModel], raw: Raw, status: int = 200) -> Any:
    """``raw`` read into ``model``, after checking it reads back to the same JSON."""
    assert raw.status == status, raw.body
    answer = model.model_validate(raw.body)
    assert json_of(answer) == raw.body
    assert unmodelled(answer) == []
    return answer


READS: list[tuple[str, type[ApiModel], dict[str, Any]]] = [
    ("/healthz", models.Health, {"token": None}),
    (V1 + "/whoami", models.WhoAmI, {}),
    (V1 + "/whoami", models.WhoAmI, {"token": "readonly"}),
    (V1 + "/clock", models.Clock, {}),
    (V1 + "/site", models.SiteRevision, {}),
    (V1 + "/revisions", models.Revisions, {}),
    (V1 + "/revisions/1", models.RevisionText, {}),
    (V1 + "/state", models.State, {}),
    (V1 + "/explain/dc-02%2F1", models.Explanation, {}),  # paused by an operator
    (V1 + "/explain/dc-01%2F1", models.Explanation, {}),
    (V1 + "/explain/ac-01%2F1", models.Explanation, {}),  # no session
    (V1 + "/journal", models.Journal, {}),
    (V1 + "/journal", models.Journal, {"params": {"evse": "dc-02/1", "limit": 2}}),
    (V1 + "/alerts", models.Alerts, {}),
    (V1 + "/alerts", models.Alerts, {"params": {"all": "true"}}),
    (V1 + "/envelopes", models.Envelopes, {}),
    (V1 + "/sessions", models.Sessions, {}),
    (V1 + "/sessions", models.Sessions, {"params": {"all": "true"}}),
    (V1 + "/sessions/bus-0002", models.SessionAt, {}),
    (V1 + "/overrides", models.Overrides, {}),
    (V1 + "/telemetry/workshop", models.TelemetryHistory, {}),
]


@pytest.mark.parametrize(
    ("path", "model", "options"),
    READS,
    ids=[
        f"{path.removeprefix(V1)}-{model.__name__}-{n}" for n, (path, model, _) in enumerate(READS)
    ],
)
def test_a_read_reads_into_its_model_and_back(
    api: Api, path: str, model: type[ApiModel], options: dict[str, Any]
) -> None:
    read_back(model, api.send("GET", path, **options))


def test_the_state_has_every_evse_and_node_typed(api: Api) -> None:
    state = read_back(models.State, api.send("GET", V1 + "/state"))
    paused = next(e for e in state.evses if e.id == "dc-02/1")
    assert paused.override is not None and paused.override.paused
    assert paused.binding.kind == "operator_override"
    grid = next(n for n in state.nodes if n.id == "gc-main")
    assert grid.binding is not None and grid.binding.source.words == "envelope E-17"
    assert {n.type for n in state.nodes} >= {"grid_connection", "circuit", "charger"}


def test_a_session_carries_its_energies_in_wh_beside_the_quantities(api: Api) -> None:
    sessions = read_back(models.Sessions, api.send("GET", V1 + "/sessions"))
    first = next(s for s in sessions.sessions if s.id == "bus-0001")
    assert (first.energy_delivered, first.energy_delivered_wh) == ("5 kWh", 5000.0)
    assert first.requirement is not None
    assert (first.requirement.energy, first.requirement.energy_wh) == ("130 kWh", 130000.0)


def test_the_snapshot_is_kept_whole_with_its_version(api: Api) -> None:
    raw = api.send("GET", V1 + "/snapshot")
    snapshot = models.SnapshotDocument.model_validate(raw.body)
    assert json_of(snapshot) == raw.body
    assert list(json_of(snapshot)) == list(raw.body)  # the file's order of keys kept
    assert (snapshot.api_version, snapshot.kind) == ("depotctl/v1", "Snapshot")
    assert [(r.node, r.power_kw) for r in snapshot.readings()] == [("workshop", 42.0)]


def test_an_envelope_submitted_again_and_withdrawn(api: Api) -> None:
    body = {
        "id": "E-answers",
        "target": "gc-main",
        "limit": "500 kW",
        "start": "2026-03-02T13:00:00Z",
        "end": "2026-03-02T20:00:00Z",
    }
    created = read_back(models.Envelope, api.send("POST", V1 + "/envelopes", json=body), 201)
    assert created.state == "active" and created.limit == "500 kW"
    read_back(models.Envelope, api.send("POST", V1 + "/envelopes", json=body), 200)
    withdrawn = read_back(models.Envelope, api.send("POST", V1 + "/envelopes/E-answers/withdraw"))
    assert withdrawn.state == "withdrawn" and withdrawn.withdrawn_at is not None


def test_a_session_started_scheduled_and_ended(api: Api) -> None:
    body = {"id": "bus-answers", "evse": "dc-09/1", "energy_delivered": "1.5 kWh"}
    started = read_back(models.SessionRecord, api.send("POST", V1 + "/sessions", json=body), 201)
    assert started.requirement is None and started.energy_delivered_wh == 1500.0
    requirement = {"energy": "90 kWh", "departure": "2026-03-02T20:00:00Z"}
    path = V1 + "/sessions/bus-answers"
    scheduled = read_back(
        models.SessionRecord, api.send("PUT", path + "/requirement", json=requirement)
    )
    assert scheduled.requirement is not None and scheduled.requirement.energy_wh == 90000.0
    ended = read_back(models.SessionRecord, api.send("POST", path + "/end", json={}))
    assert not ended.open and ended.ended_at is not None
    listed = read_back(models.Sessions, api.send("GET", V1 + "/sessions", params={"all": "true"}))
    assert next(s for s in listed.sessions if s.id == "bus-answers").outlook is None


def test_telemetry_posted(api: Api) -> None:
    readings = {"readings": [{"node": "m-main", "at": "2026-03-02T14:00:00Z", "power": "80 kW"}]}
    accepted = read_back(
        models.TelemetryAccepted, api.send("POST", V1 + "/telemetry", json=readings)
    )
    assert (accepted.accepted, accepted.nodes) == (1, ["m-main"])


def test_an_override_set_again_and_cleared(api: Api) -> None:
    path = V1 + "/evses/dc-10%2F1/override"
    body = {"paused": False, "cap": "16 A", "reason": "answers", "author": "test"}
    first = read_back(models.OverrideSet, api.send("PUT", path, json=body))
    assert first.changed and first.override.cap == "16 A" and first.override.cap_a == 16.0
    again = read_back(models.OverrideSet, api.send("PUT", path, json=body))
    assert not again.changed
    cleared = read_back(models.OverrideCleared, api.send("DELETE", path))
    assert cleared.override is None and cleared.cleared.evse == "dc-10/1"


def _changed_site() -> str:
    text = AU_DEPOT.read_text(encoding="utf-8")
    changed = re.sub(r"limits: \{current: 800 A\}", "limits: {current: 600 A}", text, count=1)
    assert changed != text
    return changed


def test_a_plan_a_dry_run_an_apply_and_a_rollback(api: Api) -> None:
    site = {"site": _changed_site(), "path": "sites/au-bus-depot.yaml"}
    plan = read_back(models.Plan, api.send("POST", V1 + "/plan", json=site))
    assert plan.changes and plan.impact is not None and not plan.no_changes
    revision = plan.base_revision
    read_back(models.DryRun, api.send("POST", V1 + "/apply", params={"dry_run": "true"}, json=site))
    applied = read_back(
        models.AppliedRevision,
        api.send("POST", V1 + "/apply", json=site, headers={"If-Match": f'"{revision}"'}),
    )
    assert (applied.previous_revision, applied.dry_run) == (revision, False)
    back = {"revision": revision, "message": "undo"}
    headers = {"If-Match": f'"{applied.number}"'}
    rolled = read_back(
        models.RolledBackRevision, api.send("POST", V1 + "/rollback", json=back, headers=headers)
    )
    assert rolled.rollback_of == revision and rolled.previous_revision == applied.number


ERRORS: list[tuple[str, str, dict[str, Any], int, str]] = [
    ("GET", V1 + "/state", {"token": None}, 401, "unauthorized"),
    ("POST", V1 + "/envelopes", {"token": "readonly", "json": {}}, 403, "forbidden"),
    ("GET", V1 + "/explain/dc-1%2F1", {}, 404, "not_found"),
    ("GET", V1 + "/nowhere", {}, 404, "not_found"),
    ("DELETE", V1 + "/evses/dc-11%2F1/override", {}, 404, "no_override"),
    (
        "POST",
        V1 + "/envelopes",
        {"json": {"id": "E-x", "target": "gc-main", "limit": "500", "start": "now"}},
        422,
        "invalid_request",
    ),
    (
        "POST",
        V1 + "/plan",
        {"json": {"site": "apiVersion: depotctl/v1\nkind: Site\n"}},
        422,
        "invalid_site",
    ),
    ("POST", V1 + "/apply", {"json": {"site": "x: 1"}}, 428, "precondition_required"),
    (
        "POST",
        V1 + "/apply",
        {"json": {"site": AU_DEPOT.read_text()}, "headers": {"If-Match": '"99"'}},
        409,
        "conflict",
    ),
]


@pytest.mark.parametrize(
    ("method", "path", "options", "status", "code"),
    ERRORS,
    ids=[f"{status}-{code}-{path.removeprefix(V1)}" for _, path, _, status, code in ERRORS],
)
def test_an_error_reads_into_the_error_body_and_back(
    api: Api, method: str, path: str, options: dict[str, Any], status: int, code: str
) -> None:
    raw = api.send(method, path, **options)
    assert raw.status == status, raw.body
    error = models.ErrorBody.model_validate(raw.body)
    assert json_of(error) == raw.body
    assert error.code == code and error.message
    if code == "invalid_request":
        assert error.problems and error.problems[0].where.startswith("body.")
    if code == "invalid_site":
        assert error.diagnostics and error.diagnostics[0].rule
    if code == "conflict":
        assert error.expected_revision == 99 and error.current_revision
        assert error.current_revision != 99
    if path.endswith("dc-1%2F1"):
        assert error.did_you_mean == "dc-01/1"
