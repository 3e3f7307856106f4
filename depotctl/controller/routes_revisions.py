"""The API's GitOps endpoints: plan, apply (or a dry run), rollback, one revision.

Apply and rollback need ``If-Match: "<revision>"``, the revision the change was
planned against (428 ``precondition_required`` without it, 409 ``conflict`` when
another revision is current by then). A saved plan carries its own base revision.
The logic is in :mod:`depotctl.controller.revisions`.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Query, Response
from pydantic import BaseModel, ConfigDict, Field, model_validator

from depotctl.config.bundle import BundleError
from depotctl.controller.deps import ControllerDep
from depotctl.controller.errors import ApiError
from depotctl.controller.plain_text import OneLine, Paragraph
from depotctl.controller.revisions import (
    PlanTampered,
    apply_site,
    check_saved_plan,
    diagnostics_json,
    plan_json,
    plan_site,
    revision_json,
    rollback,
)
from depotctl.controller.service import Controller, SiteInvalid
from depotctl.controller.store import RevisionConflict, UnknownRevision

#: The largest revision number a request may name (SQLite integers are 64-bit; JSON
#: numbers are exact up to 2**53).
MAX_REVISION = 2**53

#: Who an apply is recorded as when the request names no author.
DEFAULT_AUTHOR = "api"

SiteText = Annotated[str, Field(min_length=1, description="The site YAML, as text")]
DisplayPath = Annotated[
    OneLine | None,
    Field(default=None, max_length=300, description="The file name shown in diagnostics"),
]
Files = Annotated[
    dict[str, str] | None,
    Field(
        default=None,
        description="The files the site refers to (shared tariff, carbon CSVs), by the "
        "path it names them with, relative to the site file → their text. Bundled, "
        "they are kept with the revision; without them they are read on the "
        "controller's host, where the revision in force's resolve.",
    ),
]
#: Who and why: journaled and shown on terminals, so no control characters (422).
Author = Annotated[OneLine | None, Field(default=None, max_length=200)]
Message = Annotated[Paragraph | None, Field(default=None, max_length=2000)]


class PlanRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site: SiteText
    path: DisplayPath = None
    files: Files = None


class SavedPlan(BaseModel):
    """A plan as ``POST /plan`` returned it; only these fields are used."""

    model_config = ConfigDict(extra="ignore")

    base_revision: int = Field(ge=0, le=MAX_REVISION)
    new_hash: str = Field(min_length=1, max_length=128)
    site_text: SiteText
    path: DisplayPath = None
    files: Files = None
    files_hash: str | None = Field(default=None, max_length=128)


class ApplyRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    site: SiteText | None = None
    plan: SavedPlan | None = None
    path: DisplayPath = None
    files: Files = None
    message: Message = None
    author: Author = None

    @model_validator(mode="after")
    def _one_source(self) -> ApplyRequest:
        if (self.site is None) == (self.plan is None):
            raise ValueError("give either site (the YAML text) or plan (a saved plan)")
        return self


class RollbackRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    revision: int = Field(
        ge=1, le=MAX_REVISION, description="The revision whose site text to apply again"
    )
    message: Message = None
    author: Author = None


IfMatch = Annotated[
    str | None,
    Header(description='The revision planned against, as an entity tag: "3"'),
]


def revision_routes() -> APIRouter:
    """Plan, apply, rollback and one revision (mounted with ``include_api``)."""
    router = APIRouter()

    @router.post(
        "/plan",
        tags=["site"],
        summary="What applying a site text would change, and its impact on now",
    )
    def plan(body: PlanRequest, response: Response, controller: ControllerDep) -> dict[str, Any]:
        result = _planned(controller, body.site, body.path, body.files)
        response.headers["ETag"] = _etag(result["base_revision"])
        return result

    @router.post(
        "/apply",
        tags=["site"],
        summary="Apply a site text or a saved plan as the next revision (If-Match required)",
    )
    def apply(
        body: ApplyRequest,
        response: Response,
        controller: ControllerDep,
        if_match: IfMatch = None,
        dry_run: Annotated[bool, Query(description="Validate and plan; store nothing")] = False,
    ) -> dict[str, Any]:
        expected = _revision_of(if_match)
        if body.plan is not None:
            try:
                check_saved_plan(
                    body.plan.site_text, body.plan.new_hash, body.plan.files, body.plan.files_hash
                )
            except PlanTampered as error:
                raise ApiError(422, "invalid_plan", str(error)) from None
            if expected is not None and expected != body.plan.base_revision:
                raise ApiError(
                    422,
                    "invalid_request",
                    f"If-Match names revision {expected} but the plan was made against "
                    f"revision {body.plan.base_revision}",
                )
            text, expected = body.plan.site_text, body.plan.base_revision
            path = body.path or body.plan.path
            files = body.plan.files
        else:
            assert body.site is not None
            text, path, files = body.site, body.path, body.files
        if dry_run:
            result = _planned(controller, text, path, files)
            if expected is not None and expected != result["base_revision"]:
                raise _conflict(RevisionConflict(expected or None, result["base_revision"] or None))
            response.headers["ETag"] = _etag(result["base_revision"])
            return {**result, "dry_run": True}
        if expected is None:
            raise _precondition_required()
        try:
            revision = apply_site(
                controller,
                text,
                expected=expected,
                author=body.author or DEFAULT_AUTHOR,
                message=body.message or "applied through the API",
                path=path,
                files=files,
            )
        except SiteInvalid as error:
            raise _invalid(error) from None
        except BundleError as error:
            raise ApiError(422, "invalid_request", str(error)) from None
        except RevisionConflict as error:
            raise _conflict(error) from None
        response.headers["ETag"] = _etag(revision.number)
        return {"dry_run": False, "previous_revision": expected, **revision_json(revision)}

    @router.post(
        "/rollback",
        tags=["site"],
        summary="Apply an earlier revision's site text again, as a new revision",
    )
    def rollback_to(
        body: RollbackRequest,
        response: Response,
        controller: ControllerDep,
        if_match: IfMatch = None,
    ) -> dict[str, Any]:
        expected = _revision_of(if_match)
        if expected is None:
            raise _precondition_required()
        try:
            revision = rollback(
                controller,
                body.revision,
                expected=expected,
                author=body.author or DEFAULT_AUTHOR,
                message=body.message,
            )
        except UnknownRevision as error:
            raise ApiError(404, "not_found", str(error)) from None
        except SiteInvalid as error:
            raise _invalid(error, f"revision {body.revision} no longer validates") from None
        except RevisionConflict as error:
            raise _conflict(error) from None
        response.headers["ETag"] = _etag(revision.number)
        return {"previous_revision": expected, **revision_json(revision)}

    @router.get(
        "/revisions/{number}",
        tags=["site"],
        summary="One revision, with its site text",
    )
    def one_revision(
        number: Annotated[int, Path(ge=1, le=MAX_REVISION)], controller: ControllerDep
    ) -> dict[str, Any]:
        revision = controller.store.revision(number)
        if revision is None:
            raise ApiError(404, "not_found", f"there is no revision {number}")
        current = controller.store.current_revision()
        return {
            **revision_json(revision, text=True),
            "current": current is not None and current.number == number,
        }

    return router


def _planned(
    controller: Controller, text: str, path: str | None, files: dict[str, str] | None = None
) -> dict[str, Any]:
    try:
        return plan_json(plan_site(controller, text, path=path, files=files))
    except BundleError as error:
        raise ApiError(422, "invalid_request", str(error)) from None
    except SiteInvalid as error:
        raise _invalid(error) from None


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


def _precondition_required() -> ApiError:
    return ApiError(
        428,
        "precondition_required",
        'apply and rollback need If-Match: "<revision>", the revision the change was '
        "planned against (GET /api/v1/revisions gives the current one)",
    )


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
