"""The body of every error the API answers: a stable ``code``, a ``message`` in the
site's terms, and fields some errors add (docs/api.md, "Errors")."""

from __future__ import annotations

from pydantic import Field

from depotctl.api.base import ApiModel


class Problem(ApiModel):
    """One thing wrong with a request (``invalid_request``)."""

    where: str = Field(description="The field, as body.limit or query.since.")
    message: str


class Diagnostic(ApiModel):
    """One diagnostic of an invalid site (``invalid_site``), as ``depotctl validate
    --format json`` gives it (docs/validate-json.md)."""

    file: str | None = None
    line: int | None = None
    column: int | None = None
    severity: str | None = None
    rule: str | None = None
    message: str = ""
    hint: str | None = None


class ErrorBody(ApiModel):
    """Every error's body."""

    code: str = Field(
        description="Stable: unauthorized, forbidden, not_found, invalid_request, conflict, "
        "too_large, no_override, invalid_site, invalid_plan, precondition_required, internal."
    )
    message: str = Field(description="What is wrong, in the site's terms.")
    problems: list[Problem] | None = Field(None, description="invalid_request: each problem.")
    did_you_mean: str | None = Field(None, description="not_found: the likely id.")
    diagnostics: list[Diagnostic] | None = Field(
        None, description="invalid_site: validate --format json's diagnostics."
    )
    current_revision: int | None = Field(None, description="conflict: the revision in force.")
    expected_revision: int | None = Field(None, description="conflict: the one planned against.")
