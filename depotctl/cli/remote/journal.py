"""``explain EVSE`` live and ``journal``: why a limit is what it is, and what happened."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Annotated, Any

import typer

from depotctl.cli.app import app
from depotctl.cli.parameters import OutputFormat, bare_option
from depotctl.cli.remote.connection import Remote, flag_instant, remote_options, site_clock
from depotctl.cli.remote.terminal import json_value
from depotctl.cli.render_explain import explain_text
from depotctl.client.figures import for_people, instant_text
from depotctl.client.terminal_text import escaped_model, terminal_json

if TYPE_CHECKING:
    from depotctl.api import JournalEntry
    from depotctl.client.api import ControllerClient

# explain (live), journal


def explain_live(evse: str, remote: Remote) -> None:
    """``depotctl explain EVSE`` without ``--snapshot``: ask the controller."""
    with remote.client("explain") as client:
        explained = client.explain(evse)
    if remote.printed_json(explained):
        return
    color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
    # the same text as offline, from the same JSON
    sys.stdout.write(explain_text(json_value(explained), color=color))


def journal_line(entry: JournalEntry, zone: tzinfo) -> str:
    """``AT  KIND  MESSAGE``, the time in the site's ``zone`` with its offset, the
    controller's text escaped."""
    entry = escaped_model(entry)
    message = for_people(entry.message, zone, entry.at)
    return f"{instant_text(entry.at, zone)}  {entry.kind:<20}  {message}"


def _entries_of(flag: str, subject: str) -> Any:
    """``flag SUBJECT``: only the journal's entries about this ``subject``."""
    return typer.Option(flag, metavar=subject.upper(), help=f"Only this {subject}'s entries.")


@app.command()
@remote_options
def journal(
    evse: Annotated[str | None, _entries_of("--evse", "EVSE")] = None,
    envelope: Annotated[str | None, _entries_of("--envelope", "envelope")] = None,
    session: Annotated[str | None, _entries_of("--session", "session")] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", metavar="KIND", help="Only this kind (e.g. revision.applied)."),
    ] = None,
    since: Annotated[
        str | None,
        bare_option(
            "--since",
            metavar="TIME",
            help="From this time on: 2h (ago, on the controller's clock), 02:14 or "
            '"yesterday 02:14" (site time), "2026-12-07 18:30", or ISO 8601 with an offset.',
        ),
    ] = None,
    follow: Annotated[
        bool,
        typer.Option("--follow", help="Keep printing new entries (every second) until Ctrl-C."),
    ] = False,
    *,
    remote: Remote,
) -> None:
    """The controller's journal, oldest first.

    Revisions, envelopes, allocation changes, commands and sessions. With --format
    json: `{"entries": [...]}`, or one JSON object per line with --follow.

    Exit codes: 0 ok (Ctrl-C ends --follow), 2 usage, 3 the controller cannot be reached.

    **Examples**

    ```
    depotctl journal --since 8h --kind charger.refused
    depotctl journal --evse dc-01/1 --since "yesterday 18:00"
    depotctl journal --kind revision.applied --format json
    depotctl journal --follow --context depot
    ```
    """
    filters: dict[str, Any] = {"evse": evse, "envelope": envelope, "session": session, "kind": kind}
    with remote.client("journal") as client:
        clock = site_clock(client)
        start = None
        if since is not None:
            start = flag_instant("journal", "--since", since, clock, ahead=False)
        page = client.journal(since=start, **filters)
        entries = page.entries
        if not follow:
            if not remote.printed_json(page):
                for entry in entries:
                    sys.stdout.write(journal_line(entry, clock.zone) + "\n")
            return
        _follow(client, entries, start, filters, _emitter(remote.output_format, clock.zone))


def _emitter(output_format: OutputFormat, zone: tzinfo) -> Callable[[JournalEntry], None]:
    def emit(entry: JournalEntry) -> None:
        if output_format is OutputFormat.JSON:
            sys.stdout.write(terminal_json(json_value(entry), indent=None) + "\n")
        else:
            sys.stdout.write(journal_line(entry, zone) + "\n")
        sys.stdout.flush()

    return emit


def _follow(
    client: ControllerClient,
    entries: list[JournalEntry],
    start: datetime | None,
    filters: dict[str, Any],
    emit: Callable[[JournalEntry], None],
) -> None:
    """Print ``entries``, then poll every second for newer ones (by id) until Ctrl-C."""
    last_id = 0
    last_at = start
    try:
        while True:
            for entry in entries:
                if entry.id > last_id:
                    emit(entry)
                    last_id, last_at = entry.id, entry.at
            time.sleep(1.0)
            entries = client.journal(since=last_at, after_id=last_id, **filters).entries
    except KeyboardInterrupt:
        return
