"""A plan (``POST /api/v1/plan``, and ``POST /api/v1/apply?dry_run=true``): the
semantic changes of a site text against the revision in force, and their impact on
the EVSEs and sessions now. A saved plan is this JSON, and ``apply`` takes it back."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from depotctl.api.allocation import Binding
from depotctl.api.base import ApiModel, Instant


class SiteNames(ApiModel):
    old: str | None
    new: str | None


class Change(ApiModel):
    """One change as ``depotctl diff --format json`` gives it (docs/diff-json.md)."""

    action: str = Field(description="add, remove, change or move.")
    kind: str
    section: str
    id: str | None
    path: str
    field: str | None
    old: str | None
    new: str | None
    change_pct: float | None
    message: str
    affected_chargers: int | None


class ChangeCount(ApiModel):
    add: int
    change: int
    remove: int


class EvseImpact(ApiModel):
    """An EVSE whose limit or state the new site would change now."""

    id: str
    old_limit_a: float
    new_limit_a: float
    change_a: float
    change_pct: float | None = Field(description="Null when the old limit is 0.")
    old_state: str
    new_state: str
    old_binding: Binding
    new_binding: Binding
    session: str | None
    message: str


class SessionImpact(ApiModel):
    """A session that would pause, or that is on an EVSE the new site removes."""

    session: str
    evse: str
    old_limit_a: float | None
    reason: str


class Impact(ApiModel):
    """The change on now: the live snapshot allocated on both sites."""

    time: Instant
    evses: list[EvseImpact]
    paused_sessions: list[SessionImpact]
    sessions_on_removed_evses: list[SessionImpact]


class PlanWarning(ApiModel):
    """Something to know before applying: a warning of ``depotctl validate`` about the
    site, or a problem on the controller's host (a secret file missing or unreadable
    there, a variable its process lacks). Never a secret's value."""

    origin: Literal["site", "host"] = Field(
        description="site: validate's warning; host: the controller's host lacks something."
    )
    rule: str = Field(description="The rule id: validate's (docs/rules.md), or host/….")
    file: str = Field(description="The site text's path, as the plan names it.")
    line: int | None = Field(description="1-based; null without a position.")
    column: int | None
    message: str
    hint: str | None


class Plan(ApiModel):
    """What applying ``site_text`` would change (and, saved, what ``apply`` takes)."""

    base_revision: int = Field(description="The revision in force (0: none).")
    base_hash: str | None
    new_hash: str = Field(description="SHA-256 of site_text: the revision's hash once applied.")
    path: str | None
    site: SiteNames
    no_changes: bool
    changes: list[Change]
    summary: ChangeCount
    impact: Impact | None = Field(description="Null when the store has no revision yet.")
    site_text: str
    files: dict[str, str] | None = None
    files_hash: str | None = None
    warnings: list[PlanWarning] = Field(
        default_factory=list,
        description="Validate's warnings, then the host's problems; `--strict` refuses any.",
    )


class DryRun(Plan):
    """``POST /api/v1/apply?dry_run=true``: the plan, nothing stored."""

    dry_run: bool = Field(description="true: nothing stored.")
