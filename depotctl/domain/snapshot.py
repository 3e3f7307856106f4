"""The state of a depot at one instant: what the engine decides from."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from depotctl.domain.admission import Admission
from depotctl.domain.chargers import ChargerState
from depotctl.domain.envelopes import Envelope, SourceHealth
from depotctl.domain.overrides import EvseOverride
from depotctl.domain.plan_notes import PlanNote
from depotctl.domain.policy import Policy
from depotctl.domain.sessions import Session
from depotctl.domain.telemetry import Reading
from depotctl.domain.topology import Topology


@dataclass(frozen=True, slots=True)
class Snapshot:
    """Everything an allocation depends on; ``at`` is aware UTC. Chargers missing
    from ``chargers`` are online and controllable; at most one session per EVSE.
    ``previous_limits`` (amps per EVSE id) are the limits now in force, for
    hysteresis: increases smaller than the hysteresis wait; decreases never do.
    ``overrides`` are the operators' holds by EVSE id: a paused EVSE gets 0 A, a capped
    one at most its cap. ``pending`` are the limits sent to controllable chargers and
    not answered yet, by EVSE id: such an EVSE keeps its limit for this allocation and
    counts at the higher of that limit and the one in force (the command may land or
    not), so that every other limit decided now is safe either way. ``admission`` says,
    by EVSE id, since when its limit in force has been above 0 A (on) or at 0 A (off),
    for the policy's minimum on and off times of fairness rotation; an EVSE without a
    record is held neither on nor off. ``envelope_lead``: how long before its start an
    envelope's limit applies (the time the controller needs to bring every charger under
    it; zero: from its start)."""

    at: datetime
    topology: Topology
    policy: Policy
    envelopes: tuple[Envelope, ...] = ()
    sources: Mapping[str, SourceHealth] = field(default_factory=dict)
    telemetry: Mapping[str, Reading] = field(default_factory=dict)
    sessions: tuple[Session, ...] = ()
    chargers: Mapping[str, ChargerState] = field(default_factory=dict)
    previous_limits: Mapping[str, float] = field(default_factory=dict)
    overrides: Mapping[str, EvseOverride] = field(default_factory=dict)
    pending: Mapping[str, float] = field(default_factory=dict)
    admission: Mapping[str, Admission] = field(default_factory=dict)
    envelope_lead: timedelta = timedelta(0)
    #: the horizon plan's note per session id, where a plan is followed (explain's words)
    plan_notes: Mapping[str, PlanNote] = field(default_factory=dict)
