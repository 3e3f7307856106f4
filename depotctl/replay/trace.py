"""The replay's trace: one CSV row per step per EVSE and per node, to check and plot a
result independently of depotctl.

Columns (one header; a cell is empty where it does not apply to the row's kind):

- ``time``: the step's start, ISO 8601 UTC; ``kind``: ``evse`` or ``node``; ``id``.
- EVSE rows: ``session`` (empty when idle), ``limit_a`` (the engine's limit),
  ``draw_a`` (what the vehicle drew), ``plugged_s`` (seconds of the step it was
  plugged in), ``step_wh`` (= draw_a × watts_per_amp × plugged_s / 3600),
  ``energy_wh`` (delivered to the session so far, this step included).
- Node rows: ``l1_a``, ``l2_a``, ``l3_a`` (amps per phase on the node's own side of
  any transformer), ``power_w``, and the limits in force: ``current_limit_a`` (the
  tightest phase), ``power_limit_w``, ``limit_source`` (``static`` or an envelope id,
  of the tighter of the two relative to its load).
"""

from __future__ import annotations

import csv
from datetime import datetime
from typing import TextIO

from depotctl.domain.phases import Phase
from depotctl.replay.loads import Bound, NodeBounds, NodeLoad

HEADER = (
    "time",
    "kind",
    "id",
    "session",
    "limit_a",
    "draw_a",
    "plugged_s",
    "step_wh",
    "energy_wh",
    "l1_a",
    "l2_a",
    "l3_a",
    "power_w",
    "current_limit_a",
    "power_limit_w",
    "limit_source",
)


def _number(value: float | None, digits: int = 3) -> str:
    if value is None:
        return ""
    text = f"{value:.{digits}f}".rstrip("0").rstrip(".")
    return "0" if text in ("-0", "") else text


class TraceWriter:
    """Writes trace rows to an open text stream (the caller closes it); a row's cells
    are named by column, the others left empty."""

    def __init__(self, stream: TextIO) -> None:
        self._writer = csv.DictWriter(stream, HEADER, restval="", lineterminator="\n")
        self._writer.writeheader()

    def evse(
        self,
        at: datetime,
        evse_id: str,
        session_id: str | None,
        limit_a: float,
        draw_a: float,
        plugged_s: float,
        step_wh: float,
        energy_wh: float | None,
    ) -> None:
        self._writer.writerow(
            {
                "time": _time(at),
                "kind": "evse",
                "id": evse_id,
                "session": session_id or "",
                "limit_a": _number(limit_a),
                "draw_a": _number(draw_a),
                "plugged_s": _number(plugged_s),
                "step_wh": _number(step_wh),
                "energy_wh": _number(energy_wh),
            }
        )

    def node(self, at: datetime, load: NodeLoad, bounds: NodeBounds) -> None:
        current = bounds.tightest_current
        power = bounds.power_w
        self._writer.writerow(
            {
                "time": _time(at),
                "kind": "node",
                "id": load.node,
                "l1_a": _number(load.current_a[Phase.L1]),
                "l2_a": _number(load.current_a[Phase.L2]),
                "l3_a": _number(load.current_a[Phase.L3]),
                "power_w": _number(load.power_w, 1),
                "current_limit_a": _number(current.value if current else None),
                "power_limit_w": _number(power.value if power else None, 1),
                "limit_source": _tighter_source(load, current, power),
            }
        )


def _tighter_source(load: NodeLoad, current: Bound | None, power: Bound | None) -> str:
    """The source of the limit nearer to binding (the higher share of it in use)."""
    shares = (
        [
            (
                0.0 if current.value <= 0 else max(load.current_a.values()) / current.value,
                current.source,
            )
        ]
        if current is not None
        else []
    )
    if power is not None:
        shares.append((0.0 if power.value <= 0 else load.power_w / power.value, power.source))
    return max(shares)[1] if shares else ""


def _time(at: datetime) -> str:
    return at.isoformat().replace("+00:00", "Z")
