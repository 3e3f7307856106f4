"""The explanation of one EVSE's limit: its state, priority and binding constraint, its
chain of candidate limits from the EVSE up to the grid connection, each with its
slack, the binding one marked, and the EVSE's recent journal entries."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import tzinfo
from typing import Any, ClassVar

from rich.console import Group
from rich.table import Table
from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import Screen
from textual.widgets import Footer, Static

from depotctl.console.model import JournalEntry, Model
from depotctl.console.widgets.journal import entry_line

#: How many of the EVSE's journal entries the pane shows.
JOURNAL_LINES = 12


def summary(explained: Mapping[str, Any], model: Model) -> Text:
    evse = explained.get("evse") or {}
    binding = evse.get("binding") or {}
    text = Text.assemble(("EVSE ", "dim"), (str(evse.get("id")), "bold"))
    text.append(f" on charger {evse.get('charger')}", "dim")
    text.append("\n  state    ", "dim")
    text.append(str(evse.get("state")))
    if evse.get("session_id"):
        text.append(f", session {evse['session_id']}")
    priority = evse.get("priority")
    if isinstance(priority, Mapping) and priority.get("text"):
        # what placed it among the tiers, as `depotctl explain` prints it
        text.append("\n  priority ", "dim")
        text.append(str(priority["text"]))
    text.append("\n  limit    ", "dim")
    limit_a, limit_kw = evse.get("limit_a"), evse.get("limit_kw")
    if isinstance(limit_a, int | float) and isinstance(limit_kw, int | float):
        text.append(f"{limit_a:,.1f} A per line = {limit_kw:,.1f} kW")
    else:
        text.append("—")
    text.append("\n  binding  ", "dim")
    text.append(f"{binding.get('kind')} {binding.get('ref') or ''}".rstrip(), "bold")
    text.append(f"\n           {binding.get('detail', '')}")
    session = model.evses.get(str(evse.get("id")))
    outlook = session.session.outlook if session and session.session else None
    if outlook is not None and outlook.shortfall_wh is not None:
        text.append("\n  outlook  ", "dim")
        if outlook.on_track:
            text.append("on track for its departure", "green")
        else:
            text.append(f"{outlook.shortfall_wh / 1000:,.1f} kWh short at departure", "red")
            if outlook.constraint:
                text.append(f": {outlook.constraint}")
    return text


def chain(candidates: Sequence[Mapping[str, Any]]) -> Table:
    """The candidates from the EVSE up, ``▶`` on the binding one."""
    table = Table(box=None, pad_edge=False, expand=False, header_style="bold")
    table.add_column("", width=1)
    table.add_column("limit")
    table.add_column("value", justify="right")
    table.add_column("source")
    table.add_column("slack", justify="right")
    for candidate in candidates:
        binding = bool(candidate.get("binding"))
        slack = candidate.get("slack_a")
        style = "bold red" if binding else ""
        table.add_row(
            "▶" if binding else "",
            str(candidate.get("what")),
            str(candidate.get("limit")),
            str(candidate.get("source")),
            f"{slack:+,.1f} A" if isinstance(slack, int | float) else "—",
            style=style,
        )
    return table


def journal_block(entries: Sequence[JournalEntry], zone: tzinfo) -> Group:
    shown = list(entries)[-JOURNAL_LINES:]
    if not shown:
        return Group(Text("no journal entries for this EVSE in the last hours", "dim"))
    return Group(*(entry_line(entry, zone) for entry in shown))


class ExplainScreen(Screen[None]):
    """Full screen, so it fits 80×24; escape goes back. The app refreshes it on every
    poll while it is open."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "app.pop_screen", "Back"),
        Binding("backspace", "app.pop_screen", "Back", show=False),
    ]

    def __init__(self, evse: str) -> None:
        super().__init__()
        self.evse = evse
        self.loaded = False

    def compose(self) -> ComposeResult:
        with VerticalScroll(id="explain-body"):
            yield Static(Text(f"Explaining {self.evse}…", "dim"), id="explain-summary")
            yield Static(Text("Candidate limits, from the EVSE up", "bold underline"))
            yield Static(id="explain-chain")
            yield Static(Text("Journal for this EVSE", "bold underline"))
            yield Static(id="explain-journal")
        yield Footer()

    def show(
        self, explained: Mapping[str, Any], entries: Sequence[JournalEntry], model: Model
    ) -> None:
        evse = explained.get("evse") or {}
        self.query_one("#explain-summary", Static).update(summary(explained, model))
        self.query_one("#explain-chain", Static).update(chain(evse.get("candidates") or []))
        self.query_one("#explain-journal", Static).update(journal_block(entries, model.local))
        self.loaded = True

    def show_error(self, message: str) -> None:
        self.query_one("#explain-summary", Static).update(Text(message, "bold red"))
