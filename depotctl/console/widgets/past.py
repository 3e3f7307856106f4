"""The past banner: one line above the panes while the console shows the depot as a
past control cycle left it (``t``, ``:at 02:14``) — ``PAST 2026-12-07 02:14:05+11:00,
live is 07:31:10 — esc for now``, the cycle's instant in the site's time, whole (the
header's date is today's), and the controller's time now — hidden while the console
shows now; the prompt ``t`` opens for the instant, and the ``:`` command line."""

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
from depotctl.domain.instants import format_clock, format_instant


def past_text(model: Model) -> Text:
    """``PAST 2026-12-07 02:14:05+11:00, live is 07:31:10 — esc for now`` (the live
    time with its date when it is another day)."""
    assert model.past is not None, "the banner of a model of now"
    when = format_instant(model.past, model.local)
    text = Text.assemble(("PAST ", "bold reverse"), (" " + when, "bold"))
    if model.live is not None:
        text.append(f", live is {format_clock(model.live, model.local, model.past)}")
    return text.append(" — esc for now")


class PastBanner(Static):
    """One line (its height is fixed in the CSS); shown while the console looks back."""

    def update_model(self, model: Model) -> None:
        shown = model.past is not None
        self.display = shown
        if shown:
            self.update(past_text(model), layout=False)


class TravelPrompt(ModalScreen[str | None]):
    """Asks for the instant to look at — or, as the ``:`` command line
    (:data:`COMMAND_LINE`), for a command (``at 02:14``, ``now``) — and gives the
    text as typed (the app reads it); escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(
        self,
        title: str = "Show the depot as it was at",
        placeholder: str = "02:14, yesterday 02:14, 8h, 2026-12-07 02:14",
    ) -> None:
        super().__init__()
        self.title_text = title
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.title_text, "bold"))
            yield Input(placeholder=self.placeholder, id="at")

    def on_mount(self) -> None:
        self.query_one("#at", Input).focus()

    @on(Input.Submitted, "#at")
    def _submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value.strip() or None)

    def action_cancel(self) -> None:
        self.dismiss(None)


#: The ``:`` command line's title and placeholder (:class:`TravelPrompt`).
COMMAND_LINE = ("Command: at TIME (02:14, yesterday 02:14, 8h) or now", "at 02:14")
