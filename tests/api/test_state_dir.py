"""The state directory's layout: as the contracts spell it, and the same for the
controller that writes it and the clients that read it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from depotctl.api.state_dir import TOKEN_ROLES, EndpointsUnreadable, StateDir
from depotctl.client.contexts import from_state_dir
from depotctl.controller.auth import load_or_create_tokens
from depotctl.controller.server import write_endpoints
from depotctl.controller.settings import Settings
from depotctl.controller.state_lock import StateLock


def test_the_layout_is_the_one_the_contracts_spell(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    assert state.endpoints == tmp_path / "endpoints.json"
    assert state.admin_token == tmp_path / "tokens" / "admin.token"
    assert state.readonly_token == tmp_path / "tokens" / "readonly.token"
    assert [state.token(role).name for role in TOKEN_ROLES] == ["admin.token", "readonly.token"]
    assert (state.store.name, state.lock.name, state.sim_clock.name) == (
        "depotctl.sqlite",
        "serve.lock",
        "sim-clock",
    )
    assert {p.parent for p in (state.store, state.lock, state.endpoints, state.tokens)} == {
        tmp_path
    }


def test_what_the_controller_writes_a_client_finds(tmp_path: Path) -> None:
    state = StateDir(tmp_path)
    settings = Settings(
        state_dir=tmp_path,
        site_file=None,
        listen=("127.0.0.1", 0),
        ocpp_listen=("0.0.0.0", 0),
        clock="real",
        speed=1.0,
        tick_s=5.0,
    )
    with StateLock.acquire(tmp_path):
        tokens = load_or_create_tokens(tmp_path)
        written = write_endpoints(tmp_path, "127.0.0.1", 8180, settings, ocpp_port=9000)
        made = {p.relative_to(tmp_path) for p in tmp_path.rglob("*")}
    expected = {state.lock, state.endpoints, state.tokens, state.admin_token, state.readonly_token}
    assert made == {p.relative_to(tmp_path) for p in expected}
    assert written == {"api": "http://127.0.0.1:8180", "ocpp": "ws://127.0.0.1:9000/ocpp"}
    url, token_file = from_state_dir(tmp_path)
    assert url == "http://127.0.0.1:8180"
    assert token_file == state.admin_token.resolve()
    assert token_file.read_text().strip() == tokens.admin


def test_the_running_endpoints_are_read_as_written(tmp_path: Path) -> None:
    StateDir(tmp_path).endpoints.write_text('{"api": "http://127.0.0.1:1", "ocpp": "ws://x"}')
    assert StateDir(tmp_path).running_endpoints() == {
        "api": "http://127.0.0.1:1",
        "ocpp": "ws://x",
    }


@pytest.mark.parametrize(
    ("content", "said"),
    [
        (None, "does not exist: is `depotctl serve --state-dir"),
        ("{not json", "cannot read"),
        ('["api"]', "is not a JSON object"),
    ],
)
def test_endpoints_that_cannot_be_read_say_why(
    tmp_path: Path, content: str | None, said: str
) -> None:
    if content is not None:
        StateDir(tmp_path).endpoints.write_text(content)
    with pytest.raises(EndpointsUnreadable, match=re.escape(said)):
        StateDir(tmp_path).running_endpoints()
