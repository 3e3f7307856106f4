"""Site revisions: the one in force, the list, one with its text, and what an apply or
a rollback made."""

from __future__ import annotations

from pydantic import Field

from depotctl.api.base import ApiModel, Instant


class Revision(ApiModel):
    """A site revision, as ``GET /api/v1/revisions`` lists it."""

    number: int
    hash: str = Field(description="SHA-256 of the site text, hex.")
    created_at: Instant
    author: str
    message: str
    rollback_of: int | None = Field(description="The revision whose text it applied again.")


class SiteRevision(Revision):
    """``GET /api/v1/site``: the revision in force, with the site's name and text."""

    name: str
    text: str


class Revisions(ApiModel):
    """``GET /api/v1/revisions``: newest first."""

    current: int | None = Field(description="The revision in force; null before the first.")
    revisions: list[Revision]


class RevisionText(Revision):
    """``GET /api/v1/revisions/{n}``: one revision with its text."""

    text: str
    current: bool = Field(description="Whether it is in force.")


class AppliedRevision(Revision):
    """``POST /api/v1/apply`` (not a dry run): the new revision."""

    dry_run: bool = Field(description="false: stored.")
    previous_revision: int = Field(description="The revision it replaced (0: none).")


class RolledBackRevision(Revision):
    """``POST /api/v1/rollback``: the new revision, with an earlier one's text."""

    previous_revision: int
