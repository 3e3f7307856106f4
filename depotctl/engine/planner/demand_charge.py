"""A demand charge as the planner sees it: a rate on the highest quarter hour of some
blocks, and how the blocks' import falls into the quarter hours the tariff bills."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta

import numpy as np
import numpy.typing as npt

from depotctl.domain.bill import DEFAULT_DEMAND_INTERVAL, EPOCH
from depotctl.engine.planner.blocks import Blocks

#: The demand interval the planner bills: 15 minutes on the clock's quarter hours (the
#: grid from the Unix epoch, as :func:`depotctl.domain.bill.bill` counts it).
QUARTER = DEFAULT_DEMAND_INTERVAL
#: One quarter hour in hours.
QUARTER_HOURS = QUARTER.total_seconds() / 3600.0
_MICROSECOND = timedelta(microseconds=1)


@dataclass(frozen=True, slots=True)
class DemandTerm:
    """One demand charge (or one TOU period's) of the billing window: ``rate_per_kw``
    (currency per kW) on the peak of the site's average import over a quarter hour
    that ``blocks`` (the horizon's block indices it covers) fall in, and
    ``peak_so_far_w``, the window's peak already metered (the plan's peak never goes
    below it; its cost counts in the plan's demand cost). ``so_far_wh`` is the energy
    already imported, as the charge counts it, in the quarter hour holding the
    problem's ``now`` before ``now``: it counts in that quarter's average."""

    rate_per_kw: float
    blocks: tuple[int, ...]
    peak_so_far_w: float = 0.0
    so_far_wh: float = 0.0

    def check(self, position: int, count: int) -> None:
        """Refuse a term the program cannot hold (``position``: its place in the
        problem's list; ``count``: the horizon's blocks)."""
        where = f"planning problem: demand term {position}"
        if not (math.isfinite(self.rate_per_kw) and self.rate_per_kw >= 0.0):
            raise ValueError(f"{where}: rate_per_kw {self.rate_per_kw} must be finite and ≥ 0")
        if not (math.isfinite(self.peak_so_far_w) and self.peak_so_far_w >= 0.0):
            raise ValueError(f"{where}: peak_so_far_w {self.peak_so_far_w} must be finite and ≥ 0")
        if not (math.isfinite(self.so_far_wh) and self.so_far_wh >= 0.0):
            raise ValueError(
                f"{where}: so_far_wh {self.so_far_wh} must be finite and ≥ 0 (the energy "
                "imported in the quarter hour before now)"
            )
        outside = [b for b in self.blocks if not 0 <= b < count]
        if outside:
            raise ValueError(
                f"{where}: block(s) {', '.join(map(str, outside))} outside the horizon's "
                f"0…{count - 1}; drop the blocks past the horizon"
            )
        if len(set(self.blocks)) != len(self.blocks) or list(self.blocks) != sorted(self.blocks):
            raise ValueError(f"{where}: blocks must be ascending, each once")


@dataclass(frozen=True, slots=True)
class QuarterShares:
    """How each block's time from now falls into the quarter hours: entry ``k`` says
    block ``block[k]`` spends ``share[k]`` of its time from now (its own hours for a
    later block) in quarter ``quarter[k]`` (its index from the epoch); by block, then
    quarter, ascending. ``now_quarter`` is the quarter holding now."""

    block: npt.NDArray[np.intp]
    quarter: npt.NDArray[np.int64]
    share: npt.NDArray[np.float64]
    now_quarter: int


def quarter_shares(blocks: Blocks, now: datetime | None) -> QuarterShares:
    """The quarter hours of ``blocks`` from ``now`` (None: the first block's start).
    A block inside one quarter is wholly in it (a block of 15 minutes on the grid, or
    one that divides it); a block across quarters is split by its time in each, its
    import taken as even over its time from now."""
    begin = blocks.start if now is None else now
    start_us = (blocks.start - EPOCH) // _MICROSECOND
    now_us = (begin - EPOCH) // _MICROSECOND
    length_us = blocks.length // _MICROSECOND
    quarter_us = QUARTER // _MICROSECOND
    starts = start_us + np.arange(blocks.count, dtype=np.int64) * length_us
    begins = np.maximum(starts, now_us)
    ends = starts + length_us
    first = begins // quarter_us
    last = (ends - 1) // quarter_us
    spans = int((last - first).max()) + 1
    offsets = np.arange(spans, dtype=np.int64)
    quarter = first[:, None] + offsets  # (blocks, spans)
    overlap = np.minimum(ends[:, None], (quarter + 1) * quarter_us) - np.maximum(
        begins[:, None], quarter * quarter_us
    )
    held = quarter <= last[:, None]
    share = overlap / (ends - begins)[:, None]
    block = np.broadcast_to(np.arange(blocks.count)[:, None], quarter.shape)
    return QuarterShares(
        block=block[held].astype(np.intp),
        quarter=quarter[held],
        share=share[held].astype(np.float64),
        now_quarter=int(now_us // quarter_us),
    )
