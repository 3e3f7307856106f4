"""``status``, ``revisions``, ``plan``, ``apply`` and ``rollback``: a controller's site
revisions, GitOps-style."""

from __future__ import annotations

import json
import sys
from collections import Counter
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from depotctl.cli.app import app
from depotctl.client.terminal_text import escaped_answer

if TYPE_CHECKING:
    from depotctl.client.api import Json


from depotctl.cli.remote._common import (
    Connection,
    ContextOption,
    Format,
    FormatOption,
    ServerOption,
    TokenFileOption,
    YesOption,
    _amount,
    _author,
    _confirm,
    _fail,
    _interactive,
    _print_json,
    _revision_number,
    _short,
    _table,
    _talking,
)

# status, revisions


@app.command()
def status(
    output_format: FormatOption = Format.TEXT,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
) -> None:
    """The controller now: site, revision, clock, EVSEs by state, nodes at their limit,
    open alerts.

    Exit codes: 0 ok, 2 usage, 3 the controller cannot be reached or refuses the token.
    """
    connection = Connection(context, server, token_file)
    with _talking("status", connection), connection.open() as client:
        clock = client.clock()
        state = client.state()
        alerts = client.alerts()
    evses = state.get("evses", [])
    at_limit = [node for node in state.get("nodes", []) if node.get("at_limit")]
    summary = {
        "site": state.get("site", {}).get("name"),
        "revision": state.get("revision"),
        "clock": clock,
        "evses": dict(Counter(str(e.get("state")) for e in evses)),
        "evse_count": len(evses),
        "nodes_at_limit": [
            {
                "id": n["id"],
                "kind": n.get("kind"),
                "effective_limit": n.get("effective_limit"),
                "unit": n.get("unit"),
                "source": (n.get("source") or {}).get("text"),
            }
            for n in at_limit
        ],
        "alerts": [a for a in alerts.get("alerts") or [] if a.get("open", True)],
    }
    if output_format is Format.JSON:
        _print_json(summary)
        return
    summary, clock, alerts = escaped_answer((summary, clock, alerts))
    revision = summary["revision"] or {}
    lines = [
        f"site      {summary['site']}",
        f"revision  {revision.get('number')} ({_short(revision.get('hash'))}) by "
        f"{revision.get('author')}, {revision.get('created_at')}: {revision.get('message')}",
        f"clock     {clock.get('time')} ({clock.get('kind')}, ×{clock.get('speed'):g})",
        f"EVSEs     {len(evses)}: "
        + (
            ", ".join(f"{count} {name}" for name, count in sorted(summary["evses"].items()))
            or "none"
        ),
    ]
    if at_limit:
        lines.append("at limit")
        for node in summary["nodes_at_limit"]:
            lines.append(
                f"  {node['id']} {node['kind']} {node['effective_limit']} {node['unit']}"
                + (f" ({node['source']})" if node["source"] else "")
            )
    else:
        lines.append("at limit  no node")
    # here, not at the top: the client's package loads httpx, which validate never needs
    from depotctl.client.alerts import alerts_line, alerts_of, instant, site_zone

    now = instant(clock.get("time"))
    lines.append(f"alerts    {alerts_line(alerts_of(alerts), site_zone(alerts), now)}")
    sys.stdout.write("\n".join(lines) + "\n")


@app.command()
def revisions(
    output_format: FormatOption = Format.TEXT,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
) -> None:
    """The site revisions, newest first; the one in force is marked with *.

    Exit codes: 0 ok, 2 usage, 3 the controller cannot be reached or refuses the token.
    """
    connection = Connection(context, server, token_file)
    with _talking("revisions", connection), connection.open() as client:
        listed = client.revisions()
    if output_format is Format.JSON:
        _print_json(listed)
        return
    listed = escaped_answer(listed)
    current = listed.get("current")
    rows = [
        (
            ("*" if r.get("number") == current else " ") + str(r.get("number")),
            _short(r.get("hash")),
            str(r.get("created_at")),
            str(r.get("author")),
            str(r.get("message")),
        )
        for r in listed.get("revisions", [])
    ]
    _table(("#", "hash", "time", "author", "message"), rows)


# plan, apply, rollback


def _read_site(command: str, path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise _fail(command, f"cannot read {path}: {error.strerror}", 3) from None
    except UnicodeDecodeError:
        raise _fail(command, f"{path} is not UTF-8 text", 3) from None


def _bundle(path: Path, text: str) -> dict[str, str]:
    """The files the site in ``text`` refers to (relative to ``path``), read here so the
    controller keeps the ones that were planned; none when the text is not a site (the
    controller's diagnostics say why)."""
    from depotctl.config import Site, load_text, read_bundle

    loaded = load_text(text, path, str(path))
    sites = [d.model for d in loaded.documents if isinstance(d.model, Site)]
    return read_bundle(sites[0], path.parent) if len(sites) == 1 else {}


def plan_base(plan: Json) -> int | None:
    """The revision a plan was made against (0: the store had none)."""
    return _revision_number(plan.get("base_revision"))


def plan_changes(plan: Json) -> list[Json]:
    return [c for c in plan.get("changes") or [] if isinstance(c, dict)]


def _object(value: Any) -> Json:
    return value if isinstance(value, dict) else {}


def _listed(value: Any) -> list[Json]:
    return (
        [item for item in value or [] if isinstance(item, dict)] if isinstance(value, list) else []
    )


def plan_text(plan: Json) -> str:
    """The plan as terraform shows one: the semantic changes (``+ - ~``), then the
    impact now (EVSE limits old → new, sessions that would pause), then ``Plan: …``."""
    plan = escaped_answer(plan)
    marks = {"add": "+", "remove": "-", "change": "~", "move": "~"}
    site = _object(plan.get("site"))
    base = plan_base(plan)
    against = f"revision {base}" if base else "an empty store"
    lines = [f"Plan for site {site.get('new')} ({plan.get('path')}) against {against}", ""]
    changes = plan_changes(plan)
    section = None
    for change in changes:
        if change.get("section") != section:
            section = change.get("section")
            lines.append(str(section))
        lines.append(f"  {marks.get(str(change.get('action')), '~')} {change.get('message')}")
    if not changes:
        lines.append(
            "No changes: the site is the one in force."
            if base
            else "The store has no revision: this site becomes revision 1."
        )
    impact = _object(plan.get("impact"))
    evses = _listed(impact.get("evses"))
    paused = _listed(impact.get("paused_sessions"))
    removed = _listed(impact.get("sessions_on_removed_evses"))
    lines += ["", f"Impact now ({impact.get('time')}):" if impact else "Impact now:"]
    for evse in evses:
        lines.append(f"  ~ EVSE {evse.get('message') or _evse_change(evse)}")
    for session in paused:
        lines.append(
            f"  ! session {session.get('session')} on EVSE {session.get('evse')} would pause: "
            f"{session.get('reason')}"
        )
    for session in removed:
        lines.append(
            f"  ! session {session.get('session')} is on EVSE {session.get('evse')}, which "
            f"the new site removes: {session.get('reason')}"
        )
    if not (evses or paused or removed):
        lines.append("  no EVSE limit changes, no session paused")
    summary = _object(plan.get("summary"))
    lines += [
        "",
        f"Plan: {summary.get('add', 0)} to add, {summary.get('change', 0)} to change, "
        f"{summary.get('remove', 0)} to destroy; {len(evses)} EVSE limit(s) change now, "
        f"{len(paused)} session(s) would pause.",
    ]
    return "\n".join(lines) + "\n"


def _evse_change(evse: Json) -> str:
    return (
        f"{evse.get('id')} {_amount(evse.get('old_limit_a'), 'A')} → "
        f"{_amount(evse.get('new_limit_a'), 'A')}"
    )


def _has_changes(plan: Json) -> bool:
    return bool(plan_changes(plan)) or plan_base(plan) == 0


@app.command()
def plan(
    site_file: Annotated[
        Path, typer.Option("--file", "-f", help="The site file to plan.", show_default=False)
    ],
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Save the plan (JSON, with the revision it was made against) for apply.",
            show_default=False,
        ),
    ] = None,
    detailed_exitcode: Annotated[
        bool, typer.Option("--detailed-exitcode", help="Exit 1 when the plan has changes.")
    ] = False,
    output_format: FormatOption = Format.TEXT,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
) -> None:
    """Show what applying a site file would change, and its impact now.

    The semantic changes (+ - ~), then the impact now: EVSE limits old → new and the
    sessions that would pause.

    Exit codes: 0 planned (with --detailed-exitcode: no changes), 1 changes present
    (with --detailed-exitcode) or the site is invalid (its diagnostics on stderr), 2
    usage, 3 the file or the controller cannot be reached.
    """
    text = _read_site("plan", site_file)
    files = _bundle(site_file, text)
    connection = Connection(context, server, token_file)
    with _talking("plan", connection), connection.open() as client:
        made = client.plan(text, str(site_file), files)
    if out is not None:
        try:
            out.write_text(json.dumps(made, indent=2, ensure_ascii=False) + "\n")
        except OSError as error:
            raise _fail("plan", f"cannot write {out}: {error.strerror}", 3) from None
    if output_format is Format.JSON:
        _print_json(made)
    else:
        sys.stdout.write(plan_text(made))
        if out is not None:
            sys.stdout.write(f"Saved to {out}: apply it with `depotctl apply {out}`.\n")
    if detailed_exitcode and _has_changes(made):
        raise typer.Exit(1)


def _saved_plan(path: Path) -> Json | None:
    """The saved plan in ``path``, or None when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (ValueError, UnicodeDecodeError):
        return None
    except OSError as error:
        raise _fail("apply", f"cannot read {path}: {error.strerror}", 3) from None
    if isinstance(data, dict) and plan_base(data) is not None and "site_text" in data:
        return data
    return None


@app.command()
def apply(
    plan_file: Annotated[
        Path | None,
        typer.Argument(
            metavar="[PLANFILE]", help="A plan saved by `plan --out`.", show_default=False
        ),
    ] = None,
    site_file: Annotated[
        Path | None,
        typer.Option("--file", "-f", help="A site file: plan it, then apply.", show_default=False),
    ] = None,
    yes: YesOption = False,
    message: Annotated[
        str | None, typer.Option("-m", "--message", help="Why (kept with the revision).")
    ] = None,
    output_format: FormatOption = Format.TEXT,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
) -> None:
    """Apply a site file (-f PATH) or a saved plan (PLANFILE) as the next revision.

    Only if the controller is still at the revision the plan was made against.

    Without --yes it shows the plan and asks on a terminal; without a terminal it
    refuses (exit 2). Exit codes: 0 applied (or nothing to apply), 1 the site is
    invalid, 2 usage, 3 a file or the controller cannot be reached or the token is
    refused, 4 conflict (the controller moved since the plan: plan again).
    """
    if (plan_file is None) == (site_file is None):
        raise _fail("apply", "give either -f SITE_FILE or a saved PLANFILE", 2)
    saved = None
    if plan_file is not None:
        saved = _saved_plan(plan_file)
        if saved is None:
            raise _fail(
                "apply",
                f"{plan_file} is not a saved plan (save one with `depotctl plan -f SITE "
                f"--out {plan_file}`, or apply a site file with -f)",
                2,
            )
    text = _read_site("apply", site_file) if site_file is not None else None
    files = _bundle(site_file, text) if site_file is not None and text is not None else None
    if not yes and not _interactive():
        _confirm("apply", yes, "")  # refuses before anything is sent
    connection = Connection(context, server, token_file)
    with _talking("apply", connection), connection.open() as client:
        if saved is not None:
            made = saved
        else:
            assert site_file is not None and text is not None
            made = client.plan(text, str(site_file), files)
        if output_format is Format.TEXT:
            sys.stdout.write(plan_text(made))
        if saved is None and not _has_changes(made):
            if output_format is Format.JSON:
                _print_json({"applied": False, "plan": made})
            else:
                sys.stdout.write("Nothing to apply.\n")
            return
        _confirm("apply", yes, f"Apply this plan on revision {plan_base(made)}?")
        applied = client.apply(
            base_revision=plan_base(made),
            site_text=text,
            path=str(site_file) if site_file is not None else None,
            plan=saved,
            message=message,
            author=_author(),
            files=files,
        )
    if output_format is Format.JSON:
        _print_json(applied)
        return
    applied = escaped_answer(applied)
    sys.stdout.write(
        f"Applied: revision {applied.get('number')} ({_short(applied.get('hash'))}) is in "
        f"force (was revision {applied.get('previous_revision')}).\n"
    )


@app.command()
def rollback(
    revision: Annotated[
        int | None,
        typer.Argument(
            metavar="[REVISION]",
            help="The revision whose site to put back (default: the one before the current).",
            show_default=False,
        ),
    ] = None,
    yes: YesOption = False,
    message: Annotated[
        str | None, typer.Option("-m", "--message", help="Why (kept with the revision).")
    ] = None,
    output_format: FormatOption = Format.TEXT,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
) -> None:
    """Put an earlier revision's site back in force, as a new revision.

    Exit codes: 0 rolled back, 1 that revision no longer validates, 2 usage (no such
    revision, nothing before the current one, no --yes without a terminal), 3 the
    controller cannot be reached or the token is refused, 4 conflict (another revision
    became current meanwhile).
    """
    if not yes and not _interactive():
        _confirm("rollback", yes, "")  # refuses before anything is sent
    connection = Connection(context, server, token_file)
    with _talking("rollback", connection), connection.open() as client:
        current = _revision_number(client.revisions().get("current"))
        if current is None:
            raise _fail("rollback", "the controller has no revision yet", 2)
        target = revision if revision is not None else current - 1
        if target < 1:
            raise _fail("rollback", f"revision {current} is the first: nothing before it", 2)
        if target == current:
            raise _fail("rollback", f"revision {current} is already in force", 2)
        _confirm("rollback", yes, f"Roll back from revision {current} to revision {target}?")
        result = client.rollback(target, base_revision=current, message=message, author=_author())
    if output_format is Format.JSON:
        _print_json(result)
        return
    result = escaped_answer(result)
    sys.stdout.write(
        f"Rolled back: revision {result.get('number')} ({_short(result.get('hash'))}) is in "
        f"force, the site of revision {result.get('rollback_of', target)}.\n"
    )
