"""A charger's draw record: only changes are kept, and its text in the report reads
back to the same instants and watts at a millisecond and 0.1 W."""

from __future__ import annotations

from datetime import timedelta

import pytest

from depotctl.sim.chargers.draw_record import DrawRecord, decode, encode
from tests.sim.chargers.builders import START


def ms(n: float) -> timedelta:
    return timedelta(milliseconds=n)


def test_only_changes_are_kept_and_a_second_note_at_an_instant_replaces_the_first() -> None:
    record = DrawRecord()
    record.note(START, 0.0)
    record.note(START + ms(5), 0.0)  # no change
    record.note(START + ms(10), 7000.0)
    record.note(START + ms(10), 0.0)  # the same instant: back to what it was
    record.note(START + ms(20), 11_040.0)
    record.note(START + ms(20), 22_080.0)
    assert record.changes == [(START, 0.0), (START + ms(20), 22_080.0)]


def test_the_text_reads_back_at_a_millisecond_and_a_tenth_of_a_watt() -> None:
    changes = [
        (START - ms(12), 5.0),  # before the report's origin: counted from it
        (START - ms(2), 0.0),
        (START + timedelta(seconds=61.5), 22_080.0),
        (START + timedelta(seconds=3600.1251), 13_800.04),
        (START + timedelta(seconds=3600.1253), 5_520.36),  # the same millisecond: kept last
        (START + timedelta(seconds=7200), 5_520.35),  # the same tenth of a watt: left out
        (START + timedelta(hours=15), 0.0),
    ]
    text = encode(changes, START)
    assert text == "0:0 61.5:22080 3600.125:5520.4 54000:0"
    assert decode(text) == [(0, 0), (61_500, 220_800), (3_600_125, 55_204), (54_000_000, 0)]
    assert decode("") == []


@pytest.mark.parametrize("text", ["1:5 0.5:3", "1:x", "nonsense"])
def test_a_text_that_is_not_a_record_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        decode(text)
