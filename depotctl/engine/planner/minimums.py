"""A plan's rates below the EVSEs' minimum currents, pooled into whole minimums.

The planner's program is linear: it may plan a session less power than its EVSE's
minimum current (a demand charge spreads the load thin; a shared row is split
between sessions). The allocator pauses a cap under the minimum, so every such
session would lose what the plan counted on. Instead, the block's power planned
below the minimums is pooled and handed out again as whole minimum currents, earliest
departure first, while the pool lasts (to the nearest whole one): the plan's total
power stays as planned, within half a minimum, and so does its peak.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from depotctl.domain.topology import EvseSpec

#: below this (W) a block's planned power counts as none
IDLE_W = 1.0


class PlannedRate(NamedTuple):
    """One session's planned power now (W), its EVSE and its departure."""

    session_id: str
    watts: float
    evse: EvseSpec
    departure: datetime


def rates_a(planned: Sequence[PlannedRate]) -> dict[str, float]:
    """Each session's cap in amps: the plan's rate at or above the EVSE's minimum, none
    below idle, and the pool of the rest as whole minimums (see the module)."""
    caps: dict[str, float] = {}
    below: list[PlannedRate] = []
    for rate in planned:
        amps = rate.watts / rate.evse.watts_per_amp
        if rate.watts <= IDLE_W:
            caps[rate.session_id] = 0.0
        elif amps < rate.evse.min_current_a:
            below.append(rate)
        else:
            caps[rate.session_id] = amps
    pool_w = sum(rate.watts for rate in below)
    for rate in sorted(below, key=lambda r: (r.departure, r.session_id)):
        minimum_w = rate.evse.min_current_a * rate.evse.watts_per_amp
        if pool_w >= minimum_w / 2:
            caps[rate.session_id] = rate.evse.min_current_a
            pool_w -= minimum_w
        else:
            caps[rate.session_id] = 0.0
    return caps
