"""GitOps on the controller: plan, apply and roll back site revisions.

A **plan** validates a site text as ``depotctl validate`` does, diffs it against the
revision in force (:func:`depotctl.config.diff_sites`) and shows its impact on
now (:mod:`depotctl.controller.services.impact`), with the site's warnings and what
this host lacks for its credentials (:mod:`depotctl.controller.services.host_credentials`).

An **apply** stores the text as the next revision only if the revision in force is
still the one the plan was made against. The revision, its ``revision.applied``
journal entry and the reload of the site in force happen inside one unit of work:
a failure at any point (or ``kill -9``) leaves the previous revision stored and
running. A **rollback** is an apply of an older revision's text. A **saved plan**
applies only if it is what was reviewed (its hashes) and the revision it was made
against is still in force.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from depotctl.config import (
    Diagnostic,
    Severity,
    Site,
    SiteDiff,
    TariffDocument,
    TariffRef,
    TariffSpec,
    diff_sites,
    load_file,
    parse_documents,
    read_bundle,
    write_bundle,
)
from depotctl.controller.revision_requests import ApplyRequest, RollbackRequest
from depotctl.controller.service import AppliedSite, Controller, checked_site, revision_applied
from depotctl.controller.services.host_credentials import CredentialProblem, missing_credentials
from depotctl.controller.services.impact import Impact, impact_on_now
from depotctl.controller.store import (
    Revision,
    RevisionConflict,
    UnitOfWork,
    UnknownRevision,
    site_hash,
)

__all__ = [
    "Plan",
    "PlanTampered",
    "apply_change",
    "apply_site",
    "check_saved_plan",
    "plan_site",
    "rollback",
    "rollback_change",
]

#: Who an apply is recorded as when the request names no author.
DEFAULT_AUTHOR = "api"


class PlanTampered(ValueError):
    """A saved plan whose site text does not hash to its ``new_hash``."""


class PlanMismatch(ValueError):
    """``If-Match`` names another revision than the saved plan was made against."""


class PreconditionRequired(ValueError):
    """An apply or rollback that does not say which revision it was planned against."""


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
    #: validate's warnings about the text, then what this host lacks for its secrets
    warnings: tuple[Diagnostic, ...] = ()

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
        warnings: list[Diagnostic] = []
        site = checked_site(text, path=base_dir / "site.yaml", display=display, warnings=warnings)
        credentials = missing_credentials(
            site,
            _base_dir(controller, base),
            os.environ,
            shared_charger_password=controller.shared_charger_password_env is not None,
        )
        warnings += _placed(credentials, text, display)
        if controller.applied is None:
            return Plan(base, text, display, site, None, None, files, tuple(warnings))
        assert base is not None
        diff = diff_sites(
            controller.applied.site,
            site,
            old_tariff=_tariff(controller.applied.site, controller.base_dir_of(base)),
            new_tariff=_tariff(site, base_dir),
        )
        impact = impact_on_now(controller, site, base_dir)
    return Plan(base, text, display, site, diff, impact, files, tuple(warnings))


def _placed(problems: list[CredentialProblem], text: str, display: str) -> list[Diagnostic]:
    """``problems`` of the text's Site document as warnings at their line and column."""
    if not problems:
        return []
    source = next(d for d in parse_documents(text) if _is_site(d.data)).source
    return [
        Diagnostic(display, source.span(p.path), Severity.WARNING, p.rule, p.message, p.hint)
        for p in problems
    ]


def _is_site(data: object) -> bool:
    return isinstance(data, dict) and data.get("kind") == "Site"


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
    current = controller.units().revisions.current()
    with _site_dir(controller, current, files) as base_dir:
        site = _validated(text, base_dir, path or "site")
        bundle = dict(files) if files is not None else read_bundle(site, base_dir)
    return _commit(
        controller,
        lambda uow, at: uow.revisions.add(
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
    target = controller.units().revisions.get(number)
    if target is None:
        raise UnknownRevision(f"there is no revision {number}")
    base_dir = _base_dir(controller, target)
    site = _validated(target.site_text, base_dir, f"revision {number}")
    # the target's bundled files go with it (rollback_to copies them); one applied
    # before revisions kept their files gets them read from where it resolved
    bundled = controller.units().revisions.files(number)
    files = None if bundled else read_bundle(site, base_dir)

    def add(uow: UnitOfWork, at: datetime) -> Revision:
        current = uow.revisions.current()
        have = current.number if current is not None else None
        if have != (expected or None):
            raise RevisionConflict(expected or None, have)
        return uow.revisions.rollback_to(number, author=author, at=at, message=message)

    return _commit(controller, add, files)


def _commit(
    controller: Controller,
    add: Callable[[UnitOfWork, datetime], Revision],
    files: Mapping[str, str] | None,
) -> Revision:
    """Add the revision, journal it and reload the site in force in one unit of work:
    if anything fails, nothing is stored and the previous site stays in force.

    The unit holds the store's lock, so applies are serialized: the site in force
    read inside it is the one this apply replaces."""
    at = controller.clock.now()
    previous: AppliedSite | None = None
    loaded: AppliedSite | None = None
    try:
        with controller.units() as uow:
            previous = controller.applied
            revision = add(uow, at)
            if files is not None:  # a rollback copies its target's files itself
                uow.revisions.put_files(revision.number, files)
            entry = revision_applied(
                revision,
                at,
                previous=revision.number - 1 or None,
                rollback_of=revision.rollback_of,
                author=revision.author,
                files=sorted(uow.revisions.files(revision.number)),
            )
            uow.journal.record([entry])
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


# What a request asks


def apply_change(
    controller: Controller, body: ApplyRequest, *, expected: int | None, dry_run: bool
) -> Plan | Revision:
    """Apply ``body`` (a site text, or a saved plan — checked to be what was reviewed)
    against revision ``expected`` (``If-Match``; a saved plan carries its own); with
    ``dry_run``, only plan it, refusing a revision that moved. Raises
    :class:`PlanTampered`, :class:`PlanMismatch`, :class:`PreconditionRequired`,
    ``SiteInvalid``, ``BundleError`` or ``RevisionConflict``."""
    if body.plan is not None:
        saved = body.plan
        check_saved_plan(saved.site_text, saved.new_hash, saved.files, saved.files_hash)
        if expected is not None and expected != saved.base_revision:
            raise PlanMismatch(
                f"If-Match names revision {expected} but the plan was made against "
                f"revision {saved.base_revision}"
            )
        text, expected = saved.site_text, saved.base_revision
        path, files = body.path or saved.path, saved.files
    else:
        assert body.site is not None
        text, path, files = body.site, body.path, body.files
    if dry_run:
        plan = plan_site(controller, text, path=path, files=files)
        if expected is not None and expected != plan.base_revision:
            raise RevisionConflict(expected or None, plan.base_revision or None)
        return plan
    if expected is None:
        raise PreconditionRequired("apply needs the revision it was planned against")
    return apply_site(
        controller,
        text,
        expected=expected,
        author=body.author or DEFAULT_AUTHOR,
        message=body.message or "applied through the API",
        path=path,
        files=files,
    )


def rollback_change(
    controller: Controller, body: RollbackRequest, *, expected: int | None
) -> Revision:
    """:func:`rollback` as a request asks it (``expected``: its ``If-Match``)."""
    if expected is None:
        raise PreconditionRequired("rollback needs the revision it was planned against")
    return rollback(
        controller,
        body.revision,
        expected=expected,
        author=body.author or DEFAULT_AUTHOR,
        message=body.message,
    )


def revision_of(controller: Controller, number: int) -> tuple[Revision, bool]:
    """Revision ``number`` and whether it is in force; ``UnknownRevision`` if none."""
    uow = controller.units()
    revision = uow.revisions.get(number)
    if revision is None:
        raise UnknownRevision(f"there is no revision {number}")
    current = uow.revisions.current()
    return revision, current is not None and current.number == number


def revision_history(controller: Controller) -> tuple[Revision | None, list[Revision]]:
    """The revision in force and every revision, newest first."""
    uow = controller.units()
    return uow.revisions.current(), uow.revisions.all()
