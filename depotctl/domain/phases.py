"""Phases and how a load is wired to them.

A single-phase load is wired line-to-neutral to one phase (``L2``) or
line-to-line across two (``L1-L2``, a 208/240 V charger in North America); a
three-phase load may be rotated (``L2-L3-L1``: its L1 on the site's L2). A
line-to-line load of I amps counts its full I on both of its lines.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from enum import StrEnum


class Phase(StrEnum):
    L1 = "L1"
    L2 = "L2"
    L3 = "L3"


SQRT3 = math.sqrt(3.0)


@dataclass(frozen=True, slots=True)
class PhaseConnection:
    """The site phases a load draws from, in the load's own phase order."""

    phases: tuple[Phase, ...]

    @property
    def is_line_to_line(self) -> bool:
        return len(self.phases) == 2

    @property
    def is_three_phase(self) -> bool:
        return len(self.phases) == 3

    @property
    def lines(self) -> frozenset[Phase]:
        """Every phase conductor that carries this load's current."""
        return frozenset(self.phases)

    def __str__(self) -> str:
        return "-".join(self.phases)

    @classmethod
    def parse(cls, text: str) -> PhaseConnection:
        """``L1``, ``L1-L2`` or ``L1-L2-L3`` (any order, no repeats)."""
        parts = text.split("-")
        try:
            phases = tuple(Phase(p) for p in parts)
        except ValueError:
            raise ValueError(
                f'"{text}" is not a phase connection; write L1, L2 or L3 (line-to-neutral), '
                "L1-L2, L2-L3 or L3-L1 (line-to-line), or a 3-phase rotation like L1-L2-L3"
            ) from None
        if len(set(phases)) != len(phases):
            raise ValueError(f'"{text}" names a phase twice')
        return cls(phases)


#: The connection of an unrotated three-phase load.
THREE_PHASE = PhaseConnection((Phase.L1, Phase.L2, Phase.L3))
