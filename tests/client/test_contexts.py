"""The CLI's configuration: contexts, the current one, and what overrides them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from depotctl.client.contexts import (
    Context,
    ContextError,
    Contexts,
    from_state_dir,
    resolve,
)


def _token(tmp_path: Path, name: str, value: str, mode: int = 0o600) -> Path:
    path = tmp_path / name
    path.write_text(value + "\n")
    path.chmod(mode)
    return path


def test_contexts_round_trip_with_mode_0600(tmp_path: Path) -> None:
    config = tmp_path / "conf" / "config.yaml"
    contexts = Contexts.load(config)
    contexts.add(Context("north", "http://10.0.0.1:8180", "/t/north.token"))
    contexts.add(Context("south", "http://10.0.0.2:8180", "/t/south.token"))
    contexts.save()
    assert config.stat().st_mode & 0o777 == 0o600
    again = Contexts.load(config)
    assert again.current == "north"  # the first added becomes current
    assert [c.name for c in again.contexts] == ["north", "south"]
    again.use("south")
    again.save()
    assert Contexts.load(config).current == "south"


def test_resolve_order_flags_then_context_then_env_then_current(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    contexts = Contexts(config)
    contexts.add(Context("a", "http://a:1", str(_token(tmp_path, "a.token", "token-a"))))
    contexts.add(Context("b", "http://b:1", str(_token(tmp_path, "b.token", "token-b"))))
    contexts.save()
    env = {"DEPOTCTL_CONFIG": str(config)}
    assert resolve(environ=env).server == "http://a:1"
    assert resolve(environ={**env, "DEPOTCTL_CONTEXT": "b"}).token == "token-b"
    assert resolve(context="a", environ={**env, "DEPOTCTL_CONTEXT": "b"}).server == "http://a:1"
    flags = resolve(
        server="http://c:1/",
        token_file=_token(tmp_path, "c.token", "token-c"),
        environ={"DEPOTCTL_CONFIG": str(tmp_path / "missing" / "config.yaml")},
    )
    assert (flags.server, flags.token, flags.origin) == ("http://c:1", "token-c", "--server")


def test_no_context_at_all_is_a_usage_error_naming_the_ways(tmp_path: Path) -> None:
    with pytest.raises(ContextError) as raised:
        resolve(environ={"DEPOTCTL_CONFIG": str(tmp_path / "config.yaml")})
    assert raised.value.exit_code == 2
    assert "--server URL --token-file FILE" in raised.value.message
    assert "--context" in raised.value.message


def test_an_unreadable_token_file_is_an_io_error(tmp_path: Path) -> None:
    with pytest.raises(ContextError) as raised:
        resolve(server="http://x:1", token_file=tmp_path / "none.token", environ={})
    assert raised.value.exit_code == 3
    assert "none.token" in raised.value.message


def test_a_server_that_is_not_a_url_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ContextError, match="not a controller URL"):
        resolve(server="127.0.0.1:8180", token_file=_token(tmp_path, "t", "x"), environ={})


def test_from_state_dir_reads_endpoints_and_the_admin_token(tmp_path: Path) -> None:
    (tmp_path / "tokens").mkdir()
    _token(tmp_path / "tokens", "admin.token", "secret")
    (tmp_path / "endpoints.json").write_text(json.dumps({"api": "http://127.0.0.1:4321"}))
    server, token_file = from_state_dir(tmp_path)
    assert server == "http://127.0.0.1:4321"
    assert token_file == (tmp_path / "tokens" / "admin.token").resolve()


def test_from_a_state_dir_without_a_controller_says_so(tmp_path: Path) -> None:
    with pytest.raises(ContextError, match="is `depotctl serve --state-dir") as raised:
        from_state_dir(tmp_path)
    assert raised.value.exit_code == 3


def test_a_config_file_of_the_wrong_shape_is_an_io_error(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("contexts:\n  - name: x\n")
    with pytest.raises(ContextError, match=r"contexts\[0\] needs name, server and token_file"):
        Contexts.load(config)


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o606])
def test_a_token_file_others_may_read_or_write_is_refused_as_ssh_refuses_a_key(
    tmp_path: Path, mode: int
) -> None:
    token = _token(tmp_path, "shared.token", "token-shared", mode)
    with pytest.raises(ContextError) as refused:
        resolve(server="http://x:1", token_file=token, environ={})
    assert refused.value.exit_code == 3
    assert f"(mode {mode:04o})" in refused.value.message
    assert f"chmod 600 {token}" in refused.value.message
    assert "token-shared" not in refused.value.message


def test_a_contexts_token_file_is_refused_the_same_way(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    contexts = Contexts(config)
    contexts.add(Context("a", "http://a:1", str(_token(tmp_path, "a.token", "token-a", 0o664))))
    contexts.save()
    with pytest.raises(ContextError, match=r"open to group and others \(mode 0664\)") as refused:
        resolve(environ={"DEPOTCTL_CONFIG": str(config)})
    assert refused.value.exit_code == 3


def test_an_empty_token_file_says_what_to_put_in_it(tmp_path: Path) -> None:
    with pytest.raises(ContextError, match="is empty; copy the controller's token into it"):
        resolve(server="http://x:1", token_file=_token(tmp_path, "e.token", ""), environ={})
