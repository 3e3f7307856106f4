"""The allocation in force (``GET /api/v1/state``) and one EVSE's explanation
(``GET /api/v1/explain/{evse}``): the JSON of ``depotctl allocate --format json`` and
``depotctl explain --format json`` (docs/snapshot.md), plus the controller's ``time``
and ``revision``. Currents in A per line, powers in kW, figures to a thousandth (null
where not finite)."""

from __future__ import annotations

from pydantic import Field

from depotctl.api.base import ApiModel, Instant
from depotctl.api.binding_sources import BindingSource
from depotctl.api.past import Past
from depotctl.api.planner import PlannerState
from depotctl.api.revisions import Revision


class Binding(ApiModel):
    """What holds an EVSE at its limit: ``kind`` (``node_limit``, ``envelope``,
    ``charger_limit``, ``operator_override``, …), the node, envelope or EVSE it names,
    and the reason in words."""

    kind: str
    ref: str | None
    detail: str

    @property
    def words(self) -> str:
        """The detail, or the kind when there is none."""
        return self.detail or self.kind


class LimitSource(ApiModel):
    """Where a node's limit comes from: ``static``, an envelope, a site fallback."""

    kind: str
    ref: str | None
    fresh: bool
    text: str = Field(description="In words: static, rating, envelope E-17 (fresh), …")

    @property
    def words(self) -> str:
        """``static``, ``rating``, ``envelope E-17``, ``site fallback (… offline)``: the
        text without the usual "(fresh)"."""
        return (self.text or self.kind).removesuffix(" (fresh)")


class NodeLimit(ApiModel):
    """One of a node's limits now, in its unit (kW for power, A per line for current)."""

    kind: str = Field(description="import_power, current_L1, current_L2 or current_L3.")
    unit: str
    effective_limit: float | None
    source: LimitSource
    reserved: float | None = Field(description="Non-EV load and assumed draws.")
    allocated: float | None
    headroom: float | None
    at_limit: bool

    @property
    def phase(self) -> str | None:
        """``L1``… for a current limit on one phase; None for a power limit."""
        return self.kind.removeprefix("current_") if self.kind.startswith("current_") else None

    @property
    def load(self) -> float:
        """What is reserved and allocated against it."""
        return (self.reserved or 0.0) + (self.allocated or 0.0)

    @property
    def share(self) -> float:
        """Load as a share of the limit (1.0 and more: full)."""
        limit = self.effective_limit or 0.0
        if limit <= 0:
            return 1.0 if self.load > 0 or self.at_limit else 0.0
        return self.load / limit


class NodeAllocation(ApiModel):
    """A node of the tree with its tightest limit (its fields, null when the node has no
    limit of its own) and all its limits."""

    id: str
    type: str
    parent: str | None
    kind: str | None
    unit: str | None
    effective_limit: float | None
    source: LimitSource | None
    reserved: float | None
    allocated: float | None
    headroom: float | None
    at_limit: bool
    limits: list[NodeLimit]

    @property
    def finite_limits(self) -> tuple[NodeLimit, ...]:
        """Its limits that have a value (an infinite one is null)."""
        return tuple(limit for limit in self.limits if limit.effective_limit is not None)

    @property
    def binding(self) -> NodeLimit | None:
        """The tightest of its limits (the one its own fields repeat)."""
        if self.effective_limit is None:
            return None
        return next((limit for limit in self.limits if limit.kind == self.kind), None)

    @property
    def phase_limits(self) -> tuple[NodeLimit, ...]:
        """The per-phase current limits, when the tightest is a current one."""
        binding = self.binding
        if binding is None or binding.phase is None:
            return ()
        return tuple(limit for limit in self.finite_limits if limit.phase is not None)


class EvseOverride(ApiModel):
    """An operator's override as it shows on its EVSE (times in the site's zone)."""

    paused: bool
    cap_a: float | None = Field(description="Null when only paused.")
    set_at: Instant
    author: str
    reason: str | None


class EvseAllocation(ApiModel):
    """An EVSE's limit now, why, and its session."""

    id: str = Field(description='"<charger id>/<evse id>"')
    charger: str
    parent: str | None
    limit_a: float | None = Field(description="Amps per line.")
    limit_kw: float | None
    state: str = Field(description="charging, paused, idle, uncontrollable, …")
    binding: Binding
    session_id: str | None
    vehicle: str | None = Field(
        None, description="Its session's vehicle (bus-42); only when known."
    )
    tier: int | None
    override: EvseOverride | None = Field(None, description="Only on an EVSE with one.")


class Candidate(ApiModel):
    """A limit an EVSE's allocation had to fit, from the EVSE up, with its slack."""

    what: str
    ref: str | None
    limit: str
    source: str
    slack_a: float | None
    binding: bool


class PathNode(ApiModel):
    id: str
    type: str
    phases: int


class Priority(ApiModel):
    """What placed a session among the tiers."""

    priority_class: int = Field(alias="class")
    urgent: bool
    laxity_s: float | None = Field(description="Null when it cannot charge at all.")
    urgency_threshold_s: float | None
    text: str


class EvseExplained(EvseAllocation):
    """An EVSE with every candidate limit, its path up to the grid connection, and its
    priority (null without a session asking for power)."""

    candidates: list[Candidate]
    path: list[PathNode]
    priority: Priority | None


class SiteRef(ApiModel):
    name: str
    file: str | None
    revision: str | None = Field(description="The revision's hash.")


class AllocationHeader(ApiModel):
    """What ``/state`` and ``/explain`` both begin with."""

    version: int
    at: Instant = Field(description="The instant, in the site's time zone.")
    site: SiteRef
    snapshot: str | None


class State(AllocationHeader):
    """``GET /api/v1/state``: every EVSE (by id) and every node (in tree order)."""

    evses: list[EvseAllocation]
    nodes: list[NodeAllocation]
    time: Instant = Field(description="The instant it was computed for, UTC.")
    revision: Revision
    past: Past | None = Field(None, description="Only when asked about a past instant.")
    planner: PlannerState | None = Field(None, description="The planner now (live only).")


class Explanation(AllocationHeader):
    """``GET /api/v1/explain/{evse}``."""

    evse: EvseExplained
    time: Instant
    revision: Revision
    past: Past | None = Field(None, description="Only when asked about a past instant.")
    binding_source: BindingSource | None = Field(
        None, description="Where the binding limit comes from."
    )
