"""The envelopes view: every envelope with its lifecycle state, window, limit, source
and whether that source is online, above a timeline of the hours ahead."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import DataTable, Static

from depotctl.api import Envelope
from depotctl.console.model import Model
from depotctl.console.render import Timeline, clock_text, state_style

COLUMNS = (
    ("id", "Envelope"),
    ("state", "State"),
    ("target", "Target"),
    ("limit", "Limit"),
    ("window", "Window"),
    ("source", "Source"),
    ("online", "Online"),
    ("reason", "Why"),
)


def _online(envelope: Envelope, model: Model) -> Text:
    source = model.sources.get(envelope.source)
    online = source.online if source is not None else envelope.source_online
    return Text("online", "green") if online else Text("OFFLINE", "bold red")


def cells_of(envelope: Envelope, model: Model) -> tuple[Text | str, ...]:
    start = clock_text(envelope.start, model.local, model.time)
    end = clock_text(envelope.end, model.local, model.time) if envelope.end else "open"
    limit = envelope.limit + (" (export)" if envelope.direction == "export" else "")
    if envelope.mode == "fallback":
        limit += " fallback"
    return (
        Text(envelope.id, "bold"),
        Text(envelope.state, state_style(envelope.state)),
        envelope.target,
        limit,
        f"{start}–{end}",
        envelope.source,
        _online(envelope, model),
        Text(envelope.reason, "dim"),
    )


class EnvelopeTable(DataTable[Text | str]):
    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", **kwargs)  # type: ignore[arg-type]
        self._rows: dict[str, tuple[Text | str, ...]] = {}

    def on_mount(self) -> None:
        for key, title in COLUMNS:
            self.add_column(title, key=key)

    def update_model(self, model: Model) -> int:
        rows = {envelope.id: cells_of(envelope, model) for envelope in model.envelopes}
        if rows == self._rows:
            return 0
        selected = self.selected_envelope()
        self.clear()
        for envelope_id, cells in rows.items():
            self.add_row(*cells, key=envelope_id)
        self._rows = rows
        if selected in rows:
            self.move_cursor(row=list(rows).index(selected), animate=False)
        return len(rows)

    def selected_envelope(self) -> str | None:
        ids = list(self._rows)
        if 0 <= self.cursor_row < len(ids):
            return ids[self.cursor_row]
        return None


class EnvelopesView(Vertical):
    """The table over the timeline."""

    _timeline_key: tuple[object, ...] | None = None

    def compose(self) -> ComposeResult:
        yield EnvelopeTable(id="envelope-table")
        yield Static(id="timeline")

    def update_model(self, model: Model) -> int:
        changed = self.query_one(EnvelopeTable).update_model(model)
        key = (model.envelopes, model.time)
        if model.time is not None and key != self._timeline_key:
            timeline = self.query_one("#timeline", Static)
            timeline.update(Timeline(model.envelopes, model.time, model.local))
            self._timeline_key = key
        return changed

    def selected_envelope(self) -> str | None:
        return self.query_one(EnvelopeTable).selected_envelope()
