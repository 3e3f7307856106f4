"""Capacity forecasts → envelopes: types, units and phases; refusals naming the block;
ids; replacement from the first block on; and, for any sequence of forecasts and
silences, the limits in force equal a simple model of the specification's rules."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Literal

import pytest
from hypothesis import given
from hypothesis import strategies as st

from depotctl.domain.envelopes import (
    Direction,
    Envelope,
    EnvelopeMode,
    LimitUnit,
    SourceHealth,
    applicable_limits,
)
from depotctl.domain.phases import Phase
from depotctl.domain.topology import NodeLimits, SourceSpec
from depotctl.protocols.oscp import (
    AdjustGroupCapacityForecast,
    CapacityForecastType,
    ForecastedBlock,
    ForecastedBlockUnit,
    ForecastIntake,
    ForecastRefused,
    PhaseIndicator,
    UpdateGroupCapacityForecast,
    envelope_id,
    forecast_intake,
    replacements,
)
from tests.protocols.oscp.forecast_rules import (
    Message,
    Sent,
    Site,
    edges,
    limits_in_force,
    sent_forecast,
)

T0 = datetime(2026, 3, 2, 7, 0, tzinfo=UTC)
SOURCE = "dnsp"
TARGETS = ("gc-main", "db-1")
OFFLINE_AFTER_S = 300.0
SITE_FALLBACK_W = 40_000.0
SPEC = SourceSpec(SOURCE, OFFLINE_AFTER_S, NodeLimits(import_w=SITE_FALLBACK_W), TARGETS)
CONSUMPTION = CapacityForecastType.CONSUMPTION
#: What the API accepts as an envelope id (api.inputs.RecordId).
RECORD_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]*$")


def t(minutes: float) -> datetime:
    return T0 + timedelta(minutes=minutes)


def block(
    start: float, end: float, capacity: float = 350.0, unit: str = "KW", phase: str = "ALL"
) -> ForecastedBlock:
    fields = {
        "capacity": capacity,
        "unit": ForecastedBlockUnit(unit),
        "phase": PhaseIndicator(phase),
        "start_time": t(start),
        "end_time": t(end),
    }
    if not math.isfinite(capacity):  # past the message's own check, as a quirk might let in
        return ForecastedBlock.model_construct(**fields)
    return ForecastedBlock.model_validate(fields)


def forecast(
    *blocks: ForecastedBlock, type: CapacityForecastType = CONSUMPTION
) -> UpdateGroupCapacityForecast:
    return UpdateGroupCapacityForecast(
        group_id="NORTH-01", type=type, forecasted_blocks=list(blocks)
    )


def unchecked(*blocks: ForecastedBlock) -> UpdateGroupCapacityForecast:
    """A forecast built past the message's own checks, as a peer quirk might let through."""
    return UpdateGroupCapacityForecast.model_construct(
        group_id="NORTH-01", type=CONSUMPTION, forecasted_blocks=list(blocks)
    )


def intake(
    sent: UpdateGroupCapacityForecast | AdjustGroupCapacityForecast,
    *,
    received: float = -10,
    targets: Sequence[str] = ("gc-main",),
    request_id: str = "rq-1",
) -> ForecastIntake:
    return forecast_intake(
        sent, source=SOURCE, targets=targets, request_id=request_id, received_at=t(received)
    )


def limits_at(
    envelopes: Sequence[Envelope], minutes: float, *, heard: float | Literal["now"] | None = "now"
) -> list[tuple[str, str, str, float]]:
    """The limits in force at a minute, the source last heard at ``heard`` (by default
    then: online; None: never)."""
    last = t(minutes) if heard == "now" else None if heard is None else t(heard)
    health = {SOURCE: SourceHealth(SOURCE, last, OFFLINE_AFTER_S)}
    return [
        (limit.target, limit.direction, limit.unit, limit.limit)
        for limit in applicable_limits(envelopes, health, {SOURCE: SPEC}, t(minutes))
    ]


# Types, units, phases


def test_a_consumption_forecast_becomes_import_maxima_in_watts_per_block_per_target() -> None:
    sent = forecast(block(0, 15, 350.5), block(15, 30, 0.25))
    envelopes = intake(sent, targets=TARGETS).envelopes
    assert envelopes == (
        Envelope("dnsp:rq-1:0:gc-main", SOURCE, "gc-main", Direction.IMPORT, 350_500.0, LimitUnit.W, t(0), t(15), t(-10)),
        Envelope("dnsp:rq-1:0:db-1", SOURCE, "db-1", Direction.IMPORT, 350_500.0, LimitUnit.W, t(0), t(15), t(-10)),
        Envelope("dnsp:rq-1:1:gc-main", SOURCE, "gc-main", Direction.IMPORT, 250.0, LimitUnit.W, t(15), t(30), t(-10)),
        Envelope("dnsp:rq-1:1:db-1", SOURCE, "db-1", Direction.IMPORT, 250.0, LimitUnit.W, t(15), t(30), t(-10)),
    )  # fmt: skip


@pytest.mark.parametrize(
    ("type", "direction", "mode"),
    [
        (CapacityForecastType.CONSUMPTION, Direction.IMPORT, EnvelopeMode.NORMAL),
        (CapacityForecastType.GENERATION, Direction.EXPORT, EnvelopeMode.NORMAL),
        (CapacityForecastType.FALLBACK_CONSUMPTION, Direction.IMPORT, EnvelopeMode.FALLBACK),
        (CapacityForecastType.FALLBACK_GENERATION, Direction.EXPORT, EnvelopeMode.FALLBACK),
    ],
)
def test_each_limiting_type_has_its_direction_and_mode(
    type: CapacityForecastType, direction: Direction, mode: EnvelopeMode
) -> None:
    taken = intake(forecast(block(0, 15), type=type))
    assert taken.type is type
    assert taken.optima == ()
    assert [(e.direction, e.mode) for e in taken.envelopes] == [(direction, mode)]


def test_an_optimum_is_advice_not_an_envelope() -> None:
    taken = intake(
        forecast(
            block(0, 15, 120),
            block(15, 30, 80, unit="A", phase="TWO"),
            type=CapacityForecastType.OPTIMUM,
        )
    )
    assert taken.envelopes == ()
    assert [(o.id, o.level, o.unit, o.phases, o.start, o.end) for o in taken.optima] == [
        ("dnsp:rq-1:0:gc-main", 120_000.0, LimitUnit.W, None, t(0), t(15)),
        ("dnsp:rq-1:1:gc-main", 80.0, LimitUnit.A, frozenset({Phase.L2}), t(15), t(30)),
    ]  # fmt: skip


def test_an_adjust_forecast_reads_the_same_way() -> None:
    sent = AdjustGroupCapacityForecast(
        group_id="NORTH-01", type=CONSUMPTION, forecasted_blocks=[block(0, 15)]
    )
    assert intake(sent).envelopes == intake(forecast(block(0, 15))).envelopes  # fmt: skip


@pytest.mark.parametrize(
    ("unit", "phase", "limit", "limit_unit", "phases"),
    [
        ("A", "ALL", 200.0, LimitUnit.A, None),
        ("A", "UNKNOWN", 200.0, LimitUnit.A, None),
        ("A", "ONE", 200.0, LimitUnit.A, frozenset({Phase.L1})),
        ("A", "TWO", 200.0, LimitUnit.A, frozenset({Phase.L2})),
        ("A", "THREE", 200.0, LimitUnit.A, frozenset({Phase.L3})),
        ("W", "ALL", 200.0, LimitUnit.W, None),
        ("KW", "ALL", 200_000.0, LimitUnit.W, None),
        ("W", "ONE", 200.0, LimitUnit.W, frozenset({Phase.L1})),
    ],
)
def test_units_and_phases(
    unit: str, phase: str, limit: float, limit_unit: LimitUnit, phases: frozenset[Phase] | None
) -> None:
    (envelope,) = intake(forecast(block(0, 15, 200, unit=unit, phase=phase))).envelopes
    assert (envelope.limit, envelope.unit, envelope.phases) == (limit, limit_unit, phases)


def test_a_power_on_one_phase_holds_the_total_at_that_power() -> None:
    """Power envelopes are the node's total (the engine's reading): 50 kW on L1 alone
    holds the total at 50 kW, so L1 can never draw more than 50 kW."""
    envelopes = intake(
        forecast(block(0, 15, 50, phase="ONE"), block(0, 15, 70, phase="TWO"))
    ).envelopes
    assert limits_at(envelopes, 5) == [
        ("gc-main", "import", "W", 50_000.0),
        ("gc-main", "import", "W", 70_000.0),
    ]  # both hold side by side; the engine takes the least  # fmt: skip


def test_an_all_zero_forecast_is_honoured() -> None:
    envelopes = intake(forecast(block(0, 15, 0), block(15, 30, 0)), targets=TARGETS).envelopes
    assert limits_at(envelopes, 20) == [
        ("db-1", "import", "W", 0.0),
        ("gc-main", "import", "W", 0.0),
    ]


def test_a_block_already_running_is_in_force_from_receipt_and_a_past_one_never() -> None:
    envelopes = intake(forecast(block(-30, -20, 10), block(-20, 40, 20)), received=-5).envelopes
    assert len(envelopes) == 2
    unheard = [
        ("db-1", "import", "W", SITE_FALLBACK_W),
        ("gc-main", "import", "W", SITE_FALLBACK_W),
    ]
    assert limits_at(envelopes, -6, heard=None) == unheard  # nothing received yet
    assert limits_at(envelopes, -4, heard=-5) == [("gc-main", "import", "W", 20_000.0)]


# Refusals


NAN, INF = math.nan, math.inf


@pytest.mark.parametrize(
    ("blocks", "expected"),
    [
        ((block(0, 15, -1),), ["forecasted_blocks[0]: capacity -1 KW is negative; a capacity is the most the group may draw or feed in, 0 or more"]),
        ((block(0, 15), block(15, 30, NAN)),  ["forecasted_blocks[1]: capacity nan is not a number; send a finite one"]),
        ((block(0, 15, INF),), ["forecasted_blocks[0]: capacity inf is not a number; send a finite one"]),
        ((block(0, 15, -INF),), ["forecasted_blocks[0]: capacity -inf is not a number; send a finite one"]),
        ((block(15, 15),), ["forecasted_blocks[0]: ends at 2026-03-02T07:15:00Z, not after its start at 2026-03-02T07:15:00Z; a block covers [start_time, end_time)"]),
        ((block(0, 15), block(30, 20)), ["forecasted_blocks[1]: ends at 2026-03-02T07:20:00Z, not after its start at 2026-03-02T07:30:00Z; a block covers [start_time, end_time)"]),
        ((block(0, 15), block(10, 30)), ["forecasted_blocks[1]: overlaps forecasted_blocks[0] (phase ALL) from 2026-03-02T07:10:00Z to 2026-03-02T07:15:00Z; one limit's blocks must not overlap"]),
        ((block(0, 60, phase="UNKNOWN"), block(10, 20, unit="W")), ["forecasted_blocks[1]: overlaps forecasted_blocks[0] (phase ALL) from 2026-03-02T07:10:00Z to 2026-03-02T07:20:00Z; one limit's blocks must not overlap"]),
        ((block(40, 50, unit="A", phase="ONE"), block(0, 60, unit="A", phase="ONE")), ["forecasted_blocks[0]: overlaps forecasted_blocks[1] (phase ONE) from 2026-03-02T07:40:00Z to 2026-03-02T07:50:00Z; one limit's blocks must not overlap"]),
        ((block(0, 15, unit="WH"),), ["forecasted_blocks[0]: unit WH is an energy, not a power or a current; a capacity is a limit in A, W or KW"]),
        ((block(0, 15), block(15, 30, unit="KWH")), ["forecasted_blocks[1]: unit KWH is an energy, not a power or a current; a capacity is a limit in A, W or KW"]),
        ((block(-60, -30), block(-30, -10)), ["every block had ended when it was received at 2026-03-02T06:50:00Z (the last at 2026-03-02T06:50:00Z); send blocks that end in the future"]),
        ((), ["it has no forecasted_blocks; send at least one block"]),
    ],
)  # fmt: skip
def test_a_forecast_that_cannot_be_honoured_is_refused_naming_the_block(
    blocks: tuple[ForecastedBlock, ...], expected: list[str]
) -> None:
    with pytest.raises(ForecastRefused) as refused:
        intake(unchecked(*blocks))
    assert list(refused.value.problems) == expected
    assert str(
        refused.value
    ) == "UpdateGroupCapacityForecast CONSUMPTION for group NORTH-01 refused: " + "; ".join(
        expected
    )


def test_every_problem_is_listed_at_once() -> None:
    with pytest.raises(ForecastRefused) as refused:
        intake(unchecked(block(0, 15, -5, unit="KWH"), block(5, 20)))
    assert [problem.split(":")[0] for problem in refused.value.problems] == [
        "forecasted_blocks[0]",
        "forecasted_blocks[0]",
        "forecasted_blocks[1]",
    ]


@pytest.mark.parametrize(
    "blocks",
    [
        (block(0, 15), block(15, 30)),  # adjacent: [0, 15) then [15, 30)
        (block(0, 15, phase="ONE"), block(0, 15, phase="TWO"), block(0, 15)),  # phases apart
        (block(0, 15, unit="A"), block(0, 15, unit="KW")),  # a current and a power
    ],
)
def test_blocks_of_different_limits_or_one_after_another_are_no_overlap(
    blocks: tuple[ForecastedBlock, ...],
) -> None:
    assert len(intake(forecast(*blocks)).envelopes) == len(blocks)


# Ids


def test_ids_are_made_of_source_request_block_and_target() -> None:
    assert envelope_id("dnsp", "Rq_7.a-b", 3, "gc-main") == "dnsp:Rq_7.a-b:3:gc-main"
    first = intake(forecast(block(0, 15)), request_id="rq-9").envelopes
    again = intake(forecast(block(0, 15)), request_id="rq-9").envelopes
    assert [e.id for e in first] == [e.id for e in again] == ["dnsp:rq-9:0:gc-main"]


@pytest.mark.parametrize(
    "request_id", ["a b/c", "ä", "x:1", "9f1c4d6e-0c7b-4c59-9d3b-2f6b1d3e4a5b" * 3, ""]
)
def test_a_request_id_unfit_for_an_id_is_hashed_and_ids_stay_distinct(request_id: str) -> None:
    made = {envelope_id("dnsp", request_id, index, "gc-main") for index in range(3)}
    made.add(envelope_id("dnsp", request_id + "!", 0, "gc-main"))
    assert len(made) == 4
    assert all(RECORD_ID.match(ident) and len(ident) <= 128 for ident in made)


def test_a_very_long_id_is_hashed_whole() -> None:
    ident = envelope_id("s" * 100, "rq", 0, "n" * 100)
    assert RECORD_ID.match(ident) and len(ident) <= 128
    assert ident != envelope_id("s" * 100, "rq", 1, "n" * 100)


# Replacement


def _stored(
    *blocks: ForecastedBlock, received: float = -30, request_id: str = "old"
) -> tuple[Envelope, ...]:
    return intake(forecast(*blocks), received=received, request_id=request_id).envelopes


def test_a_new_forecast_replaces_the_old_from_its_first_block_on() -> None:
    old = _stored(block(0, 30, 100), block(30, 60, 100), block(60, 90, 100))
    new = intake(forecast(block(45, 75, 50)), received=10, request_id="new").envelopes
    assert replacements(old, new) == {
        "dnsp:old:1:gc-main": t(45),  # straddles 45: cut there
        "dnsp:old:2:gc-main": t(10),  # wholly after: withdrawn on receipt
    }


def test_the_cut_is_at_receipt_when_the_first_block_had_started_by_then() -> None:
    old = _stored(block(0, 60, 100))
    new = intake(
        forecast(block(10, 20, 50), block(20, 90, 70)), received=15, request_id="new"
    ).envelopes
    assert replacements(old, new) == {"dnsp:old:0:gc-main": t(15)}


def test_only_the_same_source_direction_and_mode_are_replaced() -> None:
    stored = (
        *_stored(block(0, 60)),
        *intake(forecast(block(0, 60), type=CapacityForecastType.GENERATION), received=-30, request_id="gen").envelopes,
        *intake(forecast(block(0, 60), type=CapacityForecastType.FALLBACK_CONSUMPTION), received=-30, request_id="fb").envelopes,
        Envelope("local-1", "local", "gc-main", Direction.IMPORT, 1.0, LimitUnit.W, t(0), t(60), t(-30)),
    )  # fmt: skip
    new = intake(forecast(block(10, 20)), received=0, request_id="new").envelopes
    assert replacements(stored, new) == {"dnsp:old:0:gc-main": t(10)}


def test_what_ended_before_the_cut_or_was_withdrawn_by_then_or_came_later_is_left() -> None:
    ended = _stored(block(0, 10), request_id="ended")
    withdrawn = tuple(
        replace(e, withdrawn_at=t(5)) for e in _stored(block(20, 40), request_id="gone")
    )
    later = _stored(block(20, 40), received=20, request_id="later")
    new = intake(forecast(block(10, 30)), received=15, request_id="new").envelopes
    assert replacements((*ended, *withdrawn, *later, *new), new) == {}


def test_a_straddler_of_the_same_limit_is_cut_by_supersession_alone_too() -> None:
    old = _stored(block(0, 60, 100))
    new = intake(forecast(block(30, 90, 50)), received=10, request_id="new").envelopes
    both = (*old, *new)
    assert limits_at(both, 29) == [("gc-main", "import", "W", 100_000.0)]
    assert limits_at(both, 30) == [("gc-main", "import", "W", 50_000.0)]
    cut = tuple(replace(e, withdrawn_at=replacements(old, new)[e.id]) for e in old)
    for minute in (29, 30, 45):
        assert limits_at((*cut, *new), minute) == limits_at(both, minute)


def test_a_straddler_of_another_limit_is_cut_by_the_withdrawal() -> None:
    old = _stored(block(0, 60, 100, unit="A"))
    new = intake(forecast(block(30, 90, 50)), received=10, request_id="new").envelopes
    # supersession alone keeps the old current limit beside the new power limit
    assert limits_at((*old, *new), 45) == [
        ("gc-main", "import", "A", 100.0),
        ("gc-main", "import", "W", 50_000.0),
    ]
    cut = tuple(replace(e, withdrawn_at=replacements(old, new)[e.id]) for e in old)
    assert limits_at((*cut, *new), 29) == [("gc-main", "import", "A", 100.0)]
    assert limits_at((*cut, *new), 45) == [("gc-main", "import", "W", 50_000.0)]  # fmt: skip


def test_a_replacement_whose_first_block_is_over_cuts_at_its_receipt() -> None:
    old = _stored(block(0, 120, 100))
    new = intake(
        forecast(block(10, 20, 50), block(60, 90, 70)), received=30, request_id="new"
    ).envelopes
    cut = tuple(replace(e, withdrawn_at=replacements(old, new)[e.id]) for e in old)
    assert limits_at((*cut, *new), 29) == [("gc-main", "import", "W", 100_000.0)]
    assert limits_at((*cut, *new), 45, heard=40) == []  # the new forecast has nothing here
    assert limits_at((*cut, *new), 70, heard=70) == [("gc-main", "import", "W", 70_000.0)]  # fmt: skip


# Any sequence of forecasts and silences, against a model of the rules


SCENARIOS = st.lists(st.integers(-20, 90), unique=True, max_size=6).flatmap(
    lambda minutes: st.tuples(
        st.tuples(*(sent_forecast(m) for m in sorted(minutes))),
        st.lists(st.integers(-40, 200), max_size=12),  # heartbeats
        st.lists(st.integers(-120, 400).map(lambda half: half / 2), min_size=1, max_size=8),
    )
)
#: The site as the model reads it (times in minutes).
RULES_SITE = Site(TARGETS, OFFLINE_AFTER_S / 60, SITE_FALLBACK_W)


@given(SCENARIOS)
def test_the_limits_in_force_follow_the_rules_whatever_the_forecasts_and_silences(
    scenario: tuple[tuple[Sent, ...], list[int], list[float]],
) -> None:
    sent, heartbeats, instants = scenario
    stored: dict[str, Envelope] = {}
    accepted: list[Sent] = []
    for number, one in enumerate(sent):
        message = forecast(*(block(s, e, c, unit=u) for s, e, c, u in one.blocks), type=one.type)
        try:
            taken = intake(
                message, received=one.received, targets=TARGETS, request_id=f"rq-{number}"
            )
        except ForecastRefused:
            assert not one.acceptable
            continue
        assert one.acceptable
        accepted.append(one)
        for ident, cut in replacements(stored.values(), taken.envelopes).items():
            stored[ident] = replace(stored[ident], withdrawn_at=cut)
        stored.update((envelope.id, envelope) for envelope in taken.envelopes)
    heard = [*heartbeats, *(one.received for one in accepted)]
    messages = [Message(at) for at in heard]
    for at in sorted({*instants, *edges(sent, messages, RULES_SITE.offline_after)}):
        last = max((h for h in heard if h <= at), default=None)
        health = {SOURCE: SourceHealth(SOURCE, None if last is None else t(last), OFFLINE_AFTER_S)}
        found = sorted(
            (limit.target, limit.direction.value, limit.unit.value, limit.limit)
            for limit in applicable_limits(stored.values(), health, {SOURCE: SPEC}, t(at))
        )
        assert found == limits_in_force(accepted, messages, at, RULES_SITE), f"at minute {at}"
