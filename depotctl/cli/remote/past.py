"""``explain EVSE --at TIME`` and ``allocate --at TIME`` against a controller: the
decision of the control cycle at or before TIME, recomputed from the inputs it
recorded — or, older than the inputs kept, the journal's decisions — each marked as
the past."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any, TypeVar

from depotctl.cli.remote.connection import Remote, SiteClock, flag_instant, site_clock
from depotctl.cli.remote.terminal import json_value
from depotctl.cli.render_explain import binding_words, explain_text
from depotctl.client.terminal_text import escaped_model

if TYPE_CHECKING:
    from depotctl.api import Past, PastDecisions
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
            return ask(client, at), clock
        except ApiError as error:
            if error.code != INPUTS_NOT_KEPT:
                raise
            return client.decisions(at, evse), clock


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
    sys.stdout.write(past_heading(answer.past, clock) + "\n")
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
