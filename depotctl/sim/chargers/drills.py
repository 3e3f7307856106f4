"""Fault drills drawn for a whole fleet from a seed: which chargers reboot
(``reboot=random SHARE/WINDOW``) or go offline (``offline=DURATION@random
SHARE/WINDOW``) at random, and when.

Of the N chargers an assignment names (``*``: all of them), exactly round(SHARE × N)
are chosen, each once at a moment drawn uniformly from the first WINDOW. The same
seed, site and modes give the same chargers and moments, whatever the order the
chargers are listed in.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping

from depotctl.sim.chargers.misbehaviour import Misbehaviour, Outage, Reboots


def drawn_faults(
    assignments: Mapping[str, Misbehaviour], chargers: Iterable[str], seed: int
) -> dict[str, Misbehaviour]:
    """By charger: the reboots and outages drawn for it (seconds after the start).
    ``assignments`` maps a charger (or ``*``) to its misbehaviour, ``chargers`` are
    every charger of the fleet."""
    every = sorted(set(chargers))
    drawn: dict[str, Misbehaviour] = {}

    def add(charger: str, found: Misbehaviour) -> None:
        drawn[charger] = drawn[charger].merged(found) if charger in drawn else found

    for key in sorted(assignments):
        named = every if key == "*" else [key] if key in every else []
        behaviour = assignments[key]
        for index, reboots in enumerate(behaviour.random_reboots):
            rng = random.Random(f"{seed}/{key}/reboot/{index}/{reboots}")
            for charger, moment in _moments(rng, named, reboots.share, reboots.window_s):
                add(charger, Misbehaviour(reboots=Reboots(at_s=(moment,))))
        for index, outages in enumerate(behaviour.random_outages):
            rng = random.Random(f"{seed}/{key}/offline/{index}/{outages}")
            for charger, moment in _moments(rng, named, outages.share, outages.window_s):
                add(charger, Misbehaviour(outages=(Outage(moment, outages.duration_s),)))
    return drawn


def _moments(
    rng: random.Random, named: list[str], share: float, window_s: float
) -> list[tuple[str, float]]:
    """round(share × len(named)) of ``named``, each with a moment in the window."""
    count = min(len(named), round(share * len(named)))
    return [(c, round(rng.uniform(0.0, window_s), 3)) for c in sorted(rng.sample(named, count))]
