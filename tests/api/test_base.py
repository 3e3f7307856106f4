"""The base of the API's models: times written back as the controller writes them, the
JSON of an answer is the JSON it came from, a field this depotctl does not know kept."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from depotctl.api import Clock, JournalEntry, json_of


def test_a_time_reads_with_its_offset_and_writes_back_as_it_came() -> None:
    for text in ("2026-03-03T01:00:00+11:00", "2026-11-26T15:24:22.559366+00:00"):
        clock = Clock.model_validate({"time": text, "speed": 60.0, "kind": "sim"})
        assert clock.time.utcoffset() is not None
        assert json_of(clock)["time"] == text
    sydney = Clock(
        time=datetime(2026, 3, 3, 1, tzinfo=timezone(timedelta(hours=11))), speed=1.0, kind="real"
    )
    assert sydney.time == datetime(2026, 3, 2, 14, tzinfo=UTC)


def test_a_field_a_newer_controller_adds_is_kept() -> None:
    body = {"time": "2026-03-02T14:00:00+00:00", "speed": 1.0, "kind": "real", "drift_s": 0.25}
    clock = Clock.model_validate(body)
    assert clock.model_extra == {"drift_s": 0.25}
    assert json_of(clock) == body


def test_the_json_has_only_the_fields_the_answer_had() -> None:
    body = {
        "id": 7,
        "at": "2026-03-02T14:00:00+00:00",
        "kind": "session.started",
        "evse": "dc-01/1",
        "envelope": None,
        "session": "bus-1",
        "message": "session bus-1 started on EVSE dc-01/1",
        "data": {"evse": "dc-01/1"},
    }
    entry = JournalEntry.model_validate(body)
    assert json_of(entry) == body


def test_answers_are_values() -> None:
    clock = Clock.model_validate({"time": "2026-03-02T14:00:00+00:00", "speed": 1, "kind": "sim"})
    same = Clock.model_validate({"time": "2026-03-02T14:00:00+00:00", "speed": 1.0, "kind": "sim"})
    assert clock == same and clock is not same
