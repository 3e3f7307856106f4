"""Measurements: what each OSCP source's group drew, period by period, to its peer.

Schedule. OSCP 2.0's handshake names no measurement interval — the peer's
``required_behaviour.measurement_configuration`` says only how the values accumulate
— so depotctl measures every :data:`PERIOD` (15 min, the usual block of a capacity
forecast) of the controller's clock, aligned to the quarter hour (UTC), from the first
whole period after the source registered. A period is measured :data:`SETTLE` after
it ends, so that its last readings are in.

Energy. The group is the source's target nodes, each read at the meter the site binds
to it (``meter:``; a node without one at its own id), from the telemetry history's
per-minute mean power — never the controller's allocation. A minute's energy is its
mean power over the minute: a positive mean is imported, a negative one exported.

Values, per the peer's configuration:

- ``INTERMITTENT`` (asked for, or nothing asked): the period's energy,
  ``initial_measure_time`` its start;
- ``CONTINUOUS`` (asked for alone): the energy since the start of the first period
  measured for the source (kept in the store), ``initial_measure_time`` that start.

``measure_time`` is the period's end; ``IMPORT`` always and ``EXPORT`` where the group
exported, in ``WH``, ``energy_type`` ``TOTAL``, phase ``ALL``.

Missing telemetry: a period in which a meter has a minute without a power reading is
not sent — a partial sum would read as a low draw — and the journal says which meter
missed how many minutes, one entry for a run of such periods (a ``CONTINUOUS`` total
then leaves them out). After a
long stop, the last :data:`CATCH_UP` periods (a day) are measured, and those before
journaled as not measured.

Each period's message is queued in the outbox (kept until the peer acknowledges it:
an outage or a restart loses none) in the same transaction that records it as the
last period queued: a restart never queues a period twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from depotctl.controller.oscp.peers import OscpPeer
from depotctl.controller.service import Controller
from depotctl.controller.store import JournalKind, NewJournalEntry, UnitOfWork, journal_entry
from depotctl.controller.store.oscp import MeasuredPeriods, NewOutboxMessage, PeerRecord
from depotctl.controller.store.telemetry import Telemetry
from depotctl.protocols.oscp.messages import (
    EnergyFlowDirection,
    EnergyMeasurement,
    EnergyMeasurementUnit,
    EnergyType,
    MeasurementConfiguration,
    PhaseIndicator,
    UpdateGroupMeasurements,
)

#: The measurement period, aligned to the hour.
PERIOD = timedelta(minutes=15)
#: How long after its end a period is measured (its last readings arrive).
SETTLE = timedelta(minutes=1)
#: The most periods measured at once after a stop; those before are not measured.
CATCH_UP = 96

_MINUTE = timedelta(minutes=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class PeriodEnergy:
    """What a group's meters measured over ``[start, end)``: Wh imported and exported,
    and per meter the minutes it gave no power reading in (``missing``)."""

    start: datetime
    end: datetime
    import_wh: float
    export_wh: float
    missing: dict[str, int]


def period_energy(
    telemetry: Telemetry, points: Sequence[str], start: datetime, end: datetime
) -> PeriodEnergy:
    """The energy the telemetry ``points`` (meter ids) measured over ``[start, end)``."""
    minutes = round((end - start) / _MINUTE)
    imported = exported = 0.0
    missing: dict[str, int] = {}
    for point in points:
        means = [
            minute.power_w_mean
            for minute in telemetry.history(point, since=start, until=end)
            if minute.power_w_mean is not None
        ]
        imported += sum(w for w in means if w > 0) / 60
        exported += sum(-w for w in means if w < 0) / 60
        if len(means) < minutes:
            missing[point] = minutes - len(means)
    return PeriodEnergy(start, end, imported, exported, missing)


def group_points(controller: Controller, peer: OscpPeer) -> list[str]:
    """Where the group of ``peer`` is measured: each target's meter (else its id)."""
    applied = controller.applied
    if applied is None:
        return []
    nodes = applied.topology.nodes
    return [nodes[t].meter or t for t in peer.targets if t in nodes]


def configuration(record: PeerRecord) -> MeasurementConfiguration:
    """How the peer wants values accumulated (see the module docstring)."""
    asked = set(record.measurement_configuration)
    if MeasurementConfiguration.CONTINUOUS in asked and (
        MeasurementConfiguration.INTERMITTENT not in asked
    ):
        return MeasurementConfiguration.CONTINUOUS
    return MeasurementConfiguration.INTERMITTENT


def is_due(uow: UnitOfWork, peer: OscpPeer, record: PeerRecord, now: datetime) -> bool:
    """Whether a period of ``peer``'s group is due by ``now`` (reads only: the link
    asks every pass, and opens a transaction only for a period due)."""
    cursor = _cursor(uow, peer, record)
    return cursor is not None and _last_due(now) > cursor.period_end


def _cursor(uow: UnitOfWork, peer: OscpPeer, record: PeerRecord) -> MeasuredPeriods | None:
    """Where the measurements of ``peer`` stand: before the first, the first whole
    period after it registered; None while it is not registered."""
    if record.registered_at is None:
        return None
    cursor = uow.oscp.measured(peer.source)
    if cursor is None:
        first = _ceil(record.registered_at)
        cursor = MeasuredPeriods(peer.source, since=first, period_end=first)
    return cursor


def queue_due(
    uow: UnitOfWork, peer: OscpPeer, points: Sequence[str], record: PeerRecord, now: datetime
) -> list[NewJournalEntry]:
    """Queue the measurements of every period of ``peer``'s group due by ``now``
    (nothing before it registered); the journal entries that say what was done."""
    cursor = _cursor(uow, peer, record)
    if cursor is None or not points:
        return []
    ends = _period_ends(cursor.period_end, now)
    entries: list[NewJournalEntry] = []
    if len(ends) > CATCH_UP:
        skipped, ends = ends[:-CATCH_UP], ends[-CATCH_UP:]
        entries.append(_not_measured_entry(peer, cursor.period_end, skipped[-1], now))
        cursor = replace(cursor, period_end=skipped[-1])
    kind = configuration(record)
    incomplete: list[PeriodEnergy] = []  # a run of periods not sent: one entry
    for end in ends:
        energy = period_energy(uow.telemetry, points, end - PERIOD, end)
        if energy.missing:
            incomplete.append(energy)
        else:
            if incomplete:
                entries.append(_incomplete_entry(peer, incomplete, now))
                incomplete = []
            cursor = replace(
                cursor,
                import_wh=cursor.import_wh + energy.import_wh,
                export_wh=cursor.export_wh + energy.export_wh,
            )
            message = _message(peer, energy, cursor, kind)
            uow.oscp.queue(
                NewOutboxMessage.fresh(peer.source, message.endpoint, message.to_wire(), now)
            )
            entries.append(_queued_entry(peer, energy, kind, now))
        cursor = replace(cursor, period_end=end)
    if incomplete:
        entries.append(_incomplete_entry(peer, incomplete, now))
    if ends:
        uow.oscp.put_measured(cursor)
    return entries


def _message(
    peer: OscpPeer,
    energy: PeriodEnergy,
    cursor: MeasuredPeriods,
    kind: MeasurementConfiguration,
) -> UpdateGroupMeasurements:
    if kind is MeasurementConfiguration.CONTINUOUS:
        since, imported, exported = cursor.since, cursor.import_wh, cursor.export_wh
    else:
        since, imported, exported = energy.start, energy.import_wh, energy.export_wh
    values = [(EnergyFlowDirection.IMPORT, imported)]
    if exported > 0:
        values.append((EnergyFlowDirection.EXPORT, exported))
    return UpdateGroupMeasurements(
        group_id=peer.group_id,
        measurements=[
            EnergyMeasurement(
                value=round(value, 3),
                phase=PhaseIndicator.ALL,
                unit=EnergyMeasurementUnit.WH,
                direction=direction,
                energy_type=EnergyType.TOTAL,
                measure_time=energy.end,
                initial_measure_time=since,
            )
            for direction, value in values
        ],
    )


def _ceil(at: datetime) -> datetime:
    """The first period boundary at or after ``at``."""
    periods = -((_EPOCH - at) // PERIOD)
    return _EPOCH + periods * PERIOD


def _last_due(now: datetime) -> datetime:
    """The end of the last period due by ``now``."""
    return _EPOCH + ((now - SETTLE - _EPOCH) // PERIOD) * PERIOD


def _period_ends(after: datetime, now: datetime) -> list[datetime]:
    """The period ends after ``after`` (a boundary) that are due by ``now``."""
    count = max(0, (_last_due(now) - after) // PERIOD)
    return [after + PERIOD * (n + 1) for n in range(count)]


def _span(start: datetime, end: datetime) -> str:
    return f"{_hhmm(start)}–{_hhmm(end)} UTC"


def _hhmm(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%d %H:%M")


def _queued_entry(
    peer: OscpPeer, energy: PeriodEnergy, kind: MeasurementConfiguration, at: datetime
) -> NewJournalEntry:
    exported = f", {energy.export_wh / 1000:.3f} kWh exported" if energy.export_wh > 0 else ""
    return journal_entry(
        JournalKind.OSCP_MEASUREMENTS,
        f"source {peer.source}: group {peer.group_id} measured {_span(energy.start, energy.end)}: "
        f"{energy.import_wh / 1000:.3f} kWh imported{exported}; queued ({kind})",
        at=at,
        data={
            "source": peer.source,
            "start": energy.start.isoformat(),
            "end": energy.end.isoformat(),
            "import_wh": energy.import_wh,
            "export_wh": energy.export_wh,
            "configuration": str(kind),
            "sent": True,
        },
    )


def _incomplete_entry(peer: OscpPeer, run: Sequence[PeriodEnergy], at: datetime) -> NewJournalEntry:
    """One entry for consecutive periods not sent, with each meter's silent minutes."""
    start, end = run[0].start, run[-1].end
    minutes = round((end - start) / _MINUTE)
    missing: dict[str, int] = {}
    for energy in run:
        for point, n in energy.missing.items():
            missing[point] = missing.get(point, 0) + n
    gaps = ", ".join(f"{point} gave no power in {n} of {minutes}" for point, n in missing.items())
    periods = f" ({len(run)} periods)" if len(run) > 1 else ""
    return journal_entry(
        JournalKind.OSCP_MEASUREMENTS,
        f"source {peer.source}: group {peer.group_id} not measured {_span(start, end)}"
        f"{periods}, nothing sent: {gaps} minutes (a partial sum would read as a low "
        "draw); see that the meter reports at least once a minute",
        at=at,
        data={
            "source": peer.source,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "periods": len(run),
            "missing_minutes": missing,
            "sent": False,
        },
    )


def _not_measured_entry(
    peer: OscpPeer, start: datetime, end: datetime, at: datetime
) -> NewJournalEntry:
    return journal_entry(
        JournalKind.OSCP_MEASUREMENTS,
        f"source {peer.source}: group {peer.group_id} not measured {_span(start, end)}: "
        f"more than {CATCH_UP} periods behind (the controller was stopped); the last "
        f"{CATCH_UP} are measured",
        at=at,
        data={
            "source": peer.source,
            "start": start.isoformat(),
            "end": end.isoformat(),
            "sent": False,
        },
    )
