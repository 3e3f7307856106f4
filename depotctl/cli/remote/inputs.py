"""``envelopes`` and ``requirements``: what operators and the fleet's schedule tell
the controller."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

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
    _amount,
    _controller_now,
    _instant,
    _print_json,
    _table,
    _talking,
)

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
    listed = escaped_answer(listed)
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
        stored = escaped_answer(stored)
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
        stored = escaped_answer(stored)
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
    """The open sessions with their energy requirement (energy by departure), the
    energy each can expect at its departure if its EVSE's limit now holds until
    then, and the shortfall with the constraint that causes it.

    Exit codes: 0 ok, 2 usage, 3 the controller cannot be reached.
    """
    connection = Connection(context, server, token_file)
    with _talking("requirements list", connection), connection.open() as client:
        listed = client.sessions()
    if output_format is Format.JSON:
        _print_json(listed)
        return
    listed = escaped_answer(listed)
    rows = [_requirement_row(s) for s in listed.get("sessions", [])]
    if not rows:
        sys.stdout.write("no open sessions\n")
        return
    _table(
        ("session", "evse", "delivered", "needs", "departure", "from", "expected", "short",
         "outlook"),
        rows,
    )  # fmt: skip
    sys.stdout.write(
        f"expected: the energy at departure if each EVSE's limit at {listed.get('time')} "
        "holds until then\n"
    )


def _requirement_row(s: Json) -> tuple[str, ...]:
    """One session: its requirement (the site's default when it states none), and its
    outlook at departure with the cause of a shortfall in words."""
    requirement = s.get("requirement") or {}
    outlook = s.get("outlook")
    if outlook is None:
        return (
            str(s.get("id")),
            str(s.get("evse")),
            str(s.get("energy_delivered")),
            str(requirement.get("energy", "—")),
            str(requirement.get("departure", "—")),
            str(requirement.get("source", "site default")),
            "—",
            "—",
            "no outlook: the site in force has no such EVSE",
        )
    source = outlook.get("requirement_source")
    return (
        str(s.get("id")),
        str(s.get("evse")),
        str(s.get("energy_delivered")),
        _kwh(outlook.get("required_energy_wh")),
        str(outlook.get("departure")),
        "site default" if source == "default" else str(source),
        _kwh(outlook.get("expected_energy_wh")),
        _kwh(outlook.get("shortfall_wh")) if not outlook.get("on_track") else "—",
        _outlook_words(outlook),
    )


def _outlook_words(outlook: Json) -> str:
    """``on track, complete at …``, or what keeps it short (``overdue`` first when its
    departure has passed)."""
    if outlook.get("on_track"):
        words = f"on track, complete at {outlook.get('complete_at')}"
        return ("overdue; " if outlook.get("overdue") else "") + words
    constraint = outlook.get("constraint") or {}
    cause = str(constraint.get("detail") or constraint.get("kind") or "short")
    return ("overdue; " if outlook.get("overdue") else "") + cause


def _kwh(wh: object) -> str:
    return _amount(wh / 1000.0 if isinstance(wh, int | float) else wh, "kWh")


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
        stored = escaped_answer(stored)
        requirement = stored.get("requirement") or {}
        sys.stdout.write(
            f"session {stored.get('id')} on EVSE {stored.get('evse')}: needs "
            f"{requirement.get('energy')} by {requirement.get('departure')}\n"
        )
