"""``override``: an operator's hold on one EVSE — pause it, cap it, resume it — and the
list of those in force.

Every change asks first (``--yes`` skips the question; without a terminal the command
refuses, exit 2, rather than guess), names the EVSE's state now in the question, and
is sent with the local user as its author, so the journal says who did it. An EVSE
has at most one override: ``pause`` and ``cap`` replace it, ``resume`` removes it.
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, Annotated

import typer

from depotctl.cli.failures import fail
from depotctl.cli.parameters import bare_option
from depotctl.cli.remote.connection import (
    Remote,
    SiteClock,
    YesOption,
    listing_group,
    lists_answer,
    remote_options,
    site_clock,
)
from depotctl.cli.remote.terminal import author, confirm, table
from depotctl.client.figures import amount, rounded
from depotctl.client.terminal_text import escaped_model

if TYPE_CHECKING:
    from depotctl.api import EvseAllocation, Override, Overrides
    from depotctl.client.api import ControllerClient

EvseArgument = Annotated[
    str, typer.Argument(metavar="EVSE", help="The EVSE, `<charger id>/<evse id>` like dc-01/1.")
]
ReasonOption = Annotated[
    str | None,
    bare_option(
        "--reason", metavar="TEXT", help="Why, in a few words (journaled, and shown in explain)."
    ),
]

override_app = listing_group(
    "override", "Operator overrides of EVSEs: list (default), pause, resume, cap."
)


@lists_answer(override_app, "override list", lambda client: client.overrides())
def override_list(listed: Overrides, clock: SiteClock) -> None:
    """Every override in force.

    With who set it, when and why, and the EVSE's limit now.

    Exit codes: 0 ok, 2 usage, 3 the controller cannot be reached or refuses the token.

    **Examples**

    ```
    depotctl override
    depotctl override list --context depot --format json
    ```
    """
    overrides = listed.overrides
    if not overrides:
        sys.stdout.write("no overrides: every EVSE is as the allocator decides\n")
        return
    rows = [
        (
            override.evse,
            _words(override),
            _limit_now(override.allocation),
            override.author,
            clock.text(override.set_at),
            override.reason or "",
        )
        for override in overrides
    ]
    table(("EVSE", "override", "limit now", "by", "since", "reason"), rows)


@override_app.command("pause")
@remote_options
def override_pause(
    evse: EvseArgument,
    reason: ReasonOption = None,
    yes: YesOption = False,
    *,
    remote: Remote,
) -> None:
    """Pause an EVSE: 0 A until it is resumed.

    Whatever its session needs; an EVSE without a session is held from its next one.

    Exit codes: 0 paused (or already), 2 usage (an unknown EVSE, no --yes without a
    terminal), 3 the controller cannot be reached or refuses the token.

    **Examples**

    ```
    depotctl override pause chg-01/1 --reason "cable damaged" --yes
    ```
    """
    _set("pause", evse, True, None, reason, yes, remote)


@override_app.command("cap")
@remote_options
def override_cap(
    evse: EvseArgument,
    current: Annotated[
        str,
        typer.Argument(metavar="CURRENT", help="At most this current per line: 16A, 16 A."),
    ],
    reason: ReasonOption = None,
    yes: YesOption = False,
    *,
    remote: Remote,
) -> None:
    """Cap an EVSE at a current per line until it is resumed.

    A cap below the EVSE's minimum current pauses its session; one looser than what the
    site allows changes nothing.

    Exit codes: 0 capped (or already), 2 usage (a current without its unit, an unknown
    EVSE, no --yes without a terminal), 3 the controller cannot be reached or refuses
    the token.

    **Examples**

    ```
    depotctl override cap chg-02/1 16A --yes
    depotctl override cap chg-02/1 "10 A" --reason "hot connector" --yes
    ```
    """
    from depotctl.domain.quantity import Current, QuantityError

    try:
        amps = Current.parse(current)
    except QuantityError as error:
        raise fail("override cap", f"{current!r}: {error.message} ({error.hint})", 2) from None
    if amps.base < 0:
        raise fail("override cap", f"{current!r}: a cap is 0 A or more", 2)
    _set("cap", evse, False, str(amps), reason, yes, remote)


@override_app.command("resume")
@remote_options
def override_resume(
    evse: EvseArgument,
    yes: YesOption = False,
    *,
    remote: Remote,
) -> None:
    """Resume an EVSE: remove its pause or cap.

    The allocator decides its limit again, from the next control cycle (at once).

    Exit codes: 0 resumed (or it had no override), 2 usage (an unknown EVSE, no --yes
    without a terminal), 3 the controller cannot be reached or refuses the token.

    **Examples**

    ```
    depotctl override resume chg-01/1 --yes
    ```
    """
    from depotctl.client.api import ApiError

    command = "override resume"
    with remote.client(command) as client:
        now = _evse_now(client, evse)
        held = now.override
        if held is None:
            _nothing_to_resume(evse, remote)
            return
        confirm(
            command,
            yes,
            f"Resume EVSE {evse} ({_what(held.paused, held.cap_a)} by {held.author}{_why(held.reason)}; "
            f"{_state(now)})?",
        )
        try:
            result = client.clear_override(evse, author=author())
        except ApiError as error:
            if error.code != "no_override":
                raise
            _nothing_to_resume(evse, remote)  # someone resumed it meanwhile
            return
    told = remote.in_words(result)
    if told is not None:
        sys.stdout.write(f"EVSE {evse} resumed; {_outcome(told.allocation)}\n")


# Shared


def _set(
    verb: str,
    evse: str,
    paused: bool,
    cap: str | None,
    reason: str | None,
    yes: bool,
    remote: Remote,
) -> None:
    command = f"override {verb}"
    with remote.client(command) as client:
        now = _evse_now(client, evse)
        held = now.override
        replaces = (
            f"; replaces its {_what(held.paused, held.cap_a)} by {held.author}" if held else ""
        )
        action = "Pause" if paused else f"Cap at {cap}"
        confirm(command, yes, f"{action} EVSE {evse} ({_state(now)}{replaces})?")
        result = client.set_override(evse, paused=paused, cap=cap, reason=reason, author=author())
        clock = site_clock(client)
    told = remote.in_words(result)
    if told is None:
        return
    override, outcome = told.override, _outcome(told.allocation)
    if not told.changed:
        sys.stdout.write(
            f"EVSE {evse} is already {_words(override)} (by {override.author} since "
            f"{clock.text(override.set_at)}): nothing changed; {outcome}\n"
        )
        return
    sys.stdout.write(
        f"EVSE {evse} {_words(override)} by {override.author}{_why(override.reason)}; {outcome}\n"
    )


def _evse_now(client: ControllerClient, evse: str) -> EvseAllocation:
    """The EVSE as the controller sees it now (a 404 with the likely id if unknown),
    safe to put into words (its override's author and reason escaped)."""
    return escaped_model(client.explain(evse).evse)


def _nothing_to_resume(evse: str, remote: Remote) -> None:
    if not remote.printed_json({"override": None, "changed": False, "evse": evse}):
        sys.stdout.write(f"EVSE {evse} has no override: nothing to resume\n")


def _what(paused: bool, cap_a: float | None, cap: str | None = None) -> str:
    """``paused``, or ``capped at 16 A`` (``cap`` as the controller wrote it, else
    ``cap_a``)."""
    if paused:
        return "paused"
    return f"capped at {rounded(cap) if cap is not None else amount(cap_a or 0.0, 'A')}"


def _words(override: Override) -> str:
    return _what(override.paused, override.cap_a, override.cap)


def _why(reason: str | None) -> str:
    return f': "{reason}"' if reason else ""


def _limit_now(allocation: EvseAllocation | None) -> str:
    """``16.0 A (charging)``; for an EVSE the site no longer has, ``— (unknown)``."""
    if allocation is None:
        return f"{amount(None, 'A')} (unknown)"
    return f"{_limit(allocation)} ({allocation.state})"


def _limit(allocation: EvseAllocation) -> str:
    return amount(allocation.limit_a, "A")


def _state(evse: EvseAllocation) -> str:
    session = f", session {evse.session_id}" if evse.session_id else ""
    return f"{evse.state} at {_limit(evse)}{session}"


#: How the engine words an idle EVSE's limit: its start allowance, what a vehicle
#: plugging in may draw until the next control cycle counts its session.
_START_ALLOWANCE = "idle: a vehicle may start at up to "


def _outcome(allocation: EvseAllocation | None) -> str:
    """``its limit is now 0.0 A (paused: paused by operator (…))``; for an EVSE without
    a vehicle, its start allowance and what follows it: ``it is idle: a vehicle plugging
    in may start at up to 16.0 A (its fallback); the allocator decides its limit from
    the next control cycle``."""
    if allocation is None:
        return "its limit is decided at the next control cycle"
    detail = allocation.binding.detail
    if allocation.state == "idle" and detail.startswith(_START_ALLOWANCE):
        then = (
            "the override holds for its session too"
            if allocation.binding.kind == "operator_override"
            else "the allocator decides its limit from the next control cycle"
        )
        allowance = detail.removeprefix(_START_ALLOWANCE)
        return f"it is idle: a vehicle plugging in may start at up to {allowance}; {then}"
    return f"its limit is now {_limit(allocation)} ({allocation.state}: {detail})"
