"""Modal dialogs: a confirmation before every change sent to the controller, the
form for a local envelope, and the help."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import ClassVar

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static


@dataclass(frozen=True, slots=True)
class Confirmed:
    """A yes, with the reason typed (if the dialog asked for one)."""

    reason: str | None = None


class ConfirmScreen(ModalScreen[Confirmed | None]):
    """``y`` or the Confirm button sends; ``n`` or escape cancels."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "cancel", "Cancel"),
        Binding("n", "cancel", "No", show=False),
        Binding("y", "confirm", "Yes", show=False),
    ]

    def __init__(self, title: str, body: str, *, ask_reason: bool = False) -> None:
        super().__init__()
        self.title_text = title
        self.body = body
        self.ask_reason = ask_reason

    def compose(self) -> ComposeResult:
        with Vertical(classes="dialog"):
            yield Label(Text(self.title_text, "bold"))
            yield Static(Text(self.body))  # text, never markup: it names ids and reasons
            if self.ask_reason:
                yield Input(placeholder="reason (journaled)", id="reason")
            with Horizontal(classes="buttons"):
                yield Button("Confirm (y)", variant="error", id="confirm")
                yield Button("Cancel (n)", id="cancel")

    def on_mount(self) -> None:
        if self.ask_reason:
            self.query_one("#reason", Input).focus()
        else:
            self.query_one("#cancel", Button).focus()

    def action_confirm(self) -> None:
        reason = None
        if self.ask_reason:
            reason = self.query_one("#reason", Input).value.strip() or None
        self.dismiss(Confirmed(reason))

    def action_cancel(self) -> None:
        self.dismiss(None)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id == "confirm":
            self.action_confirm()
        else:
            self.action_cancel()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.action_confirm()


#: The form's fields: id, label, placeholder.
ENVELOPE_FIELDS = (
    ("id", "Envelope id", "local-1"),
    ("target", "Target node", "gc-main"),
    ("limit", "Limit", "400 kW  or  150 A"),
    ("start", "Start", "now, 17:00, or 2026-03-03 17:00 (site time)"),
    ("end", "End", "open, +2h (after the start), 21:00, or 2026-03-03 21:00"),
)


@dataclass(frozen=True, slots=True)
class EnvelopeFields:
    """A local envelope's fields as typed (the app reads the times)."""

    id: str = ""
    target: str = ""
    limit: str = ""
    start: str = ""
    end: str = ""


class EnvelopeForm(ModalScreen[EnvelopeFields | None]):
    """The fields of a local envelope, as typed; the app checks and sends them."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "cancel", "Cancel")]

    def __init__(self, defaults: EnvelopeFields) -> None:
        super().__init__()
        self.defaults = defaults

    def compose(self) -> ComposeResult:
        defaults = asdict(self.defaults)
        with Vertical(classes="dialog"):
            yield Label(Text("Submit a local envelope", "bold"))
            for field, label, placeholder in ENVELOPE_FIELDS:
                yield Label(label)
                yield Input(
                    value=defaults[field],
                    placeholder=placeholder,
                    id=f"envelope-{field}",
                )
            yield Static("", id="form-error")
            with Horizontal(classes="buttons"):
                yield Button("Next (enter)", variant="primary", id="next")
                yield Button("Cancel (esc)", id="cancel")

    def values(self) -> EnvelopeFields:
        return EnvelopeFields(
            **{
                field: self.query_one(f"#envelope-{field}", Input).value.strip()
                for field, _, _ in ENVELOPE_FIELDS
            }
        )

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(self.values())

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.values() if event.button.id == "next" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


HELP = """\
[b]depotctl console[/b]: the controller, live (polled every second)

[b]Panes[/b] (keys 1-5; tab moves between widgets)
 1 Tree       site > grid connections > circuits > groups >
              chargers > EVSEs; per node the load against its
              effective limit (a bar per phase for current
              limits), the limit's source and the headroom;
              FULL when a node is at its limit
 2 EVSEs      session, state, limit, measured draw, energy
              delivered/needed, departure, expected shortfall;
              the line below names the binding constraint
 Under both, the selected node's or EVSE's timeline since
 18:00 (12 h at least): load (red where at its limit), the
 limit under it, [ and ] where envelopes began and ended
 3 Envelopes  lifecycle state, window, limit, source, online;
              a timeline of the hours ahead
              (█ ahead, ▒ past, x withdrawn, │ now)
 4 Journal    the controller's decisions, newest last
 5 Alerts     the open alerts, the critical first: since when,
              for how long, and why

[b]Keys[/b]
 e, enter  explain the selected EVSE (chain of limits, journal)
 /         filter the EVSE table, or the journal in its pane
           (every word typed; escape clears)
 g         the journal's entries at a time (02:14, 8h)
 s         sort the EVSE table by the next column
 r         poll now            ctrl+p  command palette
 t         the whole depot as it was at a time (02:14,
           yesterday 02:14, 8h); PAST marks it; esc for now
 :         a command: ":at 02:14" (as t), ":now"
 p         pause / resume the selected EVSE      (admin token)
 n         submit a local envelope               (admin token)
 w         withdraw the selected envelope        (admin token)
 ?         this help           q       quit

Every change is confirmed first, and the controller journals it.
"""


class HelpScreen(ModalScreen[None]):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss_help", "Close"),
        Binding("question_mark", "dismiss_help", "Close", show=False),
        Binding("q", "dismiss_help", "Close", show=False),
    ]

    def compose(self) -> ComposeResult:
        with VerticalScroll(classes="dialog help"):
            yield Static(HELP)

    def action_dismiss_help(self) -> None:
        self.dismiss(None)
