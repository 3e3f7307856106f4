"""``envelopes`` and ``requirements``: what operators and the fleet's schedule tell
the controller."""

from __future__ import annotations

import sys
from datetime import timedelta
from typing import TYPE_CHECKING, Annotated, Any

import typer

from depotctl.cli.failures import fail
from depotctl.cli.parameters import bare_option
from depotctl.cli.remote.connection import (
    Remote,
    SiteClock,
    flag_instant,
    listing_group,
    lists_answer,
    remote_options,
    site_clock,
)
from depotctl.cli.remote.terminal import table
from depotctl.client.figures import DASH, kwh, rounded
from depotctl.domain.quantity import Dimension, QuantityError, parse_quantity

if TYPE_CHECKING:
    from depotctl.api import Envelopes, EnvelopeSource, Session, Sessions

# envelopes, requirements


envelopes_app = listing_group(
    "envelopes", "Operating envelopes on the controller: list (default), submit, withdraw."
)


@lists_answer(envelopes_app, "envelopes list", lambda client: client.envelopes())
def envelopes_list(listed: Envelopes, clock: SiteClock) -> None:
    """Every envelope with its state now, and the envelope sources' health.

    Exit codes: 0 ok, 2 usage, 3 the controller cannot be reached.

    **Examples**

    ```
    depotctl envelopes --context depot
    depotctl envelopes list --context depot --format json
    ```
    """
    rows = [
        (
            e.id,
            e.state,
            f"{e.direction} {rounded(e.limit)}",
            e.target,
            clock.text(e.start),
            clock.text(e.end, "open-ended"),
            e.source,
        )
        for e in listed.envelopes
    ]
    if not rows:
        sys.stdout.write("no envelopes\n")
    else:
        table(("id", "state", "limit", "target", "start", "end", "source"), rows)
    for source in listed.sources:
        sys.stdout.write(f"source {source.id}: {_source_words(source, clock)}\n")


def _source_words(source: EnvelopeSource, clock: SiteClock) -> str:
    """``online until 18:35:00+11:00, last heard 18:30:00+11:00; OSCP registered …``."""
    if source.online:
        health = "online" + (f" until {clock.text(source.offline_at)}" if source.offline_at else "")
    else:
        health = "offline" + (
            f" since {clock.text(source.offline_at)}" if source.offline_at else ""
        )
    words = f"{health}, last heard {clock.text(source.last_heard, 'never')}"
    link = source.oscp
    if link is None:
        return words
    if link.registered_at is not None:
        words += f"; OSCP registered {clock.text(link.registered_at)}"
    elif link.awaiting_register:
        words += "; OSCP registering (waiting for the provider's register)"
    else:
        words += "; OSCP not registered"
    if link.waiting:
        words += f", {link.waiting} message{'s' if link.waiting != 1 else ''} waiting"
        if link.last_error:
            words += f" (last failure: {link.last_error})"
    return words


def _window_edge(flag: str, default: str) -> Any:
    """``flag TIME``: where an envelope's window starts or ends (``default`` when not
    given), on the controller's clock."""
    return bare_option(
        flag,
        metavar="TIME",
        help="A time (site time, or ISO 8601 with an offset), or a span from now: 2h "
        f"(default: {default}).",
    )


@envelopes_app.command("submit")
@remote_options
def envelopes_submit(
    envelope_id: Annotated[str, bare_option("--id", metavar="ID", help="The envelope's id.")],
    target: Annotated[
        str, bare_option("--target", metavar="NODE", help="The node it limits (e.g. gc-main).")
    ],
    limit: Annotated[
        str,
        bare_option("--limit", metavar="LIMIT", help="Power or current per phase: 200 kW, 150 A."),
    ],
    start: Annotated[str | None, _window_edge("--start", "now")] = None,
    end: Annotated[str | None, _window_edge("--end", "open-ended")] = None,
    direction: Annotated[
        str, typer.Option("--direction", metavar="import|export", help="import or export.")
    ] = "import",
    mode: Annotated[
        str, typer.Option("--mode", metavar="normal|fallback", help="normal, or fallback.")
    ] = "normal",
    source: Annotated[
        str, typer.Option("--source", metavar="SOURCE", help="The envelope source.")
    ] = "local",
    *,
    remote: Remote,
) -> None:
    """Submit an envelope (times on the controller's clock: --end 2h is two hours from
    its now).

    Exit codes: 0 submitted, 2 usage or a refused envelope, 3 the controller cannot be
    reached or refuses the token, 4 conflict (the id is taken by another envelope).

    **Examples**

    ```
    depotctl envelopes submit --id E-17 --target gc-main --limit 300kW --end 2h
    depotctl envelopes submit --id cut-1 --target gc-main --limit "200 kW" \\
        --start 17:00 --end 21:00 --context depot
    ```
    """
    command = "envelopes submit"
    with remote.client(command) as client:
        clock = site_clock(client)
        stored = client.submit_envelope(
            envelope_id=envelope_id,
            target=target,
            limit=limit,
            direction=direction,
            mode=mode,
            source=source,
            start=flag_instant(command, "--start", start, clock, ahead=True)
            if start
            else clock.now,
            end=flag_instant(command, "--end", end, clock, ahead=True) if end is not None else None,
        )
    told = remote.in_words(stored)
    if told is not None:
        sys.stdout.write(f"envelope {told.id}: {told.state} ({clock.words(told.reason)})\n")


@envelopes_app.command("adjust")
@remote_options
def envelopes_adjust(
    source: Annotated[str, typer.Argument(metavar="SOURCE", help="The OSCP envelope source.")],
    capacity: Annotated[
        str,
        bare_option(
            "--capacity", metavar="LIMIT", help="Power, or current per phase: 900 kW, 1300 A."
        ),
    ],
    start: Annotated[str | None, _window_edge("--start", "now")] = None,
    end: Annotated[str | None, _window_edge("--end", "in one hour")] = None,
    kind: Annotated[
        str,
        typer.Option(
            "--type", metavar="TYPE", help="The forecast type: CONSUMPTION, GENERATION, …"
        ),
    ] = "CONSUMPTION",
    *,
    remote: Remote,
) -> None:
    """Ask an OSCP source's grid operator for capacity over a window (OSCP's
    AdjustGroupCapacityForecast, sent for the source's group); it answers, if it does,
    with a new capacity forecast.

    Exit codes: 0 queued for the grid operator, 2 usage or a refused request, 3 the
    controller cannot be reached or refuses the token, 4 the source is not registered.

    **Examples**

    ```
    depotctl envelopes adjust ausgrid-oscp --capacity 1000kW \\
        --start 18:00 --end 20:00
    ```
    """
    command = "envelopes adjust"
    try:
        amount = parse_quantity(capacity, (Dimension.POWER, Dimension.CURRENT))
    except QuantityError as error:
        raise fail(command, f"--capacity {capacity!r}: {error}; {error.hint}", 2) from None
    is_power = amount.dimension is Dimension.POWER
    with remote.client(command) as client:
        clock = site_clock(client)
        begin = flag_instant(command, "--start", start, clock, ahead=True) if start else clock.now
        until = (
            flag_instant(command, "--end", end, clock, ahead=True)
            if end is not None
            else begin + timedelta(hours=1)
        )
        block = {
            "capacity": amount.base / 1000 if is_power else amount.base,
            "unit": "KW" if is_power else "A",
            "start_time": begin.isoformat(),
            "end_time": until.isoformat(),
        }
        queued = client.request_adjustment(source, {"type": kind, "forecasted_blocks": [block]})
    told = remote.in_words(queued)
    if told is not None:
        sys.stdout.write(
            f"asked source {told.source} (group {told.group_id}) for {capacity} from "
            f"{clock.text(begin)} until {clock.text(until)}: request {told.request_id}, "
            "queued for its grid operator\n"
        )


@envelopes_app.command("withdraw")
@remote_options
def envelopes_withdraw(
    envelope_id: Annotated[str, typer.Argument(metavar="ENVELOPE", help="The envelope's id.")],
    *,
    remote: Remote,
) -> None:
    """Withdraw an envelope from now on.

    Exit codes: 0 withdrawn, 2 no such envelope, 3 the controller cannot be reached.

    **Examples**

    ```
    depotctl envelopes withdraw E-17 --context depot
    ```
    """
    told = remote.answer_on_clock(
        "envelopes withdraw", lambda client: client.withdraw_envelope(envelope_id)
    )
    if told is not None:
        stored, clock = told
        withdrawn = clock.text(stored.withdrawn_at, "now")
        sys.stdout.write(f"envelope {stored.id} withdrawn at {withdrawn}\n")


requirements_app = listing_group(
    "requirements",
    "The fleet's schedule: energy by departure for running sessions: list (default), submit.",
)


@lists_answer(requirements_app, "requirements list", lambda client: client.sessions())
def requirements_list(listed: Sessions, clock: SiteClock) -> None:
    """The open sessions: each one's requirement and its readiness forecast — the
    energy it is expected to have at departure, any shortfall and its cause, in the
    words of ``depotctl status``.

    A requirement is the energy a session needs by its departure (the site's default
    when it states none). The forecast follows the horizon plan in force where one
    covers the session, else the EVSE's limit now held until the departure; the basis
    is named in brackets.

    Exit codes: 0 ok, 2 usage, 3 the controller cannot be reached.

    **Examples**

    ```
    depotctl requirements --context depot
    depotctl requirements list --context depot --format json
    ```
    """
    rows = [_requirement_row(s, clock) for s in listed.sessions]
    if not rows:
        sys.stdout.write("no open sessions\n")
        return
    table(
        ("session", "evse", "delivered", "needs", "departure", "from", "expected", "short",
         "readiness"),
        rows,
    )  # fmt: skip
    sys.stdout.write(
        f"expected: the energy at departure forecast at {clock.text(listed.time)}, on the "
        "plan in force (plan) or each EVSE's limit now held until then (present limit)\n"
    )


def _requirement_row(s: Session, clock: SiteClock) -> tuple[str, ...]:
    """One session: its requirement (the site's default when it states none), and its
    readiness forecast with the cause of a shortfall in words."""
    requirement, readiness = s.requirement, s.readiness
    if s.outlook is not None:
        source = s.outlook.requirement_source
    else:
        source = requirement.source if requirement is not None else "default"
    asked_by = "site default" if source == "default" else source
    head = (f"{s.id} ({s.vehicle})" if s.vehicle else s.id, s.evse, rounded(s.energy_delivered))
    if readiness is None:
        why = "the site in force has no such EVSE" if s.outlook is None else "an older controller"
        return (
            *head,
            rounded(requirement.energy) if requirement else DASH,
            clock.text(requirement.departure if requirement else None),
            asked_by,
            DASH,
            DASH,
            f"not forecast: {why}",
        )
    forecast = readiness.forecast()
    return (
        *head,
        kwh(forecast.need_wh),
        clock.text(forecast.departure),
        asked_by,
        kwh(forecast.expected_wh),
        kwh(forecast.short_wh) if forecast.is_short else DASH,
        # status's sentence; its times whole, with their offset, as the table's
        clock.words(forecast.outcome(None)),
    )


@requirements_app.command("submit")
@remote_options
def requirements_submit(
    session: Annotated[
        str,
        typer.Argument(
            metavar="SESSION",
            help="The running session's id, or its vehicle's (bus-42).",
        ),
    ],
    energy: Annotated[
        str,
        bare_option("--energy", metavar="ENERGY", help="Energy in all by departure: 60 kWh."),
    ],
    departure: Annotated[
        str,
        bare_option(
            "--departure",
            metavar="TIME",
            help='A time: 06:00 (the next, site time), "tomorrow 06:00", "2026-12-08 06:00", '
            "ISO 8601 with an offset, or a span from now: 8h.",
        ),
    ],
    *,
    remote: Remote,
) -> None:
    """Set a running session's requirement: the energy it must have by its departure.

    Exit codes: 0 set, 2 usage or no such session, 3 the controller cannot be reached,
    4 the session has ended.

    **Examples**

    ```
    depotctl requirements submit chg-07:1042 --energy 60kWh --departure 06:00
    depotctl requirements submit bus-42 --energy 60kWh --departure 06:00
    depotctl requirements submit chg-07:1042 --energy "60 kWh" --departure 8h
    ```
    """
    with remote.client("requirements submit") as client:
        clock = site_clock(client)
        when = flag_instant("requirements submit", "--departure", departure, clock, ahead=True)
        stored = client.set_requirement(session, energy=energy, departure=when)
    told = remote.in_words(stored)
    if told is None:
        return
    requirement = told.requirement
    needs = rounded(requirement.energy) if requirement else "the site's default"
    by = clock.text(requirement.departure if requirement else None, "its departure")
    sys.stdout.write(f"session {told.id} on EVSE {told.evse}: needs {needs} by {by}\n")
