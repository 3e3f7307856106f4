"""How the console writes the model's values: site-local times, load bars, limits and
headroom, and the envelope timeline (amounts with units as the CLI writes them:
:mod:`depotctl.client.figures`). Plain 16-colour styles and block characters, so it
reads the same over any SSH terminal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from rich.console import Console, ConsoleOptions, RenderResult
from rich.text import Text

from depotctl.api import Envelope, NodeLimit
from depotctl.client.figures import DASH


def clock_text(instant: datetime | None, zone: tzinfo, now: datetime | None = None) -> str:
    """``HH:MM`` in the site's time, with ``+Nd`` when on another day than ``now``."""
    if instant is None:
        return DASH
    local = instant.astimezone(zone)
    text = local.strftime("%H:%M")
    if now is not None:
        days = (local.date() - now.astimezone(zone).date()).days
        if days:
            text += f" {days:+d}d"
    return text


def load_style(share: float, at_limit: bool) -> str:
    if at_limit or share >= 0.999:
        return "bold red"
    if share >= 0.8:
        return "yellow"
    return "green"


@dataclass(frozen=True, slots=True)
class LoadBar:
    """A load against its limit as ``width`` cells of ``█`` and ``░``."""

    share: float
    width: int = 10
    at_limit: bool = False

    def __rich__(self) -> Text:
        share = min(max(self.share, 0.0), 1.0)
        filled = round(share * self.width)
        if self.share > 0 and filled == 0:
            filled = 1
        style = load_style(self.share, self.at_limit)
        return Text.assemble(("█" * filled, style), ("░" * (self.width - filled), "dim"))


def limit_text(limit: NodeLimit) -> Text:
    """``242.9/285.0 kW`` with a bar, or one small bar per phase for current limits."""
    return Text.assemble(
        LoadBar(limit.share, 10, limit.at_limit).__rich__(),
        f" {limit.load:,.1f}/{limit.effective_limit or 0.0:,.1f} {limit.unit}",
    )


def phases_text(limits: Sequence[NodeLimit]) -> Text:
    """``L1▕███░▏ L2▕███░▏ L3▕███░▏ 352/760 A`` for per-phase current limits."""
    text = Text()
    for limit in limits:
        text.append(f"{limit.phase} ", "dim")
        text.append_text(LoadBar(limit.share, 4, limit.at_limit).__rich__())
        text.append(" ")
    worst = max(limits, key=lambda limit: limit.share)
    text.append(f"{worst.load:,.0f}/{worst.effective_limit or 0.0:,.0f} {worst.unit}")
    return text


def headroom_text(limit: NodeLimit) -> Text:
    style = "bold red" if limit.at_limit else "dim"
    headroom = limit.headroom
    if headroom is None:  # (only where the limit has no value)
        headroom = (limit.effective_limit or 0.0) - limit.load
    return Text(f"+{headroom:,.1f} {limit.unit}", style)


# The envelope timeline

_ACTIVE = "█"
_PAST = "▒"
_OFF = "·"
_GONE = "x"
_STATE_STYLE = {
    "active": "bold yellow",
    "active_fallback": "bold yellow",
    "pending": "cyan",
    "fallback_eligible": "cyan",
    "expired": "dim",
    "withdrawn": "dim",
}


def state_style(state: str) -> str:
    return _STATE_STYLE.get(state, "")


@dataclass(frozen=True, slots=True)
class Timeline:
    """Envelopes on a time axis: an hour back and ``hours`` ahead of ``now``, one text
    cell per slot (as many as the width allows). ``█`` the window ahead, ``▒`` the part
    of it already past, ``x`` withdrawn, ``·`` outside the window; ``│`` is now."""

    envelopes: Sequence[Envelope]
    now: datetime
    zone: tzinfo
    hours: int = 6
    label_width: int = 12

    def slots(self, width: int) -> tuple[datetime, timedelta, int]:
        cells = max(12, width - self.label_width - 1)
        span = timedelta(hours=self.hours + 1)
        step = span / cells
        return self.now - timedelta(hours=1), step, cells

    def __rich_console__(self, console: Console, options: ConsoleOptions) -> RenderResult:
        start, step, cells = self.slots(options.max_width)
        now_cell = int((self.now - start) / step)
        yield self._axis(start, step, cells, now_cell)
        if not self.envelopes:
            yield Text(" " * self.label_width + "no envelopes", "dim")
        for envelope in self.envelopes:
            yield self._row(envelope, start, step, cells, now_cell)

    def _axis(self, start: datetime, step: timedelta, cells: int, now_cell: int) -> Text:
        axis = [" "] * cells
        hour = start.astimezone(self.zone).replace(minute=0, second=0, microsecond=0)
        hour += timedelta(hours=1)
        while True:
            index = int((hour - start) / step)
            if index >= cells:
                break
            label = hour.strftime("%H")
            if index + len(label) <= cells and all(c == " " for c in axis[index : index + 3]):
                axis[index : index + len(label)] = list(label)
            hour += timedelta(hours=1)
        if 0 <= now_cell < cells:
            axis[now_cell] = "│"
        return Text.assemble(("time".ljust(self.label_width) + " ", "dim"), "".join(axis))

    def _row(
        self, envelope: Envelope, start: datetime, step: timedelta, cells: int, now_cell: int
    ) -> Text:
        row = Text(envelope.id[: self.label_width].ljust(self.label_width) + " ")
        style = state_style(envelope.state)
        for index in range(cells):
            middle = start + step * (index + 0.5)
            in_window = (envelope.start is None or middle >= envelope.start) and (
                envelope.end is None or middle < envelope.end
            )
            withdrawn = envelope.withdrawn_at is not None and middle >= envelope.withdrawn_at
            if index == now_cell:
                row.append("│", "bold")
            elif not in_window:
                row.append(_OFF, "dim")
            elif withdrawn:
                row.append(_GONE, "dim")
            elif middle < self.now:
                row.append(_PAST, "dim")
            else:
                row.append(_ACTIVE, style or "cyan")
        return row
