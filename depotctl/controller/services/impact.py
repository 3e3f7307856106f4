"""A new site's impact on now: the live snapshot (envelopes, sessions, telemetry,
charger states) allocated on the new topology next to the allocation in force, every
EVSE whose limit or state would change, every session that would pause, and every
session on an EVSE the new site removes."""

from __future__ import annotations

import math
from dataclasses import dataclass, replace
from pathlib import Path

from depotctl.config import Site, compile_site
from depotctl.controller.service import Controller
from depotctl.domain.envelopes import Heard, source_healths
from depotctl.domain.snapshot import Snapshot
from depotctl.engine import Allocation, EvseState, allocate
from depotctl.engine.allocation import Binding

#: Limits closer than this (amps) are the same limit.
SAME_LIMIT_A = 1e-6


@dataclass(frozen=True, slots=True)
class EvseImpact:
    """An EVSE, in both sites, whose limit or state would change."""

    evse_id: str
    old_limit_a: float
    new_limit_a: float
    old_state: EvseState
    new_state: EvseState
    old_binding: Binding
    new_binding: Binding
    session_id: str | None

    @property
    def change_pct(self) -> float | None:
        if self.old_limit_a == 0:
            return None
        return round((self.new_limit_a - self.old_limit_a) / self.old_limit_a * 100, 1)

    @property
    def message(self) -> str:
        text = f"{self.evse_id} {self.old_limit_a:.1f} A → {self.new_limit_a:.1f} A"
        if self.change_pct is not None:
            text += f" ({'+' if self.change_pct >= 0 else '−'}{abs(self.change_pct):g} %)"
        if self.old_state is not self.new_state:
            text += f", {self.old_state.value} → {self.new_state.value}"
        binding = self.new_binding
        return text + f": {binding.kind.value}" + (f" {binding.ref}" if binding.ref else "")


@dataclass(frozen=True, slots=True)
class SessionImpact:
    """A charging session the new site would pause, or whose EVSE it removes."""

    session_id: str
    evse_id: str
    old_limit_a: float | None  #: under the site in force; None: it had none
    reason: str


@dataclass(frozen=True, slots=True)
class Impact:
    """What the new site would do to the depot now."""

    at: str  #: the live snapshot's time, ISO 8601 in UTC
    evses: tuple[EvseImpact, ...]
    paused_sessions: tuple[SessionImpact, ...]
    sessions_on_removed_evses: tuple[SessionImpact, ...]


def impact_on_now(controller: Controller, new_site: Site, base_dir: Path) -> Impact:
    """Allocate the live snapshot on the site in force and on ``new_site``; compare."""
    old_snapshot = controller.snapshot()
    old = allocate(old_snapshot)
    topology, policy = compile_site(new_site, base_dir)
    kept = tuple(s for s in old_snapshot.sessions if s.evse_id in topology.evses)
    removed = [s for s in old_snapshot.sessions if s.evse_id not in topology.evses]
    heard = {
        source_id: Heard(health.last_heard, health.deadline)
        for source_id, health in old_snapshot.sources.items()
        if health.last_heard is not None
    }
    sources = source_healths(topology.sources, heard)
    new_snapshot: Snapshot = replace(
        old_snapshot, topology=topology, policy=policy, sessions=kept, sources=sources
    )
    new = allocate(new_snapshot)
    evses = tuple(_evse_changes(old, new))
    paused = tuple(
        SessionImpact(
            e.session_id,
            e.evse_id,
            e.old_limit_a,
            f"{e.new_binding.kind.value}"
            + (f" {e.new_binding.ref}" if e.new_binding.ref else "")
            + f": {e.new_binding.detail}",
        )
        for e in evses
        if e.session_id is not None
        and e.new_state is EvseState.PAUSED
        and e.old_state is not EvseState.PAUSED
    )
    gone = tuple(
        SessionImpact(
            s.id,
            s.evse_id,
            old.limits_a.get(s.evse_id),
            f"the new site has no EVSE {s.evse_id}",
        )
        for s in removed
    )
    return Impact(old_snapshot.at.isoformat(), evses, paused, gone)


def _evse_changes(old: Allocation, new: Allocation) -> list[EvseImpact]:
    changes = []
    for evse_id, new_limit in new.limits_a.items():
        old_limit = old.limits_a.get(evse_id)
        if old_limit is None:
            continue  # an EVSE the new site adds: the diff lists it
        before, after = old.evses[evse_id], new.evses[evse_id]
        if math.isclose(old_limit, new_limit, abs_tol=SAME_LIMIT_A) and before.state is after.state:
            continue
        changes.append(
            EvseImpact(
                evse_id,
                old_limit,
                new_limit,
                before.state,
                after.state,
                before.binding,
                after.binding,
                after.session_id or before.session_id,
            )
        )
    return changes
