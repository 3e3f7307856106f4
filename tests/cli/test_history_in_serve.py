"""``depotctl serve --history-url``: a real controller ships its store to a real
PostgreSQL while it runs; a URL with a password stops it before it creates anything."""

from __future__ import annotations

import time
from pathlib import Path

import psycopg

from tests.conftest import EXAMPLES
from tests.controller.test_serve import _refused, serve
from tests.history.depots import shipped


def _journal_rows(url: str) -> int:
    with psycopg.connect(url) as connection:
        row = connection.execute(b"SELECT to_regclass('journal') IS NOT NULL").fetchone()
        if not row or not row[0]:
            return 0
    return int(str(shipped(url, "SELECT count(*) FROM journal")[0][0]))


def test_serve_ships_its_journal_while_it_runs(tmp_path: Path, history_url: str) -> None:
    site = EXAMPLES / "minimal.yaml"
    with serve(tmp_path, "--site", str(site), "--history-url", history_url) as controller:
        deadline = time.monotonic() + 60  # a hang, not a busy machine's slow start
        while _journal_rows(history_url) == 0:
            assert controller.process.poll() is None, "serve exited"
            assert time.monotonic() < deadline, "serve shipped nothing in 60 s"
            time.sleep(0.1)
        code, log = controller.stop()

    assert code == 0, log
    assert "history shipping stopped" not in log
    kinds = shipped(history_url, "SELECT DISTINCT depot, kind FROM journal")
    assert ("minimal-depot", "revision.applied") in kinds


def test_serve_with_a_password_in_the_history_url_exits_2_creating_nothing(
    tmp_path: Path,
) -> None:
    state = tmp_path / "state"
    code, err = _refused(
        state, "--site", str(EXAMPLES / "minimal.yaml"), "--history-url", "postgresql://u:pw-9@h/db"
    )
    assert code == 2
    assert "carries a password" in err and "pw-9" not in err
    assert not state.exists()
