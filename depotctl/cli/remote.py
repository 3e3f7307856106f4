"""Commands against a running controller: ``context``, ``status``, ``revisions``,
``plan``, ``apply``, ``rollback``, ``journal``, ``envelopes``, ``requirements`` (and
``explain EVSE`` without ``--snapshot``, registered in :mod:`depotctl.cli.allocate`).

The HTTP client (:mod:`depotctl.client`) is imported inside the commands, so that
``validate`` and the other offline commands never load it. Exit codes: 0 ok; 1
changes present (``plan --detailed-exitcode``) or the site is invalid; 2 usage (also
an unknown EVSE, envelope or session, a refused request body, a missing ``--yes``);
3 I/O (the controller unreachable, a token refused, a file unreadable); 4 conflict
(the controller moved since the plan, a concurrent apply).
"""

from __future__ import annotations

import getpass
import json
import os
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from depotctl.cli.app import app

if TYPE_CHECKING:
    from depotctl.client.api import ControllerClient, Json


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"


FormatOption = Annotated[
    Format, typer.Option("--format", help="Output format.", case_sensitive=False)
]
ContextOption = Annotated[
    str | None,
    typer.Option(
        "--context",
        help="The context to use (default: $DEPOTCTL_CONTEXT, else the current one).",
        show_default=False,
    ),
]
ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        help="The controller's URL; with --token-file no configuration file is read.",
        show_default=False,
    ),
]
TokenFileOption = Annotated[
    Path | None,
    typer.Option("--token-file", help="The file holding the token to send.", show_default=False),
]
YesOption = Annotated[
    bool, typer.Option("--yes", help="Do not ask for confirmation (needed without a TTY).")
]


class Connection:
    """Which controller, as the common options say."""

    def __init__(self, context: str | None, server: str | None, token_file: Path | None) -> None:
        self.context = context
        self.server = server
        self.token_file = token_file
        self.origin = ""

    def open(self) -> ControllerClient:
        from depotctl.client.api import ControllerClient
        from depotctl.client.contexts import resolve

        target = resolve(context=self.context, server=self.server, token_file=self.token_file)
        self.origin = target.origin
        return ControllerClient(target.server, target.token)


def _fail(command: str, message: str, code: int) -> typer.Exit:
    sys.stderr.write(f"depotctl {command}: {message}\n")
    return typer.Exit(code)


@contextmanager
def _talking(command: str, connection: Connection | None = None) -> Iterator[None]:
    """Turn the client's errors into one-line messages and the contracts' exit codes."""
    from depotctl.client.api import ApiError, Unreachable
    from depotctl.client.contexts import ContextError

    try:
        yield
    except Unreachable as error:
        raise _fail(command, str(error), 3) from None
    except ContextError as error:
        raise _fail(command, error.message, error.exit_code) from None
    except ApiError as error:
        raise _api_failure(command, error, connection) from None


def _api_failure(command: str, error: Any, connection: Connection | None) -> typer.Exit:
    status, message = error.status, error.message
    via = f" (token from {connection.origin})" if connection and connection.origin else ""
    if status == 409:
        hint = ""
        if command == "apply":
            hint = (
                "\n  the controller moved since this plan was made (another apply or a "
                "rollback); run `depotctl plan` again, review it, and apply that"
            )
        return _fail(command, f"409 conflict: {message}{hint}", 4)
    if status == 401:
        return _fail(command, f"401 unauthorized: {message}{via}; check the token file", 3)
    if status == 403:
        return _fail(
            command,
            f"403 forbidden: {message}{via}; use a context with the admin token",
            3,
        )
    diagnostics = error.body.get("diagnostics")
    if status in (400, 422) and diagnostics:
        for line in _diagnostic_lines(diagnostics):
            sys.stderr.write(line + "\n")
        return _fail(command, f"{status} {error.code}: {message}", 1)
    if status in (400, 404, 405, 413, 422):
        problems = error.body.get("problems") or []
        for problem in problems[1:] if isinstance(problems, list) else []:
            if isinstance(problem, dict):
                sys.stderr.write(f"  {problem.get('where')}: {problem.get('message')}\n")
        return _fail(command, f"{status} {error.code}: {message}", 2)
    return _fail(command, f"{status} {error.code}: {message}", 3)


def _diagnostic_lines(diagnostics: Any) -> list[str]:
    if not isinstance(diagnostics, list):
        return [str(diagnostics)]
    lines = []
    for item in diagnostics:
        if not isinstance(item, dict):
            lines.append(str(item))
            continue
        where = ":".join(
            str(item[k]) for k in ("file", "line", "column") if item.get(k) is not None
        )
        rule = f" [{item['rule']}]" if item.get("rule") else ""
        severity = f"{item['severity']}: " if item.get("severity") else ""
        lines.append(f"{where + ': ' if where else ''}{severity}{item.get('message', '')}{rule}")
        if item.get("hint"):
            lines.append(f"  hint: {item['hint']}")
    return lines


def _print_json(payload: Any) -> None:
    sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _confirm(command: str, yes: bool, question: str) -> None:
    """Go on with --yes or a "yes" typed on a terminal; else exit (2 without a TTY)."""
    if yes:
        return
    if not _interactive():
        raise _fail(
            command,
            "refusing to proceed without confirmation on a non-interactive terminal; pass --yes",
            2,
        )
    if not typer.confirm(question, default=False):
        raise _fail(command, "cancelled", 0)


def _author() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _short(hash_text: Any) -> str:
    return str(hash_text or "")[:12]


def _revision_number(value: Any) -> int | None:
    """A revision number from a number or a ``{"number": …}`` object."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        return _revision_number(value.get("number"))
    return None


# context


context_app = typer.Typer(
    name="context",
    help="Which controller the other commands talk to: named contexts in $DEPOTCTL_CONFIG "
    "(default ~/.config/depotctl/config.yaml).",
    no_args_is_help=True,
    context_settings={"help_option_names": ["--help"]},
)
app.add_typer(context_app, name="context")


@context_app.command("list")
def context_list(output_format: FormatOption = Format.TEXT) -> None:
    """List the contexts; the current one is marked with *.

    Exit codes: 0 ok, 3 the configuration file cannot be read.
    """
    from depotctl.client.contexts import CONTEXT_ENV, Contexts

    with _talking("context list"):
        contexts = Contexts.load()
    current = os.environ.get(CONTEXT_ENV) or contexts.current
    if output_format is Format.JSON:
        _print_json(
            {
                "config": str(contexts.path),
                "current": current,
                "contexts": [
                    {"name": c.name, "server": c.server, "token_file": c.token_file}
                    for c in contexts.contexts
                ],
            }
        )
        return
    if not contexts.contexts:
        sys.stdout.write(
            f"no contexts in {contexts.path}; add one with "
            "`depotctl context add NAME --server URL --token-file FILE`\n"
        )
        return
    width = max(len(c.name) for c in contexts.contexts)
    for c in contexts.contexts:
        mark = "*" if c.name == current else " "
        sys.stdout.write(f"{mark} {c.name:<{width}}  {c.server}  {c.token_file}\n")


@context_app.command("use")
def context_use(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The context to make current.")],
    output_format: FormatOption = Format.TEXT,
) -> None:
    """Make NAME the current context.

    Exit codes: 0 ok, 2 no such context, 3 the configuration file cannot be written.
    """
    from depotctl.client.contexts import Contexts

    with _talking("context use"):
        contexts = Contexts.load()
        chosen = contexts.use(name)
        contexts.save()
    if output_format is Format.JSON:
        _print_json({"current": chosen.name, "server": chosen.server})
    else:
        sys.stdout.write(f"current context: {chosen.name} ({chosen.server})\n")


@context_app.command("add")
def context_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The context's name.")],
    server: ServerOption = None,
    token_file: TokenFileOption = None,
    state_dir: Annotated[
        Path | None,
        typer.Option(
            "--from-state-dir",
            help="A local controller's state directory: its endpoints.json and admin token.",
            show_default=False,
        ),
    ] = None,
    output_format: FormatOption = Format.TEXT,
) -> None:
    """Add (or replace) a context: a controller URL and a token file. The first context
    becomes the current one. The file keeps the token's path, never the token.

    Exit codes: 0 ok, 2 usage, 3 a file cannot be read or written.
    """
    from depotctl.client.contexts import Context, Contexts, check_server, from_state_dir

    with _talking("context add"):
        if state_dir is not None:
            if server is not None or token_file is not None:
                raise _fail("context add", "--from-state-dir replaces --server and --token-file", 2)
            url, token_path = from_state_dir(state_dir)
        elif server is None or token_file is None:
            raise _fail(
                "context add", "give --server URL --token-file FILE, or --from-state-dir DIR", 2
            )
        else:
            url, token_path = check_server(server), token_file.expanduser().resolve()
            if not token_path.is_file():
                raise _fail("context add", f"the token file {token_path} does not exist", 3)
        contexts = Contexts.load()
        contexts.add(Context(name, url, str(token_path)))
        contexts.save()
    if output_format is Format.JSON:
        _print_json(
            {
                "name": name,
                "server": url,
                "token_file": str(token_path),
                "current": contexts.current,
            }
        )
        return
    current = " (current)" if contexts.current == name else ""
    sys.stdout.write(f"context {name}{current}: {url}, token {token_path}\n")
    sys.stdout.write(f"  saved in {contexts.path}\n")


# status, revisions


@app.command()
def status(
    output_format: FormatOption = Format.TEXT,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
) -> None:
    """The controller now: site, revision, clock, EVSEs by state, nodes at their limit.

    Exit codes: 0 ok, 2 usage, 3 the controller cannot be reached or refuses the token.
    """
    connection = Connection(context, server, token_file)
    with _talking("status", connection), connection.open() as client:
        clock = client.clock()
        state = client.state()
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
    }
    if output_format is Format.JSON:
        _print_json(summary)
        return
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


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        sys.stdout.write("  ".join([*cells, row[-1]]).rstrip() + "\n")


# plan, apply, rollback


def _read_site(command: str, path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except OSError as error:
        raise _fail(command, f"cannot read {path}: {error.strerror}", 3) from None
    except UnicodeDecodeError:
        raise _fail(command, f"{path} is not UTF-8 text", 3) from None


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


def _amount(value: Any, unit: str) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,.1f} {unit}"
    return "—" if value is None else str(value)


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
    connection = Connection(context, server, token_file)
    with _talking("plan", connection), connection.open() as client:
        made = client.plan(text, str(site_file))
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
    if not yes and not _interactive():
        _confirm("apply", yes, "")  # refuses before anything is sent
    connection = Connection(context, server, token_file)
    with _talking("apply", connection), connection.open() as client:
        if saved is not None:
            made = saved
        else:
            assert site_file is not None and text is not None
            made = client.plan(text, str(site_file))
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
        )
    if output_format is Format.JSON:
        _print_json(applied)
        return
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
    sys.stdout.write(
        f"Rolled back: revision {result.get('number')} ({_short(result.get('hash'))}) is in "
        f"force, the site of revision {result.get('rollback_of', target)}.\n"
    )


# explain (live), journal


def explain_live(
    evse: str,
    output_format: Format,
    context: str | None,
    server: str | None,
    token_file: Path | None,
) -> None:
    """``depotctl explain EVSE`` without ``--snapshot``: ask the controller."""
    connection = Connection(context, server, token_file)
    with _talking("explain", connection), connection.open() as client:
        explained = client.explain(evse)
    if output_format is Format.JSON:
        _print_json(explained)
        return
    sys.stdout.write(explain_text(explained))


def explain_text(explained: Json) -> str:
    evse = explained.get("evse", {})
    revision = explained.get("revision") or {}
    binding = evse.get("binding") or {}
    lines = [
        f"Explanation at {explained.get('at') or explained.get('time')}, site "
        f"{(explained.get('site') or {}).get('name')} revision {revision.get('number')} "
        f"({_short(revision.get('hash'))}), live",
        "",
        f"EVSE {evse.get('id')} on charger {evse.get('charger')}, under {evse.get('parent')}",
        f"  state    {evse.get('state')}"
        + (f", session {evse['session_id']}" if evse.get("session_id") else ""),
        f"  limit    {_amount(evse.get('limit_a'), 'A')} per line = "
        f"{_amount(evse.get('limit_kw'), 'kW')}",
        f"  binding  {binding.get('kind')} {binding.get('ref') or ''}".rstrip(),
        f"           {binding.get('detail', '')}",
        "",
        "Candidate limits, from the EVSE up to the grid connection",
    ]
    rows = []
    for candidate in evse.get("candidates", []):
        slack = candidate.get("slack_a")
        rows.append(
            (
                "▶" if candidate.get("binding") else " ",
                str(candidate.get("what")),
                str(candidate.get("limit")),
                str(candidate.get("source")),
                f"{slack:+,.1f} A" if isinstance(slack, int | float) else "—",
                "binding" if candidate.get("binding") else "",
            )
        )
    widths = [max((len(row[i]) for row in rows), default=0) for i in range(6)]
    for row in rows:
        cells = [
            cell.rjust(widths[i]) if i == 4 else cell.ljust(widths[i]) for i, cell in enumerate(row)
        ]
        lines.append(("  " + "  ".join(cells)).rstrip())
    return "\n".join(lines) + "\n"


def _instant(command: str, flag: str, text: str, now: datetime, *, back: bool) -> datetime:
    """An ISO 8601 time with a zone, or a duration (``2h``) before (``back``) or after
    the controller's ``now``."""
    from depotctl.domain.quantity import Duration, QuantityError

    try:
        seconds = Duration.parse(text).seconds
    except QuantityError as error:
        try:
            instant = datetime.fromisoformat(text)
        except ValueError:
            raise _fail(
                command, f"{flag} {text!r}: {error.message} ({error.hint}), or an ISO time", 2
            ) from None
        if instant.utcoffset() is None:
            raise _fail(command, f"{flag} {text!r}: give a time zone (e.g. …Z)", 2) from None
        return instant
    return now - timedelta(seconds=seconds) if back else now + timedelta(seconds=seconds)


def _controller_now(client: ControllerClient) -> datetime:
    return datetime.fromisoformat(str(client.clock()["time"])).astimezone(UTC)


def journal_line(entry: Json) -> str:
    return f"{entry.get('at')}  {entry.get('kind', ''):<20}  {entry.get('message')}"


@app.command()
def journal(
    evse: Annotated[str | None, typer.Option("--evse", help="Only this EVSE's entries.")] = None,
    envelope: Annotated[
        str | None, typer.Option("--envelope", help="Only this envelope's entries.")
    ] = None,
    session: Annotated[
        str | None, typer.Option("--session", help="Only this session's entries.")
    ] = None,
    kind: Annotated[
        str | None, typer.Option("--kind", help="Only this kind (e.g. revision.applied).")
    ] = None,
    since: Annotated[
        str | None,
        typer.Option(
            "--since",
            help="From this long ago on the controller's clock (2h, 30 min), or an ISO time.",
            show_default=False,
        ),
    ] = None,
    follow: Annotated[
        bool,
        typer.Option("--follow", help="Keep printing new entries (every second) until Ctrl-C."),
    ] = False,
    output_format: FormatOption = Format.TEXT,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
) -> None:
    """The controller's journal, oldest first.

    Revisions, envelopes, allocation changes, commands and sessions. With --format
    json: {"entries": [...]}, or one JSON object per line with --follow.

    Exit codes: 0 ok (Ctrl-C ends --follow), 2 usage, 3 the controller cannot be reached.
    """
    connection = Connection(context, server, token_file)
    filters: dict[str, Any] = {"evse": evse, "envelope": envelope, "session": session, "kind": kind}
    with _talking("journal", connection), connection.open() as client:
        start = None
        if since is not None:
            start = _instant("journal", "--since", since, _controller_now(client), back=True)
        entries = client.journal(since=start, **filters)["entries"]
        if not follow:
            if output_format is Format.JSON:
                _print_json({"entries": entries})
            else:
                for entry in entries:
                    sys.stdout.write(journal_line(entry) + "\n")
            return
        _follow(client, entries, start, filters, _emitter(output_format))


def _emitter(output_format: Format) -> Callable[[Json], None]:
    def emit(entry: Json) -> None:
        if output_format is Format.JSON:
            sys.stdout.write(json.dumps(entry, ensure_ascii=False) + "\n")
        else:
            sys.stdout.write(journal_line(entry) + "\n")
        sys.stdout.flush()

    return emit


def _follow(
    client: ControllerClient,
    entries: list[Json],
    start: datetime | None,
    filters: dict[str, Any],
    emit: Callable[[Json], None],
) -> None:
    """Print ``entries``, then poll every second for newer ones (by id) until Ctrl-C."""
    last_id = 0
    last_at = start
    try:
        while True:
            for entry in entries:
                if int(entry.get("id", 0)) > last_id:
                    emit(entry)
                    last_id = int(entry["id"])
                    last_at = datetime.fromisoformat(str(entry["at"]))
            time.sleep(1.0)
            entries = client.journal(since=last_at, after_id=last_id, **filters)["entries"]
    except KeyboardInterrupt:
        return


# envelopes, requirements


envelopes_app = typer.Typer(
    name="envelopes",
    help="Operating envelopes on the controller: list (default), submit, withdraw.",
    invoke_without_command=True,
    context_settings={"help_option_names": ["--help"]},
)
app.add_typer(envelopes_app, name="envelopes")


@envelopes_app.callback()
def _envelopes(
    ctx: typer.Context,
    output_format: FormatOption = Format.TEXT,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
) -> None:
    """Operating envelopes: list them (the default), submit one, withdraw one."""
    if ctx.invoked_subcommand is None:
        envelopes_list(output_format, context, server, token_file)


@envelopes_app.command("list")
def envelopes_list(
    output_format: FormatOption = Format.TEXT,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
) -> None:
    """Every envelope with its state now, and the envelope sources' health.

    Exit codes: 0 ok, 2 usage, 3 the controller cannot be reached.
    """
    connection = Connection(context, server, token_file)
    with _talking("envelopes list", connection), connection.open() as client:
        listed = client.envelopes()
    if output_format is Format.JSON:
        _print_json(listed)
        return
    rows = [
        (
            str(e.get("id")),
            str(e.get("state")),
            f"{e.get('direction')} {e.get('limit')}",
            str(e.get("target")),
            str(e.get("start")),
            str(e.get("end") or "open-ended"),
            str(e.get("source")),
        )
        for e in listed.get("envelopes", [])
    ]
    if not rows:
        sys.stdout.write("no envelopes\n")
    else:
        _table(("id", "state", "limit", "target", "start", "end", "source"), rows)
    for source in listed.get("sources", []):
        online = "online" if source.get("online") else "offline"
        sys.stdout.write(
            f"source {source.get('id')}: {online}, last heard {source.get('last_heard')}\n"
        )


@envelopes_app.command("submit")
def envelopes_submit(
    envelope_id: Annotated[
        str, typer.Option("--id", help="The envelope's id.", show_default=False)
    ],
    target: Annotated[
        str, typer.Option("--target", help="The node it limits (e.g. gc-main).", show_default=False)
    ],
    limit: Annotated[
        str,
        typer.Option(
            "--limit", help="Power or current per phase: 200 kW, 150 A.", show_default=False
        ),
    ],
    start: Annotated[
        str | None,
        typer.Option(
            "--start", help="ISO time, or a duration from now (default: now).", show_default=False
        ),
    ] = None,
    end: Annotated[
        str | None,
        typer.Option(
            "--end",
            help="ISO time, or a duration from now (default: open-ended).",
            show_default=False,
        ),
    ] = None,
    direction: Annotated[str, typer.Option("--direction", help="import or export.")] = "import",
    mode: Annotated[str, typer.Option("--mode", help="normal, or fallback.")] = "normal",
    source: Annotated[str, typer.Option("--source", help="The envelope source.")] = "local",
    output_format: FormatOption = Format.TEXT,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
) -> None:
    """Submit an envelope (times on the controller's clock: --end 2h is two hours from
    its now).

    Exit codes: 0 submitted, 2 usage or a refused envelope, 3 the controller cannot be
    reached or refuses the token, 4 conflict (the id is taken by another envelope).
    """
    connection = Connection(context, server, token_file)
    with _talking("envelopes submit", connection), connection.open() as client:
        now = _controller_now(client)
        body: Json = {
            "id": envelope_id,
            "target": target,
            "limit": limit,
            "direction": direction,
            "mode": mode,
            "source": source,
            "start": (
                _instant("envelopes submit", "--start", start, now, back=False) if start else now
            ).isoformat(),
        }
        if end is not None:
            body["end"] = _instant("envelopes submit", "--end", end, now, back=False).isoformat()
        stored = client.submit_envelope(body)
    if output_format is Format.JSON:
        _print_json(stored)
    else:
        sys.stdout.write(
            f"envelope {stored.get('id')}: {stored.get('state')} ({stored.get('reason')})\n"
        )


@envelopes_app.command("withdraw")
def envelopes_withdraw(
    envelope_id: Annotated[str, typer.Argument(metavar="ENVELOPE", help="The envelope's id.")],
    output_format: FormatOption = Format.TEXT,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
) -> None:
    """Withdraw an envelope from now on.

    Exit codes: 0 withdrawn, 2 no such envelope, 3 the controller cannot be reached.
    """
    connection = Connection(context, server, token_file)
    with _talking("envelopes withdraw", connection), connection.open() as client:
        stored = client.withdraw_envelope(envelope_id)
    if output_format is Format.JSON:
        _print_json(stored)
    else:
        sys.stdout.write(f"envelope {stored.get('id')} withdrawn at {stored.get('withdrawn_at')}\n")


requirements_app = typer.Typer(
    name="requirements",
    help="The fleet's schedule: energy by departure for running sessions: list (default), submit.",
    invoke_without_command=True,
    context_settings={"help_option_names": ["--help"]},
)
app.add_typer(requirements_app, name="requirements")


@requirements_app.callback()
def _requirements(
    ctx: typer.Context,
    output_format: FormatOption = Format.TEXT,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
) -> None:
    """Energy requirements of the running sessions: list them (the default), submit one."""
    if ctx.invoked_subcommand is None:
        requirements_list(output_format, context, server, token_file)


@requirements_app.command("list")
def requirements_list(
    output_format: FormatOption = Format.TEXT,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
) -> None:
    """The open sessions with their energy requirement (energy by departure).

    Exit codes: 0 ok, 2 usage, 3 the controller cannot be reached.
    """
    connection = Connection(context, server, token_file)
    with _talking("requirements list", connection), connection.open() as client:
        listed = client.sessions()
    if output_format is Format.JSON:
        _print_json(listed)
        return
    rows = []
    for s in listed.get("sessions", []):
        requirement = s.get("requirement") or {}
        rows.append(
            (
                str(s.get("id")),
                str(s.get("evse")),
                str(s.get("energy_delivered")),
                str(requirement.get("energy", "—")),
                str(requirement.get("departure", "—")),
                str(requirement.get("source", "site default")),
            )
        )
    if not rows:
        sys.stdout.write("no open sessions\n")
        return
    _table(("session", "evse", "delivered", "needs", "departure", "from"), rows)


@requirements_app.command("submit")
def requirements_submit(
    session: Annotated[str, typer.Argument(metavar="SESSION", help="The running session's id.")],
    energy: Annotated[
        str,
        typer.Option("--energy", help="Energy in all by departure: 60 kWh.", show_default=False),
    ],
    departure: Annotated[
        str,
        typer.Option(
            "--departure", help="ISO time, or a duration from now (8h).", show_default=False
        ),
    ],
    output_format: FormatOption = Format.TEXT,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
) -> None:
    """Set a running session's requirement: the energy it must have by its departure.

    Exit codes: 0 set, 2 usage or no such session, 3 the controller cannot be reached,
    4 the session has ended.
    """
    connection = Connection(context, server, token_file)
    with _talking("requirements submit", connection), connection.open() as client:
        when = _instant(
            "requirements submit", "--departure", departure, _controller_now(client), back=False
        )
        stored = client.set_requirement(session, {"energy": energy, "departure": when.isoformat()})
    if output_format is Format.JSON:
        _print_json(stored)
    else:
        requirement = stored.get("requirement") or {}
        sys.stdout.write(
            f"session {stored.get('id')} on EVSE {stored.get('evse')}: needs "
            f"{requirement.get('energy')} by {requirement.get('departure')}\n"
        )
