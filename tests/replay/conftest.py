"""Fixtures of the replay tests: the Caltech site compiled (from the recordings' fixtures),
a stand-in allocator for tests that must not depend on the engine's decisions, a
session to replay, and one-season acnportal tariffs."""

from __future__ import annotations

import json
from datetime import datetime, timedelta

from depotctl.config import read_acnportal_tariff, tariff_of
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.tariff import Tariff
from depotctl.engine.allocation import (
    Allocation,
    Binding,
    BindingKind,
    EvseAllocation,
    EvseState,
)
from depotctl.recordings import ReplaySession
from tests.recordings.conftest import caltech as caltech


def allocate_16a(snapshot: Snapshot) -> Allocation:
    """A stand-in allocator: every session gets min(its EVSE's maximum, 16 A),
    whatever the tree can carry."""
    evses = {}
    for session in snapshot.sessions:
        evse = snapshot.topology.evses[session.evse_id]
        amps = min(evse.max_current_a, 16.0)
        evses[evse.id] = EvseAllocation(
            evse.id,
            amps,
            amps * evse.watts_per_amp,
            EvseState.CHARGING,
            Binding(BindingKind.CHARGER_LIMIT, evse.charger_id, "stand-in"),
            session.id,
        )
    return Allocation(snapshot.at, evses, limits_a={k: v.limit_a for k, v in evses.items()})


def replay_session(evse: str, arrival: datetime, hours: float, demand_wh: float) -> ReplaySession:
    """A session ``s-EVSE`` on ``evse`` for ``hours`` from ``arrival``, its demand as
    recorded."""
    return ReplaySession(
        id=f"s-{evse}",
        evse_id=evse,
        station_id=evse,
        arrival=arrival,
        departure=arrival + timedelta(hours=hours),
        demand_wh=demand_wh,
        recorded_wh=demand_wh,
    )


def acnportal_tariff_json(
    times: list[float], prices: list[float], demand: float = 0.0, months: str = "01-01:12-31"
) -> str:
    """An acnportal tariff JSON of one schedule on every day of ``months``: ``prices``
    ($/kWh) from each of ``times`` (hours, local), ``demand`` $/kW on the peak."""
    first, last = months.split(":")
    schedule = {
        "id": "All-Days",
        "effective_start": first,
        "effective_end": last,
        "dow_mask": "ALL",
        "times": times,
        "tariffs": prices,
        "demand_charge": demand,
    }
    return json.dumps({"name": "test", "schedule": [schedule]})


def acnportal_tariff(
    times: list[float], prices: list[float], demand: float = 0.0, months: str = "01-01:12-31"
) -> Tariff:
    """The tariff of :func:`acnportal_tariff_json`, read as ``format: acnportal``."""
    return tariff_of(read_acnportal_tariff(acnportal_tariff_json(times, prices, demand, months)))
