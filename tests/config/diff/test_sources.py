"""Meters and envelope sources: added, removed, changed; tokens by reference only."""

from __future__ import annotations

from depotctl.config.diff import Action, Kind, Section, render_json, render_text
from tests.config.diff.sites import DiffEdits, lines, only

DNSP_OSCP = "token_env: DNSP_OSCP_TOKEN"


def test_a_meter_added_removed_and_moved(edit_diff: DiffEdits) -> None:
    diff = edit_diff(
        (
            "{id: m-main, node: gc-main, measures: total}",
            "{id: m-main, node: db-1, measures: import}",
        ),
        (
            "    - {id: m-office, node: office}\n",
            "    - {id: m-bay, node: bay-a, measures: per_phase}\n",
        ),
        base="depot",
    )
    assert lines(diff) == [
        "~ meter m-main node gc-main → db-1",
        "~ meter m-main measures total → import",
        "+ meter m-bay added on bay-a (measures per_phase)",
        "- meter m-office removed (was on office)",
    ]
    assert {(c.kind, c.section) for c in diff.changes} == {(Kind.METER, Section.TOPOLOGY)}


def test_envelope_source_timing_and_fallback(edit_diff: DiffEdits) -> None:
    diff = edit_diff(
        ("heartbeat_interval: 60 s", "heartbeat_interval: 1 min"),
        ("offline_after: 5 min", "offline_after: 2 min"),
        ("fallback: {import: 200 kW}", "fallback: {import: 150 kW, current: 200 A}"),
        base="depot",
    )
    assert lines(diff) == [
        "~ envelope source dnsp offline after 5 min → 2 min (−60 %)",
        "~ envelope source dnsp fallback import 200 kW → 150 kW (−25 %)",
        "+ envelope source dnsp fallback current 200 A added",
    ]
    first = diff.changes[0]
    assert (first.kind, first.section, first.id, first.path) == (
        Kind.ENVELOPE_SOURCE,
        Section.ENVELOPE_SOURCES,
        "dnsp",
        "spec.envelope_sources[dnsp].offline_after",
    )


def test_an_envelope_source_added_and_removed(edit_diff: DiffEdits) -> None:
    local = (
        "    - id: site-ems\n      protocol: local\n      heartbeat_interval: 30 s\n"
        "      offline_after: 2 min\n      fallback: {import: 100 kW}\n"
    )
    diff = edit_diff(("  tariff:", local + "  tariff:"), base="depot")
    assert lines(diff) == [
        "+ envelope source site-ems added "
        "(local, heartbeat 30 s, offline after 2 min, fallback import 100 kW)"
    ]
    removed = edit_diff(
        ("    - id: dnsp\n      protocol: oscp", "    - id: dnsp-2\n      protocol: oscp"),
        base="depot",
    )
    assert lines(removed)[-1] == "- envelope source dnsp removed (was oscp)"
    assert removed.changes[-1].action is Action.REMOVE


def test_a_token_is_compared_by_reference_and_never_shown(edit_diff: DiffEdits) -> None:
    renamed = only(edit_diff((DNSP_OSCP, "token_env: DNSP_TOKEN"), base="depot"))
    assert renamed.message == (
        "envelope source dnsp token reference changed (token_env DNSP_OSCP_TOKEN → DNSP_TOKEN)"
    )
    inline = edit_diff((DNSP_OSCP, "token: tok-9f8e7d"), base="depot")
    assert lines(inline) == [
        "~ envelope source dnsp token reference changed (token_env DNSP_OSCP_TOKEN → inline token)"
    ]
    assert "tok-9f8e7d" not in render_text(inline, "a", "b") + render_json(inline, "a", "b")
