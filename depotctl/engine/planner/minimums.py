"""A plan's rates below the EVSEs' minimum currents, pooled into whole minimums.

The planner's program is linear: it may plan a session less power than its EVSE's
minimum current (a demand charge spreads the load thin; a shared row is split
between sessions). The allocator pauses a cap under the minimum, so every such
session would lose what the plan counted on. Instead, the block's power planned
below the minimums is pooled and handed out again as whole minimum currents, earliest
departure first, while the pool lasts (to the nearest whole one); what is left of
the pool (under half a minimum) raises the caps of the sessions charging, earliest
departure first, up to their EVSEs' maximum. The plan's total power stays as
planned — within half a minimum above it, and below it only when every session
charging is at its maximum — and so does its peak. (On Caltech 2019-05-13 at 30 kVA
the remainders dropped were 15 kWh of the 26 planned below the minimums.)

A session the plan finishes within the block now gets its minimum outright: a plan
in 15-minute blocks spreads a last few hundred Wh thin over the block (3 A), which
the pool may not reach, block after block, while the session stays a few Wh short of
its need; at its minimum it takes the same energy sooner and stops.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import NamedTuple

from depotctl.domain.topology import EvseSpec

#: below this (W) a block's planned power counts as none
IDLE_W = 1.0


class PlannedRate(NamedTuple):
    """One session's planned power now (W), its EVSE and its departure; ``finishing``
    when the plan gives it all it still needs within the block now."""

    session_id: str
    watts: float
    evse: EvseSpec
    departure: datetime
    finishing: bool = False


def rates_a(planned: Sequence[PlannedRate]) -> dict[str, float]:
    """Each session's cap in amps: the plan's rate at or above the EVSE's minimum, none
    below idle, the minimum for a session finishing in the block, the pool of the
    rest as whole minimums and its remainder onto the sessions charging (see the
    module)."""
    caps: dict[str, float] = {}
    below: list[PlannedRate] = []
    for rate in planned:
        amps = rate.watts / rate.evse.watts_per_amp
        if rate.watts <= IDLE_W:
            caps[rate.session_id] = 0.0
        elif amps < rate.evse.min_current_a and rate.finishing:
            # its last energy at the minimum: the same energy, sooner (it stops when it
            # has what it needs), within the block the plan gave it
            caps[rate.session_id] = rate.evse.min_current_a
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
    if pool_w > IDLE_W:
        _hand_out(pool_w, planned, caps)
    return caps


def _hand_out(pool_w: float, planned: Sequence[PlannedRate], caps: dict[str, float]) -> None:
    """The pool's remainder (less than half a minimum) onto the sessions charging,
    earliest departure first, each up to its EVSE's maximum current."""
    for rate in sorted(planned, key=lambda r: (r.departure, r.session_id)):
        amps = caps[rate.session_id]
        if amps <= 0.0:
            continue
        more = min(rate.evse.max_current_a - amps, pool_w / rate.evse.watts_per_amp)
        if more > 0.0:
            caps[rate.session_id] = amps + more
            pool_w -= more * rate.evse.watts_per_amp
        if pool_w <= IDLE_W:
            return
