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
