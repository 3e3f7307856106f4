"""Refused OCPP connections in the journal in bounded form: a few entries a minute
overall, the rest counted (the next entry, ``/metrics``), repeats held back, and
memory that stays the same size however many identities are refused. A real
controller on a real SQLite store; refusals as the endpoint reports them."""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depotctl.controller.clock import SimClock
from depotctl.controller.refusal_journal import (
    JOURNAL_BURST,
    JOURNAL_PER_MINUTE,
    RECENT_MAX,
    RefusalJournal,
)
from depotctl.controller.service import Controller
from depotctl.controller.store import JournalKind, Store
from depotctl.protocols.ocpp.events import Refusal
from tests.controller.test_ocpp_events import write_site

START = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)


@pytest.fixture
def controller(tmp_path: Path) -> Iterator[Controller]:
    site = write_site(tmp_path)
    clock = SimClock(START, speed=1.0)
    clock.pause()
    controller = Controller(Store.open(tmp_path / "depotctl.sqlite"), clock, base_dir=tmp_path)
    controller.seed(site, site.read_text(), author="test")
    yield controller
    controller.close()


def refusal(
    controller: Controller, ocpp_id: str, reason: str = "unknown charge point id"
) -> Refusal:
    return Refusal(ocpp_id, reason, 401, controller.clock.now(), None, "192.0.2.7:50000")


def entries(controller: Controller) -> list[object]:
    return list(controller.units().journal.entries(kind=JournalKind.CHARGER_REFUSED))


def counted(controller: Controller, name: str, status: str | None = None) -> float:
    labels = {"status": status} if status is not None else {}
    value = controller.metrics.registry.get_sample_value(name, labels)
    return value or 0.0


def test_a_flood_of_unknown_identities_gets_a_few_entries_and_a_count(
    controller: Controller,
) -> None:
    journal = RefusalJournal(controller)
    for n in range(300):
        journal.record(refusal(controller, f"SCAN-{n}"))
    assert len(entries(controller)) == JOURNAL_BURST
    assert journal.unjournaled == 300 - JOURNAL_BURST
    assert counted(controller, "depotctl_ocpp_refusals_total", "401") == 300
    assert counted(controller, "depotctl_ocpp_refusals_unjournaled_total") == 300 - JOURNAL_BURST

    controller.clock.advance(60 / JOURNAL_PER_MINUTE)  # one entry's worth later
    journal.record(refusal(controller, "SCAN-300"))
    last = controller.units().journal.entries(kind=JournalKind.CHARGER_REFUSED)[-1]
    assert last.data["unjournaled"] == 295
    assert last.message.endswith("; 295 more refusals since the last entry")
    assert last.data["ocpp_id"] == "SCAN-300" and last.data["remote"] == "192.0.2.7:50000"
    assert journal.unjournaled == 0


def test_refusals_every_second_stay_within_the_rate(controller: Controller) -> None:
    journal = RefusalJournal(controller)
    for n in range(1200):
        journal.record(refusal(controller, f"SCAN-{n}"))
        controller.clock.advance(1)
    assert len(entries(controller)) <= JOURNAL_BURST + 20 * JOURNAL_PER_MINUTE
    assert counted(controller, "depotctl_ocpp_refusals_total", "401") == 1200


def test_the_same_refusal_again_within_the_quiet_time_is_counted(controller: Controller) -> None:
    journal = RefusalJournal(controller, quiet_s=60)
    for _ in range(3):
        journal.record(refusal(controller, "CP-01", "wrong password"))
        controller.clock.advance(10)
    journal.record(refusal(controller, "CP-01", "no credentials"))  # another reason
    assert [e.data["reason"] for e in entries(controller)] == ["wrong password", "no credentials"]
    assert entries(controller)[-1].data["unjournaled"] == 2
    controller.clock.advance(60)
    journal.record(refusal(controller, "CP-01", "wrong password"))
    assert len(entries(controller)) == 3


@settings(max_examples=10)
@given(ids=st.lists(st.text(max_size=300), min_size=1, max_size=200))
def test_memory_stays_bounded_whatever_identities_come(
    ids: list[str], tmp_path_factory: pytest.TempPathFactory
) -> None:
    directory = tmp_path_factory.mktemp("refusals")
    clock = SimClock(START, speed=1.0)
    clock.pause()
    controller = Controller(Store.open(directory / "depotctl.sqlite"), clock, base_dir=directory)
    try:
        journal = RefusalJournal(controller, quiet_s=3600)
        for n, ocpp_id in enumerate(ids):
            journal.record(refusal(controller, ocpp_id))
            if n % 7 == 0:
                clock.advance(30)
            assert len(journal._recent) <= RECENT_MAX
        stored = entries(controller)
        assert 1 <= len(stored) <= JOURNAL_BURST + len(ids) * 30 / 7 / 60 * JOURNAL_PER_MINUTE + 1
        counted_in_entries = sum(entry.data["unjournaled"] for entry in stored)
        assert len(stored) + counted_in_entries + journal.unjournaled == len(ids)
        for entry in stored:
            assert len(entry.data["ocpp_id"]) <= 65
    finally:
        controller.close()


def test_a_long_or_odd_identity_is_shown_escaped_and_cut(controller: Controller) -> None:
    journal = RefusalJournal(controller)
    journal.record(refusal(controller, "\x1b[31mred\x07" + "x" * 500))
    [entry] = entries(controller)
    assert "\x1b" not in entry.message and "\\x1b[31mred\\x07" in entry.message
    assert entry.data["ocpp_id"].endswith("…") and len(entry.data["ocpp_id"]) == 65
    assert "x" * 100 not in json.dumps(entry.data)


def test_no_time_passes_no_more_entries(controller: Controller) -> None:
    """The rate runs on the controller's clock: paused, the burst is all there is."""
    journal = RefusalJournal(controller)
    for n in range(50):
        journal.record(refusal(controller, f"SCAN-{n}"))
    assert len(entries(controller)) == JOURNAL_BURST
    controller.clock.advance(timedelta(minutes=1).total_seconds())
    for n in range(50, 100):
        journal.record(refusal(controller, f"SCAN-{n}"))
    assert len(entries(controller)) == JOURNAL_BURST + JOURNAL_PER_MINUTE
