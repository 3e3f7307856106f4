"""Reading a past instant (``?at=``) for time travel: the API's fuzz found instants
near datetime's own bounds overflowing into a 500."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from depotctl.controller.services.errors import Invalid
from depotctl.controller.services.past import instant


def test_an_instant_with_its_offset_is_read_as_given() -> None:
    at = instant("2026-12-07T02:14:05+11:00")
    assert at == datetime(2026, 12, 6, 15, 14, 5, tzinfo=UTC)


@pytest.mark.parametrize(
    "text",
    [
        "0001-01-01T00:00:00+14:00",  # before datetime's first instant in UTC: overflows
        "9999-12-31T23:59:59.999999Z",  # a step later overflows
        "9999-12-31T23:00:00-12:00",
        "1969-12-31T23:59:59Z",
    ],
)
def test_an_instant_outside_any_history_is_refused_with_its_field(text: str) -> None:
    with pytest.raises(Invalid, match="outside any history"):
        instant(text)


def test_an_instant_without_its_offset_is_refused() -> None:
    with pytest.raises(Invalid, match="with its offset"):
        instant("2026-12-07T02:14:05")
