"""``explain EVSE`` live and ``journal``: why a limit is what it is, and what happened."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Iterator
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Annotated, Any

import typer

from depotctl.cli.app import app
from depotctl.cli.failures import fail
from depotctl.cli.parameters import OutputFormat, bare_option
from depotctl.cli.remote.connection import Remote, flag_instant, remote_options, site_clock
from depotctl.cli.remote.past import in_site_time
from depotctl.cli.remote.terminal import json_value
from depotctl.cli.render_explain import explain_text
from depotctl.client.figures import for_people, instant_text
from depotctl.client.terminal_text import escaped_model, terminal_json

if TYPE_CHECKING:
    from depotctl.api import Journal, JournalEntry
    from depotctl.client.api import ControllerClient

# explain (live), journal


def explain_live(evse: str, remote: Remote) -> None:
    """``depotctl explain EVSE`` without ``--snapshot``: ask the controller."""
    with remote.client("explain") as client, in_site_time(site_clock(client)):
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


def _time_option(flag: str, help_text: str) -> Any:
    """``flag TIME``, read by the one time parser (``docs/times.md``)."""
    return bare_option(
        flag,
        metavar="TIME",
        help=f"{help_text}: 2h (ago, on the controller's clock), 02:14 or "
        '"yesterday 02:14" (site time), "2026-12-07 18:30", or ISO 8601 with an offset.',
    )


#: Entries printed without --limit or --all.
DEFAULT_LIMIT = 200
#: The most entries one request asks for (the controller's most per page).
PAGE = 10_000


@app.command()
@remote_options
def journal(
    evse: Annotated[str | None, _entries_of("--evse", "EVSE")] = None,
    node: Annotated[
        str | None,
        typer.Option(
            "--node",
            metavar="NODE",
            help="Only entries about this node or what is under it: its EVSEs and "
            "chargers, envelopes on it, alerts about it.",
        ),
    ] = None,
    envelope: Annotated[str | None, _entries_of("--envelope", "envelope")] = None,
    session: Annotated[str | None, _entries_of("--session", "session")] = None,
    vehicle: Annotated[
        str | None,
        typer.Option(
            "--vehicle",
            metavar="VEHICLE",
            help="Only entries about this vehicle's sessions (bus-42): their starts, "
            "limits, requirements and ends.",
        ),
    ] = None,
    kind: Annotated[
        str | None,
        typer.Option("--kind", metavar="KIND", help="Only this kind (e.g. revision.applied)."),
    ] = None,
    since: Annotated[str | None, _time_option("--since", "From this time on")] = None,
    until: Annotated[str | None, _time_option("--until", "Before this time")] = None,
    limit: Annotated[
        int | None,
        bare_option(
            "--limit",
            metavar="N",
            min=1,
            max=PAGE,
            help=f"At most N entries, the oldest (default {DEFAULT_LIMIT}); how many more "
            "there are is said on stderr.",
        ),
    ] = None,
    every: Annotated[
        bool, typer.Option("--all", help="Every matching entry, page after page.")
    ] = False,
    follow: Annotated[
        bool,
        typer.Option(
            "--follow",
            help="Print every matching entry, then new ones (every second) until Ctrl-C.",
        ),
    ] = False,
    *,
    remote: Remote,
) -> None:
    """The controller's journal, oldest first, in the site's time with its offset.

    Revisions, envelopes, allocation changes, commands and sessions. At most --limit
    entries (200 unless given); when more match, stderr says how many and how to get
    them (--all, or the --since of the next one). With --format json: the page,
    `{"entries": [...], "next": CURSOR, "remaining": N, "next_at": TIME}` (UTC), or
    one JSON object per line with --follow.

    Exit codes: 0 ok (Ctrl-C ends --follow), 2 usage, 3 the controller cannot be reached.

    **Examples**

    ```
    depotctl journal --since 8h --kind charger.refused
    depotctl journal --evse dc-01/1 --since "yesterday 18:00" --all
    depotctl journal --since "2026-12-07 18:30" --until "06:00" --limit 50
    depotctl journal --node db-dc-north --since 8h --all
    depotctl journal --vehicle bus-42 --since "yesterday 18:00" --all
    depotctl journal --kind revision.applied --format json
    depotctl journal --follow --context depot
    ```
    """
    if every and limit is not None:
        raise fail("journal", "--all and --limit: give one (--all prints every entry)", 2)
    if follow and until is not None:
        raise fail("journal", "--follow and --until: --follow prints until Ctrl-C; drop one", 2)
    filters: dict[str, Any] = {
        "evse": evse,
        "node": node,
        "envelope": envelope,
        "session": session,
        "vehicle": vehicle,
        "kind": kind,
    }
    with remote.client("journal") as client:
        clock = site_clock(client)
        start = None
        if since is not None:
            start = flag_instant("journal", "--since", since, clock, ahead=False)
        if until is not None:
            filters |= {"until": flag_instant("journal", "--until", until, clock, ahead=False)}
        if follow:
            first = _every_entry(client, start, filters)
            _follow(client, first, start, filters, _emitter(remote.output_format, clock.zone))
        elif every:
            _print_every(client, start, filters, remote, clock.zone)
        else:
            page = client.journal(since=start, limit=limit or DEFAULT_LIMIT, **filters)
            if not remote.printed_json(page):
                for entry in page.entries:
                    sys.stdout.write(journal_line(entry, clock.zone) + "\n")
            _say_more(page, clock.zone)


def _say_more(page: Journal, zone: tzinfo) -> None:
    """``… 2,712 more: --all, or --since "…"`` on stderr when the page is not all."""
    if page.next is None:
        return
    since = f' or --since "{instant_text(page.next_at, zone)}"' if page.next_at else ""
    more = (
        f"… {page.remaining:,} more: --all,{since}"
        if since
        else f"… {page.remaining:,} more: --all"
    )
    sys.stderr.write(more + "\n")


def _pages(
    client: ControllerClient, start: datetime | None, filters: dict[str, Any]
) -> Iterator[Journal]:
    """Every page of the entries matching ``filters`` from ``start``, in order."""
    cursor: str | None = None
    while True:
        page = client.journal(since=start, cursor=cursor, limit=PAGE, **filters)
        yield page
        if page.next is None:
            return
        cursor = page.next


def _every_entry(
    client: ControllerClient, start: datetime | None, filters: dict[str, Any]
) -> list[JournalEntry]:
    return [entry for page in _pages(client, start, filters) for entry in page.entries]


def _print_every(
    client: ControllerClient,
    start: datetime | None,
    filters: dict[str, Any],
    remote: Remote,
    zone: tzinfo,
) -> None:
    """``--all``: every page, printed as it comes (JSON: one page of them all)."""
    if remote.output_format is OutputFormat.JSON:
        remote.printed_json(
            {
                "entries": [json_value(e) for e in _every_entry(client, start, filters)],
                "next": None,
                "remaining": 0,
                "next_at": None,
            }
        )
        return
    for page in _pages(client, start, filters):
        for entry in page.entries:
            sys.stdout.write(journal_line(entry, zone) + "\n")


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
    """Print ``entries``, then poll every second for the ones appended since (ids grow
    as entries are committed; each poll's in time order) until Ctrl-C."""
    last_id = 0
    try:
        while True:
            for entry in entries:
                emit(entry)
                last_id = max(last_id, entry.id)
            time.sleep(1.0)
            entries = _every_entry(client, start, {**filters, "after_id": last_id})
    except KeyboardInterrupt:
        return
