"""One replay from recorded sessions to report: the composition root of ``sim replay``
(and of the replay benchmark)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from zoneinfo import ZoneInfo

from depotctl.domain.carbon import Intensity
from depotctl.domain.envelopes import Envelope
from depotctl.domain.policy import Policy
from depotctl.domain.price_series import PriceSeries
from depotctl.domain.tariff import Tariff
from depotctl.domain.topology import Topology
from depotctl.recordings import AcnSession, DemandBasis, select_sessions
from depotctl.replay.bill_report import replay_bill
from depotctl.replay.carbon import CarbonLedger
from depotctl.replay.planning_tally import Planning
from depotctl.replay.report import ReplayReport
from depotctl.replay.script import (
    ScriptedEnvelope,
    scale_top,
    scripted_envelopes,
    with_replay_source,
)
from depotctl.replay.steps import Allocator, replay, replay_window
from depotctl.replay.trace import TraceWriter


class ReplayError(Exception):
    """Settings that cannot be replayed (no sessions and no start date; envelopes on a
    site without an import limit)."""


@dataclass(frozen=True)
class ReplaySettings:
    first: date | None = None
    last: date | None = None
    step_s: float = 300.0
    capacity_scale: float = 1.0
    demand: DemandBasis = DemandBasis.DELIVERED
    envelopes: tuple[ScriptedEnvelope, ...] = ()


def run_replay(
    topology: Topology,
    policy: Policy,
    sessions: list[AcnSession],
    settings: ReplaySettings,
    allocate: Allocator,
    trace: TraceWriter | None = None,
    carbon: Intensity | None = None,
    tariff: Tariff | None = None,
    prices: PriceSeries | None = None,
) -> ReplayReport:
    """Select, scale, script and replay; the report of it all, with the emissions under
    the ``carbon`` intensity and the bill under ``tariff`` (energy at ``prices`` when
    given) when there are. An ``allocate`` that plans (a
    :class:`~depotctl.replay.planning.PlanFollower`) meters each step's site energy
    (its demand charges' peak so far), and its solves are reported."""
    selection = select_sessions(sessions, topology, settings.first, settings.last, settings.demand)
    scaled, scaled_nodes = scale_top(topology, settings.capacity_scale)
    if not selection.sessions and settings.first is None:
        raise ReplayError("no sessions to replay: give --from to replay an empty period")
    zone = ZoneInfo(topology.timezone)
    start, end = replay_window(selection.sessions, zone, settings.first, settings.step_s)
    envelopes: tuple[Envelope, ...] = ()
    if settings.envelopes:
        scaled = with_replay_source(scaled)
        try:
            envelopes = scripted_envelopes(
                settings.envelopes,
                scaled,
                start.astimezone(zone).date() - timedelta(days=1),
                end.astimezone(zone).date(),
            )
        except ValueError as error:
            raise ReplayError(str(error)) from None
    result = replay(
        scaled,
        policy,
        selection.sessions,
        allocate,
        start=start,
        end=end,
        step_s=settings.step_s,
        envelopes=envelopes,
        trace=trace,
        carbon=CarbonLedger(carbon, zone) if carbon is not None else None,
        on_step=allocate.metered if isinstance(allocate, Planning) else None,
    )
    cost = None
    if tariff is not None or prices is not None:
        cost = replay_bill(result.site_wh, start, settings.step_s, zone, tariff, prices)
    return ReplayReport(
        site=topology.site,
        first=settings.first,
        last=settings.last,
        capacity_scale=settings.capacity_scale,
        scaled_nodes=scaled_nodes,
        demand=settings.demand,
        envelopes=tuple(e.text for e in settings.envelopes),
        selection=selection,
        result=result,
        cost=cost,
        planning=allocate.tally if isinstance(allocate, Planning) else None,
    )
