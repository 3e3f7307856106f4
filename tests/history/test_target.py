"""The history database's URL and password: never on the command line, from a
variable, a file or PGPASSFILE, checked by a real server."""

from __future__ import annotations

from pathlib import Path

import pytest

from depotctl.domain.refusal import Refusal
from depotctl.history.backlog import StoreBacklog
from depotctl.history.shipping import HistoryUnavailable, Shipper
from depotctl.history.target import history_target
from tests.history.depots import Depot
from tests.history.postgres import SHIPPER_PASSWORD, PostgresServer


@pytest.mark.parametrize(
    "url",
    [
        "postgresql://shipper:hunter2-secret@history.example/fleet",
        "postgresql://history.example/fleet?sslmode=require&password=hunter2-secret",
    ],
)
def test_a_url_with_a_password_is_refused_without_echoing_it(url: str) -> None:
    with pytest.raises(Refusal) as refused:
        history_target(url)
    assert refused.value.exit_code == 2
    assert "carries a password" in refused.value.message
    assert "hunter2" not in refused.value.message


def test_a_url_that_is_not_postgresql_is_refused() -> None:
    with pytest.raises(Refusal) as refused:
        history_target("mysql://history.example/fleet")
    assert refused.value.exit_code == 2
    assert "postgresql://" in refused.value.message and "mysql://" in refused.value.message


def test_the_password_comes_from_the_named_variable_or_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    url = "postgresql://shipper@history.example/fleet"
    monkeypatch.setenv("HISTORY_PW", "from-the-variable")
    secret = tmp_path / "pw"
    secret.write_text("from-the-file\n")
    secret.chmod(0o600)

    assert history_target(url, password_env="HISTORY_PW").password == "from-the-variable"
    assert history_target(url, password_file=secret).password == "from-the-file"
    assert history_target(url).password is None  # libpq's PGPASSFILE then
    assert history_target(url).shown == "history.example/fleet"


@pytest.mark.parametrize(
    ("options", "code", "words"),
    [
        ({"password_env": "NOT_SET_ANYWHERE"}, 2, "--password-env NOT_SET_ANYWHERE"),
        ({"password_file": Path("/nonexistent/pw")}, 3, "--password-file /nonexistent/pw"),
        ({"password_env": "X", "password_file": Path("pw")}, 2, "not both"),
    ],
)
def test_a_password_source_that_cannot_be_used_is_refused(
    options: dict[str, object], code: int, words: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NOT_SET_ANYWHERE", raising=False)
    with pytest.raises(Refusal) as refused:
        history_target("postgresql://h/db", **options)  # type: ignore[arg-type]
    assert refused.value.exit_code == code
    assert words in refused.value.message


def _ship(depot: Depot, url: str, **sources: object) -> int:
    target = history_target(url, **sources)  # type: ignore[arg-type]
    shipper = Shipper(StoreBacklog.open(depot.state_dir / "depotctl.sqlite"), target, "north")
    try:
        return shipper.ship_round().journal
    finally:
        shipper.close()


def test_the_server_checks_the_password_from_each_source(
    tmp_path: Path,
    postgres: PostgresServer,
    history_database: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    url = postgres.url(history_database, user="shipper")
    depot = Depot(tmp_path / "state", "north")
    depot.journal(2)
    monkeypatch.delenv("PGPASSWORD", raising=False)
    monkeypatch.setenv("PGPASSFILE", str(tmp_path / "no-pgpass"))

    monkeypatch.setenv("HISTORY_PW", "wrong-password-9")
    with pytest.raises(HistoryUnavailable) as unavailable:
        _ship(depot, url, password_env="HISTORY_PW")
    assert "password authentication failed" in str(unavailable.value)
    assert "wrong-password-9" not in str(unavailable.value)

    monkeypatch.setenv("HISTORY_PW", SHIPPER_PASSWORD)
    assert _ship(depot, url, password_env="HISTORY_PW") == 2

    depot.journal(1)
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"*:*:*:shipper:{SHIPPER_PASSWORD}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    assert _ship(depot, url) == 1
