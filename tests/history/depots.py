"""Controller stores for the history tests, made through the controller's own store
API (revisions, journal, sessions, telemetry) as `depotctl serve` makes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg

from depotctl.controller.store import Store, Units, journal_entry
from depotctl.domain.phases import Phase
from depotctl.domain.sessions import EnergyRequirement, Session
from depotctl.domain.telemetry import Reading

NIGHT = datetime(2026, 12, 7, 18, 0, tzinfo=UTC)

SITE = """apiVersion: depotctl/v1
kind: Site
metadata: {{name: {name}, timezone: Australia/Sydney}}
spec: {{}}
"""


class Depot:
    """One controller's store in a state directory, with a clock the test moves."""

    def __init__(self, state_dir: Path, name: str) -> None:
        self.state_dir = state_dir
        self.store = Store.open(state_dir / "depotctl.sqlite")
        self.units = Units(self.store)
        self.now = NIGHT
        with self.units() as uow:
            uow.revisions.add(
                SITE.format(name=name),
                author="t@depot",
                message="first",
                at=NIGHT,
                expected_current=None,
            )

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)

    def journal(self, count: int, *, evse: str = "chg-1/1") -> None:
        """``count`` allocation entries, a second apart."""
        entries = []
        for _ in range(count):
            self.advance(1)
            entries.append(
                journal_entry(
                    "allocation.changed",
                    f"{evse} limited at {self.now:%H:%M:%S}",
                    at=self.now,
                    evse=evse,
                    data={"limit_a": 16.0, "at": self.now.isoformat()},
                )
            )
        with self.units() as uow:
            uow.journal.record(entries)

    def session(self, session_id: str, evse: str, energy_wh: float = 0.0) -> Session:
        session = Session(
            session_id,
            evse,
            self.now,
            energy_wh,
            EnergyRequirement(40_000.0, self.now + timedelta(hours=8)),
        )
        with self.units() as uow:
            uow.sessions.put(session)
        return session

    def charge(self, session: Session, energy_wh: float) -> Session:
        charged = Session(
            session.id, session.evse_id, session.started, energy_wh, session.requirement
        )
        with self.units() as uow:
            uow.sessions.put(charged)
        return charged

    def end(self, session: Session, energy_wh: float) -> None:
        with self.units() as uow:
            uow.sessions.end(session.id, at=self.now, energy_delivered_wh=energy_wh)

    def readings(self, node: str, *watts: float) -> None:
        """One reading per 20 s of the clock."""
        readings = []
        for w in watts:
            self.advance(20)
            readings.append(Reading(node, self.now, w, {Phase.L1: w / 230}))
        with self.units() as uow:
            uow.telemetry.put(readings)

    def minute(self, watts: dict[str, float]) -> None:
        """A minute of the clock: every node of ``watts`` read at that power every 20 s."""
        readings = []
        for _ in range(3):
            self.advance(20)
            readings += [Reading(n, self.now, w, {Phase.L1: w / 230}) for n, w in watts.items()]
        with self.units() as uow:
            uow.telemetry.put(readings)

    def stored(self, sql: str) -> list[tuple[object, ...]]:
        return [tuple(row) for row in self.store.rows(sql)]


def shipped(url: str, sql: str) -> list[tuple[object, ...]]:
    """The rows of one query on the history database."""
    with psycopg.connect(url) as connection:
        return list(connection.execute(sql.encode()).fetchall())


def every_row(depot: Depot, name: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row the store holds, by stream, in key order, read through the
    controller's own store API (not the shipper's queries): what the history database
    must hold under ``name``, each row once."""
    nodes = [row[0] for row in depot.stored("SELECT name FROM telemetry_nodes")]
    with depot.units() as uow:
        minutes = [
            (name, m.node, m.minute, m.samples, m.power_w_mean, m.power_w_max)
            for node in nodes
            for m in uow.telemetry.history(node)
        ]
        quarters = [
            (name, q.node, q.start, q.minutes, q.power_minutes, q.power_w_mean, q.power_w_max)
            for node in nodes
            for q in uow.telemetry.quarters(node)
        ]
        sessions = [
            (name, s.id, s.evse_id, s.started, r.ended_at, s.energy_delivered_wh)
            for r in uow.sessions.all()
            for s in [r.session]
        ]
        journal = [
            (name, e.id, e.at, str(e.kind), e.evse, e.message, e.data)
            for e in uow.journal.entries(limit=1_000_000)
        ]
        revisions = [(name, r.number, r.created_at, r.site_text) for r in uow.revisions.all()]
    streams = {
        "journal": journal,
        "sessions": sessions,
        "telemetry": minutes,
        "quarters": quarters,
        "revisions": revisions,
    }
    return {stream: _keyed(rows) for stream, rows in streams.items()}


def every_shipped_row(url: str, name: str) -> dict[str, list[tuple[object, ...]]]:
    """Every row the history database holds under ``name``, as :func:`every_row`."""
    where = f"WHERE depot = '{name}'"
    queries = {
        "journal": f"SELECT depot, id, at, kind, evse, message, data FROM journal {where}",
        "sessions": "SELECT depot, id, evse_id, started_at, ended_at, energy_delivered_wh"
        f" FROM sessions {where}",
        "telemetry": "SELECT depot, node, minute, samples, power_w_mean, power_w_max"
        f" FROM telemetry_minutes {where}",
        "quarters": "SELECT depot, node, quarter, minutes, power_minutes, power_w_mean,"
        f" power_w_max FROM telemetry_quarters {where}",
        "revisions": f"SELECT depot, number, created_at, site_text FROM revisions {where}",
    }
    return {stream: _keyed(shipped(url, sql)) for stream, sql in queries.items()}


def _keyed(rows: list[tuple[Any, ...]]) -> list[tuple[Any, ...]]:
    """Rows in the order of their key (after the depot): id, or node and time."""
    return sorted(rows, key=lambda row: row[1:3])
