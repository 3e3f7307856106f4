"""Plan, apply and rollback over real HTTP (uvicorn in a thread, a real SQLite file),
and an apply interrupted by ``kill -9`` of a real ``depotctl serve``."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import threading
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from depotctl.controller.app import create_app
from depotctl.controller.auth import Tokens, load_or_create_tokens
from depotctl.controller.clock import SimClock
from depotctl.controller.service import Controller, SiteInvalid, checked_site
from depotctl.controller.store import Store, UnitOfWork, site_hash
from depotctl.domain.sessions import Session
from tests.conftest import EXAMPLES
from tests.controller.test_app import serving
from tests.controller.test_serve import _command

MINIMAL = EXAMPLES / "minimal.yaml"
TEXT = MINIMAL.read_text(encoding="utf-8")
START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
DB1_LIMIT = "limits: {current: 100 A}"
CHG_02 = """    - id: chg-02
      type: charger
      parent: db-1
      ocpp: {id: CP-02, protocol: ocpp2.0.1, password_file: /etc/depotctl/cp02.secret}
      rating: {power: 22 kW, current: 32 A}
      phases: 3
      fallback: 16 A
      evses: [{id: 1, connectors: [{id: 1, type: Type2}]}]
"""


def with_db1(amps: int, *, fallback: int | None = None) -> str:
    """minimal.yaml with circuit db-1 limited to ``amps`` (and the chargers' fallbacks)."""
    text = TEXT.replace(DB1_LIMIT, f"limits: {{current: {amps} A}}")
    if fallback is not None:
        text = text.replace("fallback: 16 A", f"fallback: {fallback} A")
    assert text != TEXT or amps == 100
    return text


#: db-1 at 10 A is below the chargers' fallbacks (2 × 16 A): validate refuses it.
INVALID = with_db1(10)


@dataclass
class Depot:
    url: str
    tokens: Tokens
    controller: Controller
    reasons: list[str] = field(default_factory=list)

    def client(self, token: str = "admin") -> httpx.Client:
        value = self.tokens.admin if token == "admin" else self.tokens.readonly
        return httpx.Client(
            base_url=self.url, headers={"Authorization": f"Bearer {value}"}, timeout=30
        )

    def charge(self, *evse_ids: str) -> None:
        """A vehicle charging on each EVSE, as the session input would store it."""
        now = self.controller.clock.now()
        for n, evse_id in enumerate(evse_ids, 1):
            self.controller.units().sessions.put(Session(f"s{n}", evse_id, now))

    def stored(self) -> tuple[list[int], int]:
        """The revision numbers and the count of ``revision.applied`` entries."""
        store = self.controller.store
        return (
            [r.number for r in UnitOfWork(store).revisions.all()],
            len(UnitOfWork(store).journal.entries(kind="revision.applied")),
        )


@pytest.fixture
def depot(tmp_path: Path) -> Iterator[Depot]:
    """minimal.yaml seeded as revision 1 of a fresh store, served; ``reasons`` records
    what the controller told its change listeners (the control loop is one)."""
    store = Store.open(tmp_path / "depotctl.sqlite")
    controller = Controller(store, SimClock(START, speed=60), base_dir=MINIMAL.parent)
    controller.seed(MINIMAL, TEXT, author="test")
    running = Depot("", load_or_create_tokens(tmp_path), controller)
    controller.on_change(running.reasons.append)
    with serving(create_app(controller, running.tokens)) as url:
        running.url = url
        yield running
    controller.close()


def if_match(revision: int) -> dict[str, str]:
    return {"If-Match": f'"{revision}"'}


# Plan


def test_plan_shows_the_limit_change_and_which_evse_limits_change(depot: Depot) -> None:
    depot.charge("chg-01/1", "chg-02/1")
    with depot.client() as client:
        response = client.post("/api/v1/plan", json={"site": with_db1(40), "path": "sites/x.yaml"})
    assert response.status_code == 200
    plan = response.json()
    assert response.headers["etag"] == '"1"'
    assert (plan["base_revision"], plan["base_hash"]) == (1, site_hash(TEXT))
    assert plan["new_hash"] == site_hash(with_db1(40))
    assert plan["no_changes"] is False
    [change] = plan["changes"]
    assert (change["id"], change["old"], change["new"]) == ("db-1", "100 A", "40 A")
    assert change["change_pct"] == -60.0
    assert "(−60 %)" in change["message"]
    evses = plan["impact"]["evses"]
    assert [(e["id"], e["session"]) for e in evses] == [("chg-01/1", "s1"), ("chg-02/1", "s2")]
    for evse in evses:  # each was at its charger's 32 A; now they share db-1's 40 A
        assert evse["old_limit_a"] > 30 and 15 < evse["new_limit_a"] < 20
        assert evse["change_pct"] == round(
            (evse["new_limit_a"] - evse["old_limit_a"]) / evse["old_limit_a"] * 100, 1
        )
        assert evse["old_binding"]["kind"] == "charger_limit"
        assert (evse["new_binding"]["kind"], evse["new_binding"]["ref"]) == ("node_limit", "db-1")
        assert (evse["old_state"], evse["new_state"]) == ("charging", "charging")
    assert plan["impact"]["paused_sessions"] == []
    assert depot.stored() == ([1], 1), "a plan stores nothing"


def test_plan_names_the_sessions_that_would_pause(depot: Depot) -> None:
    depot.charge("chg-01/1", "chg-02/1")
    with depot.client() as client:
        plan = client.post("/api/v1/plan", json={"site": with_db1(12, fallback=6)}).json()
    # 12 A less the safety margin holds one vehicle's 6 A minimum, not two
    [paused] = plan["impact"]["paused_sessions"]
    assert (paused["session"], paused["evse"]) == ("s2", "chg-02/1")
    assert "db-1" in paused["reason"]
    states = {e["id"]: (e["old_state"], e["new_state"]) for e in plan["impact"]["evses"]}
    assert states == {"chg-01/1": ("charging", "charging"), "chg-02/1": ("charging", "paused")}


def test_plan_names_sessions_on_evses_the_new_site_removes(depot: Depot) -> None:
    depot.charge("chg-01/1", "chg-02/1")
    with depot.client() as client:
        plan = client.post("/api/v1/plan", json={"site": TEXT.replace(CHG_02, "")}).json()
    assert [(c["action"], c["id"]) for c in plan["changes"]] == [("remove", "chg-02")]
    [gone] = plan["impact"]["sessions_on_removed_evses"]
    assert (gone["session"], gone["evse"]) == ("s2", "chg-02/1")
    assert "no EVSE chg-02/1" in gone["reason"]


def test_plan_of_the_same_site_has_no_changes(depot: Depot) -> None:
    depot.charge("chg-01/1")
    rewritten = TEXT.replace("import: 100 kW", "import: 0.1 MW")  # equal in meaning
    with depot.client() as client:
        plan = client.post("/api/v1/plan", json={"site": rewritten}).json()
    assert plan["no_changes"] is True
    assert plan["changes"] == [] and plan["impact"]["evses"] == []
    assert plan["new_hash"] != plan["base_hash"]


def test_plan_of_an_invalid_site_is_422_with_validate_diagnostics(depot: Depot) -> None:
    with depot.client() as client:
        response = client.post("/api/v1/plan", json={"site": INVALID, "path": "sites/x.yaml"})
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_site"
    [diagnostic] = body["diagnostics"]
    assert diagnostic["rule"] == "electrical/fallback-exceeds-limit"
    assert diagnostic["file"] == "sites/x.yaml"
    assert diagnostic["line"] == INVALID.splitlines().index("    - id: db-1") + 4
    assert body["summary"]["valid"] is False
    assert "electrical/fallback-exceeds-limit" in body["message"]


def test_plan_of_text_with_a_control_character_is_422_at_its_position(depot: Depot) -> None:
    text = TEXT.replace("name: minimal-depot", "name: minimal-dépôt\x07")
    with depot.client() as client:
        response = client.post("/api/v1/plan", json={"site": text})
    assert response.status_code == 422
    [diagnostic] = response.json()["diagnostics"]
    assert diagnostic["rule"] == "yaml/syntax"
    assert "#x0007" in diagnostic["message"]
    line = next(i for i, li in enumerate(text.splitlines(), 1) if "\x07" in li)
    column = text.splitlines()[line - 1].index("\x07") + 1  # in characters, not bytes
    assert (diagnostic["line"], diagnostic["column"]) == (line, column)


# Apply


def test_apply_with_the_right_if_match_makes_the_next_revision(depot: Depot) -> None:
    depot.charge("chg-01/1", "chg-02/1")
    new = with_db1(40)
    with depot.client() as client:
        response = client.post(
            "/api/v1/apply",
            json={"site": new, "message": "db-1 to 40 A", "author": "ops"},
            headers=if_match(1),
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["number"], body["previous_revision"], body["hash"]) == (2, 1, site_hash(new))
        assert response.headers["etag"] == '"2"'
        site = client.get("/api/v1/site").json()
        assert (site["number"], site["text"], site["author"]) == (2, new, "ops")
        assert site["message"] == "db-1 to 40 A"
        [entry] = client.get("/api/v1/journal", params={"kind": "revision.applied"}).json()[
            "entries"
        ][1:]
        assert entry["data"]["revision"] == 2 and entry["data"]["hash"] == site_hash(new)
        evse = next(e for e in client.get("/api/v1/state").json()["evses"] if e["id"] == "chg-01/1")
    assert evse["binding"]["ref"] == "db-1", "the new site is in force"
    assert depot.reasons == ["revision 2 applied"]
    assert "depotctl_site_revision 2.0" in httpx.get(depot.url + "/metrics").text


def test_apply_without_if_match_is_428_and_stores_nothing(depot: Depot) -> None:
    with depot.client() as client:
        response = client.post("/api/v1/apply", json={"site": with_db1(40)})
    assert response.status_code == 428
    assert response.json()["code"] == "precondition_required"
    assert depot.stored() == ([1], 1)


def test_apply_with_a_malformed_if_match_is_400(depot: Depot) -> None:
    with depot.client() as client:
        response = client.post(
            "/api/v1/apply", json={"site": with_db1(40)}, headers={"If-Match": "latest"}
        )
    assert response.status_code == 400
    assert response.json()["code"] == "invalid_request"


def test_apply_with_a_stale_if_match_is_409_and_stores_nothing(depot: Depot) -> None:
    with depot.client() as client:
        assert client.post(
            "/api/v1/apply", json={"site": with_db1(60)}, headers=if_match(1)
        ).is_success
        response = client.post("/api/v1/apply", json={"site": with_db1(40)}, headers=if_match(1))
    assert response.status_code == 409
    body = response.json()
    assert body["code"] == "conflict"
    assert (body["current_revision"], body["expected_revision"]) == (2, 1)
    assert "revision 2 is current" in body["message"]
    assert depot.stored() == ([2, 1], 2)
    assert depot.controller.require_site().revision.hash == site_hash(with_db1(60))


def test_apply_of_an_invalid_site_is_422_and_stores_nothing(depot: Depot) -> None:
    with depot.client() as client:
        response = client.post("/api/v1/apply", json={"site": INVALID}, headers=if_match(1))
    assert response.status_code == 422
    body = response.json()
    assert body["code"] == "invalid_site"
    assert [d["rule"] for d in body["diagnostics"]] == ["electrical/fallback-exceeds-limit"]
    assert depot.stored() == ([1], 1)
    assert depot.reasons == []
    assert depot.controller.require_site().revision.number == 1


def test_a_dry_run_plans_and_stores_nothing(depot: Depot) -> None:
    depot.charge("chg-01/1", "chg-02/1")
    with depot.client() as client:
        response = client.post(
            "/api/v1/apply", params={"dry_run": "true"}, json={"site": with_db1(40)}
        )
        assert response.status_code == 200
        body = response.json()
        assert body["dry_run"] is True
        assert body["base_revision"] == 1 and body["changes"][0]["id"] == "db-1"
        assert [e["id"] for e in body["impact"]["evses"]] == ["chg-01/1", "chg-02/1"]
        stale = client.post(
            "/api/v1/apply?dry_run=true", json={"site": with_db1(40)}, headers=if_match(7)
        )
        assert stale.status_code == 409
    assert depot.stored() == ([1], 1)
    assert depot.reasons == []


def test_plan_and_dry_run_answer_the_sites_warnings_and_the_hosts_problems(
    depot: Depot, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    """Validate's warning (db-1 above gc-main's 160 A) and what this host, the
    controller's, lacks: CP01_PASSWORD in its environment, chg-02's password file."""
    monkeypatch.delenv("CP01_PASSWORD", raising=False)
    text = with_db1(200)
    expected = [
        ("site", "electrical/child-exceeds-parent", 17, 25),
        ("host", "host/variable-unset", 21, 58),
        ("host", "host/secret-file-missing", 29, 61),
    ]
    with depot.client() as client:
        plan = client.post("/api/v1/plan", json={"site": text, "path": "x.yaml"}).json()
        dry = client.post("/api/v1/apply?dry_run=true", json={"site": text}).json()
    for answer in (plan, dry):
        warnings = answer["warnings"]
        assert [(w["origin"], w["rule"], w["line"], w["column"]) for w in warnings] == expected
    assert {w["file"] for w in plan["warnings"]} == {"x.yaml"}
    assert "/etc/depotctl/cp02.secret does not exist" in plan["warnings"][2]["message"]
    secret = tmp_path / "cp02.secret"
    secret.write_text("pw")
    monkeypatch.setenv("CP01_PASSWORD", "pw-from-the-environment")
    served = text.replace("/etc/depotctl/cp02.secret", str(secret))
    with depot.client() as client:
        now = client.post("/api/v1/plan", json={"site": served}).json()
    assert [w["rule"] for w in now["warnings"]] == ["electrical/child-exceeds-parent"]
    assert "pw-from-the-environment" not in json.dumps(now)


def test_a_readonly_token_cannot_plan_apply_or_roll_back(depot: Depot) -> None:
    with depot.client("readonly") as client:
        for path, body in (
            ("/api/v1/plan", {"site": with_db1(40)}),
            ("/api/v1/apply", {"site": with_db1(40)}),
            ("/api/v1/rollback", {"revision": 1}),
        ):
            response = client.post(path, json=body, headers=if_match(1))
            assert response.status_code == 403, path
            assert response.json()["code"] == "forbidden"
        assert client.get("/api/v1/revisions/1").status_code == 200
    assert depot.stored() == ([1], 1)


def test_two_concurrent_applies_one_wins_the_other_conflicts(depot: Depot) -> None:
    barrier = threading.Barrier(2)
    results: dict[int, httpx.Response] = {}

    def apply(amps: int) -> None:
        with depot.client() as client:
            barrier.wait()
            results[amps] = client.post(
                "/api/v1/apply", json={"site": with_db1(amps)}, headers=if_match(1)
            )

    threads = [threading.Thread(target=apply, args=(amps,)) for amps in (60, 70)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(r.status_code for r in results.values()) == [200, 409]
    [winner] = [amps for amps, r in results.items() if r.status_code == 200]
    assert depot.stored() == ([2, 1], 2)
    current = depot.controller.units().revisions.current()
    assert current is not None and current.site_text == with_db1(winner)
    assert depot.controller.require_site().revision.number == 2


# Saved plans


def test_a_saved_plan_is_applied_exactly(depot: Depot) -> None:
    with depot.client() as client:
        plan = client.post("/api/v1/plan", json={"site": with_db1(40)}).json()
        response = client.post("/api/v1/apply", json={"plan": plan, "message": "reviewed"})
    assert response.status_code == 200, response.text
    assert (response.json()["number"], response.json()["hash"]) == (2, plan["new_hash"])
    current = depot.controller.units().revisions.current()
    assert current is not None and current.site_text == with_db1(40)


def test_a_tampered_saved_plan_is_422_invalid_plan(depot: Depot) -> None:
    with depot.client() as client:
        plan = client.post("/api/v1/plan", json={"site": with_db1(40)}).json()
        plan["site_text"] = with_db1(90)  # edited after review: new_hash no longer matches
        response = client.post("/api/v1/apply", json={"plan": plan})
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_plan"
    assert "plan again" in response.json()["message"]
    assert depot.stored() == ([1], 1)


def test_a_stale_saved_plan_is_409(depot: Depot) -> None:
    with depot.client() as client:
        plan = client.post("/api/v1/plan", json={"site": with_db1(40)}).json()
        assert client.post(
            "/api/v1/apply", json={"site": with_db1(60)}, headers=if_match(1)
        ).is_success
        response = client.post("/api/v1/apply", json={"plan": plan})
    assert response.status_code == 409
    assert response.json()["current_revision"] == 2
    assert depot.stored() == ([2, 1], 2)


def test_apply_needs_a_site_or_a_plan_not_both(depot: Depot) -> None:
    with depot.client() as client:
        plan = client.post("/api/v1/plan", json={"site": with_db1(40)}).json()
        both = client.post("/api/v1/apply", json={"site": TEXT, "plan": plan}, headers=if_match(1))
        neither = client.post("/api/v1/apply", json={"message": "x"}, headers=if_match(1))
    for response in (both, neither):
        assert response.status_code == 422
        assert response.json()["code"] == "invalid_request"


# Rollback and revisions


def test_rollback_to_1_makes_revision_3_with_revision_1s_text(depot: Depot) -> None:
    with depot.client() as client:
        assert client.post(
            "/api/v1/apply", json={"site": with_db1(40)}, headers=if_match(1)
        ).is_success
        response = client.post(
            "/api/v1/rollback", json={"revision": 1, "message": "undo"}, headers=if_match(2)
        )
        assert response.status_code == 200, response.text
        body = response.json()
        assert (body["number"], body["hash"], body["rollback_of"]) == (3, site_hash(TEXT), 1)
        assert body["message"] == "undo"
        assert client.get("/api/v1/site").json()["text"] == TEXT
        entries = client.get("/api/v1/journal", params={"kind": "revision.applied"}).json()
    assert [e["data"]["revision"] for e in entries["entries"]] == [1, 2, 3]
    assert entries["entries"][-1]["data"]["rollback_of"] == 1
    assert depot.reasons == ["revision 2 applied", "revision 3 applied"]


@pytest.mark.parametrize(
    ("body", "headers", "status", "code"),
    [
        ({"revision": 1}, {}, 428, "precondition_required"),
        ({"revision": 1}, {"If-Match": '"5"'}, 409, "conflict"),
        ({"revision": 9}, {"If-Match": '"1"'}, 404, "not_found"),
        ({"revision": 0}, {"If-Match": '"1"'}, 422, "invalid_request"),
        ({"revision": 2**70}, {"If-Match": '"1"'}, 422, "invalid_request"),
    ],
    ids=["no-if-match", "stale", "unknown-revision", "revision-0", "revision-too-large"],
)
def test_rollback_refusals(
    depot: Depot, body: dict[str, Any], headers: dict[str, str], status: int, code: str
) -> None:
    with depot.client() as client:
        response = client.post("/api/v1/rollback", json=body, headers=headers)
    assert response.status_code == status
    assert response.json()["code"] == code
    assert depot.stored() == ([1], 1)


def test_rollback_to_a_revision_that_no_longer_validates_is_422(depot: Depot) -> None:
    store = depot.controller.store
    UnitOfWork(store).revisions.add(
        INVALID, author="old", message="x", at=START, expected_current=1
    )
    with depot.client() as client:
        assert client.post("/api/v1/apply", json={"site": TEXT}, headers=if_match(2)).is_success
        response = client.post("/api/v1/rollback", json={"revision": 2}, headers=if_match(3))
    assert response.status_code == 422
    assert response.json()["code"] == "invalid_site"
    assert "revision 2 no longer validates" in response.json()["message"]
    assert [r.number for r in UnitOfWork(store).revisions.all()] == [3, 2, 1]


def test_get_one_revision_with_its_text(depot: Depot) -> None:
    with depot.client() as client:
        client.post("/api/v1/apply", json={"site": with_db1(40)}, headers=if_match(1))
        first = client.get("/api/v1/revisions/1").json()
        missing = client.get("/api/v1/revisions/99")
    assert (first["number"], first["text"], first["current"]) == (1, TEXT, False)
    assert first["hash"] == site_hash(TEXT)
    assert missing.status_code == 404 and missing.json()["code"] == "not_found"


# An apply interrupted by kill -9


@dataclass
class Applier:
    """Applies in a loop (alternating db-1 limits) until the server goes away."""

    api: str
    token: str
    acknowledged: list[tuple[int, str]] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        headers = {"Authorization": f"Bearer {self.token}"}
        with httpx.Client(base_url=self.api, headers=headers, timeout=5) as client:
            n = 0
            while not self.stop.is_set():
                n += 1
                try:
                    current = client.get("/api/v1/revisions").json()["current"]
                    text = with_db1(40 + n % 50)
                    response = client.post(
                        "/api/v1/apply", json={"site": text}, headers=if_match(current)
                    )
                except httpx.TransportError:
                    return
                if response.status_code == 200:
                    self.acknowledged.append((response.json()["number"], site_hash(text)))


def _start(state_dir: Path, *flags: str) -> tuple[subprocess.Popen[bytes], str, str]:
    """``depotctl serve`` (log to a file, so a full pipe never blocks it); its API URL and
    admin token."""
    endpoints = state_dir / "endpoints.json"
    endpoints.unlink(missing_ok=True)
    with open(state_dir / "serve.log", "ab") as log:
        process = subprocess.Popen(
            _command(state_dir, *flags), stdout=subprocess.DEVNULL, stderr=log
        )
    deadline = time.monotonic() + 60  # a hang, not a busy machine's slow start
    while not endpoints.exists():
        assert process.poll() is None, (state_dir / "serve.log").read_text()
        assert time.monotonic() < deadline, "serve wrote no endpoints.json"
        time.sleep(0.05)
    api = json.loads(endpoints.read_text())["api"]
    token = (state_dir / "tokens" / "admin.token").read_text().strip()
    return process, api, token


#: with the long checks: the crash drill's applier (test_crash_drill.py, in the default
#: run) applies through three kills and checks the same and more — revisions 1..N, each
#: hash, one revision.applied each, every acknowledged apply kept, the newest in force
@pytest.mark.slow
def test_an_apply_interrupted_by_kill_9_leaves_the_store_consistent(tmp_path: Path) -> None:
    acknowledged: list[tuple[int, str]] = []
    shuffle = random.Random(4)
    flags: tuple[str, ...] = ("--site", str(MINIMAL))
    for _ in range(3):
        process, api, token = _start(tmp_path, *flags)
        flags = ()
        applier = Applier(api, token)
        thread = threading.Thread(target=applier.run, daemon=True)
        thread.start()
        deadline = time.monotonic() + 60
        while len(applier.acknowledged) < 3:
            assert time.monotonic() < deadline, "no applies went through"
            time.sleep(0.01)
        time.sleep(shuffle.uniform(0.0, 0.2))  # somewhere in the middle of an apply
        os.kill(process.pid, signal.SIGKILL)
        process.wait(10)
        applier.stop.set()
        thread.join(10)
        acknowledged += applier.acknowledged

    process, api, token = _start(tmp_path)
    try:
        with httpx.Client(
            base_url=api, headers={"Authorization": f"Bearer {token}"}, timeout=10
        ) as client:
            listed = client.get("/api/v1/revisions").json()
            numbers = [r["number"] for r in listed["revisions"]]
            texts = {n: client.get(f"/api/v1/revisions/{n}").json() for n in numbers}
            journal = client.get(
                "/api/v1/journal", params={"kind": "revision.applied", "limit": 10_000}
            ).json()["entries"]
            site = client.get("/api/v1/site").json()
    finally:
        process.send_signal(signal.SIGTERM)
        process.wait(10)
    assert numbers == list(range(len(numbers), 0, -1)), "revisions are 1..N without gaps"
    assert len(numbers) >= 1 + len(acknowledged)
    for number, text in texts.items():
        assert text["hash"] == site_hash(text["text"])
        try:
            checked_site(text["text"], path=MINIMAL)
        except SiteInvalid as error:  # pragma: no cover - the assertion message
            pytest.fail(f"revision {number} does not validate: {error}")
    for number, digest in acknowledged:  # nothing acknowledged is lost
        assert texts[number]["hash"] == digest
    assert Counter(e["data"]["revision"] for e in journal) == Counter(numbers), (
        "exactly one revision.applied per revision"
    )
    assert site["number"] == numbers[0], "the newest revision is in force after restart"
