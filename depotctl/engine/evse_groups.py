"""Constraint entries grouped by EVSE, built once per structure: what the water-filling
reads per EVSE (the room left on its tightest constraint, the constraint that holds
it) with one reduction over all EVSEs instead of a scatter per entry. Each group
keeps its entries in constraint order, as the entries are stored, so "the first of
its entries" means the same as there."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

if TYPE_CHECKING:
    from numpy.typing import NDArray

    from depotctl.engine.waterfill import Floats, Ints


@dataclass(frozen=True, slots=True)
class EvseGroups:
    """Entries group after group: their ``con``, ``w`` and ``evse``; ``owners`` the
    EVSE of each group, ``starts`` where it starts and ``counts`` how many entries it
    has (never none)."""

    con: Ints
    w: Floats
    evse: Ints
    owners: Ints
    starts: Ints
    counts: Ints

    def least(self, values: Floats) -> Floats:
        """Per group, the least of ``values`` (one per entry, in group order)."""
        if self.starts.size == 0:
            return np.zeros(0)
        least: Floats = np.minimum.reduceat(values, self.starts)
        return least

    def first_at_most(self, values: Floats, bound: Floats) -> Ints:
        """Per group, the position within ``values`` of its first entry at most its
        group's ``bound`` (``values.size``: none)."""
        if self.starts.size == 0:
            return np.zeros(0, dtype=np.intp)
        within = values <= np.repeat(bound, self.counts)
        index = np.where(within, np.arange(values.size), values.size)
        first: Ints = np.minimum.reduceat(index, self.starts)
        return first

    def among(self, evses: NDArray[np.bool_]) -> EvseGroups:
        """The groups of the EVSEs marked in ``evses`` only."""
        kept = evses[self.evse]
        counts = self.counts[evses[self.owners]]
        return EvseGroups(
            con=self.con[kept],
            w=self.w[kept],
            evse=self.evse[kept],
            owners=self.owners[evses[self.owners]],
            starts=(np.cumsum(counts) - counts).astype(np.intp),
            counts=counts,
        )


def group_by_evse(
    entry_evse: Ints, entry_con: Ints, entry_w: Floats, positions: Ints
) -> EvseGroups:
    """The entries at ``positions`` (ascending) grouped by EVSE."""
    order = positions[np.argsort(entry_evse[positions], kind="stable")]
    evse = entry_evse[order]
    starts = np.flatnonzero(np.diff(evse, prepend=-1)) if evse.size else np.zeros(0, np.intp)
    counts = np.diff(np.append(starts, evse.size))
    return EvseGroups(
        con=entry_con[order],
        w=entry_w[order],
        evse=evse,
        owners=evse[starts],
        starts=starts.astype(np.intp),
        counts=counts.astype(np.intp),
    )
