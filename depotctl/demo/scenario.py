"""A night at the depot, generated from the site's EVSEs in the scenario format of
``depotctl sim chargers`` (docs/sim-chargers.md): the evening return and the morning
departures, and the scripted envelope cut in the evening peak.

Deterministic: the same site and start give the same vehicles."""

from __future__ import annotations

import random
import zlib
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from depotctl.demo.other_load import other_load_w
from depotctl.domain.topology import EvseSpec, Topology

#: where the simulated clock starts, site time: the evening return is half an hour away
START = time(16, 30)
ARRIVALS = (time(17, 0), time(21, 0))
DEPARTURES = (time(5, 0), time(7, 0))
#: the evening peak, site time, and the import limit the grid operator asks for then
CUT = (time(18, 0), time(20, 0))
CUT_SHARE = 0.55
#: a night's energy stays under this share of what each grid connection can deliver
#: over ten hours, so a feasible plan exists for every site
BUDGET_SHARE = 0.7
BUDGET_HOURS = 10.0
SAFETY = 0.95


@dataclass(frozen=True, slots=True)
class Vehicle:
    id: str
    evse: str
    arrival: datetime
    departure: datetime
    energy_wh: float
    max_power_w: float

    @property
    def id_tag(self) -> str:
        """The card it authorises with: 8 hex digits of its id's CRC-32 (the demo's
        copy of the site maps it to the vehicle)."""
        return f"{zlib.crc32(self.id.encode('utf-8')):08X}"


@dataclass(frozen=True, slots=True)
class Cut:
    """The scripted envelope: ``limit_w`` of import at ``target`` over [start, end),
    from ``source``: ``local`` (the script posts it through the API) or the OSCP source
    the target is bound to (its simulated Capacity Provider sends it; ``id`` is then
    the one the controller gave it, once received)."""

    id: str
    target: str
    limit_w: float
    static_w: float
    start: datetime
    end: datetime
    source: str = "local"


def start_time(now: datetime, timezone: str) -> datetime:
    """The next 16:30 site time at or after ``now`` (the simulated clock never starts
    before the wall clock)."""
    zone = ZoneInfo(timezone)
    local = now.astimezone(zone)
    candidate = datetime.combine(local.date(), START, zone)
    if candidate < local:
        candidate = datetime.combine(local.date() + timedelta(days=1), START, zone)
    return candidate


def _at(day: date, clock: time, zone: ZoneInfo) -> datetime:
    return datetime.combine(day, clock, zone)


def _spread(rng: random.Random, day: date, span: tuple[time, time], zone: ZoneInfo) -> datetime:
    first = _at(day, span[0], zone)
    minutes = (_at(day, span[1], zone) - first).total_seconds() / 60
    return first + timedelta(minutes=round(rng.uniform(0, minutes)))


def _max_power_w(evse: EvseSpec) -> float:
    return evse.max_current_a * evse.watts_per_amp


def _name(evse: EvseSpec, site: str) -> str:
    if evse.supply == "dc":
        return "truck" if "truck" in site else "bus"
    return "van"


def vehicles(topology: Topology, start: datetime) -> list[Vehicle]:
    """One vehicle per EVSE: DC EVSEs get buses (or trucks) of 150-300 kWh, AC ones
    support vans of 20-60 kWh; arrivals 17:00-21:00, departures 05:00-07:00 the next
    morning, the needs scaled down where a grid connection could not carry them."""
    zone = ZoneInfo(topology.timezone)
    rng = random.Random(topology.site)
    today = start.astimezone(zone).date()
    tomorrow = today + timedelta(days=1)
    out: list[Vehicle] = []
    counters: dict[str, int] = {}
    for evse in sorted(topology.evses.values(), key=lambda e: e.id):
        kind = _name(evse, topology.site)
        counters[kind] = counters.get(kind, 0) + 1
        evse_max = _max_power_w(evse)
        if evse.supply == "dc":
            energy = (
                rng.uniform(150_000, 300_000)
                if evse_max >= 100_000
                else rng.uniform(60_000, 150_000)
            )
            max_power = evse_max
        else:
            energy = rng.uniform(20_000, 60_000)
            max_power = min(evse_max, rng.choice((11_000.0, 22_000.0)))
        out.append(
            Vehicle(
                id=f"{kind}-{100 + counters[kind]}",
                evse=evse.id,
                arrival=_spread(rng, today, ARRIVALS, zone),
                departure=_spread(rng, tomorrow, DEPARTURES, zone),
                energy_wh=energy,
                max_power_w=max_power,
            )
        )
    return _fit(topology, out)


def _usable_import_w(topology: Topology, connection: str) -> float | None:
    node = topology.nodes[connection]
    limits = [node.limits.import_w]
    if node.envelope_source and node.envelope_source in topology.sources:
        limits.append(topology.sources[node.envelope_source].fallback.import_w)
    known = [limit for limit in limits if limit is not None]
    if not known:
        return None
    reserved = other_load_w(topology).get(connection, 0.0)
    return max(0.0, min(known) * SAFETY - reserved)


def _fit(topology: Topology, fleet: list[Vehicle]) -> list[Vehicle]:
    scale: dict[str, float] = {}
    for connection in grid_connections(topology):
        usable = _usable_import_w(topology, connection)
        need = sum(v.energy_wh for v in fleet if topology.evses[v.evse].path[-1] == connection)
        if usable is not None and need > 0:
            scale[connection] = min(1.0, BUDGET_SHARE * usable * BUDGET_HOURS / need)
    return [
        Vehicle(
            v.id,
            v.evse,
            v.arrival,
            v.departure,
            round(v.energy_wh * scale.get(topology.evses[v.evse].path[-1], 1.0), -3),
            round(v.max_power_w, -2),
        )
        for v in fleet
    ]


def grid_connections(topology: Topology) -> list[str]:
    return [n.id for n in topology.nodes.values() if n.kind.value == "grid_connection"]


def cuts(topology: Topology, start: datetime, oscp: Collection[str] = ()) -> list[Cut]:
    """One envelope per grid connection with an import limit: 55 % of its static
    limit, 18:00-20:00 site time on the demo's first evening; from the connection's
    envelope source where that is one of the ``oscp`` sources, else ``local``."""
    zone = ZoneInfo(topology.timezone)
    day = start.astimezone(zone).date()
    out: list[Cut] = []
    for connection in grid_connections(topology):
        node = topology.nodes[connection]
        static, bound = node.limits.import_w, node.envelope_source
        if static is None:
            continue
        out.append(
            Cut(
                id=f"demo-peak-{connection}",
                target=connection,
                limit_w=round(static * CUT_SHARE, -4),
                static_w=static,
                start=_at(day, CUT[0], zone),
                end=_at(day, CUT[1], zone),
                source=bound if bound is not None and bound in oscp else "local",
            )
        )
    return out


def write_scenario(fleet: list[Vehicle], path: Path, site: str) -> None:
    """The scenario YAML of ``depotctl sim chargers --vehicles``."""
    lines = [
        "apiVersion: depotctl/v1",
        "kind: Scenario",
        f"metadata: {{description: 'depotctl demo: a night at {site}'}}",
        "vehicles:",
    ]
    for v in fleet:
        lines += [
            f"  - id: {v.id}",
            f"    evse: {v.evse}",
            f'    arrival: "{v.arrival.isoformat()}"',
            f'    departure: "{v.departure.isoformat()}"',
            f"    energy: {v.energy_wh / 1000:g} kWh",
            f"    max_power: {v.max_power_w / 1000:g} kW",
            f'    id_tag: "{v.id_tag}"',
        ]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
