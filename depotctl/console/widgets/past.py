"""The past banner: one line above the panes while the console shows the depot as a
past control cycle left it (``t``) — ``AS AT 2026-12-07 02:14:05+11:00 — the past;
esc for now``, the cycle's instant in the site's time, whole (the header's date is
today's) — hidden while the console shows now; and the prompt ``t`` opens for the instant."""

from __future__ import annotations

from typing import ClassVar

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from depotctl.console.model import Model
from depotctl.domain.instants import format_instant


def past_text(model: Model) -> Text:
    """``AS AT 2026-12-07 02:14:05+11:00 — the past; esc for now``."""
    assert model.past is not None, "the banner of a model of now"
    when = format_instant(model.past, model.local)
    return Text.assemble(("AS AT ", "bold"), (when, "bold"), " — the past; esc for now")


class PastBanner(Static):
    """One line (its height is fixed in the CSS); shown while the console looks back."""

    def update_model(self, model: Model) -> None:
        shown = model.past is not None
        self.display = shown
        if shown:
            self.update(past_text(model), layout=False)


class TravelPrompt(ModalScreen[str | None]):
    """Asks for the instant to look at (the text as typed; the app reads it); escape
    cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, title: str = "Show the depot as it was at") -> None:
        super().__init__()
        self.title_text = title

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.title_text, "bold"))
            yield Input(placeholder="02:14, yesterday 02:14, 8h, 2026-12-07 02:14", id="at")

    def on_mount(self) -> None:
        self.query_one("#at", Input).focus()

    @on(Input.Submitted, "#at")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)
