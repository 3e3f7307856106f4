"""The API's GitOps endpoints: the site in force, the revisions, plan, apply (or a dry
run), rollback (:mod:`..services.revisions`).

Apply and rollback need ``If-Match: "<revision>"``, the revision the change was
planned against (428 ``precondition_required`` without it, 409 ``conflict`` when
another revision is current by then). A saved plan carries its own base revision.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response

from depotctl import api
from depotctl.config import BundleError
from depotctl.controller.deps import ControllerDep
from depotctl.controller.errors import ApiError
from depotctl.controller.revision_requests import (
    MAX_REVISION,
    ApplyRequest,
    PlanRequest,
    RollbackRequest,
)
from depotctl.controller.routes import answering
from depotctl.controller.routes.plans import diagnostics_json, plan_json, revision_json
from depotctl.controller.service import SiteInvalid
from depotctl.controller.services.lookups import site_in_force
from depotctl.controller.services.revisions import (
    Plan,
    PlanMismatch,
    PlanTampered,
    PreconditionRequired,
    apply_change,
    plan_site,
    revision_history,
    revision_of,
    rollback_change,
)
from depotctl.controller.store import RevisionConflict, UnknownRevision

IfMatch = Annotated[
    str | None,
    Header(description='The revision planned against, as an entity tag: "3"'),
]


def revision_routes() -> APIRouter:
    """The site, its revisions, plan, apply and rollback (mounted with ``include_api``)."""
    router = APIRouter(tags=["site"])

    @answering(router.get, "/site", api.SiteRevision, "The site revision in force, with its text")
    def site(controller: ControllerDep) -> dict[str, Any]:
        applied = site_in_force(controller)
        return {
            **revision_json(applied.revision),
            "name": applied.site.metadata.name,
            "text": applied.revision.site_text,
        }

    @answering(router.get, "/revisions", api.Revisions, "Every site revision, newest first")
    def revisions(controller: ControllerDep) -> dict[str, Any]:
        current, listed = revision_history(controller)
        return {
            "current": current.number if current is not None else None,
            "revisions": [revision_json(r) for r in listed],
        }

    @answering(
        router.post,
        "/plan",
        api.Plan,
        "What applying a site text would change, and its impact on now",
    )
    def plan(body: PlanRequest, response: Response, controller: ControllerDep) -> dict[str, Any]:
        with _refusals():
            planned = plan_site(controller, body.site, path=body.path, files=body.files)
        response.headers["ETag"] = _etag(planned.base_revision)
        return plan_json(planned)

    @answering(
        router.post,
        "/apply",
        api.DryRun | api.AppliedRevision,
        "Apply a site text or a saved plan as the next revision (If-Match required)",
    )
    def apply(
        body: ApplyRequest,
        response: Response,
        controller: ControllerDep,
        if_match: IfMatch = None,
        dry_run: Annotated[bool, Query(description="Validate and plan; store nothing")] = False,
    ) -> dict[str, Any]:
        expected = _revision_of(if_match)
        with _refusals():
            done = apply_change(controller, body, expected=expected, dry_run=dry_run)
        if isinstance(done, Plan):
            response.headers["ETag"] = _etag(done.base_revision)
            return {**plan_json(done), "dry_run": True}
        response.headers["ETag"] = _etag(done.number)
        previous = body.plan.base_revision if body.plan is not None else expected
        return {"dry_run": False, "previous_revision": previous, **revision_json(done)}

    @answering(
        router.post,
        "/rollback",
        api.RolledBackRevision,
        "Apply an earlier revision's site text again, as a new revision",
    )
    def rollback_to(
        body: RollbackRequest,
        response: Response,
        controller: ControllerDep,
        if_match: IfMatch = None,
    ) -> dict[str, Any]:
        expected = _revision_of(if_match)
        with _refusals(f"revision {body.revision} no longer validates"):
            revision = rollback_change(controller, body, expected=expected)
        response.headers["ETag"] = _etag(revision.number)
        return {"previous_revision": expected, **revision_json(revision)}

    @answering(
        router.get, "/revisions/{number}", api.RevisionText, "One revision, with its site text"
    )
    def one_revision(
        number: Annotated[int, Path(ge=1, le=MAX_REVISION)], controller: ControllerDep
    ) -> dict[str, Any]:
        with _refusals():
            revision, in_force = revision_of(controller, number)
        return {**revision_json(revision, text=True), "current": in_force}

    return router


@contextmanager
def _refusals(invalid_message: str | None = None) -> Iterator[None]:
    """The errors of a plan, an apply or a rollback as the API answers them."""
    try:
        yield
    except PlanTampered as error:
        raise ApiError(422, "invalid_plan", str(error)) from None
    except (PlanMismatch, BundleError) as error:
        raise ApiError(422, "invalid_request", str(error)) from None
    except PreconditionRequired:
        raise ApiError(
            428,
            "precondition_required",
            'apply and rollback need If-Match: "<revision>", the revision the change was '
            "planned against (GET /api/v1/revisions gives the current one)",
        ) from None
    except UnknownRevision as error:
        raise ApiError(404, "not_found", str(error)) from None
    except SiteInvalid as error:
        raise _invalid(error, invalid_message) from None
    except RevisionConflict as error:
        raise _conflict(error) from None


_ETAG = re.compile(r'^\s*(?:W/)?"?(\d{1,15})"?\s*$')


def _revision_of(if_match: str | None) -> int | None:
    """The revision an ``If-Match`` names (``"3"``; ``"0"``: the store has none yet)."""
    if if_match is None:
        return None
    found = _ETAG.match(if_match)
    if found is None:
        raise ApiError(
            400,
            "invalid_request",
            f'If-Match must name a revision as "<number>" (e.g. "3"), not {if_match!r}',
        )
    return int(found.group(1))


def _etag(revision: int) -> str:
    return f'"{revision}"'


def _conflict(error: RevisionConflict) -> ApiError:
    current = error.current or 0
    planned = error.expected or 0
    return ApiError(
        409,
        "conflict",
        f"revision {current} is current, but the change was planned against revision "
        f"{planned}: plan again against revision {current}",
        current_revision=current,
        expected_revision=planned,
    )


def _invalid(error: SiteInvalid, message: str | None = None) -> ApiError:
    report = diagnostics_json(error)
    first = report["diagnostics"][0] if report["diagnostics"] else None
    summary = message or f"the site does not validate: {error.report.errors} error(s)"
    if first is not None:
        summary += f"; first: {first['rule']}: {first['message']}"
    return ApiError(422, "invalid_site", summary, **report)
