"""The journal tail: the controller's decisions in time order, newest at the bottom,
in the site's time: the clock time, with the date for an entry of another day than
the controller's today (the header shows the date and the offset)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime, tzinfo

from rich.text import Text
from textual.widgets import RichLog

from depotctl.api import JournalEntry
from depotctl.client.figures import for_people
from depotctl.console.model import Model
from depotctl.domain.instants import format_clock

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


class JournalTail(RichLog):
    """The model's journal in time order, oldest at the top (as ``depotctl journal``
    prints it): new entries are appended; one that belongs before an entry shown (a
    writer's entry stamped a moment before another's, committed after it) redraws the
    pane in order."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(max_lines=1000, wrap=False, markup=False, **kwargs)  # type: ignore[arg-type]
        self.shown: tuple[JournalEntry, ...] = ()

    def update_model(self, model: Model) -> int:
        """Show the model's journal; how many entries are new."""
        shown_ids = {entry.id for entry in self.shown}
        new = [entry for entry in model.journal if entry.id not in shown_ids]
        arrived = len(new)
        if not new:
            return 0
        last = _position(self.shown[-1]) if self.shown else None
        if last is not None and min(_position(e) for e in new) < last:
            self.clear()
            new = list(model.journal)
        for line in entry_lines(new, model.local, model.time):
            self.write(line)
        self.shown = model.journal
        return arrived


def _position(entry: JournalEntry) -> tuple[datetime, int]:
    return entry.at, entry.id
