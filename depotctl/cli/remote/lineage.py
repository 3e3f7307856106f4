"""``lineage SUBJECT``: where the limits of an EVSE's, a session's or a vehicle's
sessions came from and how each ended, or what an envelope cost each EVSE."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from depotctl.cli.app import app
from depotctl.cli.remote.connection import Remote, flag_instant, remote_options, site_clock
from depotctl.cli.remote.journal import _time_option
from depotctl.client.terminal_text import escaped_model


@app.command()
@remote_options
def lineage(
    subject: Annotated[
        str,
        typer.Argument(
            metavar="SUBJECT",
            help="An EVSE (chg-01/1), a session id, a vehicle (bus-42) or an envelope id.",
            show_default=False,
        ),
    ],
    since: Annotated[str | None, _time_option("--since", "From this time on")] = None,
    until: Annotated[str | None, _time_option("--until", "Before this time (default: now)")] = None,
    *,
    remote: Remote,
) -> None:
    """Where a subject's limits came from, in the site's time with its offset.

    For an EVSE, a session or a vehicle: each session's arrival, every limit change
    with its binding constraint (the envelope, node or policy behind it), the energy
    delivered against its need, and its outcome (met, or short by X kWh because of
    what held it longest). For an envelope: every EVSE it limited, how long, and the
    energy that cost each, estimated from the limits (docs/lineage.md). With --format
    json: the controller's answer, times in UTC.

    Exit codes: 0 ok, 2 usage or a subject the controller does not know, 3 the
    controller cannot be reached.

    **Examples**

    ```
    depotctl lineage bus-42 --since "yesterday 18:00"
    depotctl lineage dc-01/1 --since 12h --until 06:00
    depotctl lineage dnsp-cut-0212 --format json
    ```
    """
    with remote.client("lineage") as client:
        clock = site_clock(client)
        start = (
            None if since is None else flag_instant("lineage", "--since", since, clock, ahead=False)
        )
        end = (
            None if until is None else flag_instant("lineage", "--until", until, clock, ahead=False)
        )
        found = client.lineage(subject, since=start, until=end)
    if remote.printed_json(found):
        return
    for line in escaped_model(found).text:
        sys.stdout.write(line + "\n")
