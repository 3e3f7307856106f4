"""The journal tail: the controller's decisions in time order, newest at the bottom,
in the site's time: the clock time, with the date for an entry of another day than
the controller's today (the header shows the date and the offset). A filter (``/``)
keeps the entries holding every word typed (in the kind, EVSE, envelope, session or
message); ``g`` jumps to the first entry at or after a time."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, tzinfo

from rich.text import Text
from textual.widgets import RichLog

from depotctl.api import JournalEntry
from depotctl.client.figures import for_people
from depotctl.console.model import Model
from depotctl.domain.instants import format_clock, format_instant

#: Lines the pane keeps (the oldest go first).
KEPT_LINES = 1000

_KIND_STYLE = {
    "allocation.changed": "cyan",
    "envelope.received": "yellow",
    "envelope.withdrawn": "yellow",
    "override.set": "bold magenta",
    "override.cleared": "magenta",
    "revision.applied": "bold",
}


def entry_line(entry: JournalEntry, zone: tzinfo, now: datetime | None = None) -> Text:
    """``01:00:05 envelope.received  envelope E-17 received …``; ``2026-03-02 23:59:58
    …`` for an entry not of ``now``'s day in ``zone``."""
    when = format_clock(entry.at, zone, now)
    return Text.assemble(
        (when, "dim"),
        " ",
        (entry.kind, _KIND_STYLE.get(entry.kind, "")),
        "  ",
        for_people(entry.message, zone, entry.at),
    )


def entry_lines(
    entries: Iterable[JournalEntry], zone: tzinfo, now: datetime | None = None
) -> list[Text]:
    return [entry_line(entry, zone, now) for entry in entries]


def matches(entry: JournalEntry, words: str) -> bool:
    """Whether ``entry`` holds every word of ``words`` (any case) in its kind, EVSE,
    envelope, session or message; every entry matches no words."""
    fields = (entry.kind, entry.evse, entry.envelope, entry.session, entry.message)
    text = " ".join(field for field in fields if field).lower()
    return all(word in text for word in words.lower().split())


class JournalTail(RichLog):
    """The model's journal in time order, oldest at the top (as ``depotctl journal``
    prints it): new entries are appended; one that belongs before an entry shown (a
    writer's entry stamped a moment before another's, committed after it) redraws the
    pane in order. ``shown`` is the model's journal it has taken in; ``written`` the
    entries on its lines (those the filter keeps)."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(max_lines=KEPT_LINES, wrap=False, markup=False, **kwargs)  # type: ignore[arg-type]
        self.shown: tuple[JournalEntry, ...] = ()
        self.written: list[JournalEntry] = []
        self.words = ""
        self.zone: tzinfo = UTC
        self.now: datetime | None = None

    def update_model(self, model: Model) -> int:
        """Show the model's journal; how many entries are new."""
        shown_ids = {entry.id for entry in self.shown}
        new = [entry for entry in model.journal if entry.id not in shown_ids]
        arrived = len(new)
        if not new:
            return 0
        self.zone, self.now = model.local, model.time
        last = _position(self.shown[-1]) if self.shown else None
        self.shown = model.journal
        if last is not None and min(_position(e) for e in new) < last:
            self._redraw()
        else:
            self._write(new)
        return arrived

    def set_filter(self, words: str) -> None:
        """Show only the entries holding every word of ``words`` ("": all)."""
        if words.strip() != self.words:
            self.words = words.strip()
            self._redraw()

    def jump_to(self, at: datetime) -> str:
        """Scroll to the first entry shown at or after ``at``; what was found, in words."""
        if not self.written:
            return "no journal entries shown"
        first = self.written[0].at
        index = next((i for i, e in enumerate(self.written) if e.at >= at), None)
        if index is None:
            self.scroll_end(animate=False)
            return f"no entry shown at or after {format_instant(at, self.zone)}: the last shown"
        self.scroll_to(y=index, animate=False)
        if at < first:
            since = format_instant(first, self.zone)
            return f"the pane holds entries from {since}; depotctl journal --since for older"
        return f"{format_instant(self.written[index].at, self.zone)}: the first entry from then"

    def _redraw(self) -> None:
        self.clear()
        self.written = []
        self._write(self.shown)

    def _write(self, entries: Iterable[JournalEntry]) -> None:
        kept = [entry for entry in entries if matches(entry, self.words)]
        for line in entry_lines(kept, self.zone, self.now):
            self.write(line)
        self.written = [*self.written, *kept][-KEPT_LINES:]


def _position(entry: JournalEntry) -> tuple[datetime, int]:
    return entry.at, entry.id
