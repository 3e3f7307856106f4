"""How a plan, a revision and an invalid site read in the API's JSON (a plan as
``POST /plan`` returns it, and as ``apply`` takes it back, saved)."""

from __future__ import annotations

from typing import Any

from depotctl.config import Diagnostic, ValidationRun, diff_to_json, json_report
from depotctl.controller.service import SiteInvalid
from depotctl.controller.services.host_credentials import HOST_RULES
from depotctl.controller.services.impact import Impact, SessionImpact
from depotctl.controller.services.revisions import Plan, bundle_hash
from depotctl.controller.store import Revision
from depotctl.views import binding_json


def plan_json(plan: Plan) -> dict[str, Any]:
    """The plan as the API returns it (and as ``apply`` takes it back, saved)."""
    diff = (
        diff_to_json(plan.diff, f"revision {plan.base_revision}", plan.path)
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
        "warnings": [_warning_json(w) for w in plan.warnings],
    }


def _warning_json(warning: Diagnostic) -> dict[str, Any]:
    span = warning.span
    return {
        "origin": "host" if warning.rule.startswith(HOST_RULES) else "site",
        "rule": warning.rule,
        "file": warning.file,
        "line": span.line if span is not None else None,
        "column": span.column if span is not None else None,
        "message": warning.message,
        "hint": warning.hint,
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
