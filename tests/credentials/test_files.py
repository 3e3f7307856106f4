"""Credential files: token files refused unless private and non-empty (as ssh refuses a
key), secret files a site references read with one warning while others may read them."""

from __future__ import annotations

import logging
import os
from pathlib import Path

import pytest

from depotctl.credentials.files import TokenFileError, read_private_token, read_secret_file

TOKEN = "tok-0f3a9c77d2"

pytestmark = pytest.mark.skipif(os.name != "posix", reason="file modes are POSIX")


def _file(tmp_path: Path, content: bytes | str, mode: int, name: str = "admin.token") -> Path:
    path = tmp_path / name
    path.write_bytes(content.encode() if isinstance(content, str) else content)
    path.chmod(mode)
    return path


@pytest.mark.parametrize("mode", [0o600, 0o400, 0o700])
def test_a_private_token_file_is_read_stripped(tmp_path: Path, mode: int) -> None:
    assert read_private_token(_file(tmp_path, f"  {TOKEN}\n", mode)) == TOKEN


@pytest.mark.parametrize(
    ("mode", "who"),
    [(0o644, "group and others"), (0o640, "its group"), (0o604, "others"),
     (0o620, "its group"), (0o602, "others"), (0o666, "group and others")],
)  # fmt: skip
def test_a_token_file_open_to_group_or_others_is_refused(
    tmp_path: Path, mode: int, who: str
) -> None:
    path = _file(tmp_path, TOKEN, mode)
    with pytest.raises(TokenFileError) as refused:
        read_private_token(path)
    message = str(refused.value)
    assert message == (
        f"the token file {path} is open to {who} (mode {mode:04o}); a token grants the "
        f"controller's API, so keep it private: chmod 600 {path}"
    )
    assert TOKEN not in message and "\n" not in message


def test_an_empty_token_file_is_refused_with_what_to_do(tmp_path: Path) -> None:
    path = _file(tmp_path, " \n\n", 0o600)
    with pytest.raises(TokenFileError, match=r"is empty; delete it"):
        read_private_token(path, when_empty="delete it")


@pytest.mark.parametrize(
    ("content", "fragment"),
    [(b"x" * (64 * 1024 + 1), "over 64 KiB"), (b"\xff\xfe token", "not UTF-8")],
)
def test_a_token_file_that_is_no_token_is_refused(
    tmp_path: Path, content: bytes, fragment: str
) -> None:
    with pytest.raises(TokenFileError, match=fragment):
        read_private_token(_file(tmp_path, content, 0o600))


def test_a_missing_token_file_or_a_directory_is_refused(tmp_path: Path) -> None:
    with pytest.raises(TokenFileError, match=r"cannot read the token file .*: No such file"):
        read_private_token(tmp_path / "none.token")
    with pytest.raises(TokenFileError, match="not a regular file"):
        read_private_token(tmp_path)


def test_a_link_to_a_private_token_is_judged_by_the_file_it_names(tmp_path: Path) -> None:
    target = _file(tmp_path, TOKEN, 0o600)
    (tmp_path / "link.token").symlink_to(target)
    assert read_private_token(tmp_path / "link.token") == TOKEN
    target.chmod(0o644)
    with pytest.raises(TokenFileError, match="mode 0644"):
        read_private_token(tmp_path / "link.token")


def test_a_secret_file_readable_by_all_is_read_with_one_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _file(tmp_path, "hunter2\n", 0o444, "cp01.secret")
    with caplog.at_level(logging.WARNING, logger="depotctl.secrets"):
        assert read_secret_file(path, what="password file") == "hunter2"
        assert read_secret_file(path, what="password file") == "hunter2"
    [warning] = [r for r in caplog.records if r.name == "depotctl.secrets"]
    assert warning.getMessage().startswith(
        f"password file {path} is readable by group and others (mode 0444)"
    )
    assert "hunter2" not in warning.getMessage()


def test_a_private_secret_file_is_read_without_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _file(tmp_path, "hunter2", 0o600, "cp02.secret")
    with caplog.at_level(logging.WARNING, logger="depotctl.secrets"):
        assert read_secret_file(path) == "hunter2"
    assert [r for r in caplog.records if r.name == "depotctl.secrets"] == []
