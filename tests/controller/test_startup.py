"""What ``serve`` checks before it creates anything, called directly: the cases a real
``serve`` process cannot show here (a directory this user may not write: the tests may
run as root, whom the kernel lets write anywhere). The rest is in test_serve.py, each
refusal from a real process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from depotctl.controller.startup import StartRefused, check_state_dir, read_site_file
from tests.conftest import SITES


def _unwritable(monkeypatch: pytest.MonkeyPatch, path: Path) -> None:
    """``path`` reads as not writable by this user (as a chmod would make it for
    anyone but root)."""
    real = os.access

    def access(target: str | os.PathLike[str], mode: int, **kwargs: object) -> bool:
        if Path(target) == path and mode & os.W_OK:
            return False
        return real(target, mode)

    monkeypatch.setattr(os, "access", access)


def test_a_state_directory_this_user_may_not_write_is_refused(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _unwritable(monkeypatch, tmp_path)

    with pytest.raises(StartRefused) as refused:
        check_state_dir(tmp_path)

    assert refused.value.exit_code == 3
    assert refused.value.sentence.startswith(f"the state directory {tmp_path} is not writable by ")
    assert refused.value.sentence.endswith(
        "; change its owner or mode, or give --state-dir another path"
    )


def test_a_state_directory_under_a_parent_this_user_may_not_write_is_not_created(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _unwritable(monkeypatch, tmp_path)
    state_dir = tmp_path / "a" / "b"

    with pytest.raises(StartRefused) as refused:
        check_state_dir(state_dir)

    assert refused.value.sentence.startswith(
        f"the state directory {state_dir} cannot be created: {tmp_path} is not writable by "
    )
    assert list(tmp_path.iterdir()) == []


def test_a_new_state_directory_has_no_store_and_an_existing_one_says_so(tmp_path: Path) -> None:
    assert check_state_dir(tmp_path / "new") is False
    assert check_state_dir(tmp_path) is False
    (tmp_path / "depotctl.sqlite").write_bytes(b"")
    assert check_state_dir(tmp_path) is True
    assert [p.name for p in tmp_path.iterdir()] == ["depotctl.sqlite"]


def test_a_token_file_open_to_others_is_refused_before_anything_is_created(
    tmp_path: Path,
) -> None:
    tokens = tmp_path / "tokens"
    tokens.mkdir()
    (tokens / "admin.token").write_text("secret\n")
    (tokens / "admin.token").chmod(0o644)

    with pytest.raises(StartRefused) as refused:
        check_state_dir(tmp_path)

    assert refused.value.exit_code == 3
    assert "chmod 600" in refused.value.sentence
    assert sorted(p.name for p in tmp_path.rglob("*")) == ["admin.token", "tokens"]


def test_a_site_file_that_will_not_seed_is_read_but_not_validated(tmp_path: Path) -> None:
    broken = tmp_path / "broken.yaml"
    broken.write_text((SITES / "au-bus-depot.yaml").read_text().replace("kind: Site", "kind: Sit"))

    assert read_site_file(broken, seeds=False) == broken.read_text()
    with pytest.raises(StartRefused) as refused:
        read_site_file(broken, seeds=True)
    assert refused.value.exit_code == 1
    assert f"{broken}:" in refused.value.details


def test_the_listening_socket_gives_connections_without_nagles_delay() -> None:
    """asyncio sets TCP_NODELAY only on the connections of an IPPROTO_TCP socket; on a
    socket made with protocol 0 Nagle's algorithm stays on, and the client's delayed
    ACK held each answer written in two parts (headers, body) about 40 ms."""
    import asyncio
    import socket

    from depotctl.controller.startup import bind

    async def accepted_nodelay() -> int:
        sock = bind("127.0.0.1", 0, flag="--listen")
        made: asyncio.Future[int] = asyncio.get_running_loop().create_future()

        class Accepting(asyncio.Protocol):
            def connection_made(self, transport: asyncio.BaseTransport) -> None:
                accepted = transport.get_extra_info("socket")
                made.set_result(accepted.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY))
                transport.close()

        server = await asyncio.get_running_loop().create_server(Accepting, sock=sock)
        async with server:
            _, writer = await asyncio.open_connection(*sock.getsockname())
            nodelay = await asyncio.wait_for(made, 60)  # a hang, not a slow machine
            writer.close()
        return nodelay

    assert asyncio.run(accepted_nodelay()) == 1
