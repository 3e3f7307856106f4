"""The whole site: policies, metadata, electrical defaults, sections and the summary."""

from __future__ import annotations

from depotctl.config.diff import Kind, Section
from tests.config.diff.sites import DiffEdits, lines, only

POLICIES = "    charging: {min_current: 6 A, safety_margin: 5 %, priority: laxity}"


def test_each_policy_field_with_its_units(edit_diff: DiffEdits) -> None:
    diff = edit_diff(
        (POLICIES, "    charging: {min_current: 8 A, safety_margin: 10 %, priority: deadline}"),
        ("stale_after: 30 s", "stale_after: 1 min"),
        base="depot",
    )
    assert lines(diff) == [
        "~ policy telemetry.stale_after 30 s → 1 min (+100 %)",
        "~ policy charging.min_current 6 A → 8 A (+33.3 %)",
        "~ policy charging.safety_margin 5 % → 10 % (+100 %)",
        "~ policy charging.priority laxity → deadline",
    ]
    change = diff.changes[1]
    assert (change.kind, change.section, change.id) == (Kind.POLICY, Section.POLICIES, "charging")
    assert change.path == "spec.policies.charging.min_current"


def test_a_nested_policy_field_is_its_own_change(edit_diff: DiffEdits) -> None:
    diff = edit_diff(
        (
            POLICIES,
            "    charging: {min_current: 6 A, safety_margin: 5 %, priority: laxity,"
            " rotation: {min_on: 300 s, min_off: 10 min}}",
        ),
        base="depot",
    )
    assert lines(diff) == ["~ policy charging.rotation.min_off 5 min → 10 min (+100 %)"]
    assert diff.changes[0].path == "spec.policies.charging.rotation.min_off"


def test_a_default_written_out_equals_the_default_left_out(edit_diff: DiffEdits) -> None:
    diff = edit_diff(
        ("  policies:\n", "  policies:\n    uncontrollable_charger: {assume: last_accepted}\n"),
        (
            POLICIES,
            "    charging: {min_current: 6 A, safety_margin: 5 %, priority: laxity, hysteresis: 1 A}",
        ),
        base="depot",
    )
    assert diff.is_empty, lines(diff)


def test_metadata_name_and_time_zone(edit_diff: DiffEdits) -> None:
    diff = edit_diff(
        ("name: minimal-depot", "name: depot-south"),
        ("timezone: Australia/Sydney", "timezone: Australia/Brisbane"),
    )
    assert lines(diff) == [
        "~ site name minimal-depot → depot-south",
        "~ site time zone Australia/Sydney → Australia/Brisbane",
    ]
    assert (diff.old_name, diff.new_name) == ("minimal-depot", "depot-south")
    assert {c.section for c in diff.changes} == {Section.METADATA}


def test_electrical_defaults(edit_diff: DiffEdits) -> None:
    change = only(edit_diff(("voltage: 230 V, phases: 3", "voltage: 240 V, phases: 3")))
    assert change.message == "site default voltage 230 V → 240 V (+4.3 %)"
    assert (change.kind, change.path) == (Kind.ELECTRICAL, "spec.electrical.voltage")


def test_changes_come_in_section_order_and_are_counted(edit_diff: DiffEdits) -> None:
    diff = edit_diff(
        ("timezone: Australia/Sydney", "timezone: Australia/Perth"),
        ("fallback: 32 A", "fallback: 16 A"),
        ("limits: {current: 250 A}", "limits: {current: 200 A}"),
        ("evses: [{id: 1, external_id: CA-305}]", "evses: [{id: 2}]"),
        base="depot",
    )
    assert [c.section for c in diff.changes] == [
        Section.LIMITS,
        Section.CHARGERS,
        Section.CHARGERS,
        Section.CHARGERS,
        Section.METADATA,
    ]
    assert (diff.to_add, diff.to_change, diff.to_remove) == (1, 3, 1)


def test_planner_settings_are_compared_field_by_field_defaults_included(
    edit_diff: DiffEdits,
) -> None:
    planned = "  planner: {enabled: true, block: 30 min}\n  nodes:\n"
    diff = edit_diff(("  nodes:\n", planned))
    assert lines(diff) == [
        "~ site planner.enabled false → true",
        "~ site planner.block 15 min → 30 min (+100 %)",
    ]
    assert [c.path for c in diff.changes] == ["spec.planner.enabled", "spec.planner.block"]
    assert edit_diff(
        ("  nodes:\n", "  planner: {enabled: false, horizon: 24 h}\n  nodes:\n")
    ).is_empty
