"""Alert values: a headline from the kind and subject, the message, the key that
makes one open alert per condition, and the severity."""

from __future__ import annotations

from datetime import UTC, datetime

from depotctl.domain.alerts import (
    Alert,
    AlertCondition,
    AlertKind,
    Severity,
    Subject,
    SubjectKind,
)

T = datetime(2026, 3, 2, 18, 2, tzinfo=UTC)


def test_a_condition_reads_as_its_subject_what_it_is_and_why() -> None:
    condition = AlertCondition(
        AlertKind.CHARGER_UNCONTROLLABLE,
        Subject(SubjectKind.CHARGER, "dc-07"),
        "no answer within 5 s",
    )
    assert condition.headline == "charger dc-07 uncontrollable"
    assert condition.message == "charger dc-07 uncontrollable (no answer within 5 s)"


def test_every_kind_has_a_phrase_and_a_severity() -> None:
    for kind in AlertKind:
        assert kind.phrase
        assert isinstance(kind.severity, Severity)
    assert AlertKind.NODE_OVERCOMMITTED.severity is Severity.CRITICAL
    assert AlertKind.METER_STALE.severity is Severity.WARNING
    node = Subject(SubjectKind.NODE, "gc-main")
    assert AlertCondition(AlertKind.NODE_OVERCOMMITTED, node, "x").headline == (
        "node gc-main over-committed"
    )


def test_the_key_is_the_kind_and_subject_not_the_reason() -> None:
    meter = Subject(SubjectKind.METER, "m-workshop")
    a = AlertCondition(AlertKind.METER_STALE, meter, "no reading yet")
    b = AlertCondition(AlertKind.METER_STALE, meter, "last reading 18:00Z", {"age_s": 95})
    other = AlertCondition(AlertKind.METER_STALE, Subject(SubjectKind.NODE, "m-workshop"), "x")
    assert a.key == b.key
    assert a.key != other.key  # a node and a meter of the same name are two subjects


def test_an_alert_is_open_until_cleared_and_says_what_its_condition_said() -> None:
    subject = Subject(SubjectKind.SOURCE, "dnsp")
    alert = Alert(1, AlertKind.SOURCE_OFFLINE, subject, T, "never heard from")
    assert alert.is_open and alert.message == "source dnsp offline (never heard from)"
    cleared = Alert(1, AlertKind.SOURCE_OFFLINE, subject, T, "never heard from", cleared_at=T)
    assert not cleared.is_open
    assert alert.key == AlertCondition(AlertKind.SOURCE_OFFLINE, subject, "other").key


def test_subjects_sort_by_kind_then_id() -> None:
    subjects = [
        Subject(SubjectKind.NODE, "b"),
        Subject(SubjectKind.CHARGER, "z"),
        Subject(SubjectKind.NODE, "a"),
    ]
    assert [str(s) for s in sorted(subjects)] == ["charger z", "node a", "node b"]
