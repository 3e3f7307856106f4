"""Measurements over real HTTP to a recording Capacity Provider: every quarter hour
the group's energy as its meter measured it (computed here from the readings posted,
independently of the controller), per the configuration the peer's handshake asked
for; a period with missing telemetry not sent and journaled; an outage, then recovery,
delivers every period once; a restart mid-way neither loses nor repeats one."""

from __future__ import annotations

import random
from collections import defaultdict
from collections.abc import Callable, Iterable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from depotctl.controller.clock import SimClock
from depotctl.controller.store import JournalKind
from depotctl.domain.telemetry import Reading
from depotctl.protocols.oscp.endpoints import oscp_app
from tests.controller.oscp.rig import (
    GROUP,
    START,
    CapacityProvider,
    Rig,
    oscp_rig,
    site_text,
)
from tests.controller.test_app import serving
from tests.protocols.oscp.schemas import assert_conforms

QUARTER = timedelta(minutes=15)
#: The bus depot's revenue meter, bound to gc-main (the OSCP source's target).
METER = "m-main"


def _z(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def _powers(seed: int) -> Callable[[datetime], float]:
    """Watts at an instant: a draw of up to 900 kW, and between 06:20 and 06:25 an
    export of up to 40 kW (the roof's PV at noon, the chargers idle)."""
    rng = random.Random(seed)
    drawn: dict[datetime, float] = {}

    def power(at: datetime) -> float:
        if at not in drawn:
            exporting = START + timedelta(minutes=20) <= at < START + timedelta(minutes=25)
            drawn[at] = -rng.uniform(0, 40_000) if exporting else rng.uniform(0, 900_000)
        return drawn[at]

    return power


def _readings(
    start: datetime, end: datetime, power: Callable[[datetime], float], *, every_s: int = 20
) -> list[Reading]:
    count = int((end - start).total_seconds()) // every_s
    instants = [start + timedelta(seconds=every_s * n + 7) for n in range(count)]
    return [Reading(METER, at, power_w=power(at)) for at in instants]


def _post(rig: Rig, readings: Iterable[Reading]) -> None:
    rig.controller.units().telemetry.put(readings)


def _expected(readings: Iterable[Reading], start: datetime) -> tuple[float, float]:
    """Wh imported and exported over the quarter from ``start``, from the raw readings:
    each minute at the mean of the readings in it."""
    by_minute: dict[datetime, list[float]] = defaultdict(list)
    for reading in readings:
        if start <= reading.at < start + QUARTER and reading.power_w is not None:
            by_minute[reading.at.replace(second=0, microsecond=0)].append(reading.power_w)
    means = [sum(p) / len(p) for p in by_minute.values()]
    assert len(means) == 15
    return sum(m for m in means if m > 0) / 60, sum(-m for m in means if m < 0) / 60


def _handshake(rig: Rig, token: str, configuration: list[str]) -> None:
    body = {"required_behaviour": {"measurement_configuration": configuration}}
    answer = rig.post("handshake", body, token=token)
    assert answer.status_code == 204, answer.text


def _three_quarters_posted(rig: Rig, configuration: list[str], *, seed: int) -> list[Reading]:
    """Register, the peer asking for ``configuration``; the meter's readings of three
    quarters from :data:`START` posted."""
    token = rig.register()
    _handshake(rig, token, configuration)
    readings = _readings(START, START + 3 * QUARTER, _powers(seed))
    _post(rig, readings)
    return readings


def _measurements(rig: Rig) -> list[dict[str, Any]]:
    bodies = [r.body for r in rig.provider.of("update_group_measurements")]
    return [b for b in bodies if b is not None]


def _by_direction(body: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {m["direction"]: m for m in body["measurements"]}


def test_each_quarter_the_provider_receives_the_energy_the_meter_measured(
    tmp_path: Path,
) -> None:
    with oscp_rig(tmp_path) as rig:
        readings = _three_quarters_posted(rig, ["INTERMITTENT"], seed=7)
        rig.clock.advance(3 * QUARTER.total_seconds() + 30)
        rig.link_pass()
        assert len(_measurements(rig)) == 2  # the last quarter is not settled yet
        rig.clock.advance(60)
        rig.link_pass()

        bodies = _measurements(rig)
        assert len(bodies) == 3
        for n, body in enumerate(bodies):
            assert_conforms("UpdateGroupMeasurements", body)
            start = START + n * QUARTER
            imported, exported = _expected(readings, start)
            measured = _by_direction(body)
            assert body["group_id"] == GROUP
            assert abs(measured["IMPORT"]["value"] - imported) < 0.01
            if n == 1:  # the quarter with the export
                assert exported > 0 and abs(measured["EXPORT"]["value"] - exported) < 0.01
            else:
                assert exported == 0 and "EXPORT" not in measured
            for measurement in measured.values():
                assert measurement["unit"] == "WH" and measurement["energy_type"] == "TOTAL"
                assert measurement["phase"] == "ALL"
                assert measurement["initial_measure_time"] == _z(start)
                assert measurement["measure_time"] == _z(start + QUARTER)
        assert rig.controller.units().oscp.outbox() == []
        assert len(rig.journal(JournalKind.OSCP_MEASUREMENTS)) == 3


def test_a_continuous_peer_receives_the_totals_since_the_first_quarter(tmp_path: Path) -> None:
    with oscp_rig(tmp_path) as rig:
        readings = _three_quarters_posted(rig, ["CONTINUOUS"], seed=11)
        rig.clock.advance(3 * QUARTER.total_seconds() + 90)
        rig.link_pass()

        totals = [0.0, 0.0]
        bodies = _measurements(rig)
        assert len(bodies) == 3
        for n, body in enumerate(bodies):
            assert_conforms("UpdateGroupMeasurements", body)
            imported, exported = _expected(readings, START + n * QUARTER)
            totals = [totals[0] + imported, totals[1] + exported]
            measured = _by_direction(body)
            assert abs(measured["IMPORT"]["value"] - totals[0]) < 0.01
            if totals[1] > 0:
                assert abs(measured["EXPORT"]["value"] - totals[1]) < 0.01
            else:
                assert "EXPORT" not in measured
            assert {m["initial_measure_time"] for m in measured.values()} == {_z(START)}
            assert measured["IMPORT"]["measure_time"] == _z(START + (n + 1) * QUARTER)


def test_the_first_quarter_is_the_first_whole_one_after_registration(tmp_path: Path) -> None:
    with oscp_rig(tmp_path) as rig:
        rig.clock.advance(7 * 60)
        rig.register()
        _post(rig, _readings(START, START + 3 * QUARTER, _powers(13)))
        rig.clock.advance(3 * QUARTER.total_seconds())
        rig.link_pass()
        sent = [_by_direction(b)["IMPORT"]["measure_time"] for b in _measurements(rig)]
        assert sent == [_z(START + 2 * QUARTER), _z(START + 3 * QUARTER)]


def test_a_quarter_with_missing_telemetry_is_not_sent_and_journaled(tmp_path: Path) -> None:
    with oscp_rig(tmp_path) as rig:
        rig.register()
        power = _powers(3)
        gap = (START + QUARTER + timedelta(minutes=4), START + QUARTER + timedelta(minutes=7))
        _post(rig, _readings(START, gap[0], power))
        _post(rig, _readings(gap[1], START + 3 * QUARTER, power))
        rig.clock.advance(3 * QUARTER.total_seconds() + 90)
        rig.link_pass()

        sent = [_by_direction(b)["IMPORT"]["measure_time"] for b in _measurements(rig)]
        assert sent == [_z(START + QUARTER), _z(START + 3 * QUARTER)]
        [skipped] = [e for e in rig.journal(JournalKind.OSCP_MEASUREMENTS) if not e.data["sent"]]
        assert "m-main gave no power in 3 of 15 minutes" in skipped.message
        assert skipped.data["missing_minutes"] == {METER: 3}


def test_an_outage_then_recovery_delivers_every_quarter_once(tmp_path: Path) -> None:
    with oscp_rig(tmp_path) as rig:
        rig.register()
        _post(rig, _readings(START, START + 4 * QUARTER, _powers(5)))
        rig.provider.status = 503
        for _ in range(13):  # an hour of the provider failing, a pass every 5 min
            rig.clock.advance(300)
            rig.link_pass()
        assert len(rig.controller.units().oscp.outbox()) == 4
        rig.provider.status = 204
        rig.provider.received.clear()
        rig.clock.advance(300)  # the longest back-off
        rig.link_pass()

        sent = [_by_direction(b)["IMPORT"]["measure_time"] for b in _measurements(rig)]
        assert sent == [_z(START + n * QUARTER) for n in range(1, 5)]
        assert rig.controller.units().oscp.outbox() == []


def test_a_restart_mid_way_neither_loses_nor_repeats_a_quarter(tmp_path: Path) -> None:
    provider = CapacityProvider()
    clock = SimClock(START, monotonic=lambda: 0.0)
    power = _powers(9)
    with serving(provider.app()) as cp_url:
        first = Rig(tmp_path, provider, cp_url, clock)
        first.seed(site_text(cp_url))
        with serving(oscp_app(first.events)) as fp_url:
            first.fp = fp_url
            first.events.base_url = f"{fp_url}/oscp/fp/2.0"
            first.register()
            _post(first, _readings(START, START + 3 * QUARTER, power))
            clock.advance(2 * QUARTER.total_seconds() + 90)
            first.link_pass()  # two quarters delivered
            provider.status = 503
            clock.advance(QUARTER.total_seconds())
            first.link_pass()  # the third queued, not delivered
        first.close()  # the controller stops

        second = Rig(tmp_path, provider, cp_url, clock)
        try:
            second.seed(site_text(cp_url))
            assert len(second.controller.units().oscp.outbox()) == 1
            provider.status = 204
            _post(second, _readings(START + 3 * QUARTER, START + 4 * QUARTER, power))
            clock.advance(QUARTER.total_seconds())
            second.link_pass()
        finally:
            second.close()

    acknowledged = [r.body for r in provider.of("update_group_measurements") if r.body is not None]
    sent = [_by_direction(b)["IMPORT"]["measure_time"] for b in acknowledged]
    # the third quarter went out twice: once refused (503), once acknowledged
    assert sent == [_z(START + n * QUARTER) for n in (1, 2, 3, 3, 4)]
    request_ids = [r.headers["x-request-id"] for r in provider.of("update_group_measurements")]
    assert request_ids[2] == request_ids[3]  # the same message, tried again
    assert len(set(request_ids)) == 4


def test_after_a_long_stop_the_last_day_is_measured_and_the_rest_journaled(
    tmp_path: Path,
) -> None:
    with oscp_rig(tmp_path) as rig:
        rig.register()
        stopped = 30 * 4  # thirty hours of quarters
        last = START + stopped * QUARTER
        _post(rig, _readings(last - QUARTER, last, _powers(17)))
        rig.clock.advance(stopped * QUARTER.total_seconds() + 90)
        rig.link_pass()

        sent = [_by_direction(b)["IMPORT"]["measure_time"] for b in _measurements(rig)]
        assert sent == [_z(last)]  # the one quarter with telemetry
        entries = rig.journal(JournalKind.OSCP_MEASUREMENTS)
        [behind] = [e for e in entries if "periods behind" in e.message]
        first_measured = last - 96 * QUARTER
        assert behind.data["start"] == START.isoformat()
        assert behind.data["end"] == first_measured.isoformat()
        [silent] = [e for e in entries if "missing_minutes" in e.data]
        assert silent.data["periods"] == 95
        assert silent.data["start"] == first_measured.isoformat()
        assert silent.data["end"] == (last - QUARTER).isoformat()
        assert silent.data["missing_minutes"] == {METER: 95 * 15}
