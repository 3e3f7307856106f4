"""A fuzzer over the OCPP 1.6J and 2.0.1 schemas against the real endpoint on
loopback: for every action the CSMS handles, payloads drawn from the action's schema
(each answered with a CALLRESULT that follows the response's schema) and the same
payloads with one thing broken (a CALLERROR with a schema code); and raw frames of
any shape (each CALL answered once, with a code of the version; responses never).
Throughout, the connection keeps serving, a neighbour's too, and nothing is logged
at ERROR (a handler that fails would be).

The default budget is small; ``pytest -m slow`` runs a larger one.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import pytest

from depotctl.domain.charge_points import OcppVersion
from depotctl.protocols.ocpp.v16 import V16Handler
from depotctl.protocols.ocpp.v201 import V201Handler
from tests.protocols.ocpp.endpoint_rig import V16, V201, Rig, charge_point, endpoint
from tests.protocols.ocpp.fuzz_rig import (
    ErrorRecords,
    Link,
    fuzz_frames,
    fuzz_payloads,
    handled_actions,
    in_thread,
    linked,
)

NEIGHBOUR_16 = charge_point("CP-N16", "chg-n16", OcppVersion.V16)
NEIGHBOUR_201 = charge_point("CP-N201", "chg-n201", OcppVersion.V201, evses=2)
#: (subprotocol, the fuzzed charger, its neighbour, the actions handled)
VERSIONS = {
    "1.6": ("ocpp1.6", "CP-16", "CP-N16", handled_actions(V16Handler)),
    "2.0.1": ("ocpp2.0.1", "CP-201", "CP-N201", handled_actions(V201Handler)),
}
ACTIONS = [(version, action) for version, (*_, actions) in VERSIONS.items() for action in actions]
EXAMPLES = 8
SLOW_EXAMPLES = 300


@dataclass
class Fuzzing:
    rig: Rig
    errors: ErrorRecords


@pytest.fixture(scope="module")
def fuzzing() -> Iterator[Fuzzing]:
    @asynccontextmanager
    async def served() -> Any:
        async with endpoint(V16, V201, NEIGHBOUR_16, NEIGHBOUR_201) as rig:
            yield rig

    with ErrorRecords().watching() as errors, in_thread(served) as rig:
        yield Fuzzing(rig, errors)


@dataclass
class Pair:
    """The fuzzed charger's connection and its neighbour's."""

    fuzzed: Link
    neighbour: Link


@pytest.fixture
def pair(fuzzing: Fuzzing, request: pytest.FixtureRequest) -> Iterator[Pair]:
    version = request.node.callspec.params["version"]
    subprotocol, ocpp_id, neighbour_id, _ = VERSIONS[version]
    with (
        linked(fuzzing.rig.url, ocpp_id, subprotocol) as fuzzed,
        linked(fuzzing.rig.url, neighbour_id, subprotocol) as neighbour,
    ):
        yield Pair(fuzzed, neighbour)


def _fuzz_payloads(fuzzing: Fuzzing, pair: Pair, version: str, action: str, examples: int) -> None:
    advance, errors = fuzzing.rig.clock.advance, fuzzing.errors
    fuzz_payloads(pair.fuzzed, pair.neighbour, action, examples, advance=advance, errors=errors)


def _fuzz_frames(fuzzing: Fuzzing, pair: Pair, version: str, examples: int) -> None:
    actions = VERSIONS[version][3]
    advance, errors = fuzzing.rig.clock.advance, fuzzing.errors
    fuzz_frames(pair.fuzzed, pair.neighbour, actions, examples, advance=advance, errors=errors)


@pytest.mark.parametrize(("version", "action"), ACTIONS)
def test_every_handled_action_answers_payloads_from_its_schema_and_broken_ones(
    fuzzing: Fuzzing, pair: Pair, version: str, action: str
) -> None:
    _fuzz_payloads(fuzzing, pair, version, action, EXAMPLES)


@pytest.mark.parametrize("version", list(VERSIONS))
def test_raw_frames_of_any_shape_are_answered_per_the_protocol(
    fuzzing: Fuzzing, pair: Pair, version: str
) -> None:
    _fuzz_frames(fuzzing, pair, version, 10 * EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize(("version", "action"), ACTIONS)
def test_every_handled_action_at_length(
    fuzzing: Fuzzing, pair: Pair, version: str, action: str
) -> None:
    _fuzz_payloads(fuzzing, pair, version, action, SLOW_EXAMPLES)


@pytest.mark.slow
@pytest.mark.parametrize("version", list(VERSIONS))
def test_raw_frames_at_length(fuzzing: Fuzzing, pair: Pair, version: str) -> None:
    _fuzz_frames(fuzzing, pair, version, 10 * SLOW_EXAMPLES)
