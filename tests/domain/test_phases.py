"""Phase loading of a load: which lines carry its current, and current ↔ power."""

from __future__ import annotations

import math

import pytest

from depotctl.domain.phases import (
    THREE_PHASE,
    Phase,
    PhaseConnection,
    line_currents,
    load_current,
    load_power,
)

L1, L2, L3 = Phase.L1, Phase.L2, Phase.L3


def test_line_to_line_load_counts_its_full_current_on_both_lines() -> None:
    assert line_currents(32.0, PhaseConnection.parse("L1-L2")) == {L1: 32.0, L2: 32.0}


def test_line_to_neutral_load_loads_only_its_phase() -> None:
    assert line_currents(16.0, PhaseConnection.parse("L2")) == {L2: 16.0}


def test_three_phase_load_loads_every_phase() -> None:
    assert line_currents(16.0, PhaseConnection.parse("L2-L3-L1")) == {L1: 16.0, L2: 16.0, L3: 16.0}


def test_single_phase_load_on_an_unknown_phase_counts_on_every_phase() -> None:
    assert line_currents(10.0, None) == {L1: 10.0, L2: 10.0, L3: 10.0}


@pytest.mark.parametrize(
    ("connection", "watts"),
    [
        (THREE_PHASE, 3 * 230 * 16),
        (PhaseConnection.parse("L3"), 230 * 16),
        (None, 230 * 16),
        (PhaseConnection.parse("L1-L2"), math.sqrt(3) * 230 * 16),
    ],
    ids=["three-phase", "line-to-neutral", "unknown-phase", "line-to-line"],
)
def test_power_of_a_load_and_back(connection: PhaseConnection | None, watts: float) -> None:
    assert load_power(16.0, connection, 230.0) == pytest.approx(watts)
    assert load_current(watts, connection, 230.0) == pytest.approx(16.0)


def test_line_to_line_at_208_volts() -> None:
    # 7.2 kW across two phases of a 120/208 V service: 7200 / 208 ≈ 34.6 A per line
    v_ln = 208 / math.sqrt(3)
    amps = load_current(7200.0, PhaseConnection.parse("L1-L2"), v_ln)
    assert amps == pytest.approx(34.615, abs=1e-3)
