"""The console app: the header, the banners (the controller unreachable; the open
alerts; the past, while the console looks back), five panes (tree, EVSEs, envelopes,
journal, alerts) fed by one
:class:`~depotctl.console.coordinator.Coordinator`, the selected EVSE's or node's
timeline under the tree and the EVSE table (and as a chart in the explanation), the
``:`` command line (``:at 02:14``, ``:now``), and the actions — each confirmed, each
hidden when the console may not write."""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any, ClassVar

from textual import on, work
from textual.app import App, ComposeResult, SystemCommand
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.screen import Screen
from textual.widgets import DataTable, Footer, Input, TabbedContent, TabPane, Tree

from depotctl.api.authors import local_author
from depotctl.client.api import ApiError, Unreachable
from depotctl.client.terminal_text import escaped
from depotctl.console.coordinator import Coordinator
from depotctl.console.model import Link, Model
from depotctl.console.widgets.alerts import AlertBanner, AlertsTable
from depotctl.console.widgets.dialogs import (
    Confirmed,
    ConfirmScreen,
    EnvelopeFields,
    EnvelopeForm,
    HelpScreen,
)
from depotctl.console.widgets.envelopes import EnvelopesView
from depotctl.console.widgets.evses import EvseDetail, EvseTable
from depotctl.console.widgets.explain import ExplainScreen, binding_node
from depotctl.console.widgets.journal import JournalTail
from depotctl.console.widgets.past import COMMAND_LINE, PastBanner, TravelPrompt
from depotctl.console.widgets.status import Banner, StatusBar
from depotctl.console.widgets.timeline import TimelineKey, TimelineView
from depotctl.console.widgets.tree import ElectricalTree
from depotctl.domain.instants import InstantError, format_instant, parse_instant

#: Actions that change the controller: hidden when the console may not write.
WRITE_ACTIONS = frozenset({"pause", "new_envelope", "withdraw"})
PANES = ("tree", "evses", "envelopes", "journal", "alert-list")
#: How long the selection must rest before its timeline is asked for (a burst of
#: keys asks once, for where it stopped).
TIMELINE_SETTLE_S = 0.2
#: A live timeline is asked again when the controller's clock has moved this far.
TIMELINE_REFRESH = timedelta(minutes=5)
#: The explanation's chart: rows of blocks (and an axis under them).
CHART_ROWS = 6


class ModelUpdated(Message):
    """The coordinator has a new model (or a new connection state)."""


class FilterInput(Input):
    """A pane's filter (the EVSE table's, the journal's): typing filters ``target``;
    escape clears and hides it, and focus goes back to ``target``."""

    BINDINGS: ClassVar[list[BindingType]] = [Binding("escape", "clear", "Clear filter")]

    def __init__(self, target: str, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.target = target

    def action_clear(self) -> None:
        self.value = ""
        self.remove_class("shown")
        self.screen.query_one(self.target).focus()


class ConsoleApp(App[None]):
    """``depotctl console``."""

    CSS_PATH = "console.tcss"
    TITLE = "depotctl console"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("q", "quit", "Quit"),
        Binding("ctrl+c", "quit", "Quit", show=False, priority=True),
        Binding("question_mark", "help", "Help"),
        Binding("e", "explain", "Explain"),
        Binding("slash", "filter", "Filter"),
        Binding("s", "sort", "Sort"),
        Binding("p", "pause", "Pause"),
        Binding("n", "new_envelope", "Envelope"),
        Binding("w", "withdraw", "Withdraw"),
        Binding("r", "poll", "Poll now", show=False),
        Binding("t", "travel", "Past"),
        Binding("colon", "command", ":at", show=False),
        Binding("g", "jump", "Go to time", show=False),
        Binding("escape", "now", "Now"),
        Binding("1", "pane('tree')", "Tree", show=False),
        Binding("2", "pane('evses')", "EVSEs", show=False),
        Binding("3", "pane('envelopes')", "Envelopes", show=False),
        Binding("4", "pane('journal')", "Journal", show=False),
        Binding("5", "pane('alert-list')", "Alerts", show=False),
    ]

    def __init__(self, coordinator: Coordinator, *, pane: str = "tree", poll: bool = True) -> None:
        super().__init__()
        self.coordinator = coordinator
        self.poll = poll
        self.first_pane = pane
        self.applied_polls = -1
        self.shown_in: dict[str, int] = {}  # pane → the model generation it shows
        self.may_write = False
        self.live = True  # whether the footer's keys are now's (esc: back to now)
        coordinator.on_update = self._model_arrived

    def _model_arrived(self, _model: Model) -> None:
        self.post_message(ModelUpdated())

    @property
    def main(self) -> Screen[Any]:
        """The screen with the panes (under any dialog or explanation)."""
        return self.screen_stack[0] if self.screen_stack else self.screen

    @property
    def model(self) -> Model:
        return self.coordinator.model

    # Layout

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Banner(id="banner")
        yield AlertBanner(id="alerts")
        yield PastBanner(id="past")
        with TabbedContent(initial=self.first_pane, id="panes"):
            with TabPane("1 Tree", id="tree"):
                yield ElectricalTree(id="tree-view")
                yield TimelineView(id="tree-timeline")
            with TabPane("2 EVSEs", id="evses"):
                yield FilterInput(
                    "#evse-table", placeholder="filter EVSEs (escape clears)", id="filter"
                )
                yield EvseTable(id="evse-table")
                yield EvseDetail(id="evse-detail")
                yield TimelineView(id="evse-timeline")
            with TabPane("3 Envelopes", id="envelopes"):
                yield EnvelopesView(id="envelopes-view")
            with TabPane("4 Journal", id="journal"):
                yield FilterInput(
                    "#journal-view",
                    placeholder="filter the journal: words, any case (escape clears)",
                    id="journal-filter",
                )
                yield JournalTail(id="journal-view")
            with TabPane("5 Alerts", id="alert-list"):
                yield AlertsTable(id="alerts-view")
        yield Footer(compact=True)

    def on_mount(self) -> None:
        self.main.query_one(StatusBar).update_model(self.model)
        if self.poll:
            self.run_worker(self.coordinator.run(), name="poller", group="poller")
        self.call_after_refresh(self._focus_pane, self.first_pane)

    async def on_unmount(self) -> None:
        await self.coordinator.client.aclose()

    # The model

    def on_model_updated(self, _message: ModelUpdated) -> None:
        if self.applied_polls == self.coordinator.polls:
            return  # a burst: this model is on screen already
        self.applied_polls = self.coordinator.polls
        self.apply(self.model)

    def apply(self, model: Model) -> None:
        """Show ``model`` everywhere (on the main screen, whichever screen is on top)."""
        main = self.main
        statuses = main.query(StatusBar)
        if not statuses or not statuses.first().is_attached:
            return  # not mounted yet, or shutting down
        statuses.first().update_model(model)
        main.query_one(Banner).update_model(model)
        main.query_one(AlertBanner).update_model(model)
        main.query_one(PastBanner).update_model(model)
        refused, self.coordinator.past_refused = self.coordinator.past_refused, None
        if refused is not None:
            self.notify(f"cannot show the past: {refused}", severity="error", markup=False)
        if model.may_write != self.may_write or (model.past is None) != self.live:
            self.may_write = model.may_write
            self.live = model.past is None
            self.refresh_bindings()
        if not model.loaded:
            return
        self.show_pane(self._pane(), model)

    def show_pane(self, pane: str, model: Model) -> None:
        """Update the pane on screen; the others catch up when they are shown."""
        if not model.loaded or self.shown_in.get(pane) == model.generation:
            return
        self.shown_in[pane] = model.generation
        main = self.main
        if pane == "tree":
            main.query_one(ElectricalTree).update_model(model)
        elif pane == "evses":
            main.query_one(EvseTable).update_model(model)
            self._show_detail()
        elif pane == "envelopes":
            main.query_one(EnvelopesView).update_model(model)
        elif pane == "alert-list":
            main.query_one(AlertsTable).update_model(model)
        else:
            main.query_one(JournalTail).update_model(model)
        self._follow_selection()
        if isinstance(self.screen, ExplainScreen) and model.connection.link is Link.CONNECTED:
            self.load_explanation(self.screen)
            self._explain_timeline(self.screen)

    # Navigation

    def action_pane(self, pane: str) -> None:
        self.main.query_one(TabbedContent).active = pane
        self._focus_pane(pane)

    def _focus_pane(self, pane: str) -> None:
        widget = {
            "tree": "#tree-view",
            "evses": "#evse-table",
            "envelopes": "#envelope-table",
            "journal": "#journal-view",
            "alert-list": "#alerts-view",
        }[pane]
        self.main.query_one(widget).focus()

    @on(TabbedContent.TabActivated)
    def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        self.refresh_bindings()
        self.show_pane(self._pane(), self.model)

    def action_help(self) -> None:
        self.push_screen(HelpScreen())

    def action_poll(self) -> None:
        self.coordinator.wake()

    # The past

    def action_travel(self) -> None:
        self.push_screen(TravelPrompt(), self._travel_typed)

    def _travel_typed(self, text: str | None) -> None:
        at = self._instant(text)
        if at is not None:
            self.coordinator.travel(at)

    def _instant(self, text: str | None) -> datetime | None:
        """The past instant ``text`` names (read as every command reads times, in the
        site's zone); None, said, for one not read or not past."""
        now = self.coordinator.now
        if text is None:
            return None
        if now is None:
            self.notify("the controller's time is not known yet; wait for its first answer")
            return None
        try:
            at = parse_instant(text, now=now, zone=self.model.local)
        except InstantError as error:
            self.notify(f"{error.message}; {error.hint}", severity="error", markup=False)
            return None
        if at > now:
            when = format_instant(at, self.model.local)
            self.notify(f"{when} is after the controller's now; give a past time", severity="error")
            return None
        return at

    def action_now(self) -> None:
        self.coordinator.travel(None)

    def action_command(self) -> None:
        self.push_screen(TravelPrompt(*COMMAND_LINE), self._command_typed)

    def _command_typed(self, text: str | None) -> None:
        """``at TIME`` looks back to TIME (as ``t`` does), ``now`` comes back."""
        words = (text or "").strip().removeprefix(":").split(maxsplit=1)
        if not words:
            return
        if words[0] == "at" and len(words) == 2:
            self._travel_typed(words[1])
        elif words == ["now"]:
            self.action_now()
        else:
            self.notify(
                f'unknown command ":{text}"; try ":at 02:14" (the depot then) or ":now"',
                severity="error",
                markup=False,
            )

    def action_sort(self) -> None:
        table = self.main.query_one(EvseTable)
        self.action_pane("evses")
        sort = table.next_sort()
        self.notify(f"EVSEs sorted by {sort.name}", timeout=2)

    def action_filter(self) -> None:
        journal = self._pane() == "journal"
        if not journal:
            self.action_pane("evses")
        box = self.main.query_one("#journal-filter" if journal else "#filter", FilterInput)
        box.add_class("shown")
        box.focus()

    def action_jump(self) -> None:
        self.action_pane("journal")
        self.push_screen(TravelPrompt("Go to the journal's entries at"), self._jump_typed)

    def _jump_typed(self, text: str | None) -> None:
        at = self._instant(text)
        if at is not None:
            said = self.main.query_one(JournalTail).jump_to(at)
            self.notify(said, timeout=4, markup=False)

    @on(Input.Changed, "FilterInput")
    def _filter_changed(self, event: Input.Changed) -> None:
        assert isinstance(event.input, FilterInput)
        target = self.main.query_one(event.input.target)
        if isinstance(target, EvseTable | JournalTail):
            target.set_filter(event.value)

    @on(Input.Submitted, "FilterInput")
    def _filter_submitted(self, event: Input.Submitted) -> None:
        assert isinstance(event.input, FilterInput)
        if not event.value:
            event.input.remove_class("shown")
        self.main.query_one(event.input.target).focus()

    # The explanation

    def selected_evse(self) -> str | None:
        if isinstance(self.screen, ExplainScreen):
            return self.screen.evse
        pane = self.main.query_one(TabbedContent).active
        if pane == "tree":
            return self.main.query_one(ElectricalTree).selected_evse()
        if pane == "evses":
            return self.main.query_one(EvseTable).selected_evse()
        return None

    def action_explain(self, evse: str | None = None) -> None:
        evse = evse or self.selected_evse()
        if evse is None:
            self.notify("Select an EVSE first (in the tree or the EVSE table)", timeout=3)
            return
        screen = ExplainScreen(evse, chart_rows=CHART_ROWS)
        self.push_screen(screen)
        self.load_explanation(screen)
        self.call_after_refresh(self._explain_timeline, screen)

    def _explain_timeline(self, screen: ExplainScreen) -> None:
        if screen.is_attached:
            self.want_timeline(screen.query_one(TimelineView), screen.evse)

    @on(DataTable.RowHighlighted, "#evse-table")
    def _show_detail(self) -> None:
        evse_id = self.main.query_one(EvseTable).selected_evse()
        self.main.query_one(EvseDetail).show(self.model.evses.get(evse_id or ""), self.model)
        self._follow_selection()

    # The timelines

    @on(Tree.NodeHighlighted, "#tree-view")
    def _follow_selection(self) -> None:
        """The pane on screen's timeline follows its selection: the tree's node or EVSE
        (the site: its first grid connection), the EVSE table's EVSE."""
        if not self.model.loaded:
            return
        pane = self._pane()
        main = self.main
        if pane == "evses":
            subject = main.query_one(EvseTable).selected_evse()
            self.want_timeline(main.query_one("#evse-timeline", TimelineView), subject)
        elif pane == "tree":
            cursor = main.query_one(ElectricalTree).cursor_node
            data = cursor.data if cursor is not None else None
            subject = data[1] if data is not None and data[0] in ("node", "evse") else None
            if subject is None:
                top = (n.id for n in self.model.nodes if n.type == "grid_connection")
                subject = next(top, None)
            self.want_timeline(main.query_one("#tree-timeline", TimelineView), subject)

    def want_timeline(self, view: TimelineView, subject: str | None) -> None:
        """Show ``subject``'s timeline in ``view`` (the past's, looking back): asked
        for once the selection rests, by one worker per view that asks again only if
        the selection moved while it asked (so a burst of keys paints once)."""
        now = self.coordinator.now
        at = self.coordinator.at
        moment = at if at is not None else _floored(now, TIMELINE_REFRESH)
        key: TimelineKey = (subject, at, moment)
        if key == view.wanted:
            return
        view.wanted = key
        view.waiting(subject)
        if subject is not None and not view.following:
            view.following = True
            self.run_worker(self._follow_timeline(view), group="timelines", exit_on_error=False)

    async def _follow_timeline(self, view: TimelineView) -> None:
        try:
            while view.is_attached and view.wanted is not None:
                await asyncio.sleep(TIMELINE_SETTLE_S)  # let a burst of keys settle
                key = view.wanted
                subject, at, _ = key
                if subject is None:
                    return
                try:
                    found = await self.coordinator.timeline(subject, at)
                except (Unreachable, ApiError, ValueError) as error:
                    if view.wanted == key and view.is_attached:
                        view.show_error(f"no timeline for {subject}: {error}")
                        if not isinstance(error, ApiError):
                            view.wanted = None  # asked again once the controller answers
                        return
                    continue
                if view.wanted == key:  # else the selection moved on: ask again
                    if view.is_attached:
                        view.show(found, self.model.local)
                    return
        finally:
            view.following = False

    @on(DataTable.RowSelected, "#evse-table")
    def _row_selected(self, event: DataTable.RowSelected) -> None:
        if event.row_key.value is not None:
            self.action_explain(str(event.row_key.value))

    @on(Tree.NodeSelected, "#tree-view")
    def _node_selected(self, event: Tree.NodeSelected[Any]) -> None:
        data = event.node.data
        if data is not None and data[0] == "evse":
            self.action_explain(data[1])

    @work(exclusive=True, group="explain", exit_on_error=False)
    async def load_explanation(self, screen: ExplainScreen) -> None:
        try:
            explained, entries = await self.coordinator.explain(screen.evse)
        except (Unreachable, ApiError) as error:
            if screen.is_attached:
                screen.show_error(f"cannot explain {screen.evse}: {error}")
            return
        if screen.is_attached:
            screen.show(explained, entries, self.model)
            node = binding_node(explained, self.model)
            view = screen.query_one("#explain-node-timeline", TimelineView)
            view.display = node is not None
            self.want_timeline(view, node)

    # Actions that change the controller

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in WRITE_ACTIONS and not self.model.may_write:
            return False
        if action == "now" and self.model.past is None:
            return False
        if action == "withdraw" and self._pane() != "envelopes":
            return None
        if action == "pause" and self._pane() not in ("tree", "evses"):
            return None
        return True

    def _pane(self) -> str:
        try:
            return str(self.main.query_one(TabbedContent).active)
        except Exception:
            return self.first_pane

    def action_pause(self) -> None:
        evse_id = self.selected_evse()
        evse = self.model.evses.get(evse_id or "")
        if evse is None:
            self.notify("Select an EVSE first", timeout=3)
            return
        if evse.paused or evse.cap_a is not None:
            title = f"Resume {evse.id}?"
            body = f"Removes the operator override on {evse.id}; the controller allocates it again."
            self.push_screen(
                ConfirmScreen(title, body),
                lambda answer: self._send_resume(evse.id) if answer else None,
            )
            return
        session_id = evse.allocation.session_id
        session = f" (session {session_id})" if session_id else ""
        body = f"{evse.id}{session} will be sent 0 A until resumed. Journaled with your name."
        self.push_screen(
            ConfirmScreen(f"Pause {evse.id}?", body, ask_reason=True),
            lambda answer: self._send_pause(evse.id, answer) if answer else None,
        )

    def _send_pause(self, evse_id: str, answer: Confirmed) -> None:
        self.send(
            f"{evse_id} paused",
            lambda: self.coordinator.client.set_override(
                evse_id, paused=True, cap=None, reason=answer.reason, author=_author()
            ),
        )

    def _send_resume(self, evse_id: str) -> None:
        self.send(
            f"{evse_id} resumed",
            lambda: self.coordinator.client.clear_override(evse_id, author=_author()),
        )

    def action_withdraw(self) -> None:
        envelope_id = self.main.query_one(EnvelopesView).selected_envelope()
        if envelope_id is None:
            self.notify("Select an envelope first", timeout=3)
            return
        self.push_screen(
            ConfirmScreen(
                f"Withdraw envelope {envelope_id}?",
                f"{envelope_id} stops applying from now; the controller journals it.",
            ),
            lambda answer: self._send_withdraw(envelope_id) if answer else None,
        )

    def _send_withdraw(self, envelope_id: str) -> None:
        self.send(
            f"envelope {envelope_id} withdrawn",
            lambda: self.coordinator.client.withdraw_envelope(envelope_id),
        )

    def action_new_envelope(self) -> None:
        self.push_screen(EnvelopeForm(self._envelope_defaults()), self._envelope_typed)

    def _envelope_defaults(self) -> EnvelopeFields:
        top = next((n.id for n in self.model.nodes if n.type == "grid_connection"), "")
        now = self.model.time
        suffix = now.astimezone(self.model.local).strftime("%H%M") if now else "1"
        return EnvelopeFields(id=f"local-{suffix}", target=top, start="now", end="+2h")

    def _envelope_typed(self, values: EnvelopeFields | None) -> None:
        if values is None:
            return
        try:
            draft = envelope_draft(values, self.model.time, self.model.local)
        except ValueError as error:
            self.notify(str(error), severity="error", timeout=6)
            return
        zone = self.model.local
        end = format_instant(draft.end, zone) if draft.end is not None else "open-ended"
        self.push_screen(
            ConfirmScreen(
                f"Submit envelope {draft.id}?",
                f"import {draft.limit} on {draft.target}\n{format_instant(draft.start, zone)} → {end}"
                "\nsource: local",
            ),
            lambda answer: self._send_envelope(draft) if answer else None,
        )

    def _send_envelope(self, draft: EnvelopeDraft) -> None:
        self.send(
            f"envelope {draft.id} submitted",
            lambda: self.coordinator.client.submit_envelope(
                envelope_id=draft.id,
                target=draft.target,
                limit=draft.limit,
                start=draft.start,
                end=draft.end,
            ),
        )

    @work(group="actions", exit_on_error=False)
    async def send(self, done: str, request: Any) -> None:
        """Send one confirmed change; say how it went; poll at once."""
        try:
            await request()
        except ApiError as error:
            if error.status == 403:
                self.coordinator.forbid_writes()
                self.may_write = False
                self.refresh_bindings()
            said = escaped(f"{error.status} {error.code}: {error.message}")
            self.notify(said, severity="error", markup=False)
            return
        except Unreachable as error:
            self.notify(escaped(str(error)), severity="error", markup=False)
            return
        self.notify(f"{done} (journaled)", timeout=4)
        self.coordinator.wake()

    # The command palette

    def get_system_commands(self, screen: Screen[Any]) -> Iterable[SystemCommand]:
        yield from super().get_system_commands(screen)
        titles = ("tree", "EVSE table", "envelopes", "journal", "alerts")
        for pane, title in zip(PANES, titles, strict=True):
            yield SystemCommand(
                f"Show the {title}",
                f"Switch to the {title} pane",
                lambda p=pane: self.action_pane(p),
            )
        yield SystemCommand("Explain the selected EVSE", "Its chain of limits", self.action_explain)
        yield SystemCommand("Filter EVSEs", "Type to filter the EVSE table", self.action_filter)
        yield SystemCommand(
            "Sort EVSEs", "Sort the EVSE table by the next column", self.action_sort
        )
        yield SystemCommand("Poll now", "Ask the controller again", self.action_poll)
        yield SystemCommand(
            "Show the past", "The whole depot as it was at a time (t)", self.action_travel
        )
        if self.model.may_write:
            yield SystemCommand(
                "Pause or resume the selected EVSE", "Confirmed, journaled", self.action_pause
            )
            yield SystemCommand(
                "Submit a local envelope", "Confirmed, journaled", self.action_new_envelope
            )
            yield SystemCommand(
                "Withdraw the selected envelope", "Confirmed, journaled", self.action_withdraw
            )


@dataclass(frozen=True, slots=True)
class EnvelopeDraft:
    """A local envelope as the form gave it, times read."""

    id: str
    target: str
    limit: str
    start: datetime
    end: datetime | None


def envelope_draft(
    values: EnvelopeFields, now: datetime | None, zone: tzinfo = UTC
) -> EnvelopeDraft:
    """A local envelope from the form's text, times read as every command reads them
    (docs/times.md) in the site's ``zone``: ``start`` ``now`` (or empty) or a time
    (``17:00``: the next 17:00); ``end`` ``open`` (or empty), a span after the start
    (``+2h``, ``90min``) or a time."""
    for field, value in (("id", values.id), ("target", values.target), ("limit", values.limit)):
        if not value:
            raise ValueError(f"the envelope needs a {field}")
    if now is None:
        raise ValueError("the controller's time is not known yet; wait for its first answer")
    start = _instant("start", values.start or "now", now, zone)
    end_text = values.end or "open"
    end = None if end_text == "open" else _instant("end", end_text, start, zone)
    return EnvelopeDraft(values.id, values.target, values.limit, start, end)


def _instant(name: str, text: str, now: datetime, zone: tzinfo) -> datetime:
    try:
        return parse_instant(text, now=now, zone=zone, ahead=True)
    except InstantError as error:
        raise ValueError(f"{name}: {error.message}; {error.hint}") from None


def _floored(at: datetime | None, step: timedelta) -> datetime | None:
    """``at`` down to a whole ``step`` (since the epoch); None for None."""
    if at is None:
        return None
    epoch = datetime(1970, 1, 1, tzinfo=UTC)
    return at - (at - epoch) % step


def _author() -> str:
    """``user@host``, as every change is signed."""
    return local_author()
