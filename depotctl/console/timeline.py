"""A timeline drawn in terminal cells (pure: no widget, no network): an EVSE's or a
node's load against its limit (:class:`~depotctl.api.timeline.Timeline`) as a
sparkline of N cells — the load, red where it is at its limit; the limit on the line
under it; an axis in the site's time with ``[`` and ``]`` where envelopes began and
ended — or, where there is room, as a chart of block columns with the limit drawn
across them.

Each cell covers an equal share of the window and holds the highest load and the
lowest limit of the steps it overlaps: a peak or a cut is never lost to the width."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta, tzinfo

from rich.text import Text

from depotctl.api.timeline import Timeline

#: A cell's height in eighths, empty to full.
BLOCKS = " ▁▂▃▄▅▆▇█"
#: The load is at its limit from this share of it (a limit is a ceiling, not a target).
AT_LIMIT = 0.97
#: The gutter before the cells, wide enough for its labels.
GUTTER = 6
#: Axis labels every so many hours: the first that leaves room between them.
LABEL_HOURS = (1, 2, 3, 6, 12, 24)
LABEL = "%H:%M"
#: The last night starts at this hour of the site's day …
EVENING = 18
#: … and covers at least this much.
NIGHT = timedelta(hours=12)


@dataclass(frozen=True, slots=True)
class Cells:
    """A timeline resampled to ``len(load)`` cells."""

    load: tuple[float | None, ...]
    limit: tuple[float | None, ...]
    #: a cell covers this much of the window
    span: timedelta

    @property
    def at_limit(self) -> tuple[bool, ...]:
        """Whether each cell's load reached its limit."""
        return tuple(
            load is not None and limit is not None and load >= limit * AT_LIMIT
            for load, limit in zip(self.load, self.limit, strict=True)
        )

    @property
    def top(self) -> float:
        """The value a full cell stands for: the highest load or limit (1 for none)."""
        values = [v for v in (*self.load, *self.limit) if v is not None]
        return max(values) if values and max(values) > 0 else 1.0


def cells_of(timeline: Timeline, width: int) -> Cells:
    """``timeline`` in ``width`` cells, each the highest load and the lowest limit of
    the steps that overlap it."""
    span = (timeline.until - timeline.since) / width
    step = timedelta(seconds=timeline.step_s)
    load: list[float | None] = [None] * width
    limit: list[float | None] = [None] * width
    for point in timeline.points:
        first = max(0, math.floor((point.at - timeline.since) / span))
        last = min(width, math.ceil((point.at + step - timeline.since) / span))
        for cell in range(first, last):
            if point.load is not None:
                held = load[cell]
                load[cell] = point.load if held is None else max(held, point.load)
            if point.limit is not None:
                bound = limit[cell]
                limit[cell] = point.limit if bound is None else min(bound, point.limit)
    return Cells(tuple(load), tuple(limit), span)


def level(value: float | None, top: float, eighths: int = 8) -> int:
    """How many of ``eighths`` a value fills (a value above zero at least one)."""
    if value is None or value <= 0:
        return 0
    return max(1, min(eighths, round(value / top * eighths)))


def blocks(values: tuple[float | None, ...], top: float) -> str:
    """One block per value, its height the value's share of ``top``; a value of none
    is a blank, a zero the lowest block."""
    return "".join(" " if v is None else BLOCKS[max(1, level(v, top))] for v in values)


def axis(timeline: Timeline, width: int, zone: tzinfo) -> str:
    """The window's hours in the site's time (every 1, 2, 3, 6, 12 or 24 h, whichever
    leaves room), ``·`` between them, and ``[``/``]`` in the cells where an envelope
    began and ended (``|`` both), over any label."""
    cells = ["·"] * width
    span = (timeline.until - timeline.since) / width
    local_since = timeline.since.astimezone(zone)
    hours = next(
        (
            h
            for h in LABEL_HOURS
            if (timeline.until - timeline.since) / timedelta(hours=h) * 6 <= width
        ),
        LABEL_HOURS[-1],
    )
    mark = local_since.replace(minute=0, second=0, microsecond=0)
    while mark < timeline.until:
        cell = math.floor((mark - timeline.since) / span)
        label = mark.strftime(LABEL)
        room = cell + len(label) <= width
        free = all(c == "·" for c in cells[max(0, cell - 1) : cell + len(label)])
        if mark >= timeline.since and mark.hour % hours == 0 and room and free:
            cells[cell : cell + len(label)] = label
        mark += timedelta(hours=1)
    for envelope in timeline.envelopes:
        for instant, sign in ((envelope.begin, "["), (envelope.end, "]")):
            if instant is None or not timeline.since <= instant < timeline.until:
                continue
            cell = math.floor((instant - timeline.since) / span)
            cells[cell] = "|" if cells[cell] in "[]" and cells[cell] != sign else sign
    return "".join(cells)


def amount(value: float | None, unit: str) -> str:
    """``31.8 A``, ``12.0 kW``; ``–`` for none."""
    if value is None:
        return "–"
    if unit == "W":
        return f"{value / 1000:,.1f} kW"
    return f"{value:,.1f} {unit}"


def short(value: float, unit: str) -> str:
    """The chart's top value in the gutter's five columns: ``32A``, ``400kW``, ``1.2MW``."""
    if unit == "A":
        return f"{value:.0f}A"
    if value >= 999_500:
        return f"{value / 1e6:.1f}MW"
    return f"{value / 1000:.0f}kW"


def title(timeline: Timeline, zone: tzinfo) -> str:
    """``chg-01/1 18:00 → 06:00 +11:00 · peak 31.8 A · limit 16.0–32.0 A``."""
    since = timeline.since.astimezone(zone)
    until = timeline.until.astimezone(zone)
    offset = until.strftime("%z")
    offset = f"{offset[:3]}:{offset[3:]}"
    loads = [p.load for p in timeline.points if p.load is not None]
    limits = [p.limit for p in timeline.points if p.limit is not None]
    unit = timeline.unit
    peak = amount(max(loads), unit) if loads else "no readings"
    if not limits:
        bound = "no limit known"
    elif min(limits) == max(limits):
        bound = amount(min(limits), unit)
    else:
        bound = f"{amount(min(limits), unit)} to {amount(max(limits), unit)}"
    return (
        f"{timeline.subject} {since.strftime(LABEL)} → {until.strftime(LABEL)} {offset}"
        f" · peak {peak} · limit {bound}"
    )


def sparkline(timeline: Timeline, width: int, zone: tzinfo) -> list[Text]:
    """Three lines of ``width`` columns (a gutter of :data:`GUTTER`, then the cells):
    the load (red where at its limit), the limit, and the axis with envelope marks."""
    cells = cells_of(timeline, max(1, width - GUTTER))
    top = cells.top
    load = Text("load".ljust(GUTTER), "dim")
    for glyph, full in zip(blocks(cells.load, top), cells.at_limit, strict=True):
        load.append(glyph, "bold red" if full else "green")
    limit = Text.assemble(("limit".ljust(GUTTER), "dim"), (blocks(cells.limit, top), "yellow"))
    marks = Text.assemble((" " * GUTTER, ""), (axis(timeline, len(cells.load), zone), "dim"))
    return [load, limit, marks]


def chart(timeline: Timeline, width: int, height: int, zone: tzinfo) -> list[Text]:
    """``height`` rows of block columns (the load, red where at its limit; ``─`` the
    limit where it is above the load), the top value and zero in the gutter, then the
    axis: ``height + 1`` lines of ``width`` columns."""
    cells = cells_of(timeline, max(1, width - GUTTER))
    top = cells.top
    eighths = height * 8
    loads = [level(v, top, eighths) for v in cells.load]
    limits = [None if v is None else min(height - 1, int(v / top * height)) for v in cells.limit]
    rows = []
    for row in range(height - 1, -1, -1):
        label = short(top, timeline.unit) if row == height - 1 else "0" if row == 0 else ""
        line = Text(label.rjust(GUTTER - 1)[: GUTTER - 1] + " ", "dim")
        for filled, bound, full in zip(loads, limits, cells.at_limit, strict=True):
            part = min(8, max(0, filled - row * 8))
            if part == 0 and bound == row:
                line.append("─", "yellow")
            else:
                line.append(BLOCKS[part], "bold red" if full else "green")
        rows.append(line)
    rows.append(Text.assemble(" " * GUTTER, (axis(timeline, len(loads), zone), "dim")))
    return rows


def night_since(until: datetime, zone: tzinfo) -> datetime:
    """Where the last night's timeline starts: the latest 18:00 (site time) before
    ``until``, or 12 h before it if that is earlier (in the evening: the day too)."""
    local = until.astimezone(zone)
    evening = local.replace(hour=EVENING, minute=0, second=0, microsecond=0)
    if evening > local:
        evening -= timedelta(days=1)
    return min(evening, until - NIGHT)
