"""The controller's own tokens: created private, and an existing token file that group
or others may read or write, or that is empty, refused — by ``serve`` with one line and
exit 3, never an internal error."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest

from depotctl.controller.auth import load_or_create_tokens
from depotctl.credentials import TokenFileError

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def _tokens(state_dir: Path, admin: str, mode: int) -> Path:
    directory = state_dir / "tokens"
    directory.mkdir(mode=0o700, parents=True)
    path = directory / "admin.token"
    path.write_text(admin)
    path.chmod(mode)
    return path


def test_tokens_are_made_private_in_a_private_directory_and_kept(tmp_path: Path) -> None:
    made = load_or_create_tokens(tmp_path)
    directory = tmp_path / "tokens"
    assert _mode(directory) == 0o700
    assert {p.name: _mode(p) for p in directory.iterdir()} == {
        "admin.token": 0o600,
        "readonly.token": 0o600,
    }
    assert made.admin != made.readonly
    assert load_or_create_tokens(tmp_path) == made


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o660, 0o604])
def test_an_existing_token_file_open_to_others_is_refused(tmp_path: Path, mode: int) -> None:
    path = _tokens(tmp_path, "admin-secret-1", mode)
    with pytest.raises(TokenFileError) as refused:
        load_or_create_tokens(tmp_path)
    assert f"the token file {path} is open to" in str(refused.value)
    assert f"(mode {mode:04o})" in str(refused.value)
    assert f"chmod 600 {path}" in str(refused.value)
    assert _mode(path) == mode  # refused, not silently repaired


def test_an_existing_empty_token_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    _tokens(tmp_path, "\n", 0o600)
    with pytest.raises(TokenFileError, match="is empty; delete it and start the controller"):
        load_or_create_tokens(tmp_path)


def _serve(state_dir: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "depotctl", "serve", "--state-dir", str(state_dir),
         "--listen", "127.0.0.1:0", "--ocpp-listen", "127.0.0.1:0"],
        capture_output=True,
        text=True,
        timeout=60,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("content", "mode", "said"),
    [("\n", 0o600, "is empty; delete it"), ("admin-secret-2\n", 0o644, "is open to group and others")],
    ids=["empty", "world-readable"],
)  # fmt: skip
def test_serve_refuses_an_unusable_token_file_with_one_line_and_exit_3(
    tmp_path: Path, content: str, mode: int, said: str
) -> None:
    path = _tokens(tmp_path, content, mode)
    result = _serve(tmp_path)
    assert result.returncode == 3
    refusal = [line for line in result.stderr.splitlines() if line.startswith("depotctl serve:")]
    assert refusal == [refusal[0]] and f"the token file {path} {said}" in refusal[0]
    assert "internal error" not in result.stderr
    assert "admin-secret-2" not in result.stderr
    assert not (tmp_path / "endpoints.json").exists()
