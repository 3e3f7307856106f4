"""Capacity forecasts over real HTTP into the controller: every block a pending
envelope on the source's node before it starts, a new forecast replacing the old from
its first block on, bad forecasts refused whole with nothing stored, and heartbeats
keeping the source online until the deadline they name."""

from __future__ import annotations

from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from depotctl.controller.services.envelopes import envelope_board
from depotctl.controller.store import JournalKind
from depotctl.domain.envelopes import Direction, EnvelopeMode, EnvelopeState
from tests.controller.oscp.rig import (
    GROUP,
    SOURCE,
    START,
    Rig,
    oscp_rig,
)


def _z(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")


def forecast(
    start: datetime,
    capacities: list[float],
    *,
    kind: str = "CONSUMPTION",
    unit: str = "KW",
    group: str = GROUP,
    minutes: int = 15,
) -> dict[str, Any]:
    blocks = [
        {
            "capacity": capacity,
            "phase": "ALL",
            "unit": unit,
            "start_time": _z(start + timedelta(minutes=minutes * i)),
            "end_time": _z(start + timedelta(minutes=minutes * (i + 1))),
        }
        for i, capacity in enumerate(capacities)
    ]
    return {"group_id": group, "type": kind, "forecasted_blocks": blocks}


def _send(rig: Rig, token: str, body: dict[str, Any], request_id: str) -> Any:
    return rig.post("update_group_capacity_forecast", body, token=token, request_id=request_id)


def _oscp_envelopes(rig: Rig) -> list[Any]:
    return [e for e in envelope_board(rig.controller).envelopes if e.envelope.source == SOURCE]


def test_every_block_is_a_pending_envelope_on_the_sources_node_before_it_starts(
    tmp_path: Path,
) -> None:
    with oscp_rig(tmp_path) as rig:
        token = rig.register()
        first = START + timedelta(hours=1)
        answer = _send(rig, token, forecast(first, [800, 600, 0, 900]), "fc-1")
        assert answer.status_code == 204, answer.text
        shown = _oscp_envelopes(rig)
        assert [(e.envelope.target, e.envelope.limit, e.status.state) for e in shown] == [
            ("gc-main", 800_000.0, EnvelopeState.PENDING),
            ("gc-main", 600_000.0, EnvelopeState.PENDING),
            ("gc-main", 0.0, EnvelopeState.PENDING),  # a protective zero is honoured
            ("gc-main", 900_000.0, EnvelopeState.PENDING),
        ]
        assert {e.envelope.direction for e in shown} == {Direction.IMPORT}
        assert [e.envelope.start for e in shown] == [
            first + timedelta(minutes=15 * i) for i in range(4)
        ]
        [summary] = rig.journal(JournalKind.OSCP_FORECAST)
        assert "4 blocks" in summary.message and "the lowest 0 kW" in summary.message
        assert summary.data["envelopes"] == [e.envelope.id for e in shown]
        # in its window, the block is in force (the source alive: it sent heartbeats)
        alive = {"offline_mode_at": _z(START + timedelta(hours=3))}
        assert rig.post("heartbeat", alive, token=token).status_code == 204
        rig.clock.advance(3600 + 16 * 60)
        states = {e.envelope.limit: e.status.state for e in _oscp_envelopes(rig)}
        assert states[800_000.0] == EnvelopeState.EXPIRED
        assert states[600_000.0] == EnvelopeState.ACTIVE


def test_a_new_forecast_replaces_the_old_from_its_first_block_on(tmp_path: Path) -> None:
    with oscp_rig(tmp_path) as rig:
        token = rig.register()
        first = START + timedelta(hours=1)
        assert _send(rig, token, forecast(first, [800, 800, 800, 800]), "fc-1").status_code == 204
        # the new forecast starts at the old one's second block and is shorter; it comes
        # at the same instant of the (frozen) clock: the later request is the newer
        later = first + timedelta(minutes=15)
        assert _send(rig, token, forecast(later, [500]), "fc-2").status_code == 204
        rig.clock.advance(0.001)  # it counts as received a microsecond after the first
        now = {e.envelope.id: e for e in _oscp_envelopes(rig)}
        old = sorted(
            (e for e in now.values() if "fc-1" in e.envelope.id), key=lambda e: e.envelope.start
        )
        assert old[0].status.state == EnvelopeState.PENDING  # before the new first block
        assert [e.status.state for e in old[1:]] == [EnvelopeState.WITHDRAWN] * 3
        [new] = [e for e in now.values() if "fc-2" in e.envelope.id]
        assert new.status.state == EnvelopeState.PENDING and new.envelope.limit == 500_000.0
        # a fallback forecast is another type: it replaces nothing of the consumption one
        fallback = forecast(first, [300, 300, 300, 300], kind="FALLBACK_CONSUMPTION")
        assert _send(rig, token, fallback, "fc-3").status_code == 204
        replaced = [e.data["replaced"] for e in rig.journal(JournalKind.OSCP_FORECAST)]
        assert [len(r) for r in replaced] == [0, 3, 0]
        assert set(replaced[1]) == {e.envelope.id for e in old[1:]}
        modes = {e.envelope.mode for e in _oscp_envelopes(rig) if "fc-3" in e.envelope.id}
        assert modes == {EnvelopeMode.FALLBACK}


@pytest.mark.parametrize(
    ("body", "status", "fragment"),
    [
        (forecast(START + timedelta(hours=1), [800], unit="KWH"), 400, "forecasted_blocks[0]"),
        (forecast(START + timedelta(hours=1), [-5]), 400, "forecasted_blocks[0]"),
        (forecast(START - timedelta(hours=2), [800, 800]), 400, "had ended"),
        (forecast(START + timedelta(hours=1), [800], group="NOT-OURS"), 404, "NOT-OURS"),
        ({"group_id": GROUP, "type": "CONSUMPTION"}, 400, "forecasted_blocks"),
        (
            {
                "group_id": GROUP,
                "type": "CONSUMPTION",
                "forecasted_blocks": [
                    {
                        "capacity": 1,
                        "phase": "ALL",
                        "unit": "KW",
                        "start_time": "2026-03-02T08:00:00Z",
                        "end_time": "2026-03-02T07:00:00Z",
                    }
                ],
            },
            400,
            "forecasted_blocks[0]",
        ),
    ],
    ids=["energy-unit", "negative", "all-past", "unknown-group", "no-blocks", "ends-first"],
)
def test_a_bad_forecast_is_refused_whole_and_stores_nothing(
    tmp_path: Path, body: dict[str, Any], status: int, fragment: str
) -> None:
    with oscp_rig(tmp_path) as rig:
        token = rig.register()
        before = len(rig.journal())
        answer = _send(rig, token, body, "bad-1")
        assert answer.status_code == status, answer.text
        assert fragment in answer.json()["message"]
        assert _oscp_envelopes(rig) == []
        assert len(rig.journal()) == before
        # refused, not recorded: the same request id may be sent again, corrected
        good = forecast(START + timedelta(hours=1), [800])
        assert _send(rig, token, good, "bad-1").status_code == 204
        assert len(_oscp_envelopes(rig)) == 1


def test_a_heartbeat_keeps_the_source_online_until_its_deadline(tmp_path: Path) -> None:
    with oscp_rig(tmp_path) as rig:
        token = rig.register()
        deadline = START + timedelta(minutes=3)
        beat = rig.post("heartbeat", {"offline_mode_at": _z(deadline)}, token=token)
        assert beat.status_code == 204
        rig.clock.advance(170)
        [health] = [s for s in envelope_board(rig.controller).sources if s.source == SOURCE]
        assert health.is_online(rig.clock.now()) and health.deadline == deadline
        rig.clock.advance(20)  # past the deadline the heartbeat named, within offline_after
        [health] = [s for s in envelope_board(rig.controller).sources if s.source == SOURCE]
        assert not health.is_online(rig.clock.now())
        # a forecast is heard from too: online again, offline_after from it
        assert _send(rig, token, forecast(rig.clock.now(), [800]), "fc-1").status_code == 204
        [health] = [s for s in envelope_board(rig.controller).sources if s.source == SOURCE]
        assert health.is_online(rig.clock.now()) and health.deadline is None
