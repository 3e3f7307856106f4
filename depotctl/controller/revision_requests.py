"""The bodies the GitOps endpoints accept: a plan, an apply (a site text or a saved
plan), a rollback."""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

from depotctl.controller.plain_text import OneLine, Paragraph

#: The largest revision number a request may name (SQLite integers are 64-bit; JSON
#: numbers are exact up to 2**53).
MAX_REVISION = 2**53

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
