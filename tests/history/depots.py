"""Controller stores for the history tests, made through the controller's own store
API (revisions, journal, sessions, telemetry) as `depotctl serve` makes them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

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

    def stored(self, sql: str) -> list[tuple[object, ...]]:
        return [tuple(row) for row in self.store.rows(sql)]


def shipped(url: str, sql: str) -> list[tuple[object, ...]]:
    """The rows of one query on the history database."""
    with psycopg.connect(url) as connection:
        return list(connection.execute(sql.encode()).fetchall())
