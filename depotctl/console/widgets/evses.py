"""The EVSE table: every EVSE with its session (its vehicle, bus-42, when known),
state, limit, energy delivered and needed, departure, readiness at departure (✓, or how short: the session's readiness
forecast) and the binding constraint in words; sorted by a column (``s`` cycles),
filtered by text (``/``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime

from rich.text import Text
from textual.widgets import DataTable, Static
from textual.widgets.data_table import ColumnKey, RowKey

from depotctl.client.figures import DASH, amount, kwh
from depotctl.console.model import EvseNow, Model
from depotctl.console.render import clock_text
from depotctl.domain.readiness import Readiness

#: Each column's key, title and width: fixed, so the columns stand still as values
#: change and the table looks the same however its rows arrived (a width measured
#: from the cells depends on which cells were there when it was measured).
COLUMNS = (
    ("evse", "EVSE", 9),
    ("session", "Session", 14),
    ("state", "State", 11),
    ("limit", "Limit", 8),
    ("departure", "Departs", 9),
    ("ready", "Ready", 17),
    ("energy", "Energy", 15),
    ("draw", "Draw", 8),
    ("binding", "Binding constraint", 120),
)

Cells = tuple[Text | str, ...]


def _state(evse: EvseNow) -> Text:
    if evse.paused:
        return Text("paused (op)", "bold yellow")
    state = evse.allocation.state
    style = {"charging": "green", "paused": "yellow", "idle": "dim"}.get(state, "")
    return Text(state, style)


def _limit(evse: EvseNow) -> str:
    return amount(evse.allocation.limit_a, "A")


def _energy(evse: EvseNow) -> str:
    session = evse.session
    if session is None:
        return DASH
    delivered = session.energy_delivered_wh
    delivered_text = DASH if delivered is None else f"{delivered / 1000:,.1f}"
    return f"{delivered_text}/{kwh(session.required_wh)}"


def _forecast(evse: EvseNow) -> Readiness | None:
    """The session's readiness forecast (None without a session, or from a controller
    that gives none)."""
    readiness = evse.session.readiness if evse.session else None
    return readiness.forecast() if readiness is not None else None


def _ready(evse: EvseNow) -> Text:
    """``✓`` when it will be ready; else how short, ``overdue`` past its departure."""
    forecast = _forecast(evse)
    if forecast is None:
        return Text(DASH, "dim")
    if not forecast.is_short:
        return Text("✓", "green")
    text = Text(f"{kwh(forecast.short_wh)} short", "bold red")
    if forecast.is_overdue:
        text.append(" overdue", "red")
    return text


def _binding(evse: EvseNow) -> Text:
    forecast = _forecast(evse)
    binding = evse.allocation.binding
    style = "dim" if binding.kind == "no_session" else ""
    if forecast is not None and forecast.is_short:
        style = "red"
    return Text(binding.words, style)


def _short(session_id: str, width: int = 14) -> str:
    """A session id that fits its column (the detail line shows it whole)."""
    return session_id if len(session_id) <= width else session_id[: width - 1] + "…"


def cells_of(evse: EvseNow, model: Model) -> Cells:
    """One row, in the order of :data:`COLUMNS`."""
    session = evse.session
    return (
        Text(evse.id, "bold"),
        _short(session.vehicle or session.id) if session else DASH,
        _state(evse),
        _limit(evse),
        clock_text(session.departure if session else None, model.local, model.time),
        _ready(evse),
        _energy(evse),
        amount(evse.draw_kw, "kW"),
        _binding(evse),
    )


@dataclass(frozen=True, slots=True)
class SortKey:
    name: str
    key: Callable[[EvseNow], tuple[object, ...]]


def _departure(evse: EvseNow) -> tuple[object, ...]:
    departure = evse.session.departure if evse.session else None
    return (departure is None, departure or datetime.min.replace(tzinfo=UTC), evse.id)


def _shortfall_key(evse: EvseNow) -> tuple[object, ...]:
    forecast = _forecast(evse)
    return (-(forecast.short_wh if forecast is not None else -1.0), evse.id)


SORTS = (
    SortKey("EVSE", lambda e: (e.id,)),
    SortKey("shortfall", _shortfall_key),
    SortKey("departure", _departure),
    SortKey("limit", lambda e: (-(e.allocation.limit_a or 0.0), e.id)),
    SortKey("state", lambda e: (e.allocation.state, e.id)),
)


def _frame(model: Model) -> tuple[object, ...]:
    """What a row's text depends on besides its EVSE: the site's zone and today's date
    there (departures on another day show ``+1d``)."""
    today = model.time.astimezone(model.local).date() if model.time else None
    return (model.local, today)


def _same(old: EvseNow | None, new: EvseNow) -> bool:
    return old is new or old == new


def _plain(cell: Text | str) -> str:
    return cell.plain if isinstance(cell, Text) else cell


def matches(cells: Cells, needle: str) -> bool:
    return any(needle in _plain(c).lower() for c in cells)


#: DataTable's render caches keyed by row key first, and those keyed by position.
_ROW_CACHES = ("_cell_render_cache", "_row_render_cache")
_LINE_CACHES = ("_row_renderable_cache", "_line_cache")


class EvseTable(DataTable[Text | str]):
    """The table; an update sets only the cells that changed when the rows shown stay
    the same (moving them in place if their order changed), else it lays the rows
    out again."""

    def __init__(self, **kwargs: object) -> None:
        super().__init__(cursor_type="row", zebra_stripes=False, **kwargs)  # type: ignore[arg-type]
        self.fixed_columns = 1  # the EVSE id stays as the table scrolls sideways
        self.filter_text = ""
        self.sort_index = 0
        self._model: Model | None = None
        self._cells: dict[str, Cells] = {}
        self._shown: list[str] = []

    def on_mount(self) -> None:
        for key, title, width in COLUMNS:
            self.add_column(title, key=key, width=width)

    @property
    def sort_key(self) -> SortKey:
        return SORTS[self.sort_index]

    @property
    def shown(self) -> list[str]:
        """The EVSE ids shown, in order."""
        return list(self._shown)

    def update_model(self, model: Model) -> int:
        """Show ``model``; returns how many cells were set."""
        previous = self._cells
        known = self._model.evses if self._model is not None else {}
        same_frame = self._model is not None and _frame(self._model) == _frame(model)
        self._model = model
        self._cells = {
            evse.id: previous[evse.id]
            if same_frame and evse.id in previous and _same(known.get(evse.id), evse)
            else cells_of(evse, model)
            for evse in model.evses.values()
        }
        wanted = self._order(model)
        if wanted != self._shown and set(wanted) != set(self._shown):
            self._layout(wanted)
            return len(wanted) * len(COLUMNS)
        changes: dict[str, dict[str, Text | str]] = {}
        for evse_id in wanted:
            old, new = previous.get(evse_id), self._cells[evse_id]
            if old is new or old == new:
                continue
            changes[evse_id] = {
                key: new[index]
                for index, (key, _, _) in enumerate(COLUMNS)
                if old is None or old[index] != new[index]
            }
        self.set_cells(changes)
        if wanted != self._shown:
            self._reorder(wanted)
        return sum(len(cells) for cells in changes.values())

    def set_cells(self, changes: dict[str, dict[str, Text | str]]) -> None:
        """Set cells in place (``{row: {column: value}}``), with one repaint.

        ``DataTable.update_cell`` bumps the table's update count, which is part of
        every render cache's key: each cell update makes the whole visible table
        render its cells through Rich again. Here only the changed rows' cached
        renders are dropped and only those on screen are repainted; rows off screen
        render when they scroll into view. Column widths stay as laid out
        (as with ``update_width=False``). Should a Textual release lack these caches,
        it falls back to ``update_cell``."""
        if not changes:
            return
        if not all(hasattr(self, cache) for cache in _ROW_CACHES + _LINE_CACHES):
            for row, cells in changes.items():
                for column, value in cells.items():
                    self.update_cell(row, column, value)
            return
        keys: set[RowKey] = set()
        for row, cells in changes.items():
            keys.add(key := RowKey(row))
            data = self._data[key]
            for column, value in cells.items():
                data[ColumnKey(column)] = value
        for name in _ROW_CACHES:  # keyed (row key, ...); LRUCache has no __iter__
            cache = getattr(self, name)
            for stale in [k for k in cache.keys() if k[0] in keys]:  # noqa: SIM118
                cache.discard(stale)
        for name in _LINE_CACHES:  # keyed by row index or screen line: cheap to redo
            getattr(self, name).clear()
        top, height = self.scroll_offset.y, self.size.height
        for key in keys:
            index = self._row_locations.get(key)
            if index is not None and top - 1 <= index <= top + height:
                self.refresh_row(index)  # only the changed rows on screen are drawn

    def set_filter(self, text: str) -> None:
        self.filter_text = text.strip().lower()
        self._relayout()

    def next_sort(self) -> SortKey:
        self.sort_index = (self.sort_index + 1) % len(SORTS)
        self._relayout()
        return self.sort_key

    def selected_evse(self) -> str | None:
        if not self._shown or self.cursor_row < 0 or self.cursor_row >= len(self._shown):
            return None
        return self._shown[self.cursor_row]

    def _relayout(self) -> None:
        if self._model is not None:
            self._layout(self._order(self._model))

    def _order(self, model: Model) -> list[str]:
        evses = sorted(model.evses.values(), key=self.sort_key.key)
        if self.filter_text:
            return [e.id for e in evses if matches(self._cells[e.id], self.filter_text)]
        return [e.id for e in evses]

    def _reorder(self, wanted: list[str]) -> None:
        """The same rows in a new order (a sort on a value that changed): moved in
        place, the cursor staying on its EVSE — no rows removed and added again."""
        selected = self.selected_evse()
        rank = {evse_id: index for index, evse_id in enumerate(wanted)}
        self.sort("evse", key=lambda cell: rank[_plain(cell)])
        self._shown = wanted
        if selected in rank:
            self.move_cursor(row=rank[selected], animate=False)

    def _layout(self, wanted: list[str]) -> None:
        selected = self.selected_evse()
        self.clear()
        for evse_id in wanted:
            self.add_row(*self._cells[evse_id], key=evse_id)
        self._shown = wanted
        if selected in wanted:
            self.move_cursor(row=wanted.index(selected), animate=False)


def detail_text(evse: EvseNow | None, model: Model) -> Text:
    """The selected EVSE's binding constraint in words, and its session's readiness
    forecast in words (in the site's time)."""
    if evse is None:
        return Text("no EVSE selected", "dim")
    limit_kw = evse.allocation.limit_kw
    kw = f" = {limit_kw:,.1f} kW" if limit_kw is not None else ""
    session = f" ({evse.session.id})" if evse.session else ""
    binding = evse.allocation.binding.words
    text = Text.assemble((evse.id, "bold"), f"{session} {_limit(evse)}{kw}: ", binding)
    forecast = _forecast(evse)
    if forecast is not None:
        if forecast.cause is not None and forecast.cause.detail == binding:
            forecast = replace(forecast, cause=None)  # the line above says it
        said = forecast.outcome(model.local)
        text.append(f"\nready: {said}", "red" if forecast.is_short else "green")
    return text


class EvseDetail(Static):
    """Under the table: the selected EVSE's binding constraint, whole. Its height is
    fixed in the CSS, so a new text needs no layout; the same text no repaint."""

    shown_text: Text | None = None

    def show(self, evse: EvseNow | None, model: Model) -> None:
        text = detail_text(evse, model)
        if text != self.shown_text:
            self.shown_text = text
            self.update(text, layout=False)
