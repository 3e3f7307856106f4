"""Random fault drills drawn for a fleet from a seed: exactly the share asked for,
inside the window, the same for the same seed whatever the order of the chargers."""

from __future__ import annotations

from depotctl.sim.chargers.drills import drawn_faults
from depotctl.sim.chargers.misbehaviour import Misbehaviour, Outage

FLEET = [f"chg-{n:03d}" for n in range(1, 301)]
NIGHT = {"*": Misbehaviour.parse("reboot=random 10%/8h")}


def test_ten_percent_of_three_hundred_reboot_once_each_inside_the_window() -> None:
    drawn = drawn_faults(NIGHT, FLEET, seed=7)
    assert len(drawn) == 30
    assert set(drawn) <= set(FLEET)
    moments = [t for faults in drawn.values() for t in faults.reboots.at_s]
    assert len(moments) == 30
    assert all(0 <= t < 8 * 3600 for t in moments)
    assert len(set(moments)) > 25  # spread over the night, not bunched
    assert not any(faults.outages for faults in drawn.values())


def test_the_same_seed_draws_the_same_and_another_seed_does_not() -> None:
    first = drawn_faults(NIGHT, FLEET, seed=7)
    assert drawn_faults(NIGHT, list(reversed(FLEET)), seed=7) == first
    assert drawn_faults(NIGHT, FLEET, seed=8) != first


def test_reboots_and_outages_are_drawn_apart() -> None:
    night = {
        "*": Misbehaviour.parse("reboot=random 10%/8h").merged(
            Misbehaviour.parse("offline=10min@random 5%/8h")
        )
    }
    drawn = drawn_faults(night, FLEET, seed=7)
    outages = [o for faults in drawn.values() for o in faults.outages]
    assert len(outages) == 15
    assert all(o.duration_s == 600 and 0 <= o.after_s < 8 * 3600 for o in outages)
    assert sum(len(faults.reboots.at_s) for faults in drawn.values()) == 30


def test_an_assignment_to_one_charger_draws_for_that_charger_only() -> None:
    assignments = {
        "chg-002": Misbehaviour.parse("offline=1min@random 100%/1h"),
        "chg-003": Misbehaviour.parse("reject-profiles"),
    }
    drawn = drawn_faults(assignments, FLEET[:5], seed=1)
    assert list(drawn) == ["chg-002"]
    [outage] = drawn["chg-002"].outages
    assert outage == Outage(outage.after_s, 60.0) and 0 <= outage.after_s < 3600
    unknown = {"chg-404": Misbehaviour.parse("reboot=random 100%/1h")}
    assert drawn_faults(unknown, FLEET, seed=1) == {}
