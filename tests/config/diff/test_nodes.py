"""The electrical tree: nodes added, removed, moved, retyped; limits with units,
percentages and the chargers below."""

from __future__ import annotations

from depotctl.config.diff import Action, Kind, Section
from tests.config.diff.sites import DiffEdits, lines, only

CHG_02 = """    - id: chg-02
      type: charger
      parent: db-1
      ocpp: {id: CP-02, protocol: ocpp2.0.1, password_file: /etc/depotctl/cp02.secret}
      rating: {power: 22 kW, current: 32 A}
      phases: 3
      fallback: 16 A
      evses: [{id: 1, connectors: [{id: 1, type: Type2}]}]"""


def test_a_lowered_limit_says_by_how_much_and_how_many_chargers_are_below(
    edit_diff: DiffEdits,
) -> None:
    change = only(edit_diff(("limits: {current: 100 A}", "limits: {current: 80 A}")))
    assert change.message == "circuit db-1 current limit 100 A → 80 A (−20 %), 2 chargers below it"
    assert (change.action, change.kind, change.section) == (
        Action.CHANGE,
        Kind.LIMIT,
        Section.LIMITS,
    )
    assert change.path == "spec.nodes[db-1].limits.current"
    assert (change.id, change.field, change.old, change.new) == (
        "db-1",
        "limits.current",
        "100 A",
        "80 A",
    )
    assert change.change_pct == -20.0
    assert change.affected_chargers == 2


def test_chargers_below_are_counted_through_groups_in_the_new_site(edit_diff: DiffEdits) -> None:
    diff = edit_diff(("limits: {current: 250 A}", "limits: {current: 200 A}"), base="depot")
    assert lines(diff) == [
        "~ circuit db-1 current limit 250 A → 200 A (−20 %), 2 chargers below it"
    ]
    moved_away = edit_diff(
        ("limits: {current: 250 A}", "limits: {current: 200 A}"),
        (
            "      parent: bay-a\n      ocpp: {id: CP-07",
            "      parent: gc-main\n      ocpp: {id: CP-07",
        ),
        base="depot",
    )
    limit = next(c for c in moved_away.changes if c.kind is Kind.LIMIT)
    assert limit.affected_chargers == 1


def test_the_same_quantity_in_other_units_is_no_change(edit_diff: DiffEdits) -> None:
    diff = edit_diff(
        ("import: 100 kW, current: 160 A", "import: 0.1 MW, current: 160000 mA"),
        ("voltage: 230 V", "voltage: 0.23 kV"),
        ("fallback: 16 A", "fallback: 16A"),
        ("power: 22 kW", "power: 22000 W"),
    )
    assert diff.is_empty, lines(diff)


def test_node_order_comments_and_layout_are_no_change(edit_diff: DiffEdits) -> None:
    moved_first = CHG_02 + "\n"
    diff = edit_diff(
        (CHG_02, ""),
        ("  nodes:\n", "  nodes:\n" + moved_first),
        ("# The smallest useful site", "# A comment that says something else entirely"),
        (
            "limits: {import: 100 kW, current: 160 A}",
            "limits:   # reflowed, keys swapped\n        current: 160 A\n        import: 100 kW",
        ),
    )
    assert diff.is_empty, lines(diff)


def test_a_node_added_says_its_type_parent_and_limits(edit_diff: DiffEdits) -> None:
    board = "    - id: db-2\n      type: circuit\n      parent: gc-main\n      limits: {current: 63 A}\n"
    change = only(edit_diff(("    - id: chg-01\n", board + "    - id: chg-01\n")))
    assert change.message == "circuit db-2 added under gc-main (current limit 63 A)"
    assert (change.action, change.kind, change.section) == (Action.ADD, Kind.NODE, Section.TOPOLOGY)
    assert (change.path, change.new) == ("spec.nodes[db-2]", "circuit")


def test_a_charger_added_says_its_rating_fallback_and_evses(edit_diff: DiffEdits) -> None:
    new_charger = CHG_02.replace("chg-02", "chg-03").replace("CP-02", "CP-03")
    change = only(edit_diff((CHG_02, CHG_02 + "\n" + new_charger)))
    assert change.message == (
        "charger chg-03 added under db-1 "
        "(rated 22 kW, 32 A, fallback 16 A, 1 EVSE, OCPP CP-03 (ocpp2.0.1))"
    )


def test_a_node_removed_says_where_it_was(edit_diff: DiffEdits) -> None:
    change = only(edit_diff((CHG_02, "")))
    assert change.message == "charger chg-02 removed (was under db-1)"
    assert (change.action, change.old, change.new) == (Action.REMOVE, "charger", None)


def test_a_node_moved_to_another_parent(edit_diff: DiffEdits) -> None:
    diff = edit_diff(
        (
            "      parent: bay-a\n      ocpp: {id: CP-07",
            "      parent: bay-b\n      ocpp: {id: CP-07",
        ),
        base="depot",
    )
    change = only(diff)
    assert change.message == "charger chg-07 moved from bay-a to bay-b"
    assert (change.action, change.field, change.old, change.new) == (
        Action.MOVE,
        "parent",
        "bay-a",
        "bay-b",
    )
    assert diff.to_change == 1


def test_a_group_moved_says_how_many_chargers_move_with_it(edit_diff: DiffEdits) -> None:
    diff = edit_diff(
        (
            "    - id: bay-a\n      type: charger_group\n      parent: db-1",
            "    - id: bay-a\n      type: charger_group\n      parent: gc-main",
        ),
        base="depot",
    )
    assert lines(diff) == ["~ charger group bay-a moved from db-1 to gc-main, 2 chargers with it"]


def test_a_node_type_change(edit_diff: DiffEdits) -> None:
    change = only(edit_diff(("      type: circuit\n", "      type: charger_group\n")))
    assert change.message == "node db-1 type circuit → charger group"
    assert change.path == "spec.nodes[db-1].type"


def test_a_limit_added_and_one_removed(edit_diff: DiffEdits) -> None:
    diff = edit_diff(
        ("limits: {import: 100 kW, current: 160 A}", "limits: {current: 160 A, export: 30 kW}")
    )
    assert lines(diff) == [
        "- grid connection gc-main import limit 100 kW removed, 2 chargers below it",
        "+ grid connection gc-main export limit 30 kW added, 2 chargers below it",
    ]
    assert diff.to_add == 1 and diff.to_remove == 1


def test_a_transformer_rating_is_a_limit(edit_diff: DiffEdits) -> None:
    transformer = (
        "    - id: xfmr-1\n      type: transformer\n      parent: gc-main\n"
        "      rating: 150 kVA\n      primary: 480 V\n      secondary: 208 V\n"
    )
    diff = edit_diff(
        ("    - id: db-1\n", transformer + "    - id: db-1\n"),
        (
            "      parent: gc-main\n      limits: {current: 100 A}",
            "      parent: xfmr-1\n      limits: {current: 100 A}",
        ),
    )
    assert (
        "+ transformer xfmr-1 added under gc-main (rating 150 kVA, 2 chargers below it)"
        in lines(diff)
    )
    assert "~ circuit db-1 moved from gc-main to xfmr-1, 2 chargers with it" in lines(diff)


def test_a_transformer_rating_change_counts_the_chargers_it_feeds(edit_diff: DiffEdits) -> None:
    transformer = (
        "    - id: xfmr-1\n      type: transformer\n      parent: gc-main\n"
        "      rating: 150 kVA\n      primary: 480 V\n      secondary: 208 V\n"
    )
    feed = (
        "      parent: gc-main\n      limits: {current: 100 A}",
        "      parent: xfmr-1\n      limits: {current: 100 A}",
    )
    with_transformer = [("    - id: db-1\n", transformer + "    - id: db-1\n"), feed]
    diff = edit_diff(
        *with_transformer, ("rating: 150 kVA", "rating: 0.1 MVA"), old=with_transformer
    )
    change = only(diff)
    assert (
        change.message
        == "transformer xfmr-1 rating 150 kVA → 0.1 MVA (−33.3 %), 2 chargers below it"
    )
    assert (change.kind, change.section, change.path) == (
        Kind.LIMIT,
        Section.LIMITS,
        "spec.nodes[xfmr-1].rating",
    )


def test_node_phases_voltage_envelope_source_and_meter_are_topology(edit_diff: DiffEdits) -> None:
    diff = edit_diff(
        (
            "envelope_source: dnsp\n      meter: m-main",
            "envelope_source: dnsp-2\n      meter: m-grid",
        ),
        (
            "      type: circuit\n      parent: gc-main\n",
            "      type: circuit\n      parent: gc-main\n      voltage: 240 V\n",
        ),
        base="depot",
    )
    assert lines(diff) == [
        "~ grid connection gc-main envelope source dnsp → dnsp-2",
        "~ grid connection gc-main meter m-main → m-grid",
        "+ circuit db-1 voltage 240 V added",
    ]
    assert {c.section for c in diff.changes} == {Section.TOPOLOGY}


def test_a_site_load_fallback_is_a_limit(edit_diff: DiffEdits) -> None:
    change = only(edit_diff(("fallback: 60 kW", "fallback: 80 kW"), base="depot"))
    assert change.message == "site load office fallback 60 kW → 80 kW (+33.3 %)"
    assert (change.kind, change.section, change.change_pct) == (Kind.LIMIT, Section.LIMITS, 33.3)


def test_a_battery_says_what_changed_in_an_engineers_words(edit_diff: DiffEdits) -> None:
    def battery(charge: str, soc_min: str) -> tuple[str, str]:
        """Put a battery before chg-02."""
        return "    - id: chg-02\n", (
            "    - id: bess\n      type: storage\n      parent: gc-main\n"
            f"      capacity: 200 kWh\n      rating: {{power: 100 kW}}\n"
            f"      max_charge: {charge}\n      soc: {{min: {soc_min}, max: 90 %}}\n"
            "    - id: chg-02\n"
        )

    diff = edit_diff(battery("80 kW", "20 %"), old=[battery("100 kW", "10 %")])
    assert sorted(lines(diff)) == [
        "~ storage bess maximum charging power 100 kW → 80 kW (−20 %)",
        "~ storage bess minimum state of charge 10 % → 20 % (+100 %)",
    ]
