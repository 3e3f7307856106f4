"""Fault drills drawn for a whole fleet from a seed: which chargers reboot at random
(``reboot=random SHARE/WINDOW``) and when.

Of the N chargers an assignment names (``*``: all of them), exactly round(SHARE × N)
are chosen, each rebooting once at a moment drawn uniformly from the first WINDOW.
The same seed, site and modes give the same chargers and moments, whatever the order
the chargers are listed in.
"""

from __future__ import annotations

import random
from collections.abc import Iterable, Mapping

from depotctl.sim.chargers.misbehaviour import Misbehaviour, Reboots


def random_reboots(
    assignments: Mapping[str, Misbehaviour], chargers: Iterable[str], seed: int
) -> dict[str, Reboots]:
    """By charger: the reboot moments drawn for it (seconds after the start).
    ``assignments`` maps a charger (or ``*``) to its misbehaviour, ``chargers`` are
    every charger of the fleet."""
    every = sorted(set(chargers))
    drawn: dict[str, Reboots] = {}
    for key in sorted(assignments):
        named = every if key == "*" else [key] if key in every else []
        for index, wanted in enumerate(assignments[key].random_reboots):
            rng = random.Random(f"{seed}/{key}/{index}/{wanted.share}/{wanted.window_s}")
            count = min(len(named), round(wanted.share * len(named)))
            for charger in sorted(rng.sample(named, count)):
                moment = Reboots(at_s=(round(rng.uniform(0.0, wanted.window_s), 3),))
                drawn[charger] = drawn[charger].merged(moment) if charger in drawn else moment
    return drawn
