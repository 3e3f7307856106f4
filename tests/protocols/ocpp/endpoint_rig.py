"""The OCPP endpoint on loopback for its own tests: a real :class:`OcppServer` with a
roster of charge points, and the port's events recorded as they arrive."""

from __future__ import annotations

import asyncio
import itertools
import tempfile
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

from depotctl.domain.charge_points import ChargePoint, ChargePointEvse, OcppVersion, PasswordRef
from depotctl.domain.phases import PhaseConnection
from depotctl.domain.sessions import Session
from depotctl.protocols.ocpp.events import (
    BootInfo,
    ChargingNeeds,
    EvseStatus,
    MeterSample,
    Refusal,
)
from depotctl.protocols.ocpp.server import OcppServer
from tests.protocols.ocpp.chargers import PASSWORD

START = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
FIRST_TRANSACTION = 100


def charge_point(
    ocpp_id: str,
    charger_id: str,
    version: OcppVersion,
    *,
    evses: int = 1,
    lenient: bool = False,
    password: bool = True,
    connection: str | None = "L1-L2-L3",
    dc: bool = False,
) -> ChargePoint:
    """A charge point of the test roster (its password is set by :func:`endpoint`)."""
    phases = PhaseConnection.parse(connection) if connection else None
    three = phases is not None and phases.is_three_phase
    return ChargePoint(
        ocpp_id=ocpp_id,
        charger_id=charger_id,
        version=version,
        password=PasswordRef(env="UNSET_IN_TESTS") if password else None,
        evses=tuple(ChargePointEvse(f"{charger_id}/{n}", n) for n in range(1, evses + 1)),
        number_phases=3 if three else 1,
        watts_per_amp=690.0 if three else 230.0,
        rating_a=32.0,
        fallback_a=16.0,
        lenient_meter_values=lenient,
        connection=phases,
        dc=dc,
    )


V16 = charge_point("CP-16", "chg-16", OcppVersion.V16)
V201 = charge_point("CP-201", "chg-201", OcppVersion.V201, evses=2)


@dataclass
class Clock:
    """The controller's clock as the endpoint sees it: set by the test."""

    at: datetime = START

    def __call__(self) -> datetime:
        return self.at

    def advance(self, seconds: float) -> None:
        self.at += timedelta(seconds=seconds)


@dataclass
class RecordedEvents:
    """Every event the endpoint reports, in order (implements ``ChargerEvents``)."""

    connections: list[tuple[str, OcppVersion]] = field(default_factory=list)
    boots: list[tuple[str, BootInfo]] = field(default_factory=list)
    disconnections: list[tuple[str, str]] = field(default_factory=list)
    refusals: list[Refusal] = field(default_factory=list)
    statuses: list[EvseStatus] = field(default_factory=list)
    samples: list[MeterSample] = field(default_factory=list)
    starts: list[Session] = field(default_factory=list)
    authorised: list[tuple[str, str]] = field(default_factory=list)
    ends: list[tuple[str, float | None, datetime, str | None]] = field(default_factory=list)
    needs: list[tuple[str, ChargingNeeds]] = field(default_factory=list)
    held_open: list[Session] = field(default_factory=list)
    _transactions: itertools.count[int] = field(
        default_factory=lambda: itertools.count(FIRST_TRANSACTION)
    )

    def connected(self, charger_id: str, version: OcppVersion, at: datetime) -> None:
        self.connections.append((charger_id, version))

    def booted(self, charger_id: str, boot: BootInfo, at: datetime) -> None:
        self.boots.append((charger_id, boot))

    def disconnected(self, charger_id: str, reason: str, at: datetime) -> None:
        self.disconnections.append((charger_id, reason))

    def refused(self, refusal: Refusal) -> None:
        self.refusals.append(refusal)

    def status(self, status: EvseStatus) -> None:
        self.statuses.append(status)

    def meter(self, sample: MeterSample) -> None:
        self.samples.append(sample)

    def session_started(self, session: Session) -> None:
        self.starts.append(session)

    def session_authorised(self, session_id: str, id_token: str, at: datetime) -> None:
        self.authorised.append((session_id, id_token))

    def session_ended(
        self, session_id: str, energy_wh: float | None, at: datetime, reason: str | None
    ) -> None:
        self.ends.append((session_id, energy_wh, at, reason))

    def charging_needs(self, evse_id: str, needs: ChargingNeeds) -> bool:
        ended = {end[0] for end in self.ends}
        if not any(s.evse_id == evse_id and s.id not in ended for s in self.starts):
            return False
        self.needs.append((evse_id, needs))
        return True

    def open_sessions(self, charger_id: str) -> Sequence[Session]:
        return [s for s in self.held_open if s.evse_id.startswith(f"{charger_id}/")]

    def next_transaction_id(self) -> int:
        return next(self._transactions)


async def until(condition: Callable[[], object], timeout_s: float = 30.0) -> None:
    """Wait until ``condition()`` is true (the endpoint works in the background); the
    timeout tells a hang from a machine busy with other work."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while not condition():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError("timed out waiting for the endpoint")
        await asyncio.sleep(0.005)


@dataclass
class Rig:
    server: OcppServer
    events: RecordedEvents
    clock: Clock
    url: str
    roster: dict[str, ChargePoint]
    secrets: Path


@asynccontextmanager
async def endpoint(
    *charge_points: ChargePoint,
    events: RecordedEvents | None = None,
    boot_grace_s: float = 5.0,
) -> AsyncIterator[Rig]:
    """The endpoint on a free loopback port; every charge point with a password gets
    :data:`PASSWORD`, kept in a file."""
    with tempfile.TemporaryDirectory() as directory:
        secrets = Path(directory)
        roster = {}
        for cp in charge_points or (V16, V201):
            if cp.password is not None:
                path = secrets / f"{cp.charger_id}.secret"
                path.write_text(PASSWORD + "\n")
                cp = replace(cp, password=PasswordRef(file=path))
            roster[cp.ocpp_id] = cp
        recorded = events if events is not None else RecordedEvents()
        clock = Clock()
        server = OcppServer(
            lambda: roster, recorded, clock, heartbeat_interval_s=60, boot_grace_s=boot_grace_s
        )
        await server.start("127.0.0.1", 0)
        try:
            yield Rig(
                server, recorded, clock, f"ws://127.0.0.1:{server.port}/ocpp", roster, secrets
            )
        finally:
            await server.stop()
