"""The explanation of one EVSE's limit: its state, priority and binding constraint, its
chain of candidate limits from the EVSE up to the grid connection, each with its
slack, the binding one marked, its load against its limit over the last night (a
chart) and the binding node's (a sparkline), and the EVSE's recent journal entries."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime, tzinfo
from typing import ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from depotctl.api import Candidate, Explanation, JournalEntry
from depotctl.client.figures import DASH
from depotctl.console.model import Model
from depotctl.console.widgets.journal import entry_line
from depotctl.console.widgets.timeline import TimelineView
from depotctl.domain.instants import format_instant

#: How many of the EVSE's journal entries the pane shows.
JOURNAL_LINES = 12


def summary(explained: Explanation, model: Model) -> Text:
    evse = explained.evse
    binding = evse.binding
    text = Text.assemble(("EVSE ", "dim"), (evse.id, "bold"))
    text.append(f" on charger {evse.charger}", "dim")
    if explained.past is not None:  # the console looks back (t)
        when = format_instant(explained.past.cycle_at, model.local)
        text = Text.assemble((f"PAST {when}\n", "bold reverse"), text)
    text.append("\n  state    ", "dim")
    text.append(evse.state)
    if evse.session_id:
        text.append(f", session {evse.session_id}")
        if evse.vehicle:
            text.append(f" (vehicle {evse.vehicle})")
    if evse.priority is not None and evse.priority.text:
        # what placed it among the tiers, as `depotctl explain` prints it
        text.append("\n  priority ", "dim")
        text.append(evse.priority.text)
    text.append("\n  limit    ", "dim")
    if evse.limit_a is not None and evse.limit_kw is not None:
        text.append(f"{evse.limit_a:,.1f} A per line = {evse.limit_kw:,.1f} kW")
    else:
        text.append(DASH)
    text.append("\n  binding  ", "dim")
    text.append(f"{binding.kind} {binding.ref or ''}".rstrip(), "bold")
    text.append(f"\n           {binding.detail}")
    shown = model.evses.get(evse.id)
    outlook = shown.session.outlook if shown and shown.session else None
    if outlook is not None and outlook.shortfall_wh is not None:
        text.append("\n  outlook  ", "dim")
        if outlook.on_track:
            text.append("on track for its departure", "green")
        else:
            text.append(f"{outlook.shortfall_wh / 1000:,.1f} kWh short at departure", "red")
            if outlook.constraint is not None and outlook.constraint.detail:
                text.append(f": {outlook.constraint.detail}")
    return text


def binding_node(explained: Explanation, model: Model) -> str | None:
    """The node whose limit binds the EVSE — the node of a node limit, the target of
    an envelope — or None (bound by its charger, its vehicle, a policy …)."""
    binding = explained.evse.binding
    if binding.kind == "node_limit":
        return binding.ref
    if binding.kind == "envelope":
        return next((e.target for e in model.envelopes if e.id == binding.ref), None)
    return None


def chain(candidates: Sequence[Candidate]) -> Table:
    """The candidates from the EVSE up, ``▶`` on the binding one."""
    table = Table(box=None, pad_edge=False, expand=False, header_style="bold")
    table.add_column("", width=1)
    table.add_column("limit")
    table.add_column("value", justify="right")
    table.add_column("source")
    table.add_column("slack", justify="right")
    for candidate in candidates:
        slack = candidate.slack_a
        table.add_row(
            "▶" if candidate.binding else "",
            candidate.what,
            candidate.limit,
            candidate.source,
            f"{slack:+,.1f} A" if slack is not None else DASH,
            style="bold red" if candidate.binding else "",
        )
    return table


def journal_block(
    entries: Sequence[JournalEntry], zone: tzinfo, now: datetime | None = None
) -> Group:
    shown = list(entries)[-JOURNAL_LINES:]
    if not shown:
        return Group(Text("no journal entries for this EVSE in the last hours", "dim"))
    return Group(*(entry_line(entry, zone, now) for entry in shown))


class ExplainScreen(Screen[None]):
    """Full screen, so it fits 80×24; escape goes back. The app refreshes it on every
    poll while it is open."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("backspace", "app.pop_screen", "Back", show=False),
    ]

    def __init__(self, evse: str, *, chart_rows: int = 6) -> None:
        super().__init__()
        self.evse = evse
        self.chart_rows = chart_rows
        self.loaded = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="explain-body"):
            yield Static(Text(f"Explaining {self.evse}…", "dim"), id="explain-summary")
            yield Static(Text("Candidate limits, from the EVSE up", "bold underline"))
            yield Static(id="explain-chain")
            yield TimelineView(chart_rows=self.chart_rows, id="explain-timeline")
            yield TimelineView(id="explain-node-timeline")
            yield Static(Text("Journal for this EVSE", "bold underline"))
            yield Static(id="explain-journal")
        yield Footer()

    def show(self, explained: Explanation, entries: Sequence[JournalEntry], model: Model) -> None:
        self.query_one("#explain-summary", Static).update(summary(explained, model))
        self.query_one("#explain-chain", Static).update(chain(explained.evse.candidates))
        self.query_one("#explain-journal", Static).update(
            journal_block(entries, model.local, model.time)
        )
        self.loaded = True

    def show_error(self, message: str) -> None:
        self.query_one("#explain-summary", Static).update(Text(message, "bold red"))
