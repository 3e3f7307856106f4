"""Text for people (terraform-style, colour only when asked) and JSON for tools."""

from __future__ import annotations

import json

from depotctl.config.diff import SiteDiff, render_json, render_text, to_json
from tests.config.diff.sites import DiffEdits

LOWER_DB1 = ("limits: {current: 250 A}", "limits: {current: 200 A}")
HALVE_FALLBACK = ("fallback: 32 A", "fallback: 16 A")
DROP_EVSE = ("evses: [{id: 1, external_id: CA-305}]", "evses: [{id: 2}]")


def sample(edit_diff: DiffEdits) -> SiteDiff:
    return edit_diff(LOWER_DB1, HALVE_FALLBACK, DROP_EVSE, base="depot")


def test_text_has_a_header_sections_and_a_terraform_summary(edit_diff: DiffEdits) -> None:
    text = render_text(sample(edit_diff), "base/depot.yaml", "head/depot.yaml")
    assert text == (
        "Site depot-north\n"
        "  old: base/depot.yaml\n"
        "  new: head/depot.yaml\n"
        "\n"
        "Limits\n"
        "  ~ circuit db-1 current limit 250 A → 200 A (−20 %), 2 chargers below it\n"
        "\n"
        "Chargers\n"
        "  ~ charger chg-01 fallback 32 A → 16 A (−50 %)\n"
        "  + EVSE chg-07/2 added\n"
        "  - EVSE chg-07/1 removed\n"
        "\n"
        "Diff: 1 to add, 2 to change, 1 to destroy.\n"
    )


def test_no_changes_says_so(edit_diff: DiffEdits) -> None:
    text = render_text(edit_diff(base="depot"), "a.yaml", "b.yaml")
    assert text.endswith("\nNo changes. The sites are semantically equal.\n")
    assert "Topology" not in text


def test_a_renamed_site_shows_both_names(edit_diff: DiffEdits) -> None:
    text = render_text(edit_diff(("name: minimal-depot", "name: depot-east")), "a", "b")
    assert text.startswith("Site minimal-depot → depot-east\n")


def test_colour_only_when_asked(edit_diff: DiffEdits) -> None:
    diff = sample(edit_diff)
    assert "\x1b[" not in render_text(diff, "a", "b")
    coloured = render_text(diff, "a", "b", color=True)
    assert "\x1b[32m" in coloured and "\x1b[31m" in coloured and "\x1b[33m" in coloured


def test_json_shape(edit_diff: DiffEdits) -> None:
    document = json.loads(render_json(sample(edit_diff), "base/depot.yaml", "head/depot.yaml"))
    assert document["version"] == 1
    assert (document["old"], document["new"]) == ("base/depot.yaml", "head/depot.yaml")
    assert document["summary"] == {"add": 1, "change": 2, "remove": 1}
    assert document["changes"][1] == {
        "action": "change",
        "kind": "limit",
        "section": "Chargers",
        "id": "chg-01",
        "path": "spec.nodes[chg-01].fallback",
        "field": "fallback",
        "old": "32 A",
        "new": "16 A",
        "change_pct": -50.0,
        "message": "charger chg-01 fallback 32 A → 16 A (−50 %)",
        "affected_chargers": None,
    }
    assert document["changes"][0]["affected_chargers"] == 2
    assert document == to_json(sample(edit_diff), "base/depot.yaml", "head/depot.yaml")
