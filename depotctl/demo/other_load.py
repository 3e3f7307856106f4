"""The depot's load besides its chargers, at the most the demo assumes it draws: each
site load at its fallback (the demo posts no site-load readings) and each battery
charging at its maximum (what a stale battery counts as). Generation is counted as
producing nothing. The fleet's sizing and the summary's independent check both
count it, so that neither relies on the controller's own reservations."""

from __future__ import annotations

from collections import defaultdict

from depotctl.domain.phases import load_power
from depotctl.domain.topology import Topology


def other_load_w(topology: Topology) -> dict[str, float]:
    """Node → the watts of the site loads (at their fallback) and batteries (charging
    at ``max_charge_w``) below it, the node's own included."""
    out: dict[str, float] = defaultdict(float)
    assets = [
        (load.parent, load_power(load.fallback_a, load.connection, load.voltage_ln))
        for load in topology.site_loads.values()
    ] + [(battery.parent, battery.max_charge_w) for battery in topology.storage.values()]
    for parent, watts in assets:
        node = topology.nodes.get(parent)
        while node is not None:
            out[node.id] += watts
            node = topology.nodes.get(node.parent) if node.parent is not None else None
    return dict(out)
