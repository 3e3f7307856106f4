"""Operating envelopes: lifecycle, supersession, and the limits in force at an instant."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from depotctl.domain.envelopes import (
    AppliedLimit,
    Direction,
    Envelope,
    EnvelopeMode,
    EnvelopeState,
    EnvelopeStatus,
    EnvelopeTransition,
    LimitOrigin,
    LimitUnit,
    SourceHealth,
    Supersession,
    applicable_limits,
    envelope_state,
    site_fallback_limits,
    states_at,
    supersessions,
    transitions,
)
from depotctl.domain.phases import Phase
from depotctl.domain.topology import NodeLimits, SourceSpec

S = EnvelopeState
IMPORT, EXPORT = Direction.IMPORT, Direction.EXPORT
W, A = LimitUnit.W, LimitUnit.A
T0 = datetime(2024, 5, 13, 12, 0, tzinfo=UTC)
OFFLINE_AFTER_S = 300.0
SITE_FALLBACK = NodeLimits(import_w=40_000.0)


def t(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def envelope(
    id: str = "E-1",
    *,
    source: str = "dnsp",
    target: str = "grid",
    direction: Direction = IMPORT,
    limit: float = 100_000.0,
    unit: LimitUnit = W,
    start: float = 0,
    end: float | None = 60,
    received: float = -10,
    mode: EnvelopeMode = EnvelopeMode.NORMAL,
    phases: frozenset[Phase] | None = None,
    withdrawn: float | None = None,
) -> Envelope:
    return Envelope(
        id=id,
        source=source,
        target=target,
        direction=direction,
        limit=limit,
        unit=unit,
        start=t(start),
        end=None if end is None else t(end),
        received_at=t(received),
        mode=mode,
        phases=phases,
        withdrawn_at=None if withdrawn is None else t(withdrawn),
    )


def heard(source: str = "dnsp", at: float | None = 0) -> SourceHealth:
    """A source last heard at minute ``at`` (None: never), offline after 5 min."""
    return SourceHealth(source, None if at is None else t(at), OFFLINE_AFTER_S)


def health(*entries: SourceHealth) -> dict[str, SourceHealth]:
    return {entry.source: entry for entry in entries}


def spec(
    source: str = "dnsp",
    targets: tuple[str, ...] = ("grid",),
    fallback: NodeLimits = SITE_FALLBACK,
) -> dict[str, SourceSpec]:
    return {source: SourceSpec(source, OFFLINE_AFTER_S, fallback, targets)}


def state(e: Envelope, at: float, h: SourceHealth | None) -> EnvelopeStatus:
    return envelope_state(e, t(at), h)


def ids(limits: Iterable[AppliedLimit]) -> list[str | None]:
    return [limit.origin.envelope_id for limit in limits]


# The lifecycle of one envelope


def test_pending_before_its_window_starts() -> None:
    status = state(envelope(start=0), -5, heard(at=-5))
    assert status == EnvelopeStatus(S.PENDING, "window starts at 2024-05-13T12:00:00Z")
    assert not status.in_force


def test_active_from_its_start_while_the_source_is_online() -> None:
    status = state(envelope(start=0, end=60), 0, heard(at=0))
    assert status.state is S.ACTIVE
    assert status.in_force
    assert "until 2024-05-13T13:00:00Z" in status.reason
    assert "source dnsp is online (last heard 2024-05-13T12:00:00Z)" in status.reason


def test_expired_at_the_end_of_its_window() -> None:
    e = envelope(start=0, end=60)
    assert state(e, 59.9, heard(at=59)).state is S.ACTIVE
    assert state(e, 60, heard(at=59)) == EnvelopeStatus(
        S.EXPIRED, "window ended at 2024-05-13T13:00:00Z"
    )


def test_an_open_ended_envelope_stays_active() -> None:
    status = state(envelope(end=None), 10_000, heard(at=10_000))
    assert status.state is S.ACTIVE
    assert "open-ended" in status.reason


def test_withdrawn_from_the_instant_of_withdrawal() -> None:
    e = envelope(start=0, end=60, withdrawn=30)
    assert state(e, 29, heard(at=29)).state is S.ACTIVE
    assert state(e, 30, heard(at=29)) == EnvelopeStatus(
        S.WITHDRAWN, "withdrawn by source dnsp at 2024-05-13T12:30:00Z"
    )


def test_withdrawn_before_its_window_never_becomes_active() -> None:
    e = envelope(start=30, end=60, withdrawn=10)
    assert state(e, 5, heard(at=5)).state is S.PENDING
    assert state(e, 40, heard(at=40)).state is S.WITHDRAWN


def test_fallback_eligible_once_its_source_is_silent_for_longer_than_offline_after() -> None:
    e = envelope(start=0, end=60)
    assert state(e, 5, heard(at=0)).state is S.ACTIVE  # 300 s: still online
    status = state(e, 6, heard(at=0))
    assert status.state is S.FALLBACK_ELIGIBLE
    assert status.in_force
    assert "source dnsp is offline: last heard 2024-05-13T12:00:00Z, 360 s ago" in status.reason
    assert "(offline after 300 s)" in status.reason
    assert "still holds (not fresh)" in status.reason


@pytest.mark.parametrize("source_health", [heard(at=None), None], ids=["never-heard", "no-entry"])
def test_a_source_never_heard_from_is_offline(source_health: SourceHealth | None) -> None:
    status = state(envelope(), 10, source_health)
    assert status.state is S.FALLBACK_ELIGIBLE
    assert "source dnsp is offline: never heard from" in status.reason


def test_fallback_eligible_returns_to_active_when_the_source_is_heard_again() -> None:
    e = envelope(start=0, end=60)
    assert state(e, 20, heard(at=0)).state is S.FALLBACK_ELIGIBLE
    assert state(e, 20, heard(at=19)).state is S.ACTIVE


def test_a_fallback_envelope_applies_only_while_its_source_is_offline() -> None:
    f = envelope("F-1", mode=EnvelopeMode.FALLBACK, start=0, end=60)
    online = state(f, 10, heard(at=10))
    assert online.state is S.PENDING
    assert "applies only while its source is offline" in online.reason
    offline = state(f, 10, heard(at=0))
    assert offline.state is S.ACTIVE_FALLBACK
    assert "its own fallback envelope applies" in offline.reason
    assert state(f, 60, heard(at=0)).state is S.EXPIRED


def test_an_envelope_not_yet_received_is_unknown() -> None:
    e = envelope(start=0, end=60, received=20)
    assert state(e, 10, heard(at=10)) == EnvelopeStatus(
        S.PENDING, "not received until 2024-05-13T12:20:00Z"
    )
    assert states_at([e], health(heard(at=10)), t(10)) == {}
    assert states_at([e], health(heard(at=20)), t(20))["E-1"].state is S.ACTIVE


def test_the_health_of_another_source_is_an_error() -> None:
    with pytest.raises(ValueError, match="from source dnsp, not retailer"):
        state(envelope(), 10, heard("retailer", at=10))


def test_the_journal_follows_each_transition_with_its_reason() -> None:
    """A primary and the source's own fallback envelope, through the source going
    silent, coming back, and the windows ending."""
    envelopes = [
        envelope("E-1", start=0, end=60),
        envelope("F-1", mode=EnvelopeMode.FALLBACK, start=0, end=60),
    ]
    timeline: list[tuple[float, float | None]] = [(-10, -10), (0, 0), (10, 0), (20, 20), (60, 60)]
    journal: list[tuple[float, str, S, S]] = []
    before: dict[str, EnvelopeState] = {}
    for at, last_heard in timeline:
        after = states_at(envelopes, health(heard(at=last_heard)), t(at))
        journal += [(at, c.envelope_id, c.before, c.after) for c in transitions(before, after)]
        before = {envelope_id: status.state for envelope_id, status in after.items()}
    assert journal == [
        (-10, "E-1", S.RECEIVED, S.PENDING),
        (-10, "F-1", S.RECEIVED, S.PENDING),
        (0, "E-1", S.PENDING, S.ACTIVE),
        (10, "E-1", S.ACTIVE, S.FALLBACK_ELIGIBLE),
        (10, "F-1", S.PENDING, S.ACTIVE_FALLBACK),
        (20, "E-1", S.FALLBACK_ELIGIBLE, S.ACTIVE),
        (20, "F-1", S.ACTIVE_FALLBACK, S.PENDING),
        (60, "E-1", S.ACTIVE, S.EXPIRED),
        (60, "F-1", S.PENDING, S.EXPIRED),
    ]


def test_transitions_carry_the_reason_and_skip_unchanged_and_forgotten_envelopes() -> None:
    after = {
        "E-1": EnvelopeStatus(S.ACTIVE, "in its window"),
        "E-2": EnvelopeStatus(S.WITHDRAWN, "withdrawn by source dnsp"),
    }
    before: Mapping[str, EnvelopeState] = {
        "E-1": S("active"),
        "E-2": S.ACTIVE,
        "E-0": S.ACTIVE,  # forgotten by the store: nothing to say
    }
    assert transitions(before, after) == [
        EnvelopeTransition("E-2", S.ACTIVE, S.WITHDRAWN, "withdrawn by source dnsp")
    ]


# Supersession


def test_a_newer_envelope_supersedes_the_older_from_its_start() -> None:
    older = envelope("E-1", limit=100_000.0, start=0, end=120, received=-10)
    newer = envelope("E-2", limit=50_000.0, start=60, end=120, received=10)
    h = health(heard(at=30))
    at_30 = states_at([older, newer], h, t(30))
    assert (at_30["E-1"].state, at_30["E-2"].state) == (S.ACTIVE, S.PENDING)
    assert ids(applicable_limits([older, newer], h, {}, t(30))) == ["E-1"]
    h = health(heard(at=60))
    at_60 = states_at([older, newer], h, t(60))
    assert at_60["E-1"] == EnvelopeStatus(
        S.EXPIRED, "superseded by envelope E-2 from 2024-05-13T13:00:00Z"
    )
    assert at_60["E-2"].state is S.ACTIVE
    assert ids(applicable_limits([older, newer], h, {}, t(60))) == ["E-2"]


def test_a_superseded_envelope_does_not_come_back_after_the_newer_ends() -> None:
    older = envelope("E-1", start=0, end=None, received=-10)
    newer = envelope("E-2", start=60, end=90, received=10)
    states = states_at([older, newer], health(heard(at=100)), t(100))
    assert (states["E-1"].state, states["E-2"].state) == (S.EXPIRED, S.EXPIRED)
    assert "superseded by envelope E-2" in states["E-1"].reason
    assert applicable_limits([older, newer], health(heard(at=100)), {}, t(100)) == ()


def test_receipt_not_start_decides_which_is_newer() -> None:
    """Received later but starting earlier: the older never comes into force."""
    older = envelope("E-A", start=30, end=90, received=-20)
    newer = envelope("E-B", start=0, end=60, received=-10)
    assert supersessions([older, newer]) == {"E-A": Supersession("E-B", t(0))}
    states = states_at([older, newer], health(heard(at=40)), t(40))
    assert (states["E-A"].state, states["E-B"].state) == (S.EXPIRED, S.ACTIVE)


def test_a_tie_on_receipt_goes_to_the_greater_id() -> None:
    first = envelope("E-1", start=0, end=60, received=-10)
    second = envelope("E-2", start=0, end=60, received=-10)
    assert supersessions([second, first]) == {"E-1": Supersession("E-2", t(0))}


def test_a_late_envelope_supersedes_from_its_receipt() -> None:
    older = envelope("E-1", start=0, end=60, received=-10)
    late = envelope("E-2", start=0, end=60, received=20)
    assert states_at([older, late], health(heard(at=10)), t(10))["E-1"].state is S.ACTIVE
    states = states_at([older, late], health(heard(at=20)), t(20))
    assert states["E-1"].reason == "superseded by envelope E-2 from 2024-05-13T12:20:00Z"
    assert states["E-2"].state is S.ACTIVE


def test_the_earliest_newer_envelope_names_the_supersession() -> None:
    older = envelope("E-1", start=0, end=None, received=-30)
    later = envelope("E-2", start=90, end=None, received=-20)
    sooner = envelope("E-3", start=30, end=60, received=-10)
    assert supersessions([older, later, sooner]) == {"E-1": Supersession("E-3", t(30))}


def test_a_newer_envelope_outside_the_older_window_supersedes_nothing() -> None:
    evening = envelope("E-1", start=60, end=120, received=-20)
    noon = envelope("E-2", start=0, end=30, received=-10)
    assert supersessions([evening, noon]) == {}
    assert ids(applicable_limits([evening, noon], health(heard(at=70)), {}, t(70))) == ["E-1"]


def test_an_envelope_withdrawn_before_it_starts_supersedes_nothing() -> None:
    older = envelope("E-1", start=0, end=120, received=-10)
    cancelled = envelope("E-2", start=60, end=120, received=10, withdrawn=30)
    assert supersessions([older, cancelled]) == {}
    assert ids(applicable_limits([older, cancelled], health(heard(at=70)), {}, t(70))) == ["E-1"]


def test_an_envelope_withdrawn_after_it_started_leaves_the_older_superseded() -> None:
    older = envelope("E-1", start=0, end=120, received=-10)
    newer = envelope("E-2", start=60, end=120, received=10, withdrawn=80)
    states = states_at([older, newer], health(heard(at=90)), t(90))
    assert (states["E-1"].state, states["E-2"].state) == (S.EXPIRED, S.WITHDRAWN)


def test_an_envelope_received_after_its_window_supersedes_nothing() -> None:
    older = envelope("E-1", start=0, end=120, received=-10)
    stale = envelope("E-2", start=0, end=30, received=40)
    assert supersessions([older, stale]) == {}


def test_a_newer_envelope_on_the_same_phases_supersedes_the_older() -> None:
    l1 = frozenset({Phase.L1})
    older = envelope("E-1", unit=A, limit=32.0, phases=l1, start=0, end=60)
    newer = envelope("E-2", unit=A, limit=16.0, phases=l1, start=30, end=60, received=0)
    assert supersessions([older, newer]) == {"E-1": Supersession("E-2", t(30))}


def test_envelopes_on_different_phases_hold_side_by_side() -> None:
    l1 = envelope("E-1", unit=A, limit=32.0, phases=frozenset({Phase.L1}), received=-10)
    l2 = envelope("E-2", unit=A, limit=16.0, phases=frozenset({Phase.L2}), received=0)
    assert supersessions([l1, l2]) == {}
    assert ids(applicable_limits([l1, l2], health(heard(at=10)), {}, t(10))) == ["E-1", "E-2"]


@pytest.mark.parametrize(
    "change",
    [
        {"source": "retailer"},
        {"target": "db-1"},
        {"direction": EXPORT},
        {"mode": EnvelopeMode.FALLBACK},
        {"unit": A, "limit": 100.0},
    ],
    ids=[
        "other-source",
        "other-target",
        "other-direction",
        "other-mode",
        "power-then-current",
    ],
)
def test_supersession_stays_within_one_series(change: dict[str, Any]) -> None:
    """One source's limit of one kind (mode, unit, phases) on one node and direction."""
    older = envelope("E-1", start=0, end=60, received=-10)
    newer = dataclasses.replace(envelope("E-2", start=0, end=60, received=0), **change)
    assert supersessions([older, newer]) == {}


# The limits in force


def test_overlapping_envelopes_on_a_node_all_apply() -> None:
    dnsp = envelope("E-1", source="dnsp", limit=100_000.0)
    retailer = envelope("R-1", source="retailer", limit=80_000.0)
    l1 = envelope("E-2", source="dnsp", unit=A, limit=32.0, phases=frozenset({Phase.L1}))
    h = health(heard("dnsp", at=10), heard("retailer", at=10))
    limits = applicable_limits([retailer, l1, dnsp], h, {}, t(10))
    assert limits == (
        AppliedLimit("grid", IMPORT, 32.0, A, frozenset({Phase.L1}), LimitOrigin(
            "envelope", "E-2", "dnsp", fresh=True
        )),
        AppliedLimit("grid", IMPORT, 100_000.0, W, None, LimitOrigin(
            "envelope", "E-1", "dnsp", fresh=True
        )),
        AppliedLimit("grid", IMPORT, 80_000.0, W, None, LimitOrigin(
            "envelope", "R-1", "retailer", fresh=True
        )),
    )  # fmt: skip


def test_a_withdrawn_envelope_no_longer_applies() -> None:
    e = envelope("E-1", withdrawn=30)
    assert ids(applicable_limits([e], health(heard(at=20)), spec(), t(20))) == ["E-1"]
    assert applicable_limits([e], health(heard(at=30)), spec(), t(30)) == ()


def test_an_online_source_brings_no_site_fallback() -> None:
    assert applicable_limits([], health(heard(at=10)), spec(), t(10)) == ()


def test_an_offline_source_with_its_own_fallback_envelope() -> None:
    """The last primary envelope still applies beside the source's fallback envelope;
    the site's fallback applies only where the source sent none of its own."""
    primary = envelope("E-1", limit=80_000.0, start=0, end=60)
    own = envelope("F-1", mode=EnvelopeMode.FALLBACK, limit=60_000.0, start=0, end=None)
    sources = spec(targets=("grid", "db-1"), fallback=NodeLimits(import_w=40_000.0))
    limits = applicable_limits([own, primary], health(heard(at=0)), sources, t(30))
    site = LimitOrigin("site_fallback", None, "dnsp", fresh=False)
    assert limits == (
        AppliedLimit("db-1", IMPORT, 40_000.0, W, None, site),
        AppliedLimit("grid", IMPORT, 80_000.0, W, None, LimitOrigin("envelope", "E-1", "dnsp", False)),
        AppliedLimit("grid", IMPORT, 60_000.0, W, None, LimitOrigin("envelope", "F-1", "dnsp", False)),
    )  # fmt: skip
    assert str(limits[0].origin) == "site fallback for offline source dnsp"
    assert str(limits[2].origin) == "envelope F-1 (fallback)"


def test_an_offline_source_without_its_own_fallback_gets_the_site_fallback_on_each_target() -> None:
    sources = spec(
        targets=("grid", "db-1"),
        fallback=NodeLimits(import_w=40_000.0, export_w=10_000.0, current_a=63.0),
    )
    origin = LimitOrigin("site_fallback", None, "dnsp", fresh=False)
    expected = tuple(
        AppliedLimit(target, direction, limit, unit, None, origin)
        for target in ("db-1", "grid")
        for direction, unit, limit in [
            (EXPORT, A, 63.0),
            (EXPORT, W, 10_000.0),
            (IMPORT, A, 63.0),
            (IMPORT, W, 40_000.0),
        ]
    )
    assert applicable_limits([], health(heard(at=0)), sources, t(30)) == expected
    assert applicable_limits([], {}, sources, t(30)) == expected  # no health entry at all


def test_an_own_fallback_for_import_leaves_the_site_fallback_for_export() -> None:
    own = envelope("F-1", mode=EnvelopeMode.FALLBACK, direction=IMPORT, end=None)
    sources = spec(fallback=NodeLimits(import_w=40_000.0, export_w=10_000.0))
    limits = applicable_limits([own], health(heard(at=None)), sources, t(30))
    assert [(x.direction, x.origin.kind) for x in limits] == [
        (EXPORT, "site_fallback"),
        (IMPORT, "envelope"),
    ]


def test_a_site_fallback_that_sets_nothing_holds_import_at_zero() -> None:
    assert site_fallback_limits(NodeLimits()) == ((IMPORT, 0.0, W),)
    limits = applicable_limits([], {}, spec(fallback=NodeLimits()), t(0))
    assert [(x.target, x.direction, x.limit, x.unit) for x in limits] == [("grid", IMPORT, 0.0, W)]


def test_two_different_envelopes_with_one_id_are_an_error() -> None:
    e = envelope("E-1")
    assert states_at([e, e], health(heard(at=10)), t(10)).keys() == {"E-1"}
    with pytest.raises(ValueError, match="share the id E-1"):
        applicable_limits([e, envelope("E-1", limit=1.0)], {}, {}, t(10))


def test_fresh_envelope_origin_reads_as_fresh() -> None:
    assert str(LimitOrigin("envelope", "E-17", "dnsp", fresh=True)) == "envelope E-17 (fresh)"


# Properties over generated envelopes, sources and times

SOURCES = ("dnsp", "retailer")
TARGETS = ("grid", "db-1", "db-2")
QUARTERS = st.integers(-4, 8).map(lambda q: q * 15.0)
MINUTES = st.integers(-12, 36).map(lambda m: m * 5.0)


SERIES = st.tuples(
    st.sampled_from(SOURCES),
    st.sampled_from(TARGETS),
    st.sampled_from(Direction),
    st.sampled_from(LimitUnit),
    st.sampled_from(EnvelopeMode),
    st.sampled_from([None, frozenset({Phase.L1}), frozenset(Phase)]),
)


@st.composite
def envelopes(draw: st.DrawFn) -> list[Envelope]:
    """Up to 8 envelopes over a few series, so that many supersede one another."""
    series = draw(st.lists(SERIES, min_size=1, max_size=4))
    result = []
    for i in range(draw(st.integers(0, 8))):
        source, target, direction, unit, mode, phases = draw(st.sampled_from(series))
        start = draw(QUARTERS)
        length = draw(st.none() | st.integers(1, 8).map(lambda q: q * 15.0))
        result.append(
            envelope(
                f"E-{i}",
                source=source,
                target=target,
                direction=direction,
                limit=float(draw(st.integers(0, 100))),
                unit=unit,
                start=start,
                end=None if length is None else start + length,
                received=start + draw(st.integers(-24, 6).map(lambda m: m * 5.0)),
                mode=mode,
                phases=phases,
                withdrawn=draw(st.none() | MINUTES),
            )
        )
    return result


def optional_limit() -> st.SearchStrategy[float | None]:
    return st.none() | st.integers(0, 100).map(float)


@st.composite
def source_specs(draw: st.DrawFn) -> dict[str, SourceSpec]:
    specs = {}
    for source in SOURCES:
        targets = draw(st.lists(st.sampled_from(TARGETS), min_size=1, max_size=3, unique=True))
        fallback = NodeLimits(
            draw(optional_limit()), draw(optional_limit()), draw(optional_limit())
        )
        specs[source] = SourceSpec(source, OFFLINE_AFTER_S, fallback, tuple(targets))
    return specs


@st.composite
def healths(draw: st.DrawFn) -> dict[str, SourceHealth]:
    entries = {}
    for source in SOURCES:
        if draw(st.booleans()):  # otherwise no entry at all
            entries[source] = heard(source, at=draw(st.none() | MINUTES))
    return entries


Key = tuple[str, Direction, LimitUnit, Phase | None]


def tightest(limits: Iterable[AppliedLimit]) -> dict[Key, float]:
    """The minimum per target, direction and unit — per phase for amps — as the
    engine combines them."""
    result: dict[Key, float] = {}
    for x in limits:
        phases: Iterable[Phase | None] = (
            [None] if x.unit is W else (x.phases if x.phases is not None else list(Phase))
        )
        for phase in phases:
            key = (x.target, x.direction, x.unit, phase)
            result[key] = min(result.get(key, x.limit), x.limit)
    return result


def offline(source_health: Mapping[str, SourceHealth], at: datetime) -> list[str]:
    return [s for s in SOURCES if s not in source_health or not source_health[s].is_online(at)]


def check_every_target_of_an_offline_source_stays_limited(
    generated: list[Envelope],
    sources: dict[str, SourceSpec],
    source_health: dict[str, SourceHealth],
    minute: float,
) -> None:
    at = t(minute)
    limits = applicable_limits(generated, source_health, sources, at)
    for source in offline(source_health, at):
        for target in sources[source].targets:
            assert any(x.target == target and x.origin.source == source for x in limits)
            for direction, _, _ in site_fallback_limits(sources[source].fallback):
                assert any(
                    x.target == target and x.direction is direction and x.origin.source == source
                    for x in limits
                ), (source, target, direction)
    by_id = {e.id: e for e in generated}
    for x in limits:
        assert x.origin.fresh == (x.origin.kind == "envelope" and x.origin.source not in offline(
            source_health, at
        ))  # fmt: skip
        if x.origin.envelope_id is not None:
            e = by_id[x.origin.envelope_id]
            assert e.received_at <= at and e.start <= at and (e.end is None or at < e.end)
            assert e.withdrawn_at is None or at < e.withdrawn_at


def check_a_source_going_offline_never_loosens_a_limit(
    generated: list[Envelope],
    sources: dict[str, SourceSpec],
    source_health: dict[str, SourceHealth],
    minute: float,
    source: str,
) -> None:
    at = t(minute)
    online = {**source_health, source: heard(source, at=minute)}
    gone = {**source_health, source: heard(source, at=None)}
    before = tightest(applicable_limits(generated, online, sources, at))
    after = tightest(applicable_limits(generated, gone, sources, at))
    for key, limit in before.items():
        assert key in after, key
        assert after[key] <= limit, key


# Drawing the envelopes, sources and health costs more than the checks: one draw serves
# the checks of a kind, each still on 200 draws.


#: the envelopes, the sources, their health and the minute a check is made at
Situation = tuple[list[Envelope], dict[str, SourceSpec], dict[str, SourceHealth], float]
SITUATIONS = st.tuples(envelopes(), source_specs(), healths(), MINUTES)


@settings(max_examples=200)
@given(SITUATIONS, st.sampled_from(SOURCES))
def test_an_offline_source_leaves_every_target_limited_and_never_loosens_a_limit(
    situation: Situation, source: str
) -> None:
    """Every target of an offline source stays limited, and each limit's origin is in
    force at the time and fresh only from an online source; a source going offline
    never loosens a limit."""
    check_every_target_of_an_offline_source_stays_limited(*situation)
    check_a_source_going_offline_never_loosens_a_limit(*situation, source)


def check_same_input_same_output_whatever_the_order(
    data: st.DataObject,
    generated: list[Envelope],
    sources: dict[str, SourceSpec],
    source_health: dict[str, SourceHealth],
    minute: float,
) -> None:
    at = t(minute)
    limits = applicable_limits(generated, source_health, sources, at)
    assert applicable_limits(generated, source_health, sources, at) == limits
    shuffled = data.draw(st.permutations(generated))
    reversed_sources = dict(reversed(list(sources.items())))
    reversed_health = dict(reversed(list(source_health.items())))
    assert applicable_limits(shuffled, reversed_health, reversed_sources, at) == limits
    assert states_at(shuffled, reversed_health, at) == states_at(generated, source_health, at)
    assert list(states_at(shuffled, source_health, at)) == sorted(
        states_at(shuffled, source_health, at)
    )


def check_limits_depend_only_on_what_was_known_at_the_time(
    generated: list[Envelope],
    sources: dict[str, SourceSpec],
    source_health: dict[str, SourceHealth],
    minute: float,
) -> None:
    """Envelopes received later, and withdrawals made later, change nothing at *t*."""
    at = t(minute)
    known = [
        e
        if e.withdrawn_at is None or e.withdrawn_at <= at
        else dataclasses.replace(e, withdrawn_at=None)
        for e in generated
        if e.received_at <= at
    ]
    assert applicable_limits(known, source_health, sources, at) == applicable_limits(
        generated, source_health, sources, at
    )
    assert states_at(known, source_health, at) == states_at(generated, source_health, at)


# Ahead of the start

LEAD = timedelta(minutes=2)
ONLINE = health(heard(at=7))  # online from minute 7 to 12


def test_an_envelope_starting_within_the_lead_applies_already() -> None:
    cut = envelope(start=10, end=40, limit=50_000.0)
    assert applicable_limits([cut], ONLINE, spec(), t(7.5), lead=LEAD) == ()
    (limit,) = applicable_limits([cut], ONLINE, spec(), t(8.5), lead=LEAD)
    assert limit.limit == 50_000.0
    assert limit.origin == LimitOrigin("envelope", "E-1", "dnsp", True, starts=t(10))
    assert str(limit.origin) == "envelope E-1 (fresh, from 2024-05-13T12:10:00Z)"
    assert state(cut, 8.5, heard(at=7)).state is S.PENDING  # its state is still pending
    (at_start,) = applicable_limits([cut], ONLINE, spec(), t(10), lead=LEAD)
    assert at_start.origin.starts is None  # in its window: in force as usual


def test_without_a_lead_nothing_applies_before_its_start() -> None:
    cut = envelope(start=10, end=40)
    assert applicable_limits([cut], ONLINE, spec(), t(9.99)) == ()


def test_an_envelope_withdrawn_or_superseded_by_its_start_does_not_apply_ahead() -> None:
    withdrawn = envelope(start=10, end=40, withdrawn=5)
    assert applicable_limits([withdrawn], ONLINE, spec(), t(9), lead=LEAD) == ()
    older = envelope("E-1", start=10, end=40, received=-10)
    newer = envelope("E-2", start=0, end=40, received=1, limit=70_000.0)
    limits = applicable_limits([older, newer], ONLINE, spec(), t(9), lead=LEAD)
    assert ids(limits) == ["E-2"]


def test_what_is_received_or_withdrawn_later_is_not_foreseen() -> None:
    cut = envelope(start=10, end=40, received=9)
    assert applicable_limits([cut], ONLINE, spec(), t(8.5), lead=LEAD) == ()
    later_withdrawal = envelope(start=10, end=40, withdrawn=9.5)
    (limit,) = applicable_limits([later_withdrawal], ONLINE, spec(), t(8.5), lead=LEAD)
    assert limit.origin.starts == t(10)


def check_a_lead_only_tightens_and_brings_every_envelope_forward(
    generated: list[Envelope],
    sources: dict[str, SourceSpec],
    source_health: dict[str, SourceHealth],
    minute: float,
    lead_minutes: int,
) -> None:
    """With a lead, every limit in force without it is still there (so nothing
    loosens), and an envelope known now that is in force at its start, within the
    lead, applies now (so its decreases can land before it starts)."""
    at, lead = t(minute), timedelta(minutes=lead_minutes)
    plain = applicable_limits(generated, source_health, sources, at)
    ahead = applicable_limits(generated, source_health, sources, at, lead=lead)
    assert set(plain) <= set(ahead)
    before, after = tightest(plain), tightest(ahead)
    for key, limit in before.items():
        assert after[key] <= limit, key
    known = [
        e
        if e.withdrawn_at is None or e.withdrawn_at <= at
        else dataclasses.replace(e, withdrawn_at=None)
        for e in generated
        if e.received_at <= at
    ]
    for e in known:
        if at < e.start <= at + lead:
            status = states_at(known, source_health, e.start).get(e.id)
            applied = e.id in ids(ahead)
            assert applied == (status is not None and status.in_force), (e.id, status)
    for x in ahead:
        if x.origin.starts is not None:
            assert at < x.origin.starts <= at + lead


@settings(max_examples=200)
@given(st.data(), SITUATIONS, st.integers(0, 30))
def test_limits_are_the_same_in_any_order_known_at_the_time_and_only_tightened_ahead(
    data: st.DataObject, situation: Situation, lead_minutes: int
) -> None:
    """Same input, same output whatever the order; limits depend only on what was
    known at the time; a lead only tightens and brings every envelope forward."""
    check_limits_depend_only_on_what_was_known_at_the_time(*situation)
    check_a_lead_only_tightens_and_brings_every_envelope_forward(*situation, lead_minutes)
    check_same_input_same_output_whatever_the_order(data, *situation)
