"""``explain EVSE`` live and ``journal``: why a limit is what it is, and what happened."""

from __future__ import annotations

import json
import sys
import time
from collections.abc import Callable
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from depotctl.cli.app import app

if TYPE_CHECKING:
    from depotctl.client.api import ControllerClient, Json


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
    _short,
    _talking,
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
