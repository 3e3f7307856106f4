"""Chargers: ratings and fallback, OCPP identity and credentials (never a secret),
EVSEs and connectors."""

from __future__ import annotations

import json

from depotctl.config.diff import Action, Kind, Section, render_json, render_text
from tests.config.diff.sites import DiffEdits, lines, only

CP01_OCPP = "ocpp: {id: CP-01, protocol: ocpp1.6, password_env: CP01_PASSWORD}"


def test_a_fallback_halved(edit_diff: DiffEdits) -> None:
    change = only(edit_diff(("fallback: 32 A", "fallback: 16 A"), base="depot"))
    assert change.message == "charger chg-01 fallback 32 A → 16 A (−50 %)"
    assert (change.kind, change.section, change.path) == (
        Kind.LIMIT,
        Section.CHARGERS,
        "spec.nodes[chg-01].fallback",
    )
    assert (change.old, change.new, change.change_pct) == ("32 A", "16 A", -50.0)
    assert change.affected_chargers is None


def test_a_fallback_from_current_to_power_has_no_percentage(edit_diff: DiffEdits) -> None:
    change = only(edit_diff(("fallback: 32 A", "fallback: 7 kW"), base="depot"))
    assert change.message == "charger chg-01 fallback 32 A → 7 kW"
    assert change.change_pct is None


def test_rating_minimum_current_phases_and_rotation(edit_diff: DiffEdits) -> None:
    diff = edit_diff(
        ("rating: {power: 150 kW, current: 200 A}", "rating: {power: 120 kW, current: 200 A}"),
        ("      fallback: 32 A\n", "      fallback: 32 A\n      min_current: 10 A\n"),
        ("phases: 1\n      phase_rotation: L2", "phases: 1\n      phase_rotation: L3"),
        base="depot",
    )
    assert lines(diff) == [
        "~ charger chg-01 rated power 150 kW → 120 kW (−20 %)",
        "+ charger chg-01 minimum current 10 A added",
        "~ charger chg-07 phase rotation L2 → L3",
    ]
    assert {c.section for c in diff.changes} == {Section.CHARGERS}


def test_ocpp_identity_and_protocol(edit_diff: DiffEdits) -> None:
    diff = edit_diff(
        (CP01_OCPP, "ocpp: {id: CP-11, protocol: ocpp2.0.1, password_env: CP01_PASSWORD}")
    )
    assert lines(diff) == [
        "~ charger chg-01 OCPP identity CP-01 → CP-11",
        "~ charger chg-01 OCPP protocol ocpp1.6 → ocpp2.0.1",
    ]


def test_a_credentials_reference_change_names_the_variables(edit_diff: DiffEdits) -> None:
    change = only(edit_diff(("password_env: CP01_PASSWORD", "password_env: CP01_PW")))
    assert change.message == (
        "charger chg-01 credentials reference changed (password_env CP01_PASSWORD → CP01_PW)"
    )
    assert (change.old, change.new) == ("password_env CP01_PASSWORD", "password_env CP01_PW")
    assert change.path == "spec.nodes[chg-01].ocpp.credentials"


def test_a_credentials_reference_from_a_variable_to_a_file(edit_diff: DiffEdits) -> None:
    change = only(edit_diff(("password_env: CP01_PASSWORD", "password_file: /run/secrets/cp01")))
    assert change.message == (
        "charger chg-01 credentials reference changed "
        "(password_env CP01_PASSWORD → password_file /run/secrets/cp01)"
    )


def test_an_inline_password_is_never_printed(edit_diff: DiffEdits) -> None:
    diff = edit_diff(("password_env: CP01_PASSWORD", "password: s3cr3t-new"))
    change = only(diff)
    assert change.message == (
        "charger chg-01 credentials reference changed (password_env CP01_PASSWORD → inline password)"
    )
    assert "s3cr3t" not in render_text(diff, "a", "b") + render_json(diff, "a", "b")


def test_a_changed_inline_password_is_said_to_change_without_either_value(
    edit_diff: DiffEdits,
) -> None:
    diff = edit_diff(
        ("password_env: CP01_PASSWORD", "password: hunter2-new"),
        old=[("password_env: CP01_PASSWORD", "password: hunter2-old")],
    )
    change = only(diff)
    assert change.message == "charger chg-01 inline password changed (value not shown)"
    assert (change.old, change.new) == ("inline password", "inline password")
    assert "hunter2" not in render_text(diff, "a", "b") + render_json(diff, "a", "b")


def test_an_evse_added_and_one_removed(edit_diff: DiffEdits) -> None:
    diff = edit_diff(
        (
            "connectors: [{id: 1, type: CCS2}]",
            "connectors: [{id: 1, type: CCS2}]\n        - id: 2\n          connectors: [{id: 1, type: CHAdeMO}]",
        ),
        ("evses: [{id: 1, external_id: CA-305}]", "evses: [{id: 2, external_id: CA-305}]"),
        base="depot",
    )
    assert lines(diff) == [
        "+ EVSE chg-01/2 added (connector 1 CHAdeMO)",
        "+ EVSE chg-07/2 added (external id CA-305)",
        "- EVSE chg-07/1 removed",
    ]
    added = diff.changes[0]
    assert (added.kind, added.id, added.path) == (
        Kind.EVSE,
        "chg-01/2",
        "spec.nodes[chg-01].evses[2]",
    )


def test_an_external_id_change(edit_diff: DiffEdits) -> None:
    change = only(edit_diff(("external_id: CA-305", "external_id: CA-306"), base="depot"))
    assert change.message == "EVSE chg-07/1 external id CA-305 → CA-306"
    assert (change.kind, change.id, change.field) == (Kind.EVSE, "chg-07/1", "external_id")


def test_connectors_added_removed_and_retyped(edit_diff: DiffEdits) -> None:
    diff = edit_diff(
        (
            "connectors: [{id: 1, type: CCS2}]",
            "connectors: [{id: 1, type: CCS1}, {id: 2, type: NACS}]",
        ),
        base="depot",
    )
    assert lines(diff) == [
        "~ EVSE chg-01/1 connector 1 type CCS2 → CCS1",
        "+ EVSE chg-01/1 connector 2 NACS added",
    ]
    removed = edit_diff(("connectors: [{id: 1, type: CCS2}]", "connectors: []"), base="depot")
    change = only(removed)
    assert change.message == "EVSE chg-01/1 connector 1 CCS2 removed"
    assert (change.action, change.kind, change.id) == (Action.REMOVE, Kind.CONNECTOR, "chg-01/1/1")


def test_a_secret_stays_out_of_the_json_of_an_added_charger(edit_diff: DiffEdits) -> None:
    charger = (
        "    - id: chg-09\n      type: charger\n      parent: db-1\n"
        "      ocpp: {id: CP-09, protocol: ocpp1.6, password: p4ssw0rd}\n"
        "      rating: {current: 32 A}\n      fallback: 16 A\n      evses: [{id: 1}]\n"
    )
    diff = edit_diff(("    - id: chg-02\n", charger + "    - id: chg-02\n"))
    assert len(diff.changes) == 1
    assert "p4ssw0rd" not in json.dumps(json.loads(render_json(diff, "a", "b")))
