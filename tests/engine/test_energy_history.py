"""Energy drawn in the past by minute: a session's register spread over its charger's
metered power, and the site's import from its grid meters, the EV load where they are
silent."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from depotctl.domain.sessions import Session
from depotctl.engine.energy_history import (
    RecordedSession,
    minutes_in,
    session_energy,
    site_energy,
    split_at,
    summed,
)

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)
MIN = timedelta(minutes=1)


def recorded(sid: str, evse: str, start: int, end: int | None, wh: float) -> RecordedSession:
    ended = T0 + end * MIN if end is not None else None
    return RecordedSession(Session(sid, evse, T0 + start * MIN, energy_delivered_wh=wh), ended)


def test_a_register_is_spread_over_the_chargers_power_in_proportion() -> None:
    # 30 kW for two minutes then 60 kW for one: 0.5 + 0.5 + 1 kWh of readings, but the
    # register says 4 kWh: each minute's share doubles
    power = {"c-1": {T0: 30_000.0, T0 + MIN: 30_000.0, T0 + 2 * MIN: 60_000.0}}
    [profile] = session_energy([recorded("s", "c-1/1", 0, 3, 4000.0)], power, T0).values()
    assert profile == {T0: 1000.0, T0 + MIN: 1000.0, T0 + 2 * MIN: 2000.0}


def test_two_sessions_on_one_charger_share_its_minutes_equally() -> None:
    power = {"c-1": {T0: 60_000.0, T0 + MIN: 60_000.0}}
    sessions = [
        recorded("first", "c-1/1", 0, 2, 1500.0),  # both minutes, one shared
        recorded("second", "c-1/2", 1, 2, 500.0),  # the second minute only
    ]
    profiles = session_energy(sessions, power, T0 + 5 * MIN)
    # raw: first 1000 + 500, second 500; each scaled to its own register
    assert profiles["first"] == {T0: 1000.0, T0 + MIN: 500.0}
    assert profiles["second"] == {T0 + MIN: 500.0}


def test_a_session_without_readings_is_spread_evenly_over_its_span() -> None:
    # 10:00:30 to 10:02:30, 1200 Wh: a quarter, a half and a quarter
    session = RecordedSession(
        Session("s", "c-9/1", T0 + MIN / 2, energy_delivered_wh=1200.0), T0 + 2.5 * MIN
    )
    [profile] = session_energy([session], {}, T0).values()
    assert profile == pytest.approx({T0: 300.0, T0 + MIN: 600.0, T0 + 2 * MIN: 300.0})


def test_an_open_session_runs_until_now_and_readings_outside_it_do_not_count() -> None:
    power = {"c-1": {T0 - MIN: 50_000.0, T0: 6_000.0, T0 + 5 * MIN: 50_000.0}}
    profiles = session_energy([recorded("s", "c-1/1", 0, None, 700.0)], power, T0 + 2 * MIN)
    assert profiles == {"s": {T0: 700.0}}


def test_the_site_is_its_grid_meters_import_where_all_read_else_the_ev_load() -> None:
    ev = {T0: 100.0, T0 + MIN: 100.0, T0 + 2 * MIN: 100.0}
    meters = [
        {T0: 120_000.0, T0 + MIN: 60_000.0},  # 2 kWh, 1 kWh
        {T0: -30_000.0},  # exporting: counts as no import; silent from T0 + 1
    ]
    site = site_energy(meters, ev, T0, T0 + 4 * MIN)
    assert site.energy == {T0: 2000.0, T0 + MIN: 100.0, T0 + 2 * MIN: 100.0}
    assert site.metered == {T0}


def test_minutes_and_sums() -> None:
    assert minutes_in(T0 + MIN / 2, T0 + 3 * MIN) == [T0 + MIN, T0 + 2 * MIN]
    assert summed([{T0: 1.0}, {T0: 2.0, T0 + MIN: 3.0}]) == {T0: 3.0, T0 + MIN: 3.0}
    profile = {T0 + n * MIN: float(n) for n in range(-1, 5)}
    assert split_at(profile, [T0, T0 + 2 * MIN, T0 + 3 * MIN]) == [
        {T0: 0.0, T0 + MIN: 1.0},
        {T0 + 2 * MIN: 2.0},
    ]
