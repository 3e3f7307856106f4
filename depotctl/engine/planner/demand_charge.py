"""A demand charge as the planner sees it: a rate on the highest block of some blocks."""

from __future__ import annotations

import math
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class DemandTerm:
    """One demand charge (or one TOU period's) of the billing window: ``rate_per_kw``
    (currency per kW) on the peak of the site's import over ``blocks`` (the horizon's
    block indices it covers) and ``peak_so_far_w``, the window's peak already metered
    (the plan's peak never goes below it; its cost counts in the plan's demand cost).
    A block's import is its average power, as a meter's demand interval is."""

    rate_per_kw: float
    blocks: tuple[int, ...]
    peak_so_far_w: float = 0.0

    def check(self, position: int, count: int) -> None:
        """Refuse a term the program cannot hold (``position``: its place in the
        problem's list; ``count``: the horizon's blocks)."""
        where = f"planning problem: demand term {position}"
        if not (math.isfinite(self.rate_per_kw) and self.rate_per_kw >= 0.0):
            raise ValueError(f"{where}: rate_per_kw {self.rate_per_kw} must be finite and ≥ 0")
        if not (math.isfinite(self.peak_so_far_w) and self.peak_so_far_w >= 0.0):
            raise ValueError(f"{where}: peak_so_far_w {self.peak_so_far_w} must be finite and ≥ 0")
        outside = [b for b in self.blocks if not 0 <= b < count]
        if outside:
            raise ValueError(
                f"{where}: block(s) {', '.join(map(str, outside))} outside the horizon's "
                f"0…{count - 1}; drop the blocks past the horizon"
            )
        if len(set(self.blocks)) != len(self.blocks) or list(self.blocks) != sorted(self.blocks):
            raise ValueError(f"{where}: blocks must be ascending, each once")
