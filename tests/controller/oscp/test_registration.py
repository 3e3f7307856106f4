"""OSCP registration over real HTTP both ways: who starts it, the tokens exchanged
(0600 in the state directory, rotated so that the one before stops at once), the
handshake that follows, and a restart that keeps all of it."""

from __future__ import annotations

import stat
from datetime import timedelta
from pathlib import Path

import pytest

from depotctl.api.state_dir import StateDir
from depotctl.controller.clock import SimClock
from depotctl.controller.store import JournalKind
from depotctl.protocols.oscp.endpoints import oscp_app
from tests.controller.oscp.rig import (
    INITIAL_TOKEN,
    SOURCE,
    START,
    CapacityProvider,
    Rig,
    oscp_rig,
    serving,
    site_text,
)


def _register(rig: Rig, token: str, *, their_token: str = "cp-token-1", request_id: str = "r-1"):
    body = {
        "token": their_token,
        "version_url": [{"version": "2.0", "base_url": f"{rig.cp_url}/oscp/cp/2.0"}],
    }
    return rig.post("register", body, token=token, request_id=request_id)


def test_the_controller_registers_with_the_initial_token_and_the_peers_answer_completes_it(
    tmp_path: Path,
) -> None:
    with oscp_rig(tmp_path) as rig:
        rig.link_pass()
        [register] = rig.provider.of("register")
        assert register.headers["authorization"] == f"Token {INITIAL_TOKEN}"
        assert register.headers["x-request-id"]
        ours = register.body["token"]
        assert register.body["version_url"] == [{"version": "2.0", "base_url": rig.events.base_url}]
        # the peer answers with its own register, presenting the token it was given
        assert _register(rig, ours).status_code == 204
        rig.link_pass()
        [handshake] = rig.provider.of("handshake")
        assert handshake.headers["authorization"] == "Token cp-token-1"
        assert handshake.body == {
            "required_behaviour": {"heartbeat_interval": 60.0, "measurement_configuration": []}
        }
        # completed: no second register of ours, and the exchanged token works
        assert len(rig.provider.of("register")) == 1
        beat = rig.post("heartbeat", {"offline_mode_at": "2026-03-02T06:05:00Z"}, token=ours)
        assert beat.status_code == 204
        paths = StateDir(tmp_path)
        for holder in ("ours", "theirs"):
            mode = stat.S_IMODE(paths.oscp_token(SOURCE, holder).stat().st_mode)
            assert mode == 0o600
        [entry] = rig.journal(JournalKind.OSCP_REGISTERED)
        assert "completed" in entry.message and INITIAL_TOKEN not in str(entry.data)


def test_a_registration_the_peer_starts_is_answered_with_a_new_token_that_replaces_the_old(
    tmp_path: Path,
) -> None:
    with oscp_rig(tmp_path) as rig:
        assert _register(rig, INITIAL_TOKEN).status_code == 204
        rig.link_pass()
        registers = rig.provider.of("register")
        answer = registers[-1]
        assert answer.headers["authorization"] == "Token cp-token-1"
        assert answer.headers["x-correlation-id"] == "r-1"
        first = answer.body["token"]
        assert (
            rig.post(
                "heartbeat", {"offline_mode_at": "2026-03-02T06:05:00Z"}, token=first
            ).status_code
            == 204
        )
        # the peer registers again with the token it holds: a new one, the old one dies
        assert _register(rig, first, their_token="cp-token-2", request_id="r-2").status_code == 204
        rig.link_pass()
        second = rig.provider.of("register")[-1]
        assert second.headers["authorization"] == "Token cp-token-2"
        assert second.body["token"] != first
        stale = rig.post("heartbeat", {"offline_mode_at": "2026-03-02T06:05:00Z"}, token=first)
        assert stale.status_code == 401
        fresh = rig.post(
            "heartbeat", {"offline_mode_at": "2026-03-02T06:05:00Z"}, token=second.body["token"]
        )
        assert fresh.status_code == 204


def test_the_initial_token_is_for_register_only(tmp_path: Path) -> None:
    with oscp_rig(tmp_path) as rig:
        refused = rig.post(
            "heartbeat", {"offline_mode_at": "2026-03-02T06:05:00Z"}, token=INITIAL_TOKEN
        )
        assert refused.status_code == 403
        assert "register first" in refused.json()["message"]


@pytest.mark.parametrize(
    ("token", "scheme", "status"),
    [(None, "Token", 401), ("nobodys-token", "Token", 401), (INITIAL_TOKEN, "Bearer", 401)],
    ids=["no-token", "unknown-token", "wrong-scheme"],
)
def test_a_request_without_a_valid_token_is_401_and_stores_nothing(
    tmp_path: Path, token: str | None, scheme: str, status: int
) -> None:
    with oscp_rig(tmp_path) as rig:
        before = len(rig.journal())
        body = {"token": "t", "version_url": [{"version": "2.0", "base_url": "http://x/2.0"}]}
        answer = rig.post("register", body, token=token, scheme=scheme)
        assert answer.status_code == status
        assert (
            "Token <token>" in answer.json()["message"] or "not valid" in answer.json()["message"]
        )
        assert len(rig.journal()) == before
        assert not StateDir(tmp_path).oscp_token(SOURCE, "theirs").exists()


def test_a_repeated_request_id_is_answered_again_and_handled_once(tmp_path: Path) -> None:
    with oscp_rig(tmp_path) as rig:
        assert _register(rig, INITIAL_TOKEN, request_id="same").status_code == 204
        assert _register(rig, INITIAL_TOKEN, request_id="same").status_code == 204
        assert len(rig.journal(JournalKind.OSCP_REGISTERED)) == 1
        rig.link_pass()
        assert len(rig.provider.of("register")) == 1


def test_bad_requests_are_4xx_with_a_message_and_store_nothing(tmp_path: Path) -> None:
    with oscp_rig(tmp_path) as rig:
        before = len(rig.journal())
        missing = _register_body_without_token(rig)
        assert missing.status_code == 400
        assert "token" in missing.json()["message"]
        no_id = rig.post("register", {}, token=INITIAL_TOKEN, request_id="")
        assert no_id.status_code == 400 and "X-Request-ID" in no_id.json()["message"]
        huge = rig.post("register", b"{" + b" " * (10 * 1024 * 1024) + b"}", token=INITIAL_TOKEN)
        assert huge.status_code == 413
        not_json = rig.post("register", b"{nope", token=INITIAL_TOKEN)
        assert not_json.status_code == 400 and "not JSON" in not_json.json()["message"]
        nowhere = rig.post("unknown_endpoint", {}, token=INITIAL_TOKEN)
        assert nowhere.status_code == 404 and "/oscp/fp/2.0/" in nowhere.json()["message"]
        assert len(rig.journal()) == before


def _register_body_without_token(rig: Rig):
    body = {"version_url": [{"version": "2.0", "base_url": "http://x/2.0"}]}
    return rig.post("register", body, token=INITIAL_TOKEN)


def test_a_restart_keeps_the_registration_its_tokens_and_the_unsent_answers(
    tmp_path: Path,
) -> None:
    provider = CapacityProvider(status=503)  # down: nothing is acknowledged
    with serving(provider.app()) as cp_url:
        before = Rig(tmp_path, provider, cp_url, SimClock(START, monotonic=lambda: 0.0))
        before.seed(site_text(cp_url))
        with serving(oscp_app(before.events)) as fp_url:
            before.fp = fp_url
            before.events.base_url = f"{fp_url}/oscp/fp/2.0"
            assert _register(before, INITIAL_TOKEN).status_code == 204
        before.link_pass()
        assert provider.of("register")  # tried, refused for now
        ours = provider.of("register")[-1].body["token"]
        before.close()

        provider.status = 204
        later = SimClock(START + timedelta(minutes=10), monotonic=lambda: 0.0)
        after = Rig(tmp_path, provider, cp_url, later)
        try:
            record = after.controller.units().oscp.get(SOURCE)
            assert record.registered_at is not None
            assert [m.queued.message for m in after.controller.units().oscp.outbox()] == [
                "register",
                "handshake",
            ]
            after.link_pass()
            assert after.controller.units().oscp.outbox() == []
            delivered = provider.received[-2:]
            assert [r.endpoint for r in delivered] == ["register", "handshake"]
            assert delivered[0].body["token"] == ours  # the same answer, not a new one
            assert after.events.tokens.is_ours(SOURCE, ours)
        finally:
            after.close()


def test_the_peers_registration_overtakes_one_of_ours_stuck_at_the_sites_address(
    tmp_path: Path,
) -> None:
    dead = CapacityProvider(status=503)  # the site's base_url answers nothing useful
    live = CapacityProvider()
    with oscp_rig(tmp_path, dead) as rig, serving(live.app()) as live_url:
        rig.link_pass()
        assert [r.endpoint for r in dead.received] == ["register"]  # ours, refused for now
        body = {
            "token": "cp-token-1",
            "version_url": [{"version": "2.0", "base_url": f"{live_url}/oscp/cp/2.0"}],
        }
        assert rig.post("register", body, token=INITIAL_TOKEN).status_code == 204
        rig.clock.advance(600)
        rig.link_pass()
        assert [r.endpoint for r in live.received] == ["register", "handshake"]
        assert rig.controller.units().oscp.outbox() == []
        assert len(dead.received) == 1  # ours was dropped, not tried again
