"""Hypothesis strategies: generated depots and the state of one at an instant.

Trees: a grid connection (sometimes two), sometimes a transformer with a ratio and
a winding (delta-wye, wye-wye or unknown), nested circuits (some single-phase, fed
from one phase), charger groups, and chargers of one or two EVSEs wired
three-phase (sometimes rotated), line-to-neutral, line-to-line or on an unknown
phase. Limits in A and W are drawn as a share of what is connected
below, so they bind often. Snapshots: envelopes (overlapping, pending, expired,
withdrawn, not yet received, from online, offline and never-heard sources, with
and without their own fallback), fresh and stale site-load telemetry,
uncontrollable chargers, sessions with and without requirements, vehicle caps,
planned rates, priority classes, previous limits for hysteresis, operator
overrides (pauses, and caps of 0 A, below the minimum current, and from tight to
looser than anything in the tree, on EVSEs with and without a session), and EVSEs
switched on or off (before their session started, within and past the policy's
minimum on and off times).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from zoneinfo import ZoneInfo

from hypothesis import strategies as st

from depotctl.domain.admission import Admission
from depotctl.domain.chargers import ChargerState, CommandOutcome, HeldLimit
from depotctl.domain.envelopes import Direction, Envelope, EnvelopeMode, LimitUnit, SourceHealth
from depotctl.domain.overrides import EvseOverride
from depotctl.domain.phases import SQRT3, THREE_PHASE, Phase, PhaseConnection, load_power
from depotctl.domain.policy import Policy, StaleLoad, UncontrollableAssumption
from depotctl.domain.sessions import EnergyRequirement, Session
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.telemetry import Reading
from depotctl.domain.topology import (
    EvseSpec,
    NodeKind,
    NodeLimits,
    SiteLoadSpec,
    SourceSpec,
    Topology,
    TopologyNode,
)

T0 = datetime(2024, 3, 4, 9, 0, tzinfo=UTC)
SYDNEY = ZoneInfo("Australia/Sydney")

CONNECTIONS: tuple[PhaseConnection | None, ...] = (
    THREE_PHASE,
    PhaseConnection.parse("L2-L3-L1"),
    PhaseConnection.parse("L1"),
    PhaseConnection.parse("L2"),
    PhaseConnection.parse("L3"),
    PhaseConnection.parse("L1-L2"),
    PhaseConnection.parse("L2-L3"),
    PhaseConnection.parse("L3-L1"),
    None,
)
#: (root volts line-to-neutral, volts below the transformer, secondary/primary)
TRANSFORMERS = ((277.0, 208 / SQRT3, 208 / 480), (11_000 / SQRT3, 230.0, 400 / 11_000))


@dataclass
class _Node:
    id: str
    kind: NodeKind
    parent: str | None
    depth: int
    volts: float
    feed: Phase | None  # the one phase a single-phase container is fed from
    ratio: float = 1.0
    winding: str | None = None
    phases: int = 3
    limits: NodeLimits = field(default_factory=NodeLimits)


@dataclass
class _Tree:
    nodes: dict[str, _Node] = field(default_factory=dict)
    evses: dict[str, EvseSpec] = field(default_factory=dict)

    def add(self, node: _Node) -> _Node:
        self.nodes[node.id] = node
        return node

    def path(self, node_id: str) -> tuple[str, ...]:
        chain = []
        current: str | None = node_id
        while current is not None:
            chain.append(current)
            current = self.nodes[current].parent
        return tuple(chain)


def _amps(draw: st.DrawFn, low: float, high: float) -> float:
    return draw(st.integers(int(low * 10), int(high * 10))) / 10


@st.composite
def topologies(draw: st.DrawFn, max_chargers: int = 7) -> Topology:
    tree = _Tree()
    transformer = draw(st.none() | st.sampled_from(TRANSFORMERS))
    root_volts = transformer[0] if transformer else draw(st.sampled_from([230.0, 277.0]))
    below = transformer[1] if transformer else root_volts
    containers = [tree.add(_Node("gc", NodeKind.GRID_CONNECTION, None, 0, root_volts, None))]
    if draw(st.sampled_from([False, False, False, True])):  # a second grid connection
        second = _Node("gc-2", NodeKind.GRID_CONNECTION, None, 0, root_volts, None)
        containers.append(tree.add(second))
    if transformer is not None:
        tx = _Node("tx", NodeKind.TRANSFORMER, "gc", 1, root_volts, None, ratio=transformer[2])
        tx.winding = draw(st.sampled_from([None, "delta-wye", "wye-wye"]))
        tree.add(tx)
        containers.append(tx)
    for kind, prefix, count in (
        (NodeKind.CIRCUIT, "db", draw(st.integers(0, 4))),
        (NodeKind.CHARGER_GROUP, "row", draw(st.integers(0, 3))),
    ):
        for i in range(count):
            parent = draw(st.sampled_from(containers))
            feed = parent.feed
            if feed is None and draw(st.integers(0, 4)) == 0:
                feed = draw(st.sampled_from(list(Phase)))
            volts = below if parent.kind is NodeKind.TRANSFORMER else parent.volts
            node = _Node(
                f"{prefix}-{i}",
                kind,
                parent.id,
                parent.depth + 1,
                volts,
                feed,
                phases=1 if feed is not None else 3,
            )
            containers.append(tree.add(node))
    for i in range(draw(st.integers(1, max_chargers))):
        _charger(draw, tree, f"ch-{i}", draw(st.sampled_from(containers)), transformer)
    _limit_nodes(draw, tree)
    loads = _site_loads(draw, tree, [n for n in containers if n.kind is not NodeKind.TRANSFORMER])
    sources = _sources(draw, [n.id for n in containers])
    nodes = {
        n.id: TopologyNode(
            id=n.id,
            kind=n.kind,
            parent=n.parent,
            depth=n.depth,
            phases=n.phases,
            voltage_ln=n.volts,
            limits=n.limits,
            envelope_source=next((s.id for s in sources.values() if n.id in s.targets), None),
            current_ratio=n.ratio,
            winding=n.winding,
        )
        for n in tree.nodes.values()
    }
    return Topology("generated", "Australia/Sydney", nodes, tree.evses, loads, sources)


def _charger(
    draw: st.DrawFn,
    tree: _Tree,
    charger_id: str,
    parent: _Node,
    transformer: tuple[float, float, float] | None,
) -> None:
    if parent.feed is not None:
        connection = draw(st.sampled_from([PhaseConnection((parent.feed,)), None]))
    else:
        connection = draw(st.sampled_from(CONNECTIONS))
    volts = transformer[1] if transformer and parent.kind is NodeKind.TRANSFORMER else parent.volts
    rating = float(draw(st.sampled_from([10, 16, 32, 63, 125])))
    evse_count = draw(st.integers(1, 2))
    shared = draw(st.booleans()) if evse_count == 2 else False
    power = draw(st.sampled_from([None, 0.3, 0.6, 0.9])) if shared else None
    node = _Node(
        charger_id,
        NodeKind.CHARGER,
        parent.id,
        parent.depth + 1,
        volts,
        parent.feed,
        phases=3 if connection is not None and connection.is_three_phase else 1,
        limits=NodeLimits(
            current_a=rating if shared or draw(st.booleans()) else None,
            import_w=power * 2 * load_power(rating, connection, volts) if power else None,
        ),
    )
    tree.add(node)
    for k in range(1, evse_count + 1):
        floor = draw(st.sampled_from([6.0, 6.0, 6.0, 8.0]))
        evse_max = _amps(draw, floor, rating) if draw(st.booleans()) else rating
        evse_id = f"{charger_id}/{k}"
        tree.evses[evse_id] = EvseSpec(
            id=evse_id,
            charger_id=charger_id,
            external_id=None,
            supply="ac",
            connection=connection,
            voltage_ln=volts,
            max_current_a=evse_max,
            min_current_a=floor,
            fallback_a=6.0,
            path=tree.path(charger_id),
        )


def _limit_nodes(draw: st.DrawFn, tree: _Tree) -> None:
    """Static limits on grid connection, transformer, circuits and groups, as a share of
    the current and power connected below (none, or 5–120 %)."""
    share = st.sampled_from([None, *range(5, 125, 5)]).map(lambda p: p and p / 100)
    for node in tree.nodes.values():
        if node.kind is NodeKind.CHARGER:
            continue
        below = [e for e in tree.evses.values() if node.id in e.path]
        amps = sum(e.max_current_a * _ratio_at(tree, e.path, node.id) for e in below)
        watts = sum(e.max_current_a * e.watts_per_amp for e in below)
        current, power = draw(share), draw(share)
        node.limits = NodeLimits(
            current_a=round(current * max(amps, 10.0), 1) if current is not None else None,
            import_w=round(power * max(watts, 5000.0)) if power is not None else None,
        )


def _ratio_at(tree: _Tree, path: tuple[str, ...], node_id: str) -> float:
    ratio = 1.0
    for step in path:
        ratio *= tree.nodes[step].ratio
        if step == node_id:
            break
    return ratio


def _site_loads(draw: st.DrawFn, tree: _Tree, parents: list[_Node]) -> dict[str, SiteLoadSpec]:
    loads = {}
    for i in range(draw(st.integers(0, 2))):
        parent = draw(st.sampled_from(parents))
        if parent.feed is not None:
            connection = draw(st.sampled_from([PhaseConnection((parent.feed,)), None]))
        else:
            connection = draw(st.sampled_from(CONNECTIONS))
        load_id = f"load-{i}"
        loads[load_id] = SiteLoadSpec(
            id=load_id,
            parent=parent.id,
            connection=connection,
            voltage_ln=parent.volts,
            fallback_a=_amps(draw, 1.0, 60.0),
            meter=draw(st.sampled_from([None, f"m-{load_id}"])),
        )
    return loads


def _sources(draw: st.DrawFn, targets: list[str]) -> dict[str, SourceSpec]:
    sources = {}
    for source_id in draw(st.sampled_from([(), ("dso",), ("dso", "cpo")])):
        fallback = draw(
            st.sampled_from(
                [
                    NodeLimits(import_w=draw(st.integers(0, 60)) * 1000.0),
                    NodeLimits(),  # sets nothing: holds import at 0 W
                    NodeLimits(current_a=float(draw(st.integers(0, 80)))),
                    NodeLimits(import_w=40_000.0, current_a=50.0),
                ]
            )
        )
        sources[source_id] = SourceSpec(
            id=source_id,
            offline_after_s=draw(st.sampled_from([None, 60.0, 300.0])),
            fallback=fallback,
            targets=tuple(draw(st.lists(st.sampled_from(targets), min_size=1, max_size=2))),
        )
    return sources


# Snapshots


policies = st.builds(
    Policy,
    min_current_a=st.just(6.0),
    safety_margin=st.sampled_from([0.0, 0.05, 0.1]),
    urgency_threshold_s=st.sampled_from([0.0, 1800.0, 7200.0]),
    hysteresis_a=st.sampled_from([0.0, 1.0, 2.0]),
    stale_after_s=st.just(30.0),
    stale_site_load=st.sampled_from(list(StaleLoad)),
    stale_margin=st.just(0.2),
    default_departure=st.sampled_from([time(5, 30, tzinfo=SYDNEY), time(17, 0, tzinfo=SYDNEY)]),
    default_energy_wh=st.sampled_from([10_000.0, 60_000.0]),
    uncontrollable=st.sampled_from(list(UncontrollableAssumption)),
    priority=st.sampled_from(["laxity", "deadline", "fifo", "fair"]),
    rounding_a=st.just(0.1),
    min_on_s=st.sampled_from([60.0, 300.0, 900.0]),
    min_off_s=st.sampled_from([60.0, 300.0, 900.0]),
)


def _minutes(draw: st.DrawFn, low: int, high: int) -> timedelta:
    return timedelta(minutes=draw(st.integers(low, high)))


@st.composite
def snapshots(
    draw: st.DrawFn, topology: Topology | None = None, *, previous: bool = True
) -> Snapshot:
    topology = topology if topology is not None else draw(topologies())
    policy = draw(policies)
    known = [*topology.sources, "elsewhere"]
    return Snapshot(
        at=T0,
        topology=topology,
        policy=policy,
        envelopes=draw(_envelopes(topology, known)),
        sources=_health(draw, topology, known),
        telemetry=_telemetry(draw, topology),
        sessions=_sessions(draw, topology),
        chargers=_charger_states(draw, topology),
        previous_limits=_previous(draw, topology) if previous else {},
        overrides=_overrides(draw, topology),
        pending=_pending(draw, topology),
        admission=_admission(draw, topology),
    )


def _health(draw: st.DrawFn, topology: Topology, known: list[str]) -> dict[str, SourceHealth]:
    health = {}
    for source_id in known:
        spec = topology.sources.get(source_id)
        offline_after = spec.offline_after_s if spec else 300.0
        heard = draw(st.sampled_from(["recent", "recent", "missing", "never", "long ago"]))
        if heard == "missing":
            continue
        last = {
            "never": None,
            "recent": T0 - timedelta(seconds=10),
            "long ago": T0 - timedelta(hours=2),
        }
        health[source_id] = SourceHealth(source_id, last[heard], offline_after)
    return health


@st.composite
def _envelopes(draw: st.DrawFn, topology: Topology, known: list[str]) -> tuple[Envelope, ...]:
    targets = sorted(topology.nodes)
    envelopes = []
    for i in range(draw(st.integers(0, 5))):
        unit = draw(st.sampled_from(list(LimitUnit)))
        start = T0 + _minutes(draw, -180, 60)
        length = draw(st.none() | st.integers(5, 240))
        end = start + timedelta(minutes=length) if length is not None else None
        target = draw(st.sampled_from(targets))
        amps, watts = _connected(topology, target)
        share = draw(st.sampled_from([0, 10, 30, 50, 70, 90, 110])) / 100
        limit = round(share * (watts if unit is LimitUnit.W else amps), 1)
        envelopes.append(
            Envelope(
                id=f"E-{i}",
                source=draw(st.sampled_from(known)),
                target=target,
                direction=draw(st.sampled_from([Direction.IMPORT] * 4 + [Direction.EXPORT])),
                limit=limit,
                unit=unit,
                start=start,
                end=end,
                received_at=min(start, T0) + _minutes(draw, -30, 40),
                mode=draw(st.sampled_from([EnvelopeMode.NORMAL] * 3 + [EnvelopeMode.FALLBACK])),
                phases=draw(st.none() | st.frozensets(st.sampled_from(list(Phase)), min_size=1))
                if unit is LimitUnit.A
                else None,
                withdrawn_at=draw(
                    st.none() | st.integers(-60, 60).map(lambda m: T0 + timedelta(minutes=m))
                ),
            )
        )
    return tuple(envelopes)


def _connected(topology: Topology, node_id: str) -> tuple[float, float]:
    """Amps per phase (roughly) and watts of everything that can charge below a node."""
    amps = watts = 0.0
    for evse in topology.evses.values():
        if node_id in evse.path:
            ratio = 1.0
            for step in evse.path[: evse.path.index(node_id) + 1]:
                ratio *= topology.nodes[step].current_ratio
            amps += evse.max_current_a * ratio
            watts += evse.max_current_a * evse.watts_per_amp
    return max(amps, 10.0), max(watts, 5000.0)


def _telemetry(draw: st.DrawFn, topology: Topology) -> dict[str, Reading]:
    readings = {}
    for load in topology.site_loads.values():
        age = draw(st.sampled_from([None, 2.0, 25.0, 31.0, 600.0, -5.0]))
        if age is None:
            continue
        key = draw(st.sampled_from([load.id, load.meter or load.id]))
        lines = load.connection.lines if load.connection is not None else frozenset(Phase)
        amps = st.integers(-50, 800).map(lambda tenths: tenths / 10)
        what = draw(st.sampled_from(["current", "power", "both", "empty"]))
        measured = sorted(lines) if draw(st.sampled_from([True, True, False])) else list(Phase)
        if len(measured) == 3 and draw(st.booleans()):
            measured = draw(st.lists(st.sampled_from(list(Phase)), max_size=2, unique=True))
        current = {p: draw(amps) for p in measured} if what in ("current", "both") else None
        power = draw(st.integers(-2000, 40_000)) * 1.0 if what in ("power", "both") else None
        readings[key] = Reading(key, T0 - timedelta(seconds=age), power, current)
    return readings


def _charger_states(draw: st.DrawFn, topology: Topology) -> dict[str, ChargerState]:
    states = {}
    for charger_id in sorted({e.charger_id for e in topology.evses.values()}):
        if draw(st.sampled_from([True, True, True, False])):
            continue  # controllable (no state: online, nothing refused)
        held: dict[str, tuple[HeldLimit, ...]] = {}
        if draw(st.booleans()):  # what each EVSE may be under, valid or lapsed
            for evse in topology.chargers_evses(charger_id):
                held[evse.id] = tuple(
                    HeldLimit(
                        draw(st.sampled_from([0.0, 6.0, 10.0, 32.0, 70.0])),
                        draw(
                            st.sampled_from(
                                [None, T0 - timedelta(seconds=1), T0, T0 + timedelta(seconds=30)]
                            )
                        ),
                    )
                    for _ in range(draw(st.integers(0, 2)))
                )
        states[charger_id] = ChargerState(
            charger_id,
            online=draw(st.booleans()),
            last_outcome=draw(st.none() | st.sampled_from(list(CommandOutcome))),
            last_accepted_limit_a=draw(st.sampled_from([None, 0.0, 6.0, 10.0, 32.0])),
            fallback_accepted=draw(st.sampled_from([True, True, True, False])),
            held=held,
        )
    return states


def _pending(draw: st.DrawFn, topology: Topology) -> dict[str, float]:
    """Commands out and not answered yet, on some EVSEs."""
    pending = {}
    for evse_id, evse in sorted(topology.evses.items()):
        if draw(st.sampled_from([True, True, True, False])):
            continue
        pending[evse_id] = draw(st.sampled_from([0.0, evse.min_current_a, evse.max_current_a]))
    return pending


def _admission(draw: st.DrawFn, topology: Topology) -> dict[str, Admission]:
    """Some EVSEs switched on or off: a few seconds to hours ago (sessions start 1 to
    600 minutes before the snapshot), or — as a clock may be ahead — just after it."""
    admission = {}
    for evse_id in sorted(topology.evses):
        if draw(st.sampled_from([True, False, False])):
            continue  # never seen to switch
        ago = draw(st.sampled_from([-5, 0, 30, 59, 61, 240, 299, 301, 899, 901, 3600, 40_000]))
        admission[evse_id] = Admission(draw(st.booleans()), T0 - timedelta(seconds=ago))
    return admission


def _sessions(draw: st.DrawFn, topology: Topology) -> tuple[Session, ...]:
    sessions = []
    for evse_id in sorted(topology.evses):
        if not draw(st.sampled_from([True, True, True, False])):
            continue  # no vehicle plugged in
        delivered = draw(st.sampled_from([0, 0, 2, 5, 20, 40])) * 1000.0
        requirement = None
        if draw(st.booleans()):
            requirement = EnergyRequirement(
                energy_wh=delivered + draw(st.sampled_from([0, 1, 5, 20, 40, 80])) * 1000.0,
                departure=T0 + _minutes(draw, -30, 720),
            )
        sessions.append(
            Session(
                id=f"s-{evse_id}",
                evse_id=evse_id,
                started=T0 - _minutes(draw, 1, 600),
                energy_delivered_wh=delivered,
                requirement=requirement,
                vehicle_max_current_a=draw(st.sampled_from([None, None, 4.0, 16.0, 24.5])),
                planned_rate_a=draw(st.sampled_from([None, None, None, 0.0, 7.5, 12.0])),
                priority_class=draw(st.integers(0, 2)),
            )
        )
    return tuple(sessions)


def _previous(draw: st.DrawFn, topology: Topology) -> dict[str, float]:
    previous = {}
    for evse_id, evse in sorted(topology.evses.items()):
        if draw(st.booleans()):
            continue
        if draw(st.booleans()):
            previous[evse_id] = 0.0
        else:
            previous[evse_id] = _amps(draw, evse.min_current_a, evse.max_current_a)
    return previous


def _overrides(draw: st.DrawFn, topology: Topology) -> dict[str, EvseOverride]:
    overrides = {}
    for evse_id in sorted(topology.evses):
        if draw(st.sampled_from([True, True, True, False])):
            continue  # as the allocator decides
        paused = draw(st.booleans())
        cap = draw(st.sampled_from([None, 0.0, 3.0, 6.0, 10.55, 16.0, 40.0, 500.0]))
        if not paused and cap is None:
            cap = draw(st.integers(0, 1300).map(lambda tenths: tenths / 10))
        overrides[evse_id] = EvseOverride(
            evse_id,
            paused,
            cap,
            T0 - _minutes(draw, 0, 3000),
            "ops",
            draw(st.sampled_from([None, "cable damaged"])),
        )
    return overrides


def without_previous(snapshot: Snapshot) -> Snapshot:
    """No limits in force to hold increases at — except those of EVSEs with a command
    out, which count at the higher of the two whatever the hysteresis."""
    kept = {e: a for e, a in snapshot.previous_limits.items() if e in snapshot.pending}
    return replace(snapshot, previous_limits=kept)
