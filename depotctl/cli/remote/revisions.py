"""``status``, ``revisions``, ``plan``, ``apply`` and ``rollback``: a controller's site
revisions, GitOps-style."""

from __future__ import annotations

import json
import sys
from collections import Counter
from datetime import UTC, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from depotctl.cli.app import app
from depotctl.cli.failures import fail
from depotctl.cli.parameters import OutputFormat, bare_option, site_file_option
from depotctl.cli.remote.connection import Remote, YesOption, remote_options, site_clock
from depotctl.cli.remote.plan_warnings import strict_refusal, warnings_text
from depotctl.cli.remote.terminal import author, confirm, interactive, json_value, table
from depotctl.client.figures import amount, instant_text, zone_named
from depotctl.client.terminal_text import escaped_model

if TYPE_CHECKING:
    from depotctl.api import Alerts, Clock, EvseImpact, Plan, Revision, State

# status, revisions


@app.command()
@remote_options
def status(remote: Remote) -> None:
    """The controller now: site, revision, clock, EVSEs by state, nodes at their limit,
    open alerts, the planner, and the sessions that will be short at their departure.

    The planner is following a plan, failed, stale or off; a short session is named with
    its readiness forecast and its cause.

    Exit codes: 0 ok, 2 usage, 3 the controller cannot be reached or refuses the token.

    **Examples**

    ```
    depotctl status --context depot
    depotctl status --server http://127.0.0.1:8180 \\
        --token-file /tmp/depot/tokens/readonly.token --format json
    ```
    """
    with remote.client("status") as client:
        clock = client.clock()
        state = client.state()
        alerts = client.alerts()
        sessions = escaped_model(client.sessions())
    # here, not at the top: it loads the API's models, which validate never needs
    from depotctl.client.readiness import readiness_text, short_json

    summary = _status_summary(clock, state, alerts) | short_json(sessions)
    planner = json_value(state.planner) if state.planner is not None else None
    if remote.printed_json(summary | {"planner": planner}):
        return
    sys.stdout.write(_status_text(*_escaped(clock, state, alerts)))
    sys.stdout.write(readiness_text(sessions, zone_named(clock.timezone)))


def _escaped(clock: Clock, state: State, alerts: Alerts) -> tuple[Clock, State, Alerts]:
    return escaped_model(clock), escaped_model(state), escaped_model(alerts)


def _status_summary(clock: Clock, state: State, alerts: Alerts) -> dict[str, Any]:
    """``status --format json``: the site, its revision, the clock, EVSEs by state, the
    nodes at their limit, the open alerts."""
    return {
        "site": state.site.name,
        "revision": json_value(state.revision),
        "clock": json_value(clock),
        "evses": dict(Counter(e.state for e in state.evses)),
        "evse_count": len(state.evses),
        "nodes_at_limit": [
            {
                "id": n.id,
                "kind": n.kind,
                "effective_limit": n.effective_limit,
                "unit": n.unit,
                "source": n.source.text if n.source is not None else None,
            }
            for n in state.nodes
            if n.at_limit
        ],
        "alerts": [json_value(a) for a in alerts.alerts if a.open],
    }


def _status_text(clock: Clock, state: State, alerts: Alerts) -> str:
    revision, zone = state.revision, zone_named(clock.timezone)
    counts = Counter(e.state for e in state.evses)
    lines = [
        f"site      {state.site.name}",
        f"revision  {revision.number} ({_short(revision.hash)}) by {revision.author}, "
        f"{instant_text(revision.created_at, zone)}: {revision.message}",
        f"clock     {instant_text(clock.time, zone)} ({clock.kind}, ×{clock.speed:g})",
        f"EVSEs     {len(state.evses)}: "
        + (", ".join(f"{count} {name}" for name, count in sorted(counts.items())) or "none"),
    ]
    at_limit = [node for node in state.nodes if node.at_limit]
    if at_limit:
        lines.append("at limit")
        for node in at_limit:
            source = (
                f" ({node.source.text})" if node.source is not None and node.source.text else ""
            )
            limit = amount(node.effective_limit, node.unit or "")
            lines.append(f"  {node.id} {node.kind} {limit}{source}")
    else:
        lines.append("at limit  no node")
    # here, not at the top: the client's package loads httpx, which validate never needs
    from depotctl.client.alerts import alerts_line, alerts_of

    lines.append(f"alerts    {alerts_line(alerts_of(alerts), zone)}")
    if state.planner is not None:  # a controller from before the planner's state has none
        from depotctl.client.planner import plan_text

        lines.append(f"plan      {plan_text(state.planner, zone)}")
    return "\n".join(lines) + "\n"


@app.command()
@remote_options
def revisions(remote: Remote) -> None:
    """The site revisions, newest first; the one in force is marked with `*`.

    Exit codes: 0 ok, 2 usage, 3 the controller cannot be reached or refuses the token.

    **Examples**

    ```
    depotctl revisions --context depot
    depotctl revisions --format json
    ```
    """
    told = remote.answer_on_clock("revisions", lambda client: client.revisions())
    if told is None:
        return
    listed, clock = told
    rows = [
        (
            ("*" if r.number == listed.current else " ") + str(r.number),
            _short(r.hash),
            clock.text(r.created_at),
            r.author,
            r.message,
        )
        for r in listed.revisions
    ]
    table(("#", "hash", "time", "author", "message"), rows)


# plan, apply, rollback

MessageOption = Annotated[
    str | None,
    typer.Option("-m", "--message", metavar="TEXT", help="Why (kept with the revision)."),
]
StrictOption = Annotated[
    bool,
    typer.Option(
        "--strict",
        help="Refuse (exit 1) when the plan has warnings: validate's, or what the "
        "controller's host lacks (a secret file, an environment variable).",
    ),
]


def _refuse_unconfirmed(command: str, yes: bool) -> None:
    """Refuse a change (exit 2) before anything is sent when it cannot be confirmed:
    no --yes, and no terminal to ask on."""
    if not yes and not interactive():
        confirm(command, yes, "")


def _read_site(command: str, path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise fail(command, f"cannot read {path}: {error.strerror}", 3) from None
    except UnicodeDecodeError:
        raise fail(command, f"{path} is not UTF-8 text", 3) from None


def _bundle(path: Path, text: str) -> dict[str, str]:
    """The files the site in ``text`` refers to (relative to ``path``), read here so the
    controller keeps the ones that were planned; none when the text is not a site (the
    controller's diagnostics say why)."""
    from depotctl.config import Site, load_text, read_bundle

    loaded = load_text(text, path, str(path))
    sites = [d.model for d in loaded.documents if isinstance(d.model, Site)]
    return read_bundle(sites[0], path.parent) if len(sites) == 1 else {}


def plan_text(plan: Plan, zone: tzinfo = UTC) -> str:
    """The plan as terraform shows one: the semantic changes (``+ - ~``), then the
    impact now (EVSE limits old → new, sessions that would pause), the warnings, then
    ``Plan: …``; its time in the site's ``zone``."""
    warnings = warnings_text(plan)  # escapes what it prints: it quotes the site's lines
    plan = escaped_model(plan)
    marks = {"add": "+", "remove": "-", "change": "~", "move": "~"}
    base = plan.base_revision
    against = f"revision {base}" if base else "an empty store"
    lines = [f"Plan for site {plan.site.new} ({plan.path}) against {against}", ""]
    section = None
    for change in plan.changes:
        if change.section != section:
            section = change.section
            lines.append(section)
        lines.append(f"  {marks.get(change.action, '~')} {change.message}")
    if not plan.changes:
        lines.append(
            "No changes: the site is the one in force."
            if base
            else "The store has no revision: this site becomes revision 1."
        )
    impact = plan.impact
    evses = impact.evses if impact is not None else []
    paused = impact.paused_sessions if impact is not None else []
    removed = impact.sessions_on_removed_evses if impact is not None else []
    lines += ["", f"Impact now ({instant_text(impact.time, zone)}):" if impact else "Impact now:"]
    for evse in evses:
        lines.append(f"  ~ EVSE {evse.message or _evse_change(evse)}")
    for session in paused:
        lines.append(
            f"  ! session {session.session} on EVSE {session.evse} would pause: {session.reason}"
        )
    for session in removed:
        lines.append(
            f"  ! session {session.session} is on EVSE {session.evse}, which "
            f"the new site removes: {session.reason}"
        )
    if not (evses or paused or removed):
        lines.append("  no EVSE limit changes, no session paused")
    summary = plan.summary
    lines += ["", *warnings]
    lines += [
        f"Plan: {summary.add} to add, {summary.change} to change, "
        f"{summary.remove} to destroy; {len(evses)} EVSE limit(s) change now, "
        f"{len(paused)} session(s) would pause.",
    ]
    return "\n".join(lines) + "\n"


def _evse_change(evse: EvseImpact) -> str:
    return f"{evse.id} {amount(evse.old_limit_a, 'A')} → {amount(evse.new_limit_a, 'A')}"


def _has_changes(plan: Plan) -> bool:
    return bool(plan.changes) or plan.base_revision == 0


@app.command()
@remote_options
def plan(
    site_file: Annotated[Path, site_file_option("The site file to plan.")],
    out: Annotated[
        Path | None,
        bare_option(
            "--out",
            metavar="FILE",
            help="Save the plan (JSON, with the revision it was made against) for apply.",
        ),
    ] = None,
    detailed_exitcode: Annotated[
        bool, typer.Option("--detailed-exitcode", help="Exit 1 when the plan has changes.")
    ] = False,
    strict: StrictOption = False,
    *,
    remote: Remote,
) -> None:
    """Show what applying a site file would change, and its impact now.

    The semantic changes (+ - ~), then the impact now: EVSE limits old → new and the
    sessions that would pause; then the warnings: validate's, and what the controller's
    host lacks for the site's secrets (a password_file or token_file missing or
    unreadable there, a password_env or token_env variable its process does not have).

    Exit codes: 0 planned (with --detailed-exitcode: no changes), 1 changes present
    (with --detailed-exitcode), warnings (with --strict) or the site is invalid (its
    diagnostics on stderr), 2 usage, 3 the file or the controller cannot be reached.

    **Examples**

    ```
    depotctl plan -f site.yaml
    depotctl plan -f site.yaml --out plan.json
    depotctl plan -f site.yaml --detailed-exitcode --strict --context depot
    ```
    """
    text = _read_site("plan", site_file)
    files = _bundle(site_file, text)
    with remote.client("plan") as client:
        made = client.plan(text, str(site_file), files)
        zone = site_clock(client).zone
    if out is not None:
        try:
            out.write_text(json.dumps(json_value(made), indent=2, ensure_ascii=False) + "\n")
        except OSError as error:
            raise fail("plan", f"cannot write {out}: {error.strerror}", 3) from None
    if not remote.printed_json(made):
        sys.stdout.write(plan_text(made, zone))
        if out is not None:
            sys.stdout.write(f"Saved to {out}: apply it with `depotctl apply {out}`.\n")
    as_text = remote.output_format is OutputFormat.TEXT
    refusal = strict_refusal(made, as_text=as_text) if strict else None
    if refusal is not None:
        raise fail("plan", refusal, 1)
    if detailed_exitcode and _has_changes(made):
        raise typer.Exit(1)


def _saved_plan(path: Path) -> Plan | None:
    """The saved plan in ``path``, or None when it is not one."""
    from pydantic import ValidationError

    from depotctl.api import Plan

    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        return None
    except OSError as error:
        raise fail("apply", f"cannot read {path}: {error.strerror}", 3) from None
    try:
        return Plan.model_validate_json(text)
    except ValidationError:
        return None


@app.command()
@remote_options
def apply(
    plan_file: Annotated[
        Path | None,
        typer.Argument(
            metavar="PLANFILE", help="A plan saved by `plan --out`.", show_default=False
        ),
    ] = None,
    site_file: Annotated[Path | None, site_file_option("A site file: plan it, then apply.")] = None,
    yes: YesOption = False,
    message: MessageOption = None,
    strict: StrictOption = False,
    *,
    remote: Remote,
) -> None:
    """Apply a site file (-f PATH) or a saved plan (PLANFILE) as the next revision.

    Only if the controller is still at the revision the plan was made against. The
    plan's warnings (validate's, and what the controller's host lacks for the site's
    secrets) are shown before it asks; with --strict any warning refuses the apply
    (a saved plan's are checked again on the controller first).

    Without --yes it shows the plan and asks on a terminal; without a terminal it
    refuses (exit 2). Exit codes: 0 applied (or nothing to apply), 1 the site is
    invalid or (with --strict) has warnings, 2 usage, 3 a file or the controller
    cannot be reached or the token is refused, 4 conflict (the controller moved
    since the plan: plan again).

    **Examples**

    ```
    depotctl apply plan.json --yes
    depotctl apply -f site.yaml -m "db-1 down to 40 A for the new feeder"
    ```
    """
    if (plan_file is None) == (site_file is None):
        raise fail("apply", "give either -f SITE_FILE or a saved PLANFILE", 2)
    saved = None
    if plan_file is not None:
        saved = _saved_plan(plan_file)
        if saved is None:
            raise fail(
                "apply",
                f"{plan_file} is not a saved plan (save one with `depotctl plan -f SITE "
                f"--out {plan_file}`, or apply a site file with -f)",
                2,
            )
    text = _read_site("apply", site_file) if site_file is not None else None
    files = _bundle(site_file, text) if site_file is not None and text is not None else None
    _refuse_unconfirmed("apply", yes)
    with remote.client("apply") as client:
        if saved is not None:
            made = saved
            if strict:  # the host may have changed since: its warnings now
                now = client.dry_run(saved.site_text, saved.path, saved.files)
                made = saved.model_copy(update={"warnings": now.warnings})
        else:
            assert site_file is not None and text is not None
            made = client.plan(text, str(site_file), files)
        if remote.output_format is OutputFormat.TEXT:
            sys.stdout.write(plan_text(made, site_clock(client).zone))
        if saved is None and not _has_changes(made):
            if not remote.printed_json({"applied": False, "plan": json_value(made)}):
                sys.stdout.write("Nothing to apply.\n")
            return
        as_text = remote.output_format is OutputFormat.TEXT
        refusal = strict_refusal(made, as_text=as_text) if strict else None
        if refusal is not None:
            raise fail("apply", refusal, 1)
        confirm("apply", yes, f"Apply this plan on revision {made.base_revision}?")
        applied = client.apply(
            base_revision=made.base_revision,
            site_text=text,
            path=str(site_file) if site_file is not None else None,
            plan=saved,
            message=message,
            author=author(),
            files=files,
        )
    told = remote.in_words(applied)
    if told is not None:
        sys.stdout.write(f"Applied: {_in_force(told)} (was revision {told.previous_revision}).\n")


@app.command()
@remote_options
def rollback(
    revision: Annotated[
        int | None,
        typer.Argument(
            metavar="REVISION",
            help="The revision whose site to put back (default: the one before the current).",
            show_default=False,
        ),
    ] = None,
    yes: YesOption = False,
    message: MessageOption = None,
    *,
    remote: Remote,
) -> None:
    """Put an earlier revision's site back in force, as a new revision.

    Exit codes: 0 rolled back, 1 that revision no longer validates, 2 usage (no such
    revision, nothing before the current one, no --yes without a terminal), 3 the
    controller cannot be reached or the token is refused, 4 conflict (another revision
    became current meanwhile).

    **Examples**

    ```
    depotctl rollback --yes
    depotctl rollback 3 -m "back to the winter limits" --yes
    ```
    """
    _refuse_unconfirmed("rollback", yes)
    with remote.client("rollback") as client:
        current = client.revisions().current
        if current is None:
            raise fail("rollback", "the controller has no revision yet", 2)
        target = revision if revision is not None else current - 1
        if target < 1:
            raise fail("rollback", f"revision {current} is the first: nothing before it", 2)
        if target == current:
            raise fail("rollback", f"revision {current} is already in force", 2)
        confirm("rollback", yes, f"Roll back from revision {current} to revision {target}?")
        result = client.rollback(target, base_revision=current, message=message, author=author())
    told = remote.in_words(result)
    if told is not None:
        of = told.rollback_of or target
        sys.stdout.write(f"Rolled back: {_in_force(told)}, the site of revision {of}.\n")


def _in_force(revision: Revision) -> str:
    """``revision 3 (0123456789ab) is in force``."""
    return f"revision {revision.number} ({_short(revision.hash)}) is in force"


def _short(hash_text: str | None) -> str:
    """A revision's hash as it is shown: its first 12 characters."""
    return (hash_text or "")[:12]
