"""A charger's password read from where its reference says it is kept."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from depotctl.credentials import CredentialMissing, read_password
from depotctl.domain.charge_points import PasswordRef


def test_a_password_in_an_environment_variable_is_read_each_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    ref = PasswordRef(env="CP01_PASSWORD")
    monkeypatch.setenv("CP01_PASSWORD", "first")
    assert read_password(ref) == "first"
    monkeypatch.setenv("CP01_PASSWORD", "rotated")
    assert read_password(ref) == "rotated"


@pytest.mark.parametrize("value", [None, ""])
def test_an_unset_or_empty_variable_is_a_missing_credential(
    monkeypatch: pytest.MonkeyPatch, value: str | None
) -> None:
    if value is None:
        monkeypatch.delenv("CP01_PASSWORD", raising=False)
    else:
        monkeypatch.setenv("CP01_PASSWORD", value)
    with pytest.raises(CredentialMissing, match="environment variable CP01_PASSWORD is not set"):
        read_password(PasswordRef(env="CP01_PASSWORD"))


def test_a_chargers_password_file_mounted_for_all_still_authenticates(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = tmp_path / "cp03.secret"
    path.write_text("cp-03-password\n")
    path.chmod(0o444)
    with caplog.at_level(logging.WARNING, logger="depotctl.secrets"):
        assert read_password(PasswordRef(file=path)) == "cp-03-password"
    assert any("password file" in r.getMessage() for r in caplog.records)


def test_a_missing_password_file_or_no_reference_is_a_missing_credential(
    tmp_path: Path,
) -> None:
    with pytest.raises(CredentialMissing, match=r"cannot read .*absent\.secret"):
        read_password(PasswordRef(file=tmp_path / "absent.secret"))
    with pytest.raises(CredentialMissing, match="no password_env or password_file"):
        read_password(PasswordRef())
