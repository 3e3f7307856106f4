"""``override``: an operator's hold on one EVSE — pause it, cap it, resume it — and the
list of those in force.

Every change asks first (``--yes`` skips the question; without a terminal the command
refuses, exit 2, rather than guess), names the EVSE's state now in the question, and
is sent with the local user as its author, so the journal says who did it. An EVSE
has at most one override: ``pause`` and ``cap`` replace it, ``resume`` removes it.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from depotctl.cli.app import app
from depotctl.cli.remote._common import (
    Connection,
    ContextOption,
    Format,
    FormatOption,
    ServerOption,
    TokenFileOption,
    YesOption,
    _author,
    _confirm,
    _fail,
    _print_json,
    _table,
    _talking,
)
from depotctl.client.terminal_text import escaped_answer

if TYPE_CHECKING:
    from depotctl.client.api import ControllerClient, Json

EvseArgument = Annotated[
    str, typer.Argument(metavar="EVSE", help='The EVSE, "<charger id>/<evse id>" like dc-01/1.')
]
ReasonOption = Annotated[
    str | None,
    typer.Option(
        "--reason",
        help="Why, in a few words (journaled, and shown in explain).",
        show_default=False,
    ),
]

override_app = typer.Typer(
    name="override",
    help="Operator overrides of EVSEs: list (default), pause, resume, cap.",
    invoke_without_command=True,
    context_settings={"help_option_names": ["--help"]},
)
app.add_typer(override_app, name="override")


@override_app.callback()
def _override(
    ctx: typer.Context,
    output_format: FormatOption = Format.TEXT,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
) -> None:
    """Operator overrides: list them (the default), pause an EVSE, cap it, resume it."""
    if ctx.invoked_subcommand is None:
        override_list(output_format, context, server, token_file)


@override_app.command("list")
def override_list(
    output_format: FormatOption = Format.TEXT,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
) -> None:
    """Every override in force.

    With who set it, when and why, and the EVSE's limit now.

    Exit codes: 0 ok, 2 usage, 3 the controller cannot be reached or refuses the token.
    """
    connection = Connection(context, server, token_file)
    with _talking("override list", connection), connection.open() as client:
        listed = client.overrides()
    if output_format is Format.JSON:
        _print_json(listed)
        return
    overrides = escaped_answer(listed).get("overrides", [])
    if not overrides:
        sys.stdout.write("no overrides: every EVSE is as the allocator decides\n")
        return
    rows = []
    for override in overrides:
        allocation = override.get("allocation") or {}
        rows.append(
            (
                str(override.get("evse")),
                _what(override),
                f"{_limit(allocation)} ({allocation.get('state', 'unknown')})",
                str(override.get("author")),
                str(override.get("set_at")),
                str(override.get("reason") or ""),
            )
        )
    _table(("EVSE", "override", "limit now", "by", "since", "reason"), rows)


@override_app.command("pause")
def override_pause(
    evse: EvseArgument,
    reason: ReasonOption = None,
    yes: YesOption = False,
    output_format: FormatOption = Format.TEXT,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
) -> None:
    """Pause an EVSE: 0 A until it is resumed.

    Whatever its session needs; an EVSE without a session is held from its next one.

    Exit codes: 0 paused (or already), 2 usage (an unknown EVSE, no --yes without a
    terminal), 3 the controller cannot be reached or refuses the token.
    """
    _set("pause", evse, True, None, reason, yes, output_format, context, server, token_file)


@override_app.command("cap")
def override_cap(
    evse: EvseArgument,
    current: Annotated[
        str,
        typer.Argument(metavar="CURRENT", help="At most this current per line: 16A, 16 A."),
    ],
    reason: ReasonOption = None,
    yes: YesOption = False,
    output_format: FormatOption = Format.TEXT,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
) -> None:
    """Cap an EVSE at a current per line until it is resumed.

    A cap below the EVSE's minimum current pauses its session; one looser than what the
    site allows changes nothing.

    Exit codes: 0 capped (or already), 2 usage (a current without its unit, an unknown
    EVSE, no --yes without a terminal), 3 the controller cannot be reached or refuses
    the token.
    """
    from depotctl.domain.quantity import Current, QuantityError

    try:
        amps = Current.parse(current)
    except QuantityError as error:
        raise _fail("override cap", f"{current!r}: {error.message} ({error.hint})", 2) from None
    if amps.base < 0:
        raise _fail("override cap", f"{current!r}: a cap is 0 A or more", 2)
    _set("cap", evse, False, str(amps), reason, yes, output_format, context, server, token_file)


@override_app.command("resume")
def override_resume(
    evse: EvseArgument,
    yes: YesOption = False,
    output_format: FormatOption = Format.TEXT,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
) -> None:
    """Resume an EVSE: remove its pause or cap.

    The allocator decides its limit again, from the next control cycle (at once).

    Exit codes: 0 resumed (or it had no override), 2 usage (an unknown EVSE, no --yes
    without a terminal), 3 the controller cannot be reached or refuses the token.
    """
    from depotctl.client.api import ApiError

    command = "override resume"
    connection = Connection(context, server, token_file)
    with _talking(command, connection), connection.open() as client:
        now = _evse_now(client, evse)
        held = now.get("override")
        if held is None:
            _nothing_to_resume(evse, output_format)
            return
        _confirm(
            command,
            yes,
            f"Resume EVSE {evse} ({_what(held)} by {held.get('author')}"
            f"{_why(held)}; {_state(now)})?",
        )
        try:
            result = client.clear_override(evse, author=_author())
        except ApiError as error:
            if error.code != "no_override":
                raise
            _nothing_to_resume(evse, output_format)  # someone resumed it meanwhile
            return
    if output_format is Format.JSON:
        _print_json(result)
        return
    allocation = escaped_answer(result).get("allocation") or {}
    sys.stdout.write(f"EVSE {evse} resumed; {_outcome(allocation)}\n")


# Shared


def _set(
    verb: str,
    evse: str,
    paused: bool,
    cap: str | None,
    reason: str | None,
    yes: bool,
    output_format: Format,
    context: str | None,
    server: str | None,
    token_file: Path | None,
) -> None:
    command = f"override {verb}"
    connection = Connection(context, server, token_file)
    with _talking(command, connection), connection.open() as client:
        now = _evse_now(client, evse)
        held = now.get("override")
        replaces = f"; replaces its {_what(held)} by {held.get('author')}" if held else ""
        action = "Pause" if paused else f"Cap at {cap}"
        _confirm(command, yes, f"{action} EVSE {evse} ({_state(now)}{replaces})?")
        result = client.set_override(evse, paused=paused, cap=cap, reason=reason, author=_author())
    if output_format is Format.JSON:
        _print_json(result)
        return
    result = escaped_answer(result)
    override = result.get("override") or {}
    allocation = result.get("allocation") or {}
    if not result.get("changed", True):
        sys.stdout.write(
            f"EVSE {evse} is already {_what(override)} (by {override.get('author')} since "
            f"{override.get('set_at')}): nothing changed; {_outcome(allocation)}\n"
        )
        return
    sys.stdout.write(
        f"EVSE {evse} {_what(override)} by {override.get('author')}{_why(override)}; "
        f"{_outcome(allocation)}\n"
    )


def _evse_now(client: ControllerClient, evse: str) -> Json:
    """The EVSE as the controller sees it now (a 404 with the likely id if unknown),
    safe to put into words (its override's author and reason escaped)."""
    explained: Json = escaped_answer(client.explain(evse).get("evse", {}))
    return explained


def _nothing_to_resume(evse: str, output_format: Format) -> None:
    if output_format is Format.JSON:
        _print_json({"override": None, "changed": False, "evse": evse})
    else:
        sys.stdout.write(f"EVSE {evse} has no override: nothing to resume\n")


def _what(override: Any) -> str:
    if not isinstance(override, dict):
        return "override"
    if override.get("paused"):
        return "paused"
    cap = override.get("cap")
    if cap is None and isinstance(override.get("cap_a"), int | float):
        cap = f"{override['cap_a']:g} A"
    return f"capped at {cap}"


def _why(override: Any) -> str:
    reason = override.get("reason") if isinstance(override, dict) else None
    return f': "{reason}"' if reason else ""


def _limit(allocation: Json) -> str:
    limit = allocation.get("limit_a")
    return f"{limit:.1f} A" if isinstance(limit, int | float) else "—"


def _state(view: Json) -> str:
    state = view.get("state", "unknown")
    session = f", session {view['session_id']}" if view.get("session_id") else ""
    return f"{state} at {_limit(view)}{session}"


def _outcome(allocation: Json) -> str:
    """``its limit is now 0.0 A (paused: paused by operator (…))``."""
    if not allocation:
        return "its limit is decided at the next control cycle"
    binding = allocation.get("binding") or {}
    detail = binding.get("detail")
    state = allocation.get("state", "unknown")
    if state == "idle":
        return f"its limit is now {_limit(allocation)} (idle: the override holds from its next session)"
    return f"its limit is now {_limit(allocation)} ({state}: {detail})"
