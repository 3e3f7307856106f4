"""The controller's core as one object: the store, the clock and the site in force,
and the live state computed from them with the engine.

The site in force is the store's current revision, validated like ``depotctl
validate`` validates a file (a stored revision that no longer validates is refused,
not run) and compiled for the engine.
"""

from __future__ import annotations

import gc
import logging
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypedDict, Unpack

from depotctl.config import (
    SCHEMA_UNKNOWN_KIND,
    Diagnostic,
    FileReport,
    LoadedFile,
    Severity,
    Site,
    compile_site,
    load_text,
    read_bundle,
    report_secrets,
    semantic_findings,
    write_bundle,
)
from depotctl.controller.clock import Clock
from depotctl.controller.metrics import Metrics
from depotctl.controller.store import (
    JournalKind,
    NewJournalEntry,
    Revision,
    Store,
    Units,
    journal_entry,
)
from depotctl.domain.admission import Admission
from depotctl.domain.chargers import ChargerState
from depotctl.domain.envelopes import source_healths
from depotctl.domain.policy import Policy
from depotctl.domain.snapshot import Snapshot
from depotctl.domain.topology import Topology
from depotctl.engine import Allocation, allocate

if TYPE_CHECKING:
    from depotctl.controller.planning import Planning

log = logging.getLogger("depotctl.controller")


class SiteInvalid(Exception):
    """A site text that does not validate; ``report`` holds its diagnostics."""

    def __init__(self, report: FileReport) -> None:
        super().__init__(f"{report.file}: {report.errors} error(s)")
        self.report = report


def checked_site(
    text: str,
    *,
    path: Path,
    display: str | None = None,
    refuse_secrets: bool = True,
    warnings: list[Diagnostic] | None = None,
) -> Site:
    """The site of ``text`` when it validates without errors (warnings allowed, and
    added to ``warnings`` when given), else ``SiteInvalid``. ``path`` is where the text
    came from (relative files resolve against its directory). ``refuse_secrets`` False
    lets a secret written in it pass (the ``secrets/`` rules) with a warning in the
    log: for a revision already stored."""
    loaded = load_text(text, path, display)
    if refuse_secrets:
        report_secrets(loaded)
    else:
        _warn_of_secrets(loaded)
    for document in loaded.documents:
        if document.model is not None:
            loaded.add(document, semantic_findings(document.model, path))
    report = loaded.report
    report.diagnostics.sort(key=lambda d: d.sort_key)
    sites = [d.model for d in loaded.documents if isinstance(d.model, Site)]
    if report.errors:
        report.diagnostics = [d for d in report.diagnostics if d.severity is Severity.ERROR]
        raise SiteInvalid(report)
    if warnings is not None:
        warnings += report.diagnostics
    if len(sites) != 1:
        report.diagnostics.append(
            SCHEMA_UNKNOWN_KIND.diagnostic(
                report.file, f"holds {len(sites)} Site documents; the controller needs one", None
            )
        )
        raise SiteInvalid(report)
    return sites[0]


def _warn_of_secrets(loaded: LoadedFile) -> None:
    """Log (never the values) the secrets a stored revision holds."""
    probe = LoadedFile(loaded.path, FileReport(loaded.report.file, text=loaded.report.text))
    probe.documents = loaded.documents
    report_secrets(probe)
    for diagnostic in probe.report.diagnostics:
        log.warning(
            "%s: %s [%s]; apply a revision without it",
            diagnostic.location,
            diagnostic.message,
            diagnostic.rule,
        )


@dataclass(frozen=True, slots=True)
class AppliedSite:
    """A revision and what it compiles to."""

    revision: Revision
    site: Site
    topology: Topology
    policy: Policy


class CarriedState(TypedDict, total=False):
    """What the control loop carries from one cycle into the next snapshot (None or
    left out: nothing)."""

    #: the limits in force, amps per EVSE id (for hysteresis)
    previous_limits: Mapping[str, float] | None
    #: the commands out and not answered yet, amps per EVSE id
    pending: Mapping[str, float] | None
    #: since when each EVSE has been switched on or off (rotation's minimum times)
    admission: Mapping[str, Admission] | None


@dataclass(frozen=True, slots=True)
class LiveState:
    """One allocation of the current state, with the revision it was computed for.
    ``generation`` counts the changes the controller had been told of when it was
    computed (see :meth:`Controller.current`)."""

    revision: Revision
    snapshot: Snapshot
    allocation: Allocation
    generation: int = 0


class Seeding(StrEnum):
    """What ``serve --site FILE`` did with the file."""

    SEEDED = "seeded"  # the store was empty: the file is revision 1
    SAME = "same"  # the store's current revision is this file
    DIFFERS = "differs"  # the store holds another site: plan/apply to change it


def revision_applied(revision: Revision, at: datetime, **data: Any) -> NewJournalEntry:
    """The ``revision.applied`` entry of a revision now in force (``data`` besides its
    number and hash: what the apply knows of it)."""
    return journal_entry(
        JournalKind.REVISION_APPLIED,
        f"revision {revision.number} applied: {revision.message}",
        at=at,
        data={"revision": revision.number, "hash": revision.hash, **data},
    )


class NoSite(Exception):
    """The store holds no revision yet."""


class Controller:
    """The store, the clock and the site in force; the live state on demand.

    ``unseen_chargers_controllable``: whether a charger that never connected to this
    controller counts as controllable (``serve --shadow``, and tests that have no
    chargers) or — as ``serve`` has it — as offline without an accepted fallback,
    assumed at its rating: nobody knows what it would draw."""

    def __init__(
        self,
        store: Store,
        clock: Clock,
        *,
        base_dir: Path,
        unseen_chargers_controllable: bool = True,
        envelope_lead: timedelta = timedelta(0),
    ) -> None:
        self.store = store
        #: how long before its start an envelope applies (decisions.envelope_lead)
        self.envelope_lead = envelope_lead
        self.units = Units(store)
        self.clock = clock
        self.base_dir = base_dir
        self.unseen_chargers_controllable = unseen_chargers_controllable
        #: simulation only (``serve --charger-password-env``): the variable every
        #: charger's password is read from, in place of the site's references
        self.shared_charger_password_env: str | None = None
        self.metrics = Metrics()
        self.metrics.clock_speed.set(clock.speed)
        self.applied: AppliedSite | None = None
        self._listeners: list[Callable[[str], None]] = []
        self._generation = 0  # bumped on every change the allocation depends on
        self._published: LiveState | None = None
        self._published_max_age_s = 0.0
        #: the horizon planner whose usable plan every snapshot follows (None: off)
        self.planning: Planning | None = None
        self.reload()

    def on_change(self, listener: Callable[[str], None]) -> None:
        """Call ``listener(reason)`` whenever something the allocation depends on
        changes (the control loop runs a cycle at once)."""
        self._listeners.append(listener)

    def changed(self, reason: str) -> None:
        """Say that an envelope, session, telemetry or charger state changed."""
        self._generation += 1
        for listener in self._listeners:
            listener(reason)

    def reload(self) -> None:
        """Take the store's current revision as the site in force (``SiteInvalid`` when
        it does not validate)."""
        revision = self.units().revisions.current()
        self._generation += 1
        if revision is None:
            self.applied = None
            self.metrics.revision.set(0)
            return
        base_dir = self.base_dir_of(revision)
        path = base_dir / f"revision-{revision.number}.yaml"
        # a secret in a stored revision (one from before the secrets rules grew) is no
        # reason to leave the depot uncontrolled: it is logged; apply refuses new ones
        site = checked_site(
            revision.site_text,
            path=path,
            display=f"revision {revision.number}",
            refuse_secrets=False,
        )
        topology, policy = compile_site(site, base_dir)
        self.applied = AppliedSite(revision, site, topology, policy)
        self.metrics.revision.set(revision.number)
        # The site, its compiled tree and the modules live as long as the process:
        # keep them out of the collector's full passes, whose pauses were the tail
        # of every cycle and of /state (p99 68 → 19 ms for the 300-charger body).
        gc.freeze()

    def base_dir_of(self, revision: Revision) -> Path:
        """The directory the revision's relative files (tariff, carbon) resolve against:
        ``STATE_DIR/revisions/N`` written from the files bundled with it; for a revision
        applied without its files, the directory its apply journaled, else the
        controller's ``base_dir``."""
        uow = self.units()
        files = uow.revisions.files(revision.number)
        if files:
            directory = self.store.path.parent / "revisions" / str(revision.number)
            write_bundle(files, directory)  # the store is the truth: rewritten each time
            return directory
        applied = uow.journal.entries(kind=JournalKind.REVISION_APPLIED, latest=True, limit=50)
        for entry in reversed(applied):
            if entry.data.get("revision") == revision.number and entry.data.get("base_dir"):
                return Path(entry.data["base_dir"])
        return self.base_dir

    def seed(self, site_file: Path, text: str, *, author: str) -> Seeding:
        """Make ``text`` (read from ``site_file``) the first revision of an empty store;
        on a store with revisions, only say whether it differs."""
        current = self.units().revisions.current()
        if current is not None:
            return Seeding.SAME if current.site_text == text else Seeding.DIFFERS
        site = checked_site(text, path=site_file, display=str(site_file))
        files = read_bundle(site, site_file.parent)
        at = self.clock.now()
        with self.units() as uow:
            revision = uow.revisions.add(
                text,
                author=author,
                message=f"seeded from {site_file}",
                at=at,
                expected_current=None,
            )
            uow.revisions.put_files(revision.number, files)
            uow.journal.record(
                [revision_applied(revision, at, base_dir=str(site_file.parent.resolve()))]
            )
        self.reload()
        return Seeding.SEEDED

    def require_site(self) -> AppliedSite:
        if self.applied is None:
            raise NoSite("no site revision yet: start serve with --site FILE, or apply one")
        return self.applied

    def snapshot(self, **carried: Unpack[CarriedState]) -> Snapshot:
        """What the controller knows now, from the store: the envelopes, the sources'
        health, the latest telemetry, open sessions, charger states and the operators'
        overrides; with what the control loop ``carried`` from its last cycle."""
        applied = self.require_site()
        now = self.clock.now()
        uow = self.units()
        sources = source_healths(applied.topology.sources, uow.sources.heard())
        snapshot = Snapshot(
            at=now,
            topology=applied.topology,
            policy=applied.policy,
            # all of them: an ended envelope still supersedes the older ones it replaced
            envelopes=tuple(uow.envelopes.all()),
            sources=sources,
            telemetry=uow.telemetry.latest(),
            sessions=tuple(record.session for record in uow.sessions.all(open_only=True)),
            chargers=self.charger_states(uow.chargers.states(), applied.topology),
            previous_limits=dict(carried.get("previous_limits") or {}),
            pending=dict(carried.get("pending") or {}),
            envelope_lead=self.envelope_lead,
            admission={
                evse_id: record
                for evse_id, record in (carried.get("admission") or {}).items()
                if evse_id in applied.topology.evses  # a revision may have removed the EVSE
            },
            overrides={
                evse_id: override
                for evse_id, override in uow.overrides.all().items()
                if evse_id in applied.topology.evses  # a revision may have removed the EVSE
            },
        )
        return snapshot if self.planning is None else self.planning.followed(snapshot)

    def charger_states(
        self, states: dict[str, ChargerState], topology: Topology
    ) -> dict[str, ChargerState]:
        """``states`` (the store's), with each charger of ``topology`` never heard from
        as the controller counts it (see ``unseen_chargers_controllable``)."""
        if not self.unseen_chargers_controllable:
            for evse in topology.evses.values():
                states.setdefault(
                    evse.charger_id,
                    ChargerState(
                        evse.charger_id,
                        online=False,
                        fallback_accepted=False,
                        reason="never connected to this controller",
                    ),
                )
        return states

    def live(self, **carried: Unpack[CarriedState]) -> LiveState:
        """Allocate the current snapshot (see :meth:`snapshot`)."""
        applied = self.require_site()
        generation = self._generation
        started = time.perf_counter()
        snapshot = self.snapshot(**carried)
        allocation = allocate(snapshot)
        self.metrics.allocation_seconds.observe(time.perf_counter() - started)
        self.metrics.allocations.inc()
        return LiveState(applied.revision, snapshot, allocation, generation)

    def publish(self, live: LiveState, *, max_age_s: float) -> None:
        """The control loop's latest cycle: the limits now in force, shown for up to
        ``max_age_s`` of the controller's clock (the loop's tick)."""
        self._published = live
        self._published_max_age_s = max_age_s

    def current(self) -> LiveState:
        """The state the API shows: the control loop's latest cycle while nothing it
        depends on changed since (the limits in force, with their hysteresis), else a
        fresh allocation (also once the cycle is older than a tick)."""
        published = self._published
        if (
            published is not None
            and published.generation == self._generation
            and self.applied is not None
            and published.revision.number == self.applied.revision.number
            and 0
            <= (self.clock.now() - published.snapshot.at).total_seconds()
            <= self._published_max_age_s
        ):
            return published
        return self.live()

    def close(self) -> None:
        self.store.close()
