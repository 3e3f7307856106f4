"""The envelope lifecycle in the journal, on a real SQLite store: every transition and
every source going offline or online journaled once with its reason, stored as the
state, and never repeated, a restart included."""

from __future__ import annotations

import re
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from depotctl.config import compile_site
from depotctl.controller.clock import SimClock
from depotctl.controller.lifecycle import (
    changeable,
    describe_limit,
    lifecycle_entries,
    record_lifecycle,
)
from depotctl.controller.service import Controller, checked_site
from depotctl.controller.store import JournalEntry, JournalKind, NewJournalEntry, Store, UnitOfWork
from depotctl.domain.envelopes import (
    LOCAL_SOURCE,
    Direction,
    Envelope,
    EnvelopeMode,
    EnvelopeState,
    LimitUnit,
    SourceHealth,
    states_at,
)
from depotctl.domain.phases import Phase
from depotctl.domain.snapshot import Snapshot
from tests.conftest import EXAMPLES

START = datetime(2026, 3, 2, 18, 0, tzinfo=UTC)
MINIMAL = EXAMPLES / "minimal.yaml"
#: the minimal depot with an envelope source on its grid connection: offline after two
#: minutes of silence, then the site's fallback of 40 kW import
SITE_TEXT = MINIMAL.read_text().replace(
    "      limits: {import: 100 kW, current: 160 A}\n",
    "      limits: {import: 100 kW, current: 160 A}\n      envelope_source: dnsp\n",
    1,
) + (
    "  envelope_sources:\n"
    "    - id: dnsp\n"
    "      protocol: local\n"
    "      offline_after: 2 min\n"
    "      fallback: {import: 40 kW}\n"
)
LIFECYCLE_KINDS = (
    JournalKind.ENVELOPE_STATE,
    JournalKind.SOURCE_ONLINE,
    JournalKind.SOURCE_OFFLINE,
)

#: A whole UTC instant to the second, as the controller writes one into its words.
WHOLE_UTC = r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z"


def minutes(n: float) -> datetime:
    return START + timedelta(minutes=n)


def envelope(
    envelope_id: str,
    *,
    start: float,
    end: float | None,
    received: float,
    source: str = "dnsp",
    limit_kw: float = 70.0,
    mode: EnvelopeMode = EnvelopeMode.NORMAL,
) -> Envelope:
    return Envelope(
        id=envelope_id,
        source=source,
        target="gc-main",
        direction=Direction.IMPORT,
        limit=limit_kw * 1000,
        unit=LimitUnit.W,
        start=minutes(start),
        end=minutes(end) if end is not None else None,
        received_at=minutes(received),
        mode=mode,
    )


@dataclass
class Depot:
    """A controller on a real store whose simulated clock only the test moves."""

    path: Path
    clock: SimClock
    controller: Controller

    @property
    def store(self) -> Store:
        return self.controller.store

    def at(self, minute: float) -> Depot:
        self.clock.advance((minutes(minute) - self.clock.now()).total_seconds())
        return self

    def heard(self) -> Depot:
        UnitOfWork(self.store).sources.heard_from("dnsp", self.clock.now())
        return self

    def evaluate(self) -> list[NewJournalEntry]:
        return record_lifecycle(UnitOfWork(self.store), self.controller.snapshot())

    def restart(self) -> None:
        self.controller.close()
        self.controller = Controller(Store.open(self.path), self.clock, base_dir=MINIMAL.parent)

    def lifecycle(self) -> list[JournalEntry]:
        return [
            e
            for e in UnitOfWork(self.store).journal.entries(limit=10_000)
            if e.kind in LIFECYCLE_KINDS
        ]


@pytest.fixture
def depot(tmp_path: Path) -> Iterator[Depot]:
    path = tmp_path / "depotctl.sqlite"
    clock = SimClock(START, monotonic=lambda: 0.0)  # moves only when the test says
    controller = Controller(Store.open(path), clock, base_dir=MINIMAL.parent)
    controller.seed(MINIMAL, SITE_TEXT, author="test")
    running = Depot(path, clock, controller)
    yield running
    running.controller.close()


def changes(entries: list[NewJournalEntry] | list[JournalEntry]) -> list[tuple[str, str, str]]:
    """(envelope or source, from, to) of each entry."""
    return [
        (e.data.get("envelope") or e.data["source"], e.data["from"], e.data["to"]) for e in entries
    ]


def test_every_state_of_the_lifecycle_is_reached_and_journaled_once(depot: Depot) -> None:
    store = depot.store
    UnitOfWork(store).envelopes.put(envelope("E-1", start=10, end=60, received=0))
    UnitOfWork(store).envelopes.put(
        envelope("F-1", start=0, end=120, received=0, limit_kw=50, mode=EnvelopeMode.FALLBACK)
    )
    timeline = [
        (depot.at(0).heard().evaluate(), [
            ("dnsp", None, "online"),
            ("E-1", "received", "pending"),
            ("F-1", "received", "pending"),
        ]),
        (depot.at(5).heard().evaluate(), []),
        (depot.at(10).heard().evaluate(), [("E-1", "pending", "active")]),
        # silent since 18:10, offline after 2 min: E-1 still holds, F-1 applies
        (depot.at(13).evaluate(), [
            ("dnsp", "online", "offline"),
            ("E-1", "active", "fallback_eligible"),
            ("F-1", "pending", "active_fallback"),
        ]),
        (depot.at(15).evaluate(), []),
        (depot.at(20).heard().evaluate(), [
            ("dnsp", "offline", "online"),
            ("E-1", "fallback_eligible", "active"),
            ("F-1", "active_fallback", "pending"),
        ]),
    ]  # fmt: skip
    # an operator's envelope, received inside its window: one entry, received → active
    UnitOfWork(store).envelopes.put(
        envelope("L-1", start=0, end=180, received=30, source=LOCAL_SOURCE)
    )
    UnitOfWork(store).sources.heard_from(
        LOCAL_SOURCE, minutes(30)
    )  # as the API does on a submission
    timeline.append((depot.at(30).heard().evaluate(), [("L-1", "received", "active")]))
    UnitOfWork(store).envelopes.withdraw("L-1", at=minutes(40))
    timeline.append((depot.at(40).heard().evaluate(), [("L-1", "active", "withdrawn")]))
    timeline.append((depot.at(59).heard().evaluate(), []))
    timeline.append((depot.at(60).evaluate(), [("E-1", "active", "expired")]))
    timeline.append((depot.at(60).evaluate(), []))
    for entries, expected in timeline:
        assert changes(entries) == expected

    journaled = depot.lifecycle()
    assert changes(journaled) == [change for _, expected in timeline for change in expected]
    reached = {e.data["from"] for e in journaled} | {e.data["to"] for e in journaled}
    assert set(EnvelopeState) <= reached
    stored = {k: s.state.value for k, s in UnitOfWork(store).envelopes.states().items()}
    assert stored == {"E-1": "expired", "F-1": "pending", "L-1": "withdrawn"}
    assert {s: v.online for s, v in UnitOfWork(store).sources.states().items()} == {"dnsp": True}
    assert all(e.data["source"] != LOCAL_SOURCE for e in journaled if e.kind != "envelope.state")
    # every time in the words is a whole UTC instant: a reader needs no date to guess
    for entry in journaled:
        times = re.findall(r"[0-9T:-]*[0-9]{2}:[0-9]{2}[0-9:.]*Z", entry.message)
        assert all(re.fullmatch(WHOLE_UTC, time) for time in times), entry.message


def test_each_transition_says_why_in_a_sentence_with_its_figures(depot: Depot) -> None:
    UnitOfWork(depot.store).envelopes.put(
        envelope("E-17", start=10, end=60, received=0, limit_kw=570)
    )
    depot.at(0).heard().evaluate()
    [activated] = depot.at(10).heard().evaluate()
    assert activated.kind == JournalKind.ENVELOPE_STATE
    assert activated.envelope == "E-17" and activated.at == minutes(10)
    assert activated.message == (
        "envelope E-17 (dnsp → gc-main import ≤ 570 kW): pending → active: "
        "window started at 2026-03-02T18:10:00Z"
    )
    assert activated.data == {
        "envelope": "E-17",
        "source": "dnsp",
        "target": "gc-main",
        "direction": "import",
        "limit": 570_000.0,
        "unit": "W",
        "mode": "normal",
        "from": "pending",
        "to": "active",
        "reason": "in its window, until 2026-03-02T19:00:00Z; "
        "source dnsp is online (last heard 2026-03-02T18:10:00Z)",
    }
    stored = UnitOfWork(depot.store).envelopes.states()["E-17"]
    assert (stored.state, stored.reason) == (EnvelopeState.ACTIVE, activated.data["reason"])
    [offline, held] = depot.at(12.5).evaluate()
    assert offline.kind == JournalKind.SOURCE_OFFLINE
    assert held.message == (
        "envelope E-17 (dnsp → gc-main import ≤ 570 kW): active → fallback_eligible: "
        "source dnsp is offline (last heard 2026-03-02T18:10:00Z, offline after 2 min); "
        "the limit still holds, not fresh"
    )
    [expired] = depot.at(60 * 24 + 1).evaluate()  # the next day: the time of another day
    assert expired.message.endswith(
        "fallback_eligible → expired: window ended at 2026-03-02T19:00:00Z"
    )


def test_a_superseded_envelope_expires_naming_its_successor(depot: Depot) -> None:
    UnitOfWork(depot.store).envelopes.put(envelope("E-1", start=0, end=60, received=0))
    depot.at(0).heard().evaluate()
    UnitOfWork(depot.store).envelopes.put(envelope("E-2", start=0, end=60, received=5, limit_kw=40))
    entries = depot.at(5).heard().evaluate()
    assert changes(entries) == [("E-1", "active", "expired"), ("E-2", "received", "active")]
    assert entries[0].message.endswith("superseded by envelope E-2 from 2026-03-02T18:05:00Z")
    assert entries[1].message.endswith(
        "received at 2026-03-02T18:05:00Z inside its window (from 2026-03-02T18:00:00Z)"
    )


def test_a_source_going_offline_and_online_is_journaled_once_each(depot: Depot) -> None:
    depot.at(0).heard().evaluate()
    assert depot.at(2).evaluate() == []  # exactly 2 min of silence: still online
    [offline] = depot.at(3).evaluate()
    assert [depot.at(m).evaluate() for m in (4, 10, 30)] == [[], [], []]
    [online] = depot.at(31).heard().evaluate()
    assert depot.at(32).heard().evaluate() == []

    assert offline.kind == JournalKind.SOURCE_OFFLINE and offline.at == minutes(3)
    assert offline.message == (
        "source dnsp offline: last heard 2026-03-02T18:00:00Z, offline after 2 min; "
        "now applies: gc-main import ≤ 40 kW (the site's fallback)"
    )
    assert offline.data == {
        "source": "dnsp",
        "from": "online",
        "to": "offline",
        "last_heard": "2026-03-02T18:00:00Z",
        "offline_after_s": 120.0,
        "offline_since": "2026-03-02T18:02:00Z",
        "applies": [
            {
                "target": "gc-main",
                "direction": "import",
                "limit": 40_000.0,
                "unit": "W",
                "phases": None,
                "origin": "site_fallback",
                "envelope": None,
                "fresh": False,
            }
        ],
    }
    assert online.kind == JournalKind.SOURCE_ONLINE
    assert online.message == (
        "source dnsp online after 28 min offline: "
        "last heard 2026-03-02T18:31:00Z, offline after 2 min; "
        "no envelope of its in force; the site's own limits apply"
    )
    assert (online.data["from"], online.data["to"], online.data["applies"]) == (
        "offline",
        "online",
        [],
    )
    assert changes(depot.lifecycle()) == [
        ("dnsp", None, "online"),
        ("dnsp", "online", "offline"),
        ("dnsp", "offline", "online"),
    ]


def test_an_offline_source_names_its_own_fallback_envelope_and_what_still_holds(
    depot: Depot,
) -> None:
    UnitOfWork(depot.store).envelopes.put(envelope("E-1", start=0, end=60, received=0, limit_kw=70))
    UnitOfWork(depot.store).envelopes.put(
        envelope("F-1", start=0, end=60, received=0, limit_kw=50, mode=EnvelopeMode.FALLBACK)
    )
    [online, *_] = depot.at(0).heard().evaluate()
    assert online.message.endswith(
        "its envelopes apply fresh: gc-main import ≤ 70 kW (envelope E-1)"
    )
    [offline, *_] = depot.at(5).evaluate()
    assert offline.message.endswith(
        "now applies: gc-main import ≤ 70 kW (envelope E-1, still held, not fresh), "
        "gc-main import ≤ 50 kW (its fallback envelope F-1)"
    )
    # its own fallback envelope covers the import: the site's fallback does not apply
    assert [a["origin"] for a in offline.data["applies"]] == ["envelope", "envelope"]


def test_a_source_never_heard_from_is_journaled_offline_at_the_first_evaluation(
    depot: Depot,
) -> None:
    [offline] = depot.at(0).evaluate()
    assert offline.kind == JournalKind.SOURCE_OFFLINE
    assert offline.message == (
        "source dnsp offline: never heard from; "
        "now applies: gc-main import ≤ 40 kW (the site's fallback)"
    )
    assert (offline.data["from"], offline.data["last_heard"], offline.data["offline_since"]) == (
        None,
        None,
        None,
    )
    assert depot.at(1).evaluate() == []


def test_a_restart_repeats_no_entry_and_resumes_from_the_stored_states(depot: Depot) -> None:
    UnitOfWork(depot.store).envelopes.put(envelope("E-1", start=10, end=60, received=0))
    depot.at(0).heard().evaluate()
    depot.at(10).heard().evaluate()
    before = changes(depot.lifecycle())
    depot.restart()
    assert depot.evaluate() == []  # same time, new Store on the same file
    assert depot.at(11).evaluate() == []
    depot.restart()
    entries = depot.at(13).evaluate()  # silent since 18:10: offline
    assert changes(entries) == [
        ("dnsp", "online", "offline"),
        ("E-1", "active", "fallback_eligible"),
    ]
    depot.restart()
    assert depot.at(14).evaluate() == []
    assert changes(depot.lifecycle()) == [*before, *changes(entries)]


def test_states_are_stored_only_with_their_entries(depot: Depot) -> None:
    """A caller's transaction that fails stores neither the states nor the entries: the
    next evaluation journals the change it would have lost."""
    UnitOfWork(depot.store).envelopes.put(envelope("E-1", start=0, end=60, received=0))
    depot.at(0).heard()
    with pytest.raises(RuntimeError), depot.store.transaction():
        entries = lifecycle_entries(UnitOfWork(depot.store), depot.controller.snapshot())
        assert changes(entries) == [("dnsp", None, "online"), ("E-1", "received", "active")]
        UnitOfWork(depot.store).journal.record(entries)
        raise RuntimeError("killed before the commit")
    assert UnitOfWork(depot.store).envelopes.states()["E-1"].state is EnvelopeState.RECEIVED
    assert UnitOfWork(depot.store).sources.states() == {}
    assert depot.lifecycle() == []
    assert changes(depot.evaluate()) == [("dnsp", None, "online"), ("E-1", "received", "active")]


def test_an_expired_envelope_withdrawn_afterwards_reads_withdrawn_once(depot: Depot) -> None:
    UnitOfWork(depot.store).envelopes.put(envelope("E-1", start=0, end=10, received=0))
    depot.at(0).heard().evaluate()
    assert changes(depot.at(10).heard().evaluate()) == [("E-1", "active", "expired")]
    UnitOfWork(depot.store).envelopes.withdraw("E-1", at=minutes(11))
    [withdrawn] = depot.at(11).heard().evaluate()
    assert changes([withdrawn]) == [("E-1", "expired", "withdrawn")]
    assert withdrawn.message.endswith("withdrawn by source dnsp at 2026-03-02T18:11:00Z")
    assert depot.at(12).heard().evaluate() == []


def test_only_envelopes_that_can_still_change_are_evaluated_with_their_successors() -> None:
    old = envelope("E-1", start=0, end=60, received=0)
    ended = envelope("E-2", start=0, end=5, received=1)
    newer = envelope("E-3", start=30, end=90, received=2)
    withdrawn = replace(envelope("E-4", start=0, end=5, received=3), withdrawn_at=minutes(30))
    other = envelope("L-1", start=0, end=5, received=0, source=LOCAL_SOURCE)
    every = [old, ended, newer, withdrawn, other]
    stored = {
        "E-1": EnvelopeState.ACTIVE,
        "E-2": EnvelopeState.EXPIRED,  # newer than E-1: it may supersede it, so it counts
        "E-3": EnvelopeState.PENDING,
        "E-4": EnvelopeState.EXPIRED,  # withdrawn since: it will read withdrawn
        "L-1": EnvelopeState.EXPIRED,  # nothing in its series can change
    }
    assert [e.id for e in changeable(every, stored)] == ["E-1", "E-2", "E-3", "E-4"]
    stored["E-1"] = EnvelopeState.EXPIRED
    assert [e.id for e in changeable(every, stored)] == ["E-3", "E-4"]
    assert [e.id for e in changeable(every, {})] == ["E-1", "E-2", "E-3", "E-4", "L-1"]


def test_describe_limit_says_per_phase_or_which_phases() -> None:
    assert describe_limit("db-1", Direction.IMPORT, 200.0, LimitUnit.A, None) == (
        "db-1 import ≤ 200 A per phase"
    )
    assert describe_limit(
        "db-1", Direction.EXPORT, 16.5, LimitUnit.A, frozenset({Phase.L2, Phase.L1})
    ) == ("db-1 export ≤ 16.5 A on L1, L2")
    assert describe_limit("gc-main", Direction.IMPORT, 1_500_000.0, LimitUnit.W, None) == (
        "gc-main import ≤ 1500 kW"
    )


# The property: the journal replays to the stored states

SITE = checked_site(SITE_TEXT, path=MINIMAL)
TOPOLOGY, POLICY = compile_site(SITE, MINIMAL.parent)


@st.composite
def envelopes(draw: st.DrawFn) -> list[Envelope]:
    drawn = []
    for i in range(draw(st.integers(0, 5))):
        mode = draw(st.sampled_from(EnvelopeMode))
        source = (
            "dnsp" if mode is EnvelopeMode.FALLBACK else draw(st.sampled_from(["dnsp", "local"]))
        )
        start = draw(st.integers(0, 120))
        length = draw(st.none() | st.integers(1, 120))
        received = draw(st.integers(0, 150))
        withdrawn = draw(st.none() | st.integers(0, 200))
        drawn.append(
            Envelope(
                id=f"E-{i}",
                source=source,
                target="gc-main",
                direction=Direction.IMPORT,
                limit=draw(st.integers(10, 90)) * 1000.0,
                unit=LimitUnit.W,
                start=minutes(start),
                end=minutes(start + length) if length is not None else None,
                received_at=minutes(received),
                mode=mode,
                withdrawn_at=minutes(withdrawn) if withdrawn is not None else None,
            )
        )
    return drawn


#: one evaluation: minutes since the last one, whether the source was heard from just
#: before it, whether the controller restarted (a new Store on the same file) first, and
#: which envelope (if any) an operator withdrew just before it
steps = st.lists(
    st.tuples(st.integers(0, 45), st.booleans(), st.booleans(), st.none() | st.integers(0, 4)),
    min_size=1,
    max_size=12,
)


def snapshot(store: Store, at: datetime) -> Snapshot:
    """What the controller's snapshot holds for the lifecycle, built by hand."""
    heard = UnitOfWork(store).sources.last_heard()
    sources = {
        source_id: SourceHealth(source_id, heard.get(source_id), spec.offline_after_s)
        for source_id, spec in TOPOLOGY.sources.items()
    }
    for source_id, last in heard.items():
        sources.setdefault(source_id, SourceHealth(source_id, last, None))
    return Snapshot(at=at, topology=TOPOLOGY, policy=POLICY, sources=sources)


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(drawn=envelopes(), plan=steps)
def test_the_journaled_transitions_replay_to_exactly_the_stored_states(
    drawn: list[Envelope], plan: list[tuple[int, bool, bool, int | None]]
) -> None:
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "depotctl.sqlite"
        store = Store.open(path)
        try:
            for each in drawn:
                UnitOfWork(store).envelopes.put(each)
            UnitOfWork(store).sources.heard_from(LOCAL_SOURCE, START)
            at = START
            for gap, heard, restart, withdrawn in plan:
                at += timedelta(minutes=gap)
                if restart:
                    store.close()
                    store = Store.open(path)
                if heard:
                    UnitOfWork(store).sources.heard_from("dnsp", at)
                if withdrawn is not None and withdrawn < len(drawn):
                    UnitOfWork(store).envelopes.withdraw(f"E-{withdrawn}", at=at)
                record_lifecycle(UnitOfWork(store), snapshot(store, at))
            assert record_lifecycle(UnitOfWork(store), snapshot(store, at)) == []  # nothing twice
            journal = [
                e
                for e in UnitOfWork(store).journal.entries(limit=10_000)
                if e.kind in LIFECYCLE_KINDS
            ]
            final = snapshot(store, at)
        finally:
            store.close()
            store = Store.open(path)
        with store:
            replayed: dict[str, str | None] = {}
            for entry in journal:
                subject = entry.envelope or entry.data["source"]
                start = "received" if entry.kind == JournalKind.ENVELOPE_STATE else None
                assert entry.data["from"] == replayed.get(subject, start), entry.message
                assert entry.data["to"] != entry.data["from"], entry.message
                replayed[subject] = entry.data["to"]
            stored = {k: s.state.value for k, s in UnitOfWork(store).envelopes.states().items()}
            # every envelope evaluated afresh, the ones that no longer change included
            evaluated = states_at(UnitOfWork(store).envelopes.all(), final.sources, at)
            for each in drawn:
                assert stored[each.id] == replayed.get(each.id, "received")
                expected = evaluated.get(each.id)
                assert stored[each.id] == (expected.state.value if expected else "received")
            sources = UnitOfWork(store).sources.states()
            assert {s: "online" if v.online else "offline" for s, v in sources.items()} == {
                s: v for s, v in replayed.items() if s in TOPOLOGY.sources
            }
            assert sources["dnsp"].online == final.sources["dnsp"].is_online(at)
