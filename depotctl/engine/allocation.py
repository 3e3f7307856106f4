"""What the allocator returns: a limit per EVSE with its explanation, and per node
its effective limits, load and headroom."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import StrEnum
from typing import TYPE_CHECKING, Generic, TypeVar

if TYPE_CHECKING:
    from depotctl.engine.explain import Candidate, Decision
    from depotctl.engine.priority import Priority

K = TypeVar("K")
V = TypeVar("V")


class EvseState(StrEnum):
    CHARGING = "charging"
    PAUSED = "paused"
    IDLE = "idle"
    UNCONTROLLABLE = "uncontrollable"


class BindingKind(StrEnum):
    NODE_LIMIT = "node_limit"
    ENVELOPE = "envelope"
    FALLBACK = "fallback"  # the site's fallback for an offline envelope source
    CHARGER_LIMIT = "charger_limit"
    VEHICLE_LIMIT = "vehicle_limit"
    ENERGY_SATISFIED = "energy_satisfied"
    MIN_CURRENT_ADMISSION = "min_current_admission"
    STALE_TELEMETRY = "stale_telemetry"
    PLANNED_RATE = "planned_rate"
    OPERATOR_OVERRIDE = "operator_override"  # paused or capped by an operator
    UNCONTROLLABLE = "uncontrollable"
    COMMAND_PENDING = "command_pending"  # its last command is not answered yet
    NO_SESSION = "no_session"


class LimitKind(StrEnum):
    """Which quantity a node constraint limits."""

    CURRENT_L1 = "current_L1"
    CURRENT_L2 = "current_L2"
    CURRENT_L3 = "current_L3"
    IMPORT_POWER = "import_power"


@dataclass(frozen=True, slots=True)
class LimitSource:
    """Where an effective limit came from: ``static`` (the site file), ``envelope``
    (``ref`` its id, ``fresh`` or not; ``starts`` when it applies ahead of its window,
    which starts then), ``fallback`` (the site's fallback for offline source ``ref``)."""

    kind: str
    ref: str | None = None
    fresh: bool = True
    starts: datetime | None = None

    def __str__(self) -> str:
        if self.kind == "static":
            return "static"
        if self.kind == "envelope":
            ahead = "" if self.starts is None else f" (from {utc_text(self.starts)})"
            return f"envelope {self.ref}" + ("" if self.fresh else " (fallback)") + ahead
        return f"fallback for offline source {self.ref}"


@dataclass(frozen=True, slots=True)
class Binding:
    """Why an EVSE got its limit: the kind, what it refers to (a node id, an envelope
    id, a charger id), and a sentence for people."""

    kind: BindingKind
    ref: str | None
    detail: str


@dataclass(frozen=True, slots=True)
class EvseAllocation:
    evse_id: str
    limit_a: float  #: amps per line
    limit_w: float  #: the same limit in watts at the EVSE's supply
    state: EvseState
    binding: Binding
    session_id: str | None = None
    tier: int | None = None  #: the session's priority tier (engine.demand); None: no session


@dataclass(frozen=True, slots=True)
class NodeConstraint:
    """One limit of one node: its effective value (after envelopes and the safety
    margin), where it came from, what is reserved (site load, uncontrollable
    chargers), what was allocated, and the headroom left. Currents in A, power in W."""

    node_id: str
    kind: LimitKind
    effective_limit: float
    source: LimitSource
    reserved: float
    allocated: float

    @property
    def headroom(self) -> float:
        return self.effective_limit - self.reserved - self.allocated


@dataclass(frozen=True)
class Allocation:
    """The allocator's decision at ``at``: deterministic for the same snapshot."""

    at: datetime
    evses: Mapping[str, EvseAllocation]
    constraints: Mapping[tuple[str, LimitKind], NodeConstraint] = field(default_factory=dict)
    #: every EVSE's limit in amps per line, without building its explanation
    limits_a: Mapping[str, float] = field(default_factory=dict)
    #: what the cycle computed, kept (not copied) so candidates can be built on demand
    _decision: Decision | None = field(default=None, repr=False, compare=False)

    def node_constraints(self, node_id: str) -> list[NodeConstraint]:
        return [c for (n, _), c in self.constraints.items() if n == node_id]

    def candidates(self, evse_id: str) -> list[Candidate]:
        """Every limit on the EVSE's path, from its own caps up to the grid connection,
        each with its slack; built only when asked (``explain``, the API). Raises
        ``KeyError`` for an unknown EVSE, ``LookupError`` for an allocation made
        without the allocator (a test double)."""
        if self._decision is None:
            raise LookupError("this allocation keeps no decision to explain")
        from depotctl.engine.explain import candidates

        return candidates(self._decision, evse_id)

    def priority(self, evse_id: str) -> Priority | None:
        """The EVSE's tier in words — its session's priority class, urgency and laxity —
        or None without a session that asked for power; built only when asked. Raises
        like :meth:`candidates`."""
        if self._decision is None:
            raise LookupError("this allocation keeps no decision to explain")
        from depotctl.engine.priority import priority_of

        return priority_of(self._decision, evse_id)


class LazyMapping(Mapping[K, V], Generic[K, V]):
    """A read-only mapping whose values are built on first access: a cycle decides
    every limit, but an explanation is only put into words when someone asks."""

    def __init__(
        self, index: Mapping[K, int] | Callable[[], Mapping[K, int]], build: Callable[[K], V]
    ) -> None:
        self._index_or_factory = index
        self._build = build
        self._built: dict[K, V] = {}

    @property
    def _index(self) -> Mapping[K, int]:
        if callable(self._index_or_factory):
            self._index_or_factory = self._index_or_factory()
        return self._index_or_factory

    def __getitem__(self, key: K) -> V:
        value = self._built.get(key)
        if value is None:
            if key not in self._index:
                raise KeyError(key)
            value = self._built[key] = self._build(key)
        return value

    def __iter__(self) -> Iterator[K]:
        return iter(self._index)

    def __len__(self) -> int:
        return len(self._index)

    def __contains__(self, key: object) -> bool:
        return key in self._index


def utc_text(instant: datetime) -> str:
    """``2026-12-08T07:00:00Z``: an instant to the second, in UTC."""
    return instant.isoformat(timespec="seconds").replace("+00:00", "Z")
