"""Shipping a real controller store into a real PostgreSQL: every row once, under the
depot's name, through crashes mid-round and a database that goes away."""

from __future__ import annotations

import json
import selectors
import signal
import subprocess
import sys
from datetime import datetime, timedelta
from pathlib import Path

import psycopg
import pytest

from depotctl.controller.store.compaction import Compactor
from depotctl.domain.refusal import Refusal
from depotctl.domain.telemetry import Reading
from depotctl.history.backlog import StoreBacklog
from depotctl.history.shipping import HistoryUnavailable, Shipped, Shipper
from depotctl.history.target import HistoryTarget
from tests.history.depots import NIGHT, Depot, every_row, every_shipped_row, shipped
from tests.history.killed_shipper import BATCH
from tests.history.postgres import PostgresServer

REPOSITORY = Path(__file__).resolve().parents[2]
JOURNAL_ROWS = "SELECT depot, id, at, kind, evse, message, data FROM journal ORDER BY depot, id"


def _shipper(depot: Depot, url: str, name: str = "north", **options: object) -> Shipper:
    backlog = StoreBacklog.open(depot.state_dir / "depotctl.sqlite")
    return Shipper(backlog, HistoryTarget(url), name, **options)  # type: ignore[arg-type]


def ship_once(depot: Depot, url: str, name: str = "north") -> Shipped:
    """One round of a shipper started for it, as `history ship --once` runs."""
    shipper = _shipper(depot, url, name)
    try:
        return shipper.ship_round()
    finally:
        shipper.close()


def _store_journal(depot: Depot, name: str = "north") -> list[tuple[object, ...]]:
    """The store's journal as the history database should hold it."""
    return [
        (name, id_, datetime.fromisoformat(str(at)), kind, evse, message, json.loads(str(data)))
        for id_, at, kind, evse, message, data in depot.stored(
            "SELECT id, at, kind, evse, message, data FROM journal ORDER BY id"
        )
    ]


def test_a_round_ships_the_journal_sessions_and_minutes_under_the_depots_name(
    tmp_path: Path, history_url: str
) -> None:
    depot = Depot(tmp_path, "north")
    depot.journal(5)
    first = depot.session("tx-1", "chg-1/1")
    depot.readings("gc-main", 1000.0, 3000.0, 2000.0, 4000.0)  # 80 s: two minutes
    depot.end(depot.charge(first, 5_000.0), 6_000.0)
    depot.session("tx-2", "chg-2/1", 100.0)

    assert ship_once(depot, history_url) == Shipped(journal=5, sessions=2, telemetry=2, revisions=1)
    assert shipped(history_url, JOURNAL_ROWS) == _store_journal(depot)
    assert sorted(
        shipped(
            history_url, "SELECT depot, id, ended_at IS NULL, energy_delivered_wh FROM sessions"
        )
    ) == [("north", "tx-1", False, 6000.0), ("north", "tx-2", True, 100.0)]
    minutes = "SELECT node, samples, power_w_mean, power_w_max FROM telemetry_minutes"
    assert shipped(history_url, minutes + " ORDER BY minute") == depot.stored(
        "SELECT n.name, samples, power_mw_mean / 1000.0, power_mw_max / 1000.0 FROM telemetry"
        " JOIN telemetry_nodes n ON n.id = node ORDER BY minute"
    )

    assert ship_once(depot, history_url).journal == 0  # nothing new: nothing doubled
    assert shipped(history_url, JOURNAL_ROWS) == _store_journal(depot)


def test_what_changes_after_shipping_is_shipped_again(tmp_path: Path, history_url: str) -> None:
    depot = Depot(tmp_path, "north")
    session = depot.session("tx-1", "chg-1/1")
    depot.readings("gc-main", 1000.0)
    shipper = _shipper(depot, history_url)
    assert shipper.ship_round() == Shipped(sessions=1, telemetry=1, revisions=1)
    assert shipper.ship_round() == Shipped()  # read again, unchanged: not sent

    depot.readings("gc-main", 3000.0)  # the same minute, a second reading
    depot.end(depot.charge(session, 2_000.0), 2_500.0)
    assert shipper.ship_round() == Shipped(sessions=1, telemetry=1)
    shipper.close()

    assert shipped(history_url, "SELECT samples, power_w_mean FROM telemetry_minutes") == [
        (2, 2000.0)
    ]
    assert shipped(
        history_url, "SELECT energy_delivered_wh, ended_at IS NOT NULL FROM sessions"
    ) == [(2500.0, True)]


@pytest.mark.parametrize(("stream", "nth"), [("journal", 2), ("telemetry", 3)])
def test_a_shipper_killed_mid_ship_loses_and_doubles_no_row(
    tmp_path: Path, history_url: str, stream: str, nth: int
) -> None:
    """A real shipper process SIGKILLed inside a batch's transaction (its upserts sent,
    its commit not): the batches before it stay, nothing of it lands, and a shipper
    started after it ships the rest: every row of the store once, compared by key."""
    depot = Depot(tmp_path, "north")
    session = depot.session("tx-1", "chg-1/1")
    for _ in range(12):  # twelve minutes: 36 minutes of telemetry, 36 journal entries
        depot.journal(3)
        depot.minute({"gc-main": 9000.0, "chg-1": 7000.0, "chg-2": 2000.0})
    depot.end(depot.charge(session, 8_000.0), 8_400.0)
    command = [sys.executable, "-m", "tests.history.killed_shipper"]
    command += [str(depot.state_dir / "depotctl.sqlite"), history_url, "north", stream, str(nth)]
    shipper = subprocess.Popen(command, stdout=subprocess.PIPE, text=True, cwd=REPOSITORY)
    try:
        said = _line_within(shipper, seconds=120.0)
        assert said.startswith(f"holding {stream} batch {nth} of 10 rows"), said
    finally:
        shipper.kill()  # SIGKILL
        shipper.wait()
    assert shipper.returncode == -signal.SIGKILL

    landed = every_shipped_row(history_url, "north")
    assert len(landed[stream]) == BATCH * (nth - 1)  # the batches before it, not it
    store = every_row(depot, "north")
    assert all(set(landed[s]) <= set(store[s]) for s in ("telemetry", "revisions"))

    depot.journal(2)  # the controller went on meanwhile
    depot.minute({"gc-main": 5000.0})
    ship_once(depot, history_url)
    assert every_shipped_row(history_url, "north") == every_row(depot, "north")
    assert ship_once(depot, history_url).journal == 0  # and shipped again: still once


def _line_within(process: subprocess.Popen[str], *, seconds: float) -> str:
    """The process's next line on stdout; a hang (nothing within ``seconds``, only to
    tell a hang from a busy machine) fails the test."""
    assert process.stdout is not None
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        if not selector.select(timeout=seconds):
            pytest.fail(f"the shipper said nothing within {seconds:g} s")
    return process.stdout.readline()


def test_a_cursor_behind_its_rows_ships_them_again_without_doubling(
    tmp_path: Path, history_url: str
) -> None:
    depot = Depot(tmp_path, "north")
    depot.journal(12)
    depot.readings("gc-main", 500.0, 700.0, 900.0)
    shipper = _shipper(depot, history_url, batch=5)
    shipper.ship_round()
    with psycopg.connect(history_url, autocommit=True) as connection:  # as if commits were lost
        connection.execute(b"UPDATE history_cursors SET position = '[2]' WHERE stream = 'journal'")
        connection.execute(b"DELETE FROM history_cursors WHERE stream = 'telemetry'")

    assert shipper.ship_round().journal == 10
    shipper.close()
    assert shipped(history_url, JOURNAL_ROWS) == _store_journal(depot)
    assert shipped(history_url, "SELECT count(*) FROM telemetry_minutes") == [(2,)]


def test_ten_minutes_of_outage_on_the_controllers_clock_arrive_each_row_once(
    tmp_path: Path, postgres: PostgresServer, history_url: str
) -> None:
    """PostgreSQL stopped while the controller's clock runs ten minutes on (entries,
    readings of three nodes, a session started and another ended): each round fails and
    the backlog grows in the store; started again, one round ships it, and the history
    holds every row of the store once, compared by key."""
    depot = Depot(tmp_path, "north")
    depot.journal(4)
    first = depot.session("tx-1", "chg-1/1")
    depot.minute({"gc-main": 4000.0, "chg-1": 3000.0})
    shipper = _shipper(depot, history_url)
    shipper.ship_round()
    assert every_shipped_row(history_url, "north") == every_row(depot, "north")

    stopped_at, backlog = depot.now, []
    postgres.stop()
    try:
        for minute in range(10):  # the controller's clock: ten minutes while it is down
            depot.journal(2)
            depot.minute({"gc-main": 7000.0, "chg-1": 6000.0, "chg-2": 1000.0 * minute})
            if minute == 3:
                depot.session("tx-2", "chg-2/1")
            with pytest.raises(HistoryUnavailable):
                shipper.ship_round()
            backlog.append(sum(len(rows) for rows in every_row(depot, "north").values()))
        depot.end(depot.charge(first, 9_000.0), 9_500.0)
    finally:
        postgres.start()
    assert depot.now - stopped_at >= timedelta(minutes=10)
    assert backlog == sorted(set(backlog))  # it grew every minute

    shipped_now = shipper.ship_round()
    shipper.close()
    assert shipped_now.journal == 20 and shipped_now.telemetry >= 30
    assert every_shipped_row(history_url, "north") == every_row(depot, "north")
    assert shipped(history_url, "SELECT count(*) FROM journal") == [(24,)]


def test_two_depots_share_one_database_each_under_its_name(
    tmp_path: Path, history_url: str
) -> None:
    north, south = Depot(tmp_path / "north", "north"), Depot(tmp_path / "south", "south")
    north.journal(3, evse="chg-1/1")
    south.journal(5, evse="chg-9/1")
    north.session("tx-1", "chg-1/1")
    south.session("tx-1", "chg-9/1")  # the same id at another depot is another session
    ship_once(north, history_url, "north")
    ship_once(south, history_url, "south")

    assert shipped(history_url, JOURNAL_ROWS) == (
        _store_journal(north, "north") + _store_journal(south, "south")
    )
    assert shipped(history_url, "SELECT depot, evse_id FROM sessions ORDER BY depot") == [
        ("north", "chg-1/1"),
        ("south", "chg-9/1"),
    ]


def test_another_store_shipping_under_a_shipped_name_is_refused(
    tmp_path: Path, history_url: str
) -> None:
    first, second = Depot(tmp_path / "a", "north"), Depot(tmp_path / "b", "north")
    first.journal(6)
    second.journal(2)
    ship_once(first, history_url)

    with pytest.raises(Refusal) as refused:
        ship_once(second, history_url)
    assert refused.value.exit_code == 4
    assert "up to entry 6" in refused.value.message and "--depot" in refused.value.message
    assert [row[1] for row in shipped(history_url, JOURNAL_ROWS)] == list(range(1, 7))


def test_a_sessions_vehicle_is_shipped_once_the_store_records_it(
    tmp_path: Path, history_url: str
) -> None:
    depot = Depot(tmp_path, "north")
    depot.session("tx-1", "chg-1/1")
    columns = {row[1] for row in depot.stored("PRAGMA table_info(sessions)")}
    with depot.store.transaction():  # a store of before vehicles gains the column
        if "vehicle_id" not in columns:
            depot.store.write("ALTER TABLE sessions ADD COLUMN vehicle_id TEXT")
        depot.store.write("UPDATE sessions SET vehicle_id = 'bus-42'")
    ship_once(depot, history_url)

    assert shipped(history_url, "SELECT id, vehicle_id FROM sessions") == [("tx-1", "bus-42")]


def test_quarter_hours_ship_and_a_late_minute_merged_into_one_ships_again(
    tmp_path: Path, history_url: str
) -> None:
    """The minutes the store's compaction folded into quarter hours (and dropped) ship
    as quarters; a reading that arrives late, folded into a quarter already shipped,
    changes it, and the next round ships the change — every row as the store has it."""
    depot = Depot(tmp_path, "north")
    for minute in range(40):
        depot.minute({"gc-main": 1000.0 * (minute % 7), "chg-1": 500.0})
    compactor = Compactor(depot.store)
    folded = compactor.downsample_telemetry(before=NIGHT + timedelta(minutes=30), max_minutes=10**6)
    assert folded == 2 * 30
    shipper = _shipper(depot, history_url)
    assert shipper.ship_round().quarters == 2 * 2
    assert every_shipped_row(history_url, "north") == every_row(depot, "north")

    with depot.units() as uow:  # a reading from 18:20 arrives late, then is folded
        uow.telemetry.put([Reading("gc-main", NIGHT + timedelta(minutes=20, seconds=5), 9e3)])
    compactor.downsample_telemetry(before=NIGHT + timedelta(minutes=30), max_minutes=10**6)
    assert shipper.ship_round().quarters == 1
    shipper.close()
    assert every_shipped_row(history_url, "north") == every_row(depot, "north")
