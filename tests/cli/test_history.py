"""``depotctl history ship`` end to end: a real store, a real PostgreSQL server."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

from depotctl.cli import app
from depotctl.cli.history import ship_rounds
from depotctl.history.backlog import StoreBacklog
from depotctl.history.shipping import Shipper
from depotctl.history.target import HistoryTarget
from tests.history.depots import Depot, shipped
from tests.history.postgres import PostgresServer


def _ship(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    return CliRunner().invoke(
        app, ["history", "ship", *(str(a) for a in args)], env={"NO_COLOR": "1", **(env or {})}
    )


def test_ship_once_ships_the_backlog_and_names_the_depot(tmp_path: Path, history_url: str) -> None:
    url, database = history_url, history_url.split("?")[0].rsplit("/", 1)[1]
    depot = Depot(tmp_path, "depot-north")
    depot.journal(3)
    depot.session("tx-1", "chg-1/1")

    result = _ship("--once", "--state-dir", tmp_path, "--history-url", url)

    assert result.exit_code == 0, result.output
    assert result.output == (
        f"shipped 3 journal entries, 1 session, 0 telemetry minutes, 1 site revision to"
        f" localhost/{database} as depot depot-north\n"
    )
    assert shipped(url, "SELECT DISTINCT depot FROM journal") == [("depot-north",)]
    again = _ship("--once", "--state-dir", tmp_path, "--history-url", url, "--depot", "north-2")
    assert again.exit_code == 0 and "3 journal entries" in again.output  # another name


def test_a_password_in_the_url_exits_2_without_echoing_it(tmp_path: Path) -> None:
    result = _ship(
        "--once", "--state-dir", tmp_path, "--history-url", "postgresql://u:s3cr3t-pw@h/db"
    )
    assert result.exit_code == 2
    assert "carries a password" in result.output
    assert "s3cr3t" not in result.output


def test_an_unreachable_database_exits_3_and_a_missing_store_says_where(tmp_path: Path) -> None:
    Depot(tmp_path / "state", "north").journal(1)
    gone = f"postgresql://postgres@/history?host={tmp_path / 'no-server'}"
    down = _ship("--once", "--state-dir", tmp_path / "state", "--history-url", gone)
    assert down.exit_code == 3
    assert "unreachable" in down.output and "as depot north" in down.output

    empty = _ship("--once", "--state-dir", tmp_path / "empty", "--history-url", gone)
    assert empty.exit_code == 3
    assert f"no controller store at {tmp_path / 'empty' / 'depotctl.sqlite'}" in empty.output


def test_a_running_shipper_says_once_when_the_database_goes_and_when_it_is_back(
    tmp_path: Path, postgres: PostgresServer, history_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    depot = Depot(tmp_path, "north")
    depot.journal(2)
    shipper = Shipper(
        StoreBacklog.open(tmp_path / "depotctl.sqlite"), HistoryTarget(history_url), "north"
    )
    # between rounds, instead of waiting: the controller journals, the server goes and
    # comes back, and at last the operator presses Ctrl-C
    steps = iter([postgres.stop, lambda: None, postgres.start])

    def between_rounds(seconds: float) -> None:
        assert seconds == 10.0
        depot.journal(1)
        step = next(steps, None)
        if step is None:
            raise KeyboardInterrupt
        step()

    with pytest.raises(KeyboardInterrupt):
        ship_rounds(shipper, once=False, every_s=10.0, sleep=between_rounds)
    shipper.close()
    out, err = capsys.readouterr()
    to = f"{shipper.target.shown} as depot north"
    assert shipper.target.shown == "localhost/" + history_url.split("?")[0].rsplit("/", 1)[1]
    assert out.splitlines() == [
        f"shipped 2 journal entries, 0 sessions, 0 telemetry minutes, 1 site revision to {to}",
        f"shipped 3 journal entries, 0 sessions, 0 telemetry minutes to {to}",
    ]
    assert err.count("is unreachable") == 1 and "retrying every 10 s" in err
    assert err.splitlines()[-1] == f"depotctl history ship: {shipper.target.shown} is back"
    assert shipped(history_url, "SELECT count(*) FROM journal") == [(5,)]
