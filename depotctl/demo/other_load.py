"""The depot's load besides its chargers, as the demo counts it without the
controller's own reservations: each site load at its fallback (the demo posts no
site-load readings); each battery and generator at the worst its meter read over the
night — a battery at its highest metered draw, a generator at its least production —
where the meter's history (the controller's per-minute telemetry, measurements, never
its decisions) covers every minute; without that, a battery charging at its maximum
and a generator producing nothing, as a stale one counts. The fleet's sizing (before
the night: no history) and the summary's independent check both count it."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime, timedelta
from typing import Any

from depotctl.domain.phases import load_power
from depotctl.domain.topology import GenerationSpec, StorageSpec, Topology

MINUTE = timedelta(minutes=1)
#: an asset's per-minute telemetry rows (``GET /api/v1/telemetry/{meter}``'s minutes),
#: by its meter (or its own id)
Minutes = Mapping[str, Sequence[Mapping[str, Any]]]


def other_load_w(
    topology: Topology,
    minutes: Minutes | None = None,
    span: tuple[datetime, datetime] | None = None,
) -> dict[str, float]:
    """Node → the watts of the site loads, batteries and generators below it, the
    node's own included; with ``minutes`` over ``span``, each battery and generator as
    its meter read (see the module), else at its worst case."""
    metered = minutes if minutes is not None and span is not None else {}
    leaves = [
        (load.parent, load_power(load.fallback_a, load.connection, load.voltage_ln))
        for load in topology.site_loads.values()
    ]
    leaves += [
        (b.parent, asset_w(b, metered.get(b.meter or b.id), span))
        for b in topology.storage.values()
    ]
    leaves += [
        (g.parent, asset_w(g, metered.get(g.meter or g.id), span))
        for g in topology.generation.values()
    ]
    out: dict[str, float] = defaultdict(float)
    for parent, watts in leaves:
        node = topology.nodes.get(parent)
        while node is not None:
            out[node.id] += watts
            node = topology.nodes.get(node.parent) if node.parent is not None else None
    return dict(out)


def asset_w(
    asset: StorageSpec | GenerationSpec,
    rows: Sequence[Mapping[str, Any]] | None,
    span: tuple[datetime, datetime] | None,
) -> float:
    """What a battery or generator counts as over ``span``: the highest of its
    meter's per-minute highest readings when they cover every whole minute of it
    (relief bounded by its nameplate), else its worst case."""
    highest = _highest_w(rows or (), span) if span is not None else None
    if isinstance(asset, StorageSpec):
        return max(highest, -asset.max_discharge_w) if highest is not None else asset.max_charge_w
    return max(highest, -asset.peak_w) if highest is not None else 0.0


def _highest_w(rows: Iterable[Mapping[str, Any]], span: tuple[datetime, datetime]) -> float | None:
    """The highest ``power_w_max`` of the minutes touching ``span``; None unless every
    whole minute of it has one."""
    start, end = span
    seen: dict[datetime, float] = {}
    for row in rows:
        minute, power = datetime.fromisoformat(row["minute"]), row.get("power_w_max")
        if power is not None and minute + MINUTE > start and minute < end:
            seen[minute] = max(float(power), seen.get(minute, float("-inf")))
    first = start.replace(second=0, microsecond=0)
    first += MINUTE if first < start else timedelta(0)
    whole = []
    while first + MINUTE <= end:
        whole.append(first)
        first += MINUTE
    if not seen or any(minute not in seen for minute in whole):
        return None
    return max(seen.values())
