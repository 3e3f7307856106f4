"""``chargers``: every charger as the controller sees it — online, controllable or why
not, its fallback, the last limit it accepted."""

from __future__ import annotations

import sys
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Annotated

import typer

from depotctl.cli.app import app
from depotctl.cli.remote.connection import Remote, remote_options
from depotctl.cli.remote.terminal import table
from depotctl.client.figures import amount, for_people, instant_text, zone_named

if TYPE_CHECKING:
    from depotctl.api import Charger


@app.command()
@remote_options
def chargers(
    uncontrollable: Annotated[
        bool, typer.Option("--uncontrollable", help="Only those the controller cannot command.")
    ] = False,
    *,
    remote: Remote,
) -> None:
    """Every charger of the site as the controller sees it.

    Online, controllable (if not: since when, and why), its fallback
    profile accepted or not, the last limit it accepted. With --format
    json: the API's answer (GET /api/v1/chargers), with --uncontrollable
    only the chargers the controller cannot command.

    Exit codes: 0 ok, 2 usage, 3 the controller cannot be reached or refuses the token.

    **Examples**

    ```
    depotctl chargers --context depot
    depotctl chargers --context depot --uncontrollable
    depotctl chargers --uncontrollable --format json
    ```
    """
    with remote.client("chargers") as client:
        listed = client.chargers()
    total = len(listed.chargers)
    if uncontrollable:
        kept = [c for c in listed.chargers if not c.controllable]
        listed = listed.model_copy(update={"chargers": kept})
    shown = remote.in_words(listed)
    if shown is None:
        return
    zone = zone_named(shown.timezone)
    rows = [_row(charger, zone, shown.time) for charger in shown.chargers]
    if rows:
        header = ("charger", "online", "controllable", "fallback", "last accepted", "since", "why")
        table(header, rows)
    sys.stdout.write(f"{total} chargers, {shown.uncontrollable} uncontrollable\n")


def _row(charger: Charger, zone: tzinfo, now: datetime) -> tuple[str, ...]:
    return (
        charger.id,
        "yes" if charger.online else "no",
        "yes" if charger.controllable else "NO",
        "accepted" if charger.fallback_accepted else "not accepted",
        amount(charger.last_accepted_limit_a, "A"),
        instant_text(charger.since, zone, ""),
        for_people(charger.reason or "", zone, now),
    )
