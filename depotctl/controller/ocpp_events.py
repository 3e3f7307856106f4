"""What chargers say over OCPP, into the controller's store and journal.

:class:`ControllerChargerEvents` implements the OCPP endpoint's port
(:class:`~depotctl.protocols.ocpp.events.ChargerEvents`):

- a charger connecting → journaled (it is online for the controller once it has
  booted and was sent its fallback: the control loop's ``charger_connected``);
  going offline → its charger state (an offline charger is uncontrollable),
  journaled, and a control cycle at once;
- sessions starting and ending → the store (ending with the energy delivered),
  journaled, and a cycle at once; a new transaction on an EVSE whose previous
  session never ended ends that one first;
- meter values → the charger's latest reading and its session's energy delivered,
  written in batches (every ``flush_s``) and without a cycle: the next tick uses them;
- a vehicle's charging needs (2.0.1) → its session's requirement (source
  ``vehicle``) and maximum current, journaled, and a cycle at once;
- boots and status changes → the journal; refused connections → the journal in
  bounded form, the rest counted (:mod:`~depotctl.controller.refusal_journal`).

It also gives the endpoint its roster (:meth:`roster`): the site in force's charge
points, recomputed when a revision is applied.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from depotctl.api.encoding import utc_text
from depotctl.config import site_charge_points, site_vehicles
from depotctl.controller.refusal_journal import RefusalJournal
from depotctl.controller.service import Controller
from depotctl.controller.store import JournalKind, SessionConflict, UnitOfWork, journal_entry
from depotctl.controller.vehicles import (
    SESSION_VEHICLE,
    identified,
    session_words,
    vehicle_data,
    vehicle_words,
)
from depotctl.domain.charge_points import ChargePoint, OcppVersion
from depotctl.domain.quantity import Energy
from depotctl.domain.sessions import EnergyRequirement, RequirementSource, Session
from depotctl.domain.telemetry import Reading
from depotctl.domain.vehicles import VehicleRoster
from depotctl.protocols.ocpp.events import (
    BootInfo,
    ChargingNeeds,
    EvseStatus,
    MeterSample,
    Refusal,
)

log = logging.getLogger("depotctl.controller")

#: A session id made from a 1.6 transaction id (``chg-01:1042``).
_V16_SESSION = re.compile(r"^[^:]+:(\d{1,10})$")
_MAX_TRANSACTION_ID = 2**31 - 1


class ControllerChargerEvents:
    """The controller's side of the OCPP port (see the module docstring)."""

    def __init__(
        self, controller: Controller, *, flush_s: float = 0.5, refusal_quiet_s: float = 60.0
    ) -> None:
        self.controller = controller
        self.flush_s = flush_s
        self._readings: dict[str, Reading] = {}
        self._energy: dict[str, float] = {}
        self._flush_handle: asyncio.TimerHandle | None = None
        self._statuses: dict[tuple[str, str | None, int | None], tuple[str, str | None]] = {}
        self.refusals = RefusalJournal(controller, quiet_s=refusal_quiet_s)
        self._next_transaction: int | None = None
        self._roster: tuple[int, dict[str, ChargePoint]] | None = None
        self._vehicles: tuple[int, VehicleRoster] | None = None

    # The roster

    def roster(self) -> Mapping[str, ChargePoint]:
        """The site in force's charge points by OCPP identity (none without a site)."""
        applied = self.controller.applied
        if applied is None:
            return {}
        number = applied.revision.number
        if self._roster is None or self._roster[0] != number:
            base_dir = self.controller.base_dir_of(applied.revision)
            self._roster = (number, site_charge_points(applied.site, applied.topology, base_dir))
        return self._roster[1]

    def vehicles(self) -> VehicleRoster:
        """The site in force's vehicles by idTag (none without a site)."""
        applied = self.controller.applied
        if applied is None:
            return VehicleRoster()
        number = applied.revision.number
        if self._vehicles is None or self._vehicles[0] != number:
            self._vehicles = (number, site_vehicles(applied.site))
        return self._vehicles[1]

    # Chargers

    def connected(self, charger_id: str, version: OcppVersion, at: datetime) -> None:
        """Journaled only: the charger is online for the controller once it can take
        calls and has been sent its fallback (the control loop's ``charger_connected``)."""
        self._journal(
            self.controller.units(),
            JournalKind.CHARGER_ONLINE,
            f"charger {charger_id} connected over {version}; it is sent its fallback once "
            "it has booted",
            data={"charger": charger_id, "protocol": str(version)},
        )

    def booted(self, charger_id: str, boot: BootInfo, at: datetime) -> None:
        what = " ".join(part for part in (boot.vendor, boot.model) if part)
        self._journal(
            self.controller.units(),
            JournalKind.CHARGER_BOOTED,
            f"charger {charger_id} booted ({what or 'unnamed'}"
            + (f", firmware {boot.firmware_version}" if boot.firmware_version else "")
            + (f", {boot.reason}" if boot.reason else "")
            + ")",
            data={
                "charger": charger_id,
                "vendor": boot.vendor,
                "model": boot.model,
                "serial_number": boot.serial_number,
                "firmware_version": boot.firmware_version,
                "reason": boot.reason,
            },
        )

    def disconnected(self, charger_id: str, reason: str, at: datetime) -> None:
        self.flush()
        with self.controller.units() as uow:
            previous = uow.chargers.state(charger_id)
            uow.chargers.put([replace(previous, online=False, reason=f"offline: {reason}")])
            self._journal(
                uow,
                JournalKind.CHARGER_OFFLINE,
                f"charger {charger_id} disconnected: {reason}; uncontrollable until it is back",
                data={"charger": charger_id, "reason": reason},
            )
        self.controller.changed(f"charger {charger_id} offline")

    def refused(self, refusal: Refusal) -> None:
        self.refusals.record(refusal)

    def status(self, status: EvseStatus) -> None:
        key = (status.charger_id, status.evse_id, status.connector_id)
        value = (status.status, status.error_code)
        if self._statuses.get(key) == value:
            return
        self._statuses[key] = value
        where = status.evse_id or f"charger {status.charger_id}"
        if status.evse_id and status.connector_id:
            where += f" connector {status.connector_id}"
        self._journal(
            self.controller.units(),
            JournalKind.CHARGER_STATUS,
            f"{where}: {status.status}" + (f" ({status.error_code})" if status.error_code else ""),
            evse=status.evse_id,
            data={
                "charger": status.charger_id,
                "connector": status.connector_id,
                "status": status.status,
                "error_code": status.error_code,
                "at": utc_text(status.at),
            },
        )

    # Telemetry

    def meter(self, sample: MeterSample) -> None:
        reading = sample.reading
        if reading is not None:
            now = self.controller.clock.now()
            if reading.at > now:  # a charger's clock ahead of ours: it was measured now
                reading = replace(reading, at=now)
            held = self._readings.get(reading.node)
            if held is None or held.at <= reading.at:
                self._readings[reading.node] = reading
        if sample.session_id is not None and sample.session_energy_wh is not None:
            self._energy[sample.session_id] = sample.session_energy_wh
        self._schedule_flush()

    def flush(self) -> None:
        """Write the readings and session energies held back so far."""
        if self._flush_handle is not None:
            self._flush_handle.cancel()
            self._flush_handle = None
        readings, self._readings = list(self._readings.values()), {}
        energy, self._energy = self._energy, {}
        if not readings and not energy:
            return
        try:
            with self.controller.units() as uow:
                if readings:
                    uow.telemetry.put(readings)
                for session_id, energy_wh in energy.items():
                    record = uow.sessions.get(session_id)
                    if record is not None and record.is_open:
                        uow.sessions.put(replace(record.session, energy_delivered_wh=energy_wh))
        except Exception:
            log.exception("could not store meter values")

    def _schedule_flush(self) -> None:
        if self._flush_handle is not None:
            return
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if loop is None or self.flush_s <= 0:
            self.flush()
            return
        self._flush_handle = loop.call_later(self.flush_s, self.flush)

    # Sessions

    def session_started(self, session: Session) -> None:
        self.flush()  # a session this one supersedes ends with its latest energy
        applied = self.controller.applied
        if applied is not None and session.evse_id not in applied.topology.evses:
            log.warning("session %s on %s: not an EVSE of the site", session.id, session.evse_id)
            return
        with self.controller.units() as uow:
            if uow.sessions.get(session.id) is not None:
                return  # a charger resending its start after a reconnection
            stale = uow.sessions.open_on(session.evse_id)
            if stale is not None:
                self._end(uow, stale.session, None, session.started, "superseded by a new session")
            session = identified(session, self.vehicles())
            uow.sessions.put(session)
            who = vehicle_words(session)
            self._journal(
                uow,
                JournalKind.SESSION_STARTED,
                f"session {session.id} started on EVSE {session.evse_id} (OCPP"
                + (f"; {who})" if who else ")"),
                evse=session.evse_id,
                session=session.id,
                data={
                    "evse": session.evse_id,
                    "started": utc_text(session.started),
                    "via": "ocpp",
                    **vehicle_data(session),
                },
            )
        self.controller.changed(f"session {session.id} started on {session.evse_id}")

    def session_authorised(self, session_id: str, id_token: str, at: datetime) -> None:
        """A token named after the start: the session's vehicle when the site lists it
        (a vehicle set already, or the same token again, changes nothing)."""
        with self.controller.units() as uow:
            record = uow.sessions.get(session_id)
            if record is None or not record.is_open or record.session.id_token is not None:
                return
            session = identified(replace(record.session, id_token=id_token), self.vehicles())
            uow.sessions.put(session)
            self._journal(
                uow,
                SESSION_VEHICLE,
                f"session {session_id} on EVSE {session.evse_id} authorised: "
                f"{vehicle_words(session)}",
                evse=session.evse_id,
                session=session_id,
                data={**vehicle_data(session), "via": "ocpp"},
            )

    def session_ended(
        self, session_id: str, energy_wh: float | None, at: datetime, reason: str | None
    ) -> None:
        self.flush()
        with self.controller.units() as uow:
            record = uow.sessions.get(session_id)
            if record is not None and not record.is_open and energy_wh is not None:
                # closed when its connector showed it over; the charger's own end
                # (a later meterStop) may know more energy than its readings did
                if uow.sessions.raise_energy(session_id, energy_wh):
                    log.info(
                        "session %s ended earlier; its energy raised to %s Wh",
                        session_id,
                        energy_wh,
                    )
                return
            if record is None or not record.is_open:
                log.info("session %s ended, but it is not open here", session_id)
                return
            self._end(uow, record.session, energy_wh, at, reason)
        self.controller.changed(f"session {session_id} ended on {record.session.evse_id}")

    def _end(
        self,
        uow: UnitOfWork,
        session: Session,
        energy_wh: float | None,
        at: datetime,
        reason: str | None,
    ) -> None:
        energy = energy_wh if energy_wh is not None else session.energy_delivered_wh
        ended_at = max(at, session.started)
        try:
            uow.sessions.end(session.id, at=ended_at, energy_delivered_wh=energy)
        except SessionConflict:
            return
        self._journal(
            uow,
            JournalKind.SESSION_ENDED,
            f"{session_words(session)} ended on EVSE {session.evse_id} with "
            f"{Energy.of(energy)} delivered" + (f" ({reason})" if reason else ""),
            evse=session.evse_id,
            session=session.id,
            data={
                "ended_at": utc_text(ended_at),
                "energy_delivered": str(Energy.of(energy)),
                "energy_delivered_wh": energy,
                "reason": reason,
                "via": "ocpp",
            },
        )

    def charging_needs(self, evse_id: str, needs: ChargingNeeds) -> bool:
        self.flush()
        with self.controller.units() as uow:
            record = uow.sessions.open_on(evse_id)
            if record is None:
                return False
            session = record.session
            requirement = session.requirement
            departure = needs.departure or (requirement.departure if requirement else None)
            notes = []
            if needs.energy_wh is not None and departure is not None:
                if departure > session.started:
                    requirement = EnergyRequirement(
                        session.energy_delivered_wh + needs.energy_wh,
                        departure,
                        RequirementSource.VEHICLE,
                    )
                else:
                    notes.append(
                        f"departure {utc_text(departure)} is not after the session started"
                    )
            elif needs.energy_wh is not None:
                notes.append("no departure known: the requirement is unchanged")
            vehicle_max = (
                needs.max_current_a
                if needs.max_current_a is not None
                else session.vehicle_max_current_a
            )
            updated = replace(session, requirement=requirement, vehicle_max_current_a=vehicle_max)
            uow.sessions.put(updated)
            said = [
                f"{Energy.of(needs.energy_wh)} more" if needs.energy_wh is not None else None,
                f"departs {utc_text(needs.departure)}" if needs.departure else None,
                f"at most {needs.max_current_a:.1f} A" if needs.max_current_a is not None else None,
            ]
            self._journal(
                uow,
                JournalKind.SESSION_REQUIREMENT,
                f"{session_words(session)} on EVSE {evse_id}: the vehicle asks "
                + (", ".join(s for s in said if s) or "nothing")
                + (
                    f"; needs {Energy.of(requirement.energy_wh)} in all by "
                    f"{utc_text(requirement.departure)}"
                    if requirement is not None
                    else ""
                )
                + (f" ({'; '.join(notes)})" if notes else ""),
                evse=evse_id,
                session=session.id,
                data=_requirement_data(requirement, needs),
            )
        self.controller.changed(f"session {session.id} requirement from the vehicle")
        return True

    def open_sessions(self, charger_id: str) -> Sequence[Session]:
        prefix = f"{charger_id}/"
        return [
            record.session
            for record in self.controller.units().sessions.all(open_only=True)
            if record.session.evse_id.startswith(prefix)
        ]

    def next_transaction_id(self) -> int:
        """One more than the highest 1.6 transaction id among the stored sessions
        (read once), then counting."""
        if self._next_transaction is None:
            highest = 0
            for record in self.controller.units().sessions.all():
                match = _V16_SESSION.match(record.session.id)
                if match and int(match.group(1)) <= _MAX_TRANSACTION_ID:
                    highest = max(highest, int(match.group(1)))
            self._next_transaction = highest + 1
        value = self._next_transaction
        self._next_transaction = value + 1 if value < _MAX_TRANSACTION_ID else 1
        return value

    # The journal

    def _journal(
        self,
        uow: UnitOfWork,
        kind: str,
        message: str,
        *,
        evse: str | None = None,
        session: str | None = None,
        data: dict[str, Any] | None = None,
    ) -> None:
        at = self.controller.clock.now()  # when the controller heard it
        uow.journal.record(
            [journal_entry(kind, message, at=at, evse=evse, session=session, data=data)]
        )


def _requirement_data(
    requirement: EnergyRequirement | None, needs: ChargingNeeds
) -> dict[str, Any]:
    return {
        "requirement": (
            {
                "energy": str(Energy.of(requirement.energy_wh)),
                "departure": utc_text(requirement.departure),
                "source": requirement.source.value,
            }
            if requirement is not None
            else None
        ),
        "asked": {
            "energy_wh": needs.energy_wh,
            "departure": utc_text(needs.departure),
            "max_current_a": needs.max_current_a,
        },
    }
