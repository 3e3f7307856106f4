"""GitOps on the controller: plan, apply and roll back site revisions.

A **plan** validates a site text as ``depotctl validate`` does, diffs it against the
revision in force (:func:`depotctl.config.diff.diff_sites`) and shows its impact on
now: the live snapshot (envelopes, sessions, telemetry, charger states) allocated
on the new topology next to the allocation in force, every EVSE whose limit or
state would change, every session that would pause, and every session on an EVSE
the new site removes.

An **apply** stores the text as the next revision only if the revision in force is
still the one the plan was made against. The revision, its ``revision.applied``
journal entry and the reload of the site in force happen inside one store
transaction: a failure at any point (or ``kill -9``) leaves the previous revision
stored and running. A **rollback** is an apply of an older revision's text.
"""

from __future__ import annotations

import hashlib
import json
import math
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, replace
from datetime import datetime
from pathlib import Path
from typing import Any

from depotctl.config.bundle import read_bundle, write_bundle
from depotctl.config.compile import compile_site
from depotctl.config.diff import SiteDiff, diff_sites, to_json
from depotctl.config.load import load_file
from depotctl.config.render.json import json_report
from depotctl.config.schema import Site, TariffDocument
from depotctl.config.schema.tariff import TariffRef, TariffSpec
from depotctl.config.validate import ValidationRun
from depotctl.controller.service import AppliedSite, Controller, SiteInvalid, checked_site
from depotctl.controller.store import (
    JournalKind,
    NewJournalEntry,
    Revision,
    RevisionConflict,
    UnknownRevision,
    site_hash,
)
from depotctl.domain.envelopes import SourceHealth
from depotctl.domain.snapshot import Snapshot
from depotctl.engine import Allocation, EvseState, allocate
from depotctl.engine.allocation import Binding
from depotctl.views import binding_json

__all__ = [
    "EvseImpact",
    "Impact",
    "Plan",
    "PlanTampered",
    "SessionImpact",
    "apply_site",
    "check_saved_plan",
    "diagnostics_json",
    "plan_json",
    "plan_site",
    "revision_json",
    "rollback",
]

#: Limits closer than this (amps) are the same limit.
SAME_LIMIT_A = 1e-6


class PlanTampered(ValueError):
    """A saved plan whose site text does not hash to its ``new_hash``."""


# Impact on now


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
    old_limit_a: float | None
    reason: str


@dataclass(frozen=True, slots=True)
class Impact:
    """What the new site would do to the depot now."""

    at: str
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
    sources: dict[str, SourceHealth] = {
        source_id: SourceHealth(
            source_id,
            old_snapshot.sources[source_id].last_heard
            if source_id in old_snapshot.sources
            else None,
            spec.offline_after_s,
        )
        for source_id, spec in topology.sources.items()
    }
    for source_id, health in old_snapshot.sources.items():
        sources.setdefault(source_id, SourceHealth(source_id, health.last_heard, None))
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


# Plan


@dataclass(frozen=True, slots=True)
class Plan:
    """A site text checked against the revision in force (``base``: None when the store
    has none), with what it changes and its impact on now."""

    base: Revision | None
    site_text: str
    path: str
    site: Site
    diff: SiteDiff | None
    impact: Impact | None
    #: the files bundled with the text (None: none were; they resolve on the host)
    files: Mapping[str, str] | None = None

    @property
    def base_revision(self) -> int:
        """The revision the plan was made against; 0 when there was none."""
        return self.base.number if self.base is not None else 0

    @property
    def new_hash(self) -> str:
        return site_hash(self.site_text)

    @property
    def no_changes(self) -> bool:
        return self.diff is not None and self.diff.is_empty


def plan_site(
    controller: Controller,
    text: str,
    *,
    path: str | None = None,
    files: Mapping[str, str] | None = None,
) -> Plan:
    """The plan of ``text`` (with the ``files`` it refers to, bundled; without them,
    its references resolve where the revision in force's do) against the revision in
    force; ``SiteInvalid`` when it does not validate, ``BundleError`` for an
    unacceptable bundle. ``path`` names the text in diagnostics."""
    base = controller.applied.revision if controller.applied is not None else None
    display = path or "site"
    with _site_dir(controller, base, files) as base_dir:
        site = _validated(text, base_dir, display)
        if controller.applied is None:
            return Plan(base, text, display, site, None, None, files)
        assert base is not None
        diff = diff_sites(
            controller.applied.site,
            site,
            old_tariff=_tariff(controller.applied.site, controller.base_dir_of(base)),
            new_tariff=_tariff(site, base_dir),
        )
        impact = impact_on_now(controller, site, base_dir)
    return Plan(base, text, display, site, diff, impact, files)


@contextmanager
def _site_dir(
    controller: Controller, base: Revision | None, files: Mapping[str, str] | None
) -> Iterator[Path]:
    """Where a new site's relative references resolve: a scratch directory holding
    its bundled files, or (none bundled) the revision in force's directory."""
    if files is None:
        yield _base_dir(controller, base)
        return
    with tempfile.TemporaryDirectory(prefix="depotctl-site-") as scratch:
        write_bundle(files, Path(scratch))
        yield Path(scratch)


def _tariff(site: Site, base_dir: Path) -> TariffSpec | None:
    """The content of the tariff ``site`` names by ``ref`` (None when inline or
    unreadable: the diff then compares the reference only)."""
    reference = site.spec.tariff
    if not isinstance(reference, TariffRef):
        return None
    loaded = load_file(base_dir / reference.ref)
    documents = [d.model for d in loaded.documents if isinstance(d.model, TariffDocument)]
    return documents[0].spec if len(documents) == 1 else None


def plan_json(plan: Plan) -> dict[str, Any]:
    """The plan as the API returns it (and as ``apply`` takes it back, saved)."""
    diff = (
        to_json(plan.diff, f"revision {plan.base_revision}", plan.path)
        if plan.diff is not None
        else None
    )
    return {
        "base_revision": plan.base_revision,
        "base_hash": plan.base.hash if plan.base is not None else None,
        "new_hash": plan.new_hash,
        "path": plan.path,
        "site": diff["site"] if diff else {"old": None, "new": plan.site.metadata.name},
        "no_changes": plan.no_changes,
        "changes": diff["changes"] if diff else [],
        "summary": diff["summary"] if diff else {"add": 0, "change": 0, "remove": 0},
        "impact": _impact_json(plan.impact) if plan.impact is not None else None,
        "site_text": plan.site_text,
        "files": dict(plan.files) if plan.files is not None else None,
        "files_hash": bundle_hash(plan.files) if plan.files is not None else None,
    }


def _impact_json(impact: Impact) -> dict[str, Any]:
    return {
        "time": impact.at,
        "evses": [
            {
                "id": e.evse_id,
                "old_limit_a": round(e.old_limit_a, 3),
                "new_limit_a": round(e.new_limit_a, 3),
                "change_a": round(e.new_limit_a - e.old_limit_a, 3),
                "change_pct": e.change_pct,
                "old_state": e.old_state.value,
                "new_state": e.new_state.value,
                "old_binding": binding_json(e.old_binding),
                "new_binding": binding_json(e.new_binding),
                "session": e.session_id,
                "message": e.message,
            }
            for e in impact.evses
        ],
        "paused_sessions": [_session_json(s) for s in impact.paused_sessions],
        "sessions_on_removed_evses": [_session_json(s) for s in impact.sessions_on_removed_evses],
    }


def _session_json(session: SessionImpact) -> dict[str, Any]:
    return {
        "session": session.session_id,
        "evse": session.evse_id,
        "old_limit_a": round(session.old_limit_a, 3) if session.old_limit_a is not None else None,
        "reason": session.reason,
    }


def check_saved_plan(
    site_text: str,
    new_hash: str,
    files: Mapping[str, str] | None = None,
    files_hash: str | None = None,
) -> None:
    """``PlanTampered`` when a saved plan's site text does not hash to its ``new_hash``,
    or its bundled files to their ``files_hash`` (it was edited after planning: what
    would be applied is not what was reviewed)."""
    actual = site_hash(site_text)
    if actual != new_hash:
        raise PlanTampered(
            f"the plan's site text hashes to {actual[:12]}…, not to its new_hash "
            f"{new_hash[:12]}…: it changed after it was planned; plan again"
        )
    bundled = bundle_hash(files) if files is not None else None
    if bundled != files_hash:
        raise PlanTampered(
            "the plan's bundled files are not the ones it was planned with "
            "(files_hash differs): plan again"
        )


def bundle_hash(files: Mapping[str, str]) -> str:
    """sha256 of a bundle: its names and texts, in name order."""
    canonical = json.dumps(sorted(files.items()), ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


# Apply and rollback


def apply_site(
    controller: Controller,
    text: str,
    *,
    expected: int,
    author: str,
    message: str,
    path: str | None = None,
    files: Mapping[str, str] | None = None,
) -> Revision:
    """Store ``text`` with the files it refers to as the next revision if revision
    ``expected`` (0: none) is still current, journal it and make it the site in force,
    atomically. ``files`` are the bundled files; without them they are read where the
    revision in force's resolve, and kept with the revision all the same. Raises
    ``SiteInvalid``, ``BundleError`` or ``RevisionConflict`` (nothing stored)."""
    current = controller.store.current_revision()
    with _site_dir(controller, current, files) as base_dir:
        site = _validated(text, base_dir, path or "site")
        bundle = dict(files) if files is not None else read_bundle(site, base_dir)
    return _commit(
        controller,
        lambda at: controller.store.add_revision(
            text, author=author, message=message, at=at, expected_current=expected or None
        ),
        bundle,
    )


def rollback(
    controller: Controller, number: int, *, expected: int, author: str, message: str | None
) -> Revision:
    """A new revision with revision ``number``'s text, if revision ``expected`` is still
    current. Raises ``UnknownRevision``, ``SiteInvalid`` (the old text no longer
    validates) or ``RevisionConflict``; nothing is stored then."""
    target = controller.store.revision(number)
    if target is None:
        raise UnknownRevision(f"there is no revision {number}")
    base_dir = _base_dir(controller, target)
    site = _validated(target.site_text, base_dir, f"revision {number}")
    # the target's bundled files go with it (rollback_to copies them); one applied
    # before revisions kept their files gets them read from where it resolved
    files = None if controller.store.revision_files(number) else read_bundle(site, base_dir)

    def add(at: datetime) -> Revision:
        current = controller.store.current_revision()
        have = current.number if current is not None else None
        if have != (expected or None):
            raise RevisionConflict(expected or None, have)
        return controller.store.rollback_to(number, author=author, at=at, message=message)

    return _commit(controller, add, files)


def _commit(
    controller: Controller,
    add: Callable[[datetime], Revision],
    files: Mapping[str, str] | None,
) -> Revision:
    """Add the revision, journal it and reload the site in force in one transaction: if
    anything fails, nothing is stored and the previous site stays in force.

    The transaction holds the store's lock, so applies are serialized: the site in
    force read inside it is the one this apply replaces."""
    store = controller.store
    at = controller.clock.now()
    previous: AppliedSite | None = None
    loaded: AppliedSite | None = None
    try:
        with store.transaction():
            previous = controller.applied
            revision = add(at)
            if files is not None:  # a rollback copies its target's files itself
                store.put_revision_files(revision.number, files)
            store.append_journal(
                [
                    NewJournalEntry(
                        at=at,
                        kind=JournalKind.REVISION_APPLIED,
                        message=f"revision {revision.number} applied: {revision.message}",
                        data={
                            "revision": revision.number,
                            "hash": revision.hash,
                            "previous": revision.number - 1 or None,
                            "rollback_of": revision.rollback_of,
                            "author": revision.author,
                            "files": sorted(store.revision_files(revision.number)),
                        },
                    )
                ]
            )
            controller.reload()  # sees the new revision; raises before the commit if bad
            loaded = controller.applied
    except BaseException:
        if loaded is not None and controller.applied is loaded:  # the commit itself failed
            controller.applied = previous
            controller.metrics.revision.set(previous.revision.number if previous else 0)
        raise
    controller.changed(f"revision {revision.number} applied")
    return revision


def _validated(text: str, base_dir: Path, display: str) -> Site:
    return checked_site(text, path=base_dir / "site.yaml", display=display)


def _base_dir(controller: Controller, revision: Revision | None) -> Path:
    """Where relative files of a new or re-applied site resolve: the directory of the
    revision it replaces (or re-applies), else the controller's."""
    if revision is None:
        return controller.base_dir
    return controller.base_dir_of(revision)


# JSON


def diagnostics_json(error: SiteInvalid) -> dict[str, Any]:
    """``validate --format json``'s report of an invalid site (version, files,
    diagnostics, summary)."""
    return json_report(ValidationRun([error.report]))


def revision_json(revision: Revision, *, text: bool = False) -> dict[str, Any]:
    body = {
        "number": revision.number,
        "hash": revision.hash,
        "created_at": revision.created_at.isoformat(),
        "author": revision.author,
        "message": revision.message,
        "rollback_of": revision.rollback_of,
    }
    if text:
        body["text"] = revision.site_text
    return body
