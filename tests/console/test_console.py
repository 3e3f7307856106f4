"""The console driven with Textual's Pilot against a real controller on loopback:
the tree, the explanation, the EVSE table's filter and sort, read-only mode, actions
that are confirmed and journaled, and losing and regaining the controller."""

from __future__ import annotations

from contextlib import ExitStack
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from pydantic import BaseModel
from textual.widgets import DataTable

from depotctl.console.app import envelope_draft
from depotctl.console.model import Link
from depotctl.console.widgets.dialogs import ConfirmScreen, EnvelopeFields, EnvelopeForm
from depotctl.console.widgets.envelopes import EnvelopeTable
from depotctl.console.widgets.evses import EvseTable
from depotctl.console.widgets.explain import ExplainScreen
from depotctl.console.widgets.journal import JournalTail
from depotctl.console.widgets.status import Banner, StatusBar
from depotctl.console.widgets.tree import ElectricalTree
from tests.console.conftest import Depot, loaded, serving_at, shown, wait_for
from tests.controller.test_app import START

pytestmark = pytest.mark.anyio


def labels(tree: ElectricalTree) -> dict[str, str]:
    out: dict[str, str] = {}

    def walk(node: Any) -> None:
        if node.data:
            out[node.data[1] or "site"] = node.label.plain
        for child in node.children:
            walk(child)

    walk(tree.root)
    return out


def row(table: DataTable[Any], key: str) -> list[str]:
    return [shown(cell) for cell in table.get_row(key)]


async def test_the_tree_shows_each_node_load_limit_source_and_headroom(depot: Depot) -> None:
    app = depot.console()
    async with app.run_test(size=(100, 40)) as pilot:
        await loaded(pilot, app)
        tree = app.query_one(ElectricalTree)
        text = labels(tree)
        # the grid connection is held at the envelope: full, its source named
        assert "envelope E-17" in text["gc-main"] and "FULL" in text["gc-main"]
        assert "/285.0 kW" in text["gc-main"]
        # a circuit limited per phase shows a bar per phase, static, with headroom
        assert all(p in text["db-dc-north"] for p in ("L1 ", "L2 ", "L3 ", "static", "+"))
        assert "FULL" not in text["db-dc-north"]
        assert "paused by operator" in text["dc-02/1"]
        assert "bus-0001" in text["dc-01/1"] and "charging" in text["dc-01/1"]
        # down the tree with the keyboard to the first EVSE, enter explains it
        for _ in range(12):
            if tree.selected_evse() == "dc-01/1":
                break
            await pilot.press("down")
        assert tree.selected_evse() == "dc-01/1"
        await pilot.press("enter")
        assert isinstance(app.screen, ExplainScreen) and app.screen.evse == "dc-01/1"


async def test_explaining_an_evse_shows_its_chain_binding_marked_and_journal(
    depot: Depot,
) -> None:
    app = depot.console(pane="evses")
    async with app.run_test(size=(100, 40)) as pilot:
        await loaded(pilot, app)
        await pilot.press("slash", *"bus-0003", "enter")
        assert app.query_one(EvseTable).shown == ["dc-03/1"]
        await pilot.press("e")
        screen = app.screen
        assert isinstance(screen, ExplainScreen)
        await wait_for(pilot, lambda: screen.loaded)
        summary = shown(screen.query_one("#explain-summary"))
        assert "dc-03/1" in summary and "session bus-0003" in summary
        assert "envelope E-17" in summary
        lines = shown(screen.query_one("#explain-chain")).splitlines()
        marked = [line for line in lines if line.lstrip().startswith("▶")]
        assert len(marked) == 1 and "gc-main import power" in marked[0]
        assert "envelope E-17" in marked[0]
        assert any("dc-03 current on L1" in line for line in lines)  # from the EVSE up
        journal = shown(screen.query_one("#explain-journal"))
        assert "session bus-0003 started on EVSE dc-03/1" in journal
        assert "bus-0001" not in journal  # only this EVSE's entries
        await pilot.press("escape")
        assert not isinstance(app.screen, ExplainScreen)


async def test_the_evse_table_filters_and_sorts(depot: Depot) -> None:
    app = depot.console(pane="evses")
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        table = app.query_one(EvseTable)
        assert len(table.shown) == 30
        assert row(table, "dc-02/1")[2] == "paused (op)"
        assert row(table, "dc-01/1")[5] != "—"  # the outlook's shortfall (or on track)
        await pilot.press("slash", *"paused")
        assert table.shown == ["dc-02/1"]
        await pilot.press("escape")
        assert len(table.shown) == 30
        await pilot.press("s")  # by shortfall, the largest first
        short = [app.model.evses[e].session for e in table.shown[:8]]
        values = [s.outlook.shortfall_wh for s in short if s and s.outlook]
        assert values == sorted(values, reverse=True) and len(values) == 8
        assert table.shown[0] == "dc-02/1"  # paused: it expects only what it has


async def test_the_read_only_token_hides_every_action(depot: Depot) -> None:
    app = depot.console("readonly")
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, app)
        assert app.model.may_write is False
        assert "read-only" in shown(app.query_one(StatusBar))
        keys = {key for key, active in app.screen.active_bindings.items() if active.binding.show}
        assert {"e", "slash", "q"} <= keys and not keys & {"p", "n", "w"}
        await pilot.press("2", "p", "3", "n", "w")
        assert not isinstance(app.screen, ConfirmScreen | EnvelopeForm)


async def test_read_only_mode_hides_the_actions_with_an_admin_token(depot: Depot) -> None:
    app = depot.console(read_only=True)
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, app)
        keys = {key for key, active in app.screen.active_bindings.items() if active.binding.show}
        assert not keys & {"p", "n", "w"}
        await pilot.press("p")
        assert not isinstance(app.screen, ConfirmScreen)


async def test_a_pause_is_confirmed_sent_and_journaled(fresh_depot: Depot) -> None:
    app = fresh_depot.console(pane="evses")
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, app)
        assert app.model.may_write
        await pilot.press("slash", *"dc-05/1", "enter", "p")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("escape")  # cancelled: nothing sent
        assert not fresh_depot.journal(kind="override.set", evse="dc-05/1")
        await pilot.press("p")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press(*"bus yard fire drill", "enter")
        await wait_for(pilot, lambda: app.model.evses["dc-05/1"].paused)
        entries = fresh_depot.journal(kind="override.set", evse="dc-05/1")
        assert len(entries) == 1 and "bus yard fire drill" in entries[0]["message"]
        assert row(app.query_one(EvseTable), "dc-05/1")[2] == "paused (op)"
        await pilot.press("p", "y")  # a paused EVSE: p resumes it
        await wait_for(pilot, lambda: not app.model.evses["dc-05/1"].paused)
        assert fresh_depot.journal(kind="override.cleared", evse="dc-05/1")


async def test_an_envelope_is_submitted_and_withdrawn_from_the_console(
    fresh_depot: Depot,
) -> None:
    app = fresh_depot.console(pane="envelopes")
    async with app.run_test(size=(100, 40)) as pilot:
        await loaded(pilot, app)
        await pilot.press("n")
        form = app.screen
        assert isinstance(form, EnvelopeForm)
        assert form.values().target == "gc-main" and form.values().start == "now"
        form.query_one("#envelope-id").value = "ops-1"  # type: ignore[attr-defined]
        form.query_one("#envelope-limit").value = "250 kW"  # type: ignore[attr-defined]
        await pilot.press("enter")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        await wait_for(pilot, lambda: any(e.id == "ops-1" for e in app.model.envelopes))
        received = fresh_depot.journal(envelope="ops-1", kind="envelope.received")
        assert len(received) == 1 and "250 kW" in received[0]["message"]
        table = app.query_one(EnvelopeTable)
        await wait_for(pilot, lambda: "ops-1" in table._rows)
        table.move_cursor(row=list(table._rows).index("ops-1"))
        await pilot.press("w")
        assert isinstance(app.screen, ConfirmScreen)
        await pilot.press("y")
        state = lambda: next(e.state for e in app.model.envelopes if e.id == "ops-1")  # noqa: E731
        await wait_for(pilot, lambda: state() == "withdrawn")
        assert fresh_depot.journal(envelope="ops-1", kind="envelope.withdrawn")


async def test_losing_the_controller_shows_a_banner_and_it_reconnects(
    fresh_depot: Depot,
) -> None:
    with ExitStack() as stack:
        first = serving_at(fresh_depot.app)
        fresh_depot.url = stack.enter_context(first)
        port = int(fresh_depot.url.rsplit(":", 1)[1])
        app = fresh_depot.console()
        async with app.run_test(size=(100, 30)) as pilot:
            await loaded(pilot, app)
            banner = app.query_one(Banner)
            assert not banner.display
            stack.close()  # the controller goes away
            await wait_for(pilot, lambda: banner.display)
            text = shown(banner)
            assert f"Controller unreachable at {fresh_depot.url}" in text
            assert "retrying in" in text and app.model.connection.attempt >= 1
            assert "UNREACHABLE" in shown(app.query_one(StatusBar))
            assert "gc-main" in labels(app.query_one(ElectricalTree))  # the last data stays
            with serving_at(fresh_depot.app, port):  # back, at the same address
                await wait_for(pilot, lambda: app.model.connection.link is Link.CONNECTED)
                await pilot.pause()
                assert not banner.display
                assert "connected" in shown(app.query_one(StatusBar))


def test_the_envelope_form_reads_now_and_a_duration() -> None:
    typed = EnvelopeFields(id="x", target="gc-main", limit="200 kW", start="now", end="+90min")
    draft = envelope_draft(typed, START)
    assert draft.start == START
    assert draft.end == datetime(2026, 3, 2, 15, 30, tzinfo=UTC)
    assert envelope_draft(replace(typed, end="open"), START).end is None
    with pytest.raises(ValueError, match="needs a limit"):
        envelope_draft(replace(typed, limit=""), START)


def test_the_envelope_form_reads_site_times_as_every_command_does() -> None:
    """START is 01:00 on 3 March in Sydney (+11:00): 17:00 is that day's, an end of
    02:00 the next night's; a time the clocks pass twice is refused with both."""
    sydney = ZoneInfo("Australia/Sydney")
    typed = EnvelopeFields(id="x", target="gc-main", limit="200 kW", start="17:00", end="02:00")
    draft = envelope_draft(typed, START, sydney)
    assert draft.start == datetime(2026, 3, 3, 6, 0, tzinfo=UTC)
    assert draft.end == datetime(2026, 3, 3, 15, 0, tzinfo=UTC)
    with pytest.raises(ValueError, match=r"end: .*occurs twice in Australia/Sydney: "
                       r"02:30\+11:00 or 02:30\+10:00"):  # fmt: skip
        envelope_draft(replace(typed, end="2026-04-05 02:30"), START, sydney)


async def test_ctrl_c_quits_like_q(depot: Depot) -> None:
    """Over SSH, Ctrl-C is how people leave a full-screen program."""
    app = depot.console()
    async with app.run_test(size=(80, 24)) as pilot:
        await loaded(pilot, app)
        await pilot.press("ctrl+c")
        await pilot.pause()
        assert not app.is_running


# Text from the controller (issue 11)

HOSTILE_AUTHOR = "mallory\x1b]0;owned\x07\x1b[2J"
HOSTILE_REASON = "cable\r\nEVSE dc-03/1 resumed by alice\u202e[/]\x9b31m"


def _raw(text: str) -> bool:
    """Holds a character a terminal acts on (a line break aside)."""
    from depotctl.client.terminal_text import UNSAFE

    return UNSAFE.search(text.replace("\n", "")) is not None


def _strings(value: Any) -> list[str]:
    """Every string the console's model holds."""
    import dataclasses

    if isinstance(value, str):
        return [value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return [s for f in dataclasses.fields(value) for s in _strings(getattr(value, f.name))]
    if isinstance(value, BaseModel):  # an answer: its fields, and any it had beyond them
        fields = [getattr(value, name) for name in type(value).model_fields]
        return [s for item in [*fields, value.model_extra or {}] for s in _strings(item)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [*_strings(k), *_strings(v)]]
    if isinstance(value, list | tuple):
        return [s for item in value for s in _strings(item)]
    return []


async def test_an_operators_hostile_text_is_shown_escaped_everywhere(fresh_depot: Depot) -> None:
    from depotctl.controller.store import NewJournalEntry
    from depotctl.domain.overrides import EvseOverride

    store = fresh_depot.controller.units()
    at = fresh_depot.clock.now()
    store.overrides.put(EvseOverride("dc-03/1", True, None, at, HOSTILE_AUTHOR, HOSTILE_REASON))
    store.journal.record(
        [NewJournalEntry(at, "override.set", f"paused by {HOSTILE_AUTHOR}", evse="dc-03/1")]
    )
    fresh_depot.controller.changed("a store written by an older controller")
    app = fresh_depot.console()
    async with app.run_test(size=(120, 40)) as pilot:
        await loaded(pilot, app)
        await wait_for(pilot, lambda: app.model.evses["dc-03/1"].paused)
        held = _strings(app.model)
        assert not [text for text in held if _raw(text)]
        assert any("mallory\\x1b]0;owned\\x07" in text for text in held)
        label = labels(app.query_one(ElectricalTree))["dc-03/1"]
        assert "paused by operator" in label and not _raw(label)
        await pilot.press("4")  # the journal pane
        tail = app.query_one(JournalTail)
        await wait_for(pilot, lambda: "mallory" in "".join(str(line.text) for line in tail.lines))
        journal = "\n".join(str(line.text) for line in tail.lines)
        assert "paused by mallory\\x1b]0;owned" in journal and not _raw(journal)


async def test_a_dialog_shows_brackets_as_text_never_as_markup(depot: Depot) -> None:
    app = depot.console()
    async with app.run_test(size=(100, 30)) as pilot:
        await loaded(pilot, app)
        app.push_screen(ConfirmScreen("Pause dc-01/1?", "session chg:[/]x[bold red]y"))
        await pilot.pause()
        assert isinstance(app.screen, ConfirmScreen)
        bodies = [shown(s) for s in app.screen.query("Static")]
        assert any("session chg:[/]x[bold red]y" in body for body in bodies)
