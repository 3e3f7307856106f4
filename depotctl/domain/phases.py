"""Phases and how a load is wired to them.

A single-phase load is wired line-to-neutral to one phase (``L2``) or
line-to-line across two (``L1-L2``, a 208/240 V charger in North America); a
three-phase load may be rotated (``L2-L3-L1``: its L1 on the site's L2). A
line-to-line load of I amps counts its full I on both of its lines.
"""

from __future__ import annotations

import functools
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

    @staticmethod
    def parse(text: str) -> PhaseConnection:
        """``L1``, ``L1-L2`` or ``L1-L2-L3`` (any order, no repeats)."""
        return _parse_connection(text)


@functools.lru_cache(maxsize=64)
def _parse_connection(text: str) -> PhaseConnection:
    """A site has a handful of distinct connections, written hundreds of times."""
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
    return PhaseConnection(phases)


#: The connection of an unrotated three-phase load.
THREE_PHASE = PhaseConnection((Phase.L1, Phase.L2, Phase.L3))


# A load's phases and its current or power. ``connection`` None is a single-phase
# load on an unknown phase: line-to-neutral, and (conservatively) on every phase.


def line_currents(amps: float, connection: PhaseConnection | None) -> dict[Phase, float]:
    """The current each site phase carries for a load drawing ``amps`` per line: the
    full current on every line of its connection (both lines of a line-to-line load);
    on every phase when the phase is unknown."""
    lines = connection.lines if connection is not None else frozenset(Phase)
    return {phase: amps for phase in Phase if phase in lines}


def load_power(amps: float, connection: PhaseConnection | None, volts_ln: float) -> float:
    """Watts of a load drawing ``amps`` per line at line-to-neutral ``volts_ln``:
    3·V·I for three phases, √3·V·I line-to-line, V·I line-to-neutral."""
    return amps * volts_ln * _power_multiplier(connection)


def load_current(watts: float, connection: PhaseConnection | None, volts_ln: float) -> float:
    """Amps per line of a load drawing ``watts``; the inverse of :func:`load_power`."""
    return watts / (volts_ln * _power_multiplier(connection))


def _power_multiplier(connection: PhaseConnection | None) -> float:
    """Watts per amp (per line) per volt (line-to-neutral): 3, √3 or 1."""
    if connection is None or len(connection.phases) == 1:
        return 1.0
    return 3.0 if connection.is_three_phase else SQRT3
