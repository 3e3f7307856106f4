"""A timeline pane: the selected EVSE's or node's load against its limit over the last
night (:mod:`depotctl.console.timeline` draws it) — a sparkline where there are a few
lines, a chart where there are more — with its title (subject, window in site time,
peak and limit) in the border. The app fetches what it shows, one fetch per selection
once a burst of keys has settled (:meth:`~depotctl.console.app.ConsoleApp.want_timeline`)."""

from __future__ import annotations

from datetime import datetime, tzinfo

from rich.console import Group, RenderableType
from rich.text import Text
from textual.widget import Widget

from depotctl.api.timeline import Timeline
from depotctl.console.timeline import chart, sparkline, title

#: The key of what a view should show: the subject, the past instant (None: now) and
#: the live minute it was asked in (so a live timeline is asked again as time moves).
TimelineKey = tuple[str | None, datetime | None, datetime | None]


class TimelineView(Widget):
    """One subject's timeline; ``chart_rows`` > 0 draws a chart of that many rows (and
    an axis), else a three-line sparkline."""

    def __init__(self, *, chart_rows: int = 0, id: str | None = None) -> None:
        super().__init__(id=id)
        self.chart_rows = chart_rows
        self.timeline: Timeline | None = None
        self.zone: tzinfo | None = None
        self.message = "select an EVSE or a node for its timeline"
        #: what the view should show, and whether a worker is fetching it
        self.wanted: TimelineKey | None = None
        self.following = False
        #: how many timelines it has drawn (a burst of keys draws one)
        self.paints = 0

    @property
    def loaded(self) -> bool:
        """Whether it shows what it should (or why it cannot)."""
        return not self.following

    def waiting(self, subject: str | None) -> None:
        """A new subject is asked for: say so in the border until it comes."""
        if subject is None:
            self.timeline, self.message = None, "select an EVSE or a node for its timeline"
            self.border_title = "timeline"
        else:
            self.border_title = f"{subject} …"
        self.refresh()

    def show(self, timeline: Timeline, zone: tzinfo) -> None:
        self.timeline, self.zone = timeline, zone
        self.border_title = title(timeline, zone)
        self.paints += 1
        self.refresh()

    def show_error(self, message: str) -> None:
        self.timeline, self.message = None, message
        self.border_title = "timeline"
        self.refresh()

    def render(self) -> RenderableType:
        timeline, zone = self.timeline, self.zone
        if timeline is None or zone is None:
            return Text(self.message, "dim", no_wrap=True, overflow="ellipsis")
        if all(p.load is None and p.limit is None for p in timeline.points):
            return Text("no readings and no limit journaled in this window", "dim", no_wrap=True)
        width = max(1, self.content_size.width)
        if self.chart_rows:
            return Group(*chart(timeline, width, self.chart_rows, zone))
        return Group(*sparkline(timeline, width, zone))
