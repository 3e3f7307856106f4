"""A demand term's values: what is refused and why."""

from __future__ import annotations

import pytest

from depotctl.engine.planner import DemandTerm


def test_a_term_within_the_horizon_passes() -> None:
    DemandTerm(12.5, (0, 3, 4), peak_so_far_w=80_000.0).check(0, 5)


@pytest.mark.parametrize(
    ("term", "message"),
    [
        (DemandTerm(-1.0, (0,)), r"demand term 2: rate_per_kw -1.0 must be finite and ≥ 0"),
        (DemandTerm(1.0, (0,), -5.0), r"peak_so_far_w -5.0 must be finite and ≥ 0"),
        (DemandTerm(1.0, (3, 7)), r"block\(s\) 7 outside the horizon's 0…4"),
        (DemandTerm(1.0, (2, 1)), r"blocks must be ascending, each once"),
    ],
)
def test_a_term_the_program_cannot_hold_is_refused(term: DemandTerm, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        term.check(2, 5)
