"""``explain EVSE --at TIME`` and ``allocate --at TIME`` against a controller: the
decision of the control cycle at or before TIME, recomputed from the inputs it
recorded — or, older than the inputs kept, the journal's decisions — each marked as
the past."""

from __future__ import annotations

import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from depotctl.cli.remote.connection import Remote, SiteClock, flag_instant, site_clock
from depotctl.cli.remote.terminal import json_value
from depotctl.cli.render_explain import binding_words, explain_text
from depotctl.client.terminal_text import escaped_model

if TYPE_CHECKING:
    from depotctl.api import Past, PastDecisions
    from depotctl.api.past import VehicleStay
    from depotctl.client.api import ControllerClient

#: the code of an instant older than the recorded inputs (controller/services/past.py)
INPUTS_NOT_KEPT = "inputs_not_kept"

Answer = TypeVar("Answer")


def asked_past(
    command: str,
    remote: Remote,
    at_text: str,
    ask: Callable[[ControllerClient, datetime], Answer],
    evse: str | None = None,
) -> tuple[Answer | PastDecisions, SiteClock]:
    """``ask`` at the instant ``at_text`` names on the controller's clock; the journal's
    decisions (``/decisions``) when its inputs are no longer kept."""
    from depotctl.client.errors import ApiError

    with remote.client(command) as client:
        clock = site_clock(client)
        at = flag_instant(command, "--at", at_text, clock, ahead=False)
        try:
            with in_site_time(clock):
                return ask(client, at), clock
        except ApiError as error:
            if error.code != INPUTS_NOT_KEPT:
                raise
            return client.decisions(at, evse), clock


@contextmanager
def in_site_time(clock: SiteClock) -> Iterator[None]:
    """The controller's refusals with their times in site time, as people read them
    (``vehicle bus-42 was not plugged in at 2026-12-09 08:00:00+11:00; …``)."""
    from depotctl.client.errors import ApiError

    try:
        yield
    except ApiError as error:
        raise ApiError(error.status, error.code, clock.words(error.message), error.body) from None


#: a time written with its date (ISO, site-local or not)
_DATED = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}", re.ASCII)
#: a bare time of day (``02:14``): the latest one at or before now
_CLOCK = re.compile(r"[0-9]{1,2}:[0-9]{2}(:[0-9]{2}(\.[0-9]+)?)?", re.ASCII)


def read_as(at_text: str, at: datetime, clock: SiteClock) -> str | None:
    """``"02:14" read as 2026-12-09 02:14:00+11:00, the latest at or before now (now:
    …)``: the day a time written without its date was taken for; None for one written
    with its date, and for ``now``."""
    spoken = " ".join(at_text.split())
    if _DATED.search(spoken) or spoken.lower() == "now":
        return None
    latest = ", the latest at or before now" if _CLOCK.fullmatch(spoken) else ""
    return f'"{spoken}" read as {clock.text(at)}{latest} (now: {clock.text(clock.now)})'


def stay_line(stay: VehicleStay, clock: SiteClock) -> str:
    """``bus-42 was on dc-12/1 then: session …, plugged in … until …``."""
    until = "still plugged in" if stay.end is None else f"left {clock.text(stay.end)}"
    return (
        f"{stay.vehicle} was on {stay.evse} then: session {stay.session}, plugged in "
        f"{clock.text(stay.start)}, {until}"
    )


def past_heading(past: Past, clock: SiteClock) -> str:
    """``as at 02:14:05+11:00 (the cycle of …), recomputed from the recorded inputs``."""
    return (
        f"as at {clock.text(past.asked)} (the control cycle of {clock.text(past.cycle_at)}), "
        "recomputed from the recorded inputs"
    )


def decisions_lines(decisions: PastDecisions, clock: SiteClock) -> list[str]:
    """The journal's decisions: a heading that says so, and one line per EVSE."""
    kept = decisions.inputs_kept_since
    lines = [
        f"as at {clock.text(decisions.asked)}, from the journal's decisions (inputs older "
        "than the retention"
        + (f"; recorded inputs go back to {clock.text(kept)})" if kept is not None else ")"),
    ]
    if not decisions.decisions:
        lines.append("  no limit was journaled at or before then")
    for decision in decisions.decisions:
        limit = "—" if decision.limit_a is None else f"{decision.limit_a:.1f} A"
        binding: Mapping[str, Any] = decision.binding or {}
        why = binding_words(decision.evse, binding) if binding else "—"
        said = binding.get  # the journaled binding: a JSON object, not an API model
        detail = f" ({said('detail')})" if said("detail") else ""
        lines.append(f"  {decision.evse}  {limit}  since {clock.text(decision.at)}  {why}{detail}")
        if decision.binding_source is not None:
            lines.append(f"    source  {decision.binding_source.text}")
    return lines


def explain_past(evse: str, at_text: str, remote: Remote) -> None:
    """``depotctl explain EVSE --at TIME``."""
    from depotctl.api import PastDecisions

    answer, clock = asked_past(
        "explain", remote, at_text, lambda client, at: client.explain_at(evse, at), evse
    )
    if remote.printed_json(answer):
        return
    if isinstance(answer, PastDecisions):
        sys.stdout.write("\n".join(decisions_lines(escaped_model(answer), clock)) + "\n")
        return
    assert answer.past is not None
    asked = [read_as(at_text, answer.past.asked, clock), past_heading(answer.past, clock)]
    if answer.past.vehicle is not None:
        asked.append(stay_line(escaped_model(answer.past.vehicle), clock))
    sys.stdout.write("".join(line + "\n" for line in asked if line is not None))
    sys.stdout.write(explain_text(json_value(answer), color=_color()))


def allocate_past(at_text: str, remote: Remote) -> None:
    """``depotctl allocate --at TIME``: every EVSE's limit and what bound it."""
    from depotctl.api import PastDecisions

    asked, clock = asked_past("allocate", remote, at_text, lambda c, at: c.state_at(at))
    answer = remote.in_words(asked)  # the controller's text escaped
    if answer is None:
        return
    if isinstance(answer, PastDecisions):
        sys.stdout.write("\n".join(decisions_lines(answer, clock)) + "\n")
        return
    assert answer.past is not None
    lines = [
        past_heading(answer.past, clock),
        f"  site      {answer.site.name}, revision {answer.revision.number} "
        f"({answer.revision.hash[:12]})",
        "",
    ]
    width = max((len(e.id) for e in answer.evses), default=4)
    for evse in answer.evses:
        limit = "—" if evse.limit_a is None else f"{evse.limit_a:.1f} A"
        binding = json_value(evse.binding)
        why = binding_words(evse.id, binding)
        lines.append(f"  {evse.id:<{width}}  {limit:>8}  {evse.state:<14}  {why}")
    sys.stdout.write("\n".join(lines) + "\n")


def _color() -> bool:
    return sys.stdout.isatty() and "NO_COLOR" not in os.environ
