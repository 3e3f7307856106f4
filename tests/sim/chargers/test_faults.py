"""A charger's requested faults on the controller's clock: outages and reboots."""

from __future__ import annotations

from datetime import timedelta

from depotctl.sim.chargers.faults import Fault, Timeline
from depotctl.sim.chargers.misbehaviour import Misbehaviour
from tests.sim.chargers.builders import START


def at(seconds: float) -> object:
    return START + timedelta(seconds=seconds)


def timeline(*modes: str) -> Timeline:
    behaviour = Misbehaviour()
    for mode in modes:
        behaviour = behaviour.merged(Misbehaviour.parse(mode))
    return Timeline(behaviour, START)


def test_faults_come_in_order_and_together_when_they_coincide() -> None:
    faults = timeline("offline=1min@0s", "reboot@2min", "offline=30s@2min", "reboot=every 10min")
    assert faults.next_after(None) == (at(0), frozenset({Fault.OUTAGE}))
    assert faults.next_after(at(0)) == (at(120), frozenset({Fault.OUTAGE, Fault.REBOOT}))
    assert faults.next_after(at(120)) == (at(600), frozenset({Fault.REBOOT}))
    assert faults.next_after(at(600)) == (at(1200), frozenset({Fault.REBOOT}))
    assert timeline("offline=1min@5min").next_after(at(300)) is None
    assert timeline().next_after(None) is None


def test_an_outage_ends_at_the_end_of_the_outages_it_runs_into() -> None:
    faults = timeline("offline=60s@10s", "offline=60s@50s", "offline=10s@300s")
    assert faults.outage_end(at(5)) is None
    assert faults.outage_end(at(10)) == at(110)  # runs into the second
    assert faults.outage_end(at(80)) == at(110)
    assert faults.outage_end(at(110)) is None  # the end itself is back
    assert faults.outage_end(at(305)) == at(310)
