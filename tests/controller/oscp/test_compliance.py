"""Compliance errors over real HTTP: when chargers that do not accept commands alone
exceed an OSCP envelope, the control cycle reports the block to the Capacity Provider
once — correlated to the forecast that carried it, conforming to its schema — journals
it and raises the source's ``oscp_compliance`` alert; a block the depot can keep to is
not reported."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from depotctl.controller.dispatch import RecordingDispatcher
from depotctl.controller.loop import ControlLoop
from depotctl.controller.store import JournalKind
from depotctl.controller.store.oscp import ForecastBlockRecord
from depotctl.domain.alerts import AlertKind, Severity, Subject, SubjectKind
from depotctl.domain.chargers import ChargerState
from depotctl.domain.telemetry import Reading
from tests.controller.oscp.rig import SOURCE, START, Rig, oscp_rig
from tests.controller.oscp.test_forecasts import forecast
from tests.protocols.oscp.schemas import assert_conforms

#: Chargers made uncontrollable (offline); each is assumed at its 25 kW fallback.
OFFLINE = ("dc-01", "dc-02", "dc-03", "dc-04")
#: The workshop's measured draw: a site load, not commanded either.
WORKSHOP_W = 10_000.0


def _uncontrollable_depot(rig: Rig) -> None:
    with rig.controller.units() as uow:
        uow.chargers.put([ChargerState(c, online=False, reason="offline") for c in OFFLINE])
    _workshop_reading(rig)


def _workshop_reading(rig: Rig) -> None:
    reading = Reading("m-workshop", rig.clock.now(), power_w=WORKSHOP_W)
    rig.controller.units().telemetry.put([reading])


def _send_forecast(rig: Rig, token: str, capacities_kw: list[float], request_id: str) -> Any:
    """A CONSUMPTION forecast of quarter-hour blocks from :data:`START`, taken."""
    body = forecast(START, capacities_kw)
    answer = rig.post("update_group_capacity_forecast", body, token=token, request_id=request_id)
    assert answer.status_code == 204, answer.text
    return body


def _cycle(rig: Rig, loop: ControlLoop) -> None:
    result = rig.loop.run_until_complete(loop.cycle("test"))
    assert result.error is None, result.error


def test_a_block_the_uncontrollable_draws_exceed_is_reported_once_correlated_and_alerted(
    tmp_path: Path,
) -> None:
    with oscp_rig(tmp_path) as rig:
        token = rig.register()
        _uncontrollable_depot(rig)
        # kW: the third block is ample
        body = _send_forecast(rig, token, [40, 35, 2000], "fc-7")
        loop = ControlLoop(rig.controller, RecordingDispatcher())

        _cycle(rig, loop)
        reserved = rig.controller.current().allocation.node_constraints("gc-main")
        assert max(c.reserved for c in reserved) > 40_000  # the premise: beyond the block
        rig.link_pass()
        [error] = rig.provider.of("group_capacity_compliance_error")
        assert error.headers["x-correlation-id"] == "fc-7"
        assert error.body is not None
        assert_conforms("GroupCapacityComplianceError", error.body)
        assert error.body["forecasted_blocks"] == [body["forecasted_blocks"][0]]
        assert "gc-main" in error.body["message"] and "40 kW" in error.body["message"]

        [alert] = [a for a in loop.alerts.open_alerts() if a.kind is AlertKind.OSCP_COMPLIANCE]
        assert alert.subject == Subject(SubjectKind.SOURCE, SOURCE)
        assert alert.kind.severity is Severity.CRITICAL
        assert alert.since == START
        assert alert.data["since"] == START.isoformat()
        assert "forecast fc-7" in alert.reason

        # the same block, still breached: not reported again
        for _ in range(3):
            rig.clock.advance(5)
            _workshop_reading(rig)
            _cycle(rig, loop)
            rig.link_pass()
        assert len(rig.provider.of("group_capacity_compliance_error")) == 1
        [entry] = rig.journal(JournalKind.OSCP_COMPLIANCE)
        assert entry.envelope == "ausgrid-oscp:fc-7:0:gc-main"
        assert entry.data["request_id"] == "fc-7"

        # the next block is its own: reported in turn, the alert still since the first
        rig.clock.advance(15 * 60 - 15)
        _workshop_reading(rig)
        _cycle(rig, loop)
        rig.link_pass()
        errors = rig.provider.of("group_capacity_compliance_error")
        assert [e.body["forecasted_blocks"][0]["capacity"] for e in errors if e.body] == [40, 35]
        assert {e.headers["x-correlation-id"] for e in errors} == {"fc-7"}
        [alert] = [a for a in loop.alerts.open_alerts() if a.kind is AlertKind.OSCP_COMPLIANCE]
        assert alert.since == START

        # the third block can be kept to: no error, and the alert clears
        rig.clock.advance(15 * 60)
        for _ in range(8):
            _workshop_reading(rig)
            _cycle(rig, loop)
            rig.link_pass()
            rig.clock.advance(5)
        assert len(rig.provider.of("group_capacity_compliance_error")) == 2
        assert not [a for a in loop.alerts.open_alerts() if a.kind is AlertKind.OSCP_COMPLIANCE]


def test_a_block_the_depot_can_keep_to_is_not_reported(tmp_path: Path) -> None:
    with oscp_rig(tmp_path) as rig:
        token = rig.register()
        _uncontrollable_depot(rig)
        _send_forecast(rig, token, [800], "fc-8")
        loop = ControlLoop(rig.controller, RecordingDispatcher())
        _cycle(rig, loop)
        rig.link_pass()
        assert rig.provider.of("group_capacity_compliance_error") == []
        assert not rig.journal(JournalKind.OSCP_COMPLIANCE)
        assert AlertKind.OSCP_COMPLIANCE not in {a.kind for a in loop.alerts.open_alerts()}


def test_the_sites_own_fallback_is_no_forecast_and_never_reported(tmp_path: Path) -> None:
    """An offline source's site fallback (900 kW) made no block: nothing to report,
    even where the draws would exceed it."""
    with oscp_rig(tmp_path) as rig:
        rig.register()
        with rig.controller.units() as uow:
            chargers = [f"dc-{n:02d}" for n in range(1, 25)]
            # never accepted a fallback profile: each may draw its 150 kW rating
            uow.chargers.put(
                [ChargerState(c, online=False, fallback_accepted=False) for c in chargers]
            )
        rig.clock.advance(3600)  # silent long past its deadline: the fallback holds
        _workshop_reading(rig)
        loop = ControlLoop(rig.controller, RecordingDispatcher())
        _cycle(rig, loop)
        rig.link_pass()
        assert rig.provider.of("group_capacity_compliance_error") == []
        kinds = {a.kind for a in loop.alerts.open_alerts()}
        assert AlertKind.NODE_OVERCOMMITTED in kinds  # the premise: the draws exceed it
        assert AlertKind.OSCP_COMPLIANCE not in kinds


def test_draws_within_the_envelope_but_not_its_safety_margin_are_no_breach(
    tmp_path: Path,
) -> None:
    """The safety margin is the controller's own caution: over-committed at the node,
    but the envelope itself is kept to — nothing to report."""
    with oscp_rig(tmp_path) as rig:
        token = rig.register()
        _uncontrollable_depot(rig)
        loop = ControlLoop(rig.controller, RecordingDispatcher())
        _cycle(rig, loop)  # the site's own limits: what is reserved at the node
        reserved = max(
            c.reserved for c in rig.controller.current().allocation.node_constraints("gc-main")
        )
        capacity_kw = reserved / 1000 / 0.99  # above the draws, within the margin
        _send_forecast(rig, token, [capacity_kw], "fc-9")
        rig.clock.advance(5)
        _workshop_reading(rig)
        _cycle(rig, loop)
        rig.link_pass()
        kinds = {a.kind for a in loop.alerts.open_alerts()}
        assert AlertKind.NODE_OVERCOMMITTED in kinds  # the premise: past the margin
        assert AlertKind.OSCP_COMPLIANCE not in kinds
        assert rig.provider.of("group_capacity_compliance_error") == []


def test_a_failing_report_is_undone_and_never_stops_the_control_cycle(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with oscp_rig(tmp_path) as rig:
        token = rig.register()
        _uncontrollable_depot(rig)
        _send_forecast(rig, token, [40], "fc-3")
        envelope = "ausgrid-oscp:fc-3:0:gc-main"
        broken = ForecastBlockRecord(envelope, SOURCE, "fc-3", {"capacity": "forty"})
        rig.controller.units().oscp.remember_blocks([(broken, START + timedelta(hours=1))])
        loop = ControlLoop(rig.controller, RecordingDispatcher())
        _cycle(rig, loop)  # no error: the cycle decided and committed
        assert "OSCP compliance check failed" in caplog.text
        assert rig.controller.units().oscp.reported_since(envelope, "import_power") is None
        assert rig.controller.units().oscp.outbox() == []
        assert AlertKind.NODE_OVERCOMMITTED in {a.kind for a in loop.alerts.open_alerts()}
