"""The journal tail: the controller's decisions as they are journaled, newest at the
bottom, in the site's time: the clock time, with the date for an entry of another day
than the controller's today (the header shows the date and the offset)."""

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
    """Appends the entries it has not shown yet."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(max_lines=1000, wrap=False, markup=False, **kwargs)  # type: ignore[arg-type]
        self.last_id = 0

    def update_model(self, model: Model) -> int:
        new = [entry for entry in model.journal if entry.id > self.last_id]
        for line in entry_lines(new, model.local, model.time):
            self.write(line)
        if new:
            self.last_id = new[-1].id
        return len(new)
