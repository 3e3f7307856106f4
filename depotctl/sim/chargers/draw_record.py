"""What a simulated charger drew, over time: its total draw as a piecewise-constant
record (each instant it changed and the watts from then on), kept by its
:class:`~depotctl.sim.chargers.station.Station`, and the record's compact text in the
simulator's JSON report (``"draw": "0:0 61.5:22080 3600.125:0"``: seconds since the
report's ``from`` to the millisecond, a colon, watts to 0.1 W; a pair per change)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

MILLISECOND = timedelta(milliseconds=1)
#: the text's resolutions: instants in milliseconds, power in tenths of a watt
DECIWATTS_PER_W = 10


@dataclass
class DrawRecord:
    """The instants a charger's total draw changed, each with the watts from then on."""

    changes: list[tuple[datetime, float]] = field(default_factory=list)

    def note(self, at: datetime, watts: float) -> None:
        """The draw is ``watts`` from ``at`` on (instants come in order; only a change
        is kept, and a second note at the same instant replaces the first)."""
        changes = self.changes
        if changes and changes[-1][0] == at:
            changes.pop()
        if not changes or changes[-1][1] != watts:
            changes.append((at, watts))


def encode(changes: list[tuple[datetime, float]], origin: datetime) -> str:
    """The report's text of ``changes``, instants counted from ``origin`` (a change
    before it counts from it; what rounds to the same millisecond keeps the later
    draw; what rounds to the same draw as the one before is left out)."""
    kept: list[tuple[int, int]] = []
    for at, watts in changes:
        ms = max(0, round((at - origin) / MILLISECOND))
        deciwatts = round(watts * DECIWATTS_PER_W)
        if kept and kept[-1][0] == ms:
            kept.pop()
        if not kept or kept[-1][1] != deciwatts:
            kept.append((ms, deciwatts))
    return " ".join(f"{_decimal(ms, 3)}:{_decimal(dw, 1)}" for ms, dw in kept)


def decode(text: str) -> list[tuple[int, int]]:
    """``encode``'s text back as (milliseconds since the origin, tenths of a watt),
    exact integers; ``ValueError`` when it is not such a text."""
    out: list[tuple[int, int]] = []
    for pair in text.split():
        seconds, _, watts = pair.partition(":")
        ms = round(float(seconds) * 1000)
        if out and ms < out[-1][0]:
            raise ValueError(f"draw record out of order at {pair!r}")
        out.append((ms, round(float(watts) * DECIWATTS_PER_W)))
    return out


def _decimal(count: int, places: int) -> str:
    """``count`` units of 10**-places, written shortest (``61500, 3`` → ``61.5``)."""
    text = f"{count / 10**places:.{places}f}"
    return text.rstrip("0").rstrip(".")
