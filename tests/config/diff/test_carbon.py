"""Carbon factors: a constant's value, a file's path, a change of form."""

from __future__ import annotations

from depotctl.config.diff import Action, Kind, Section
from tests.config.diff.sites import DiffEdits, lines, only

CONSTANT = "carbon: {constant: 0.66 kg/kWh}"


def test_a_constant_changed(edit_diff: DiffEdits) -> None:
    change = only(edit_diff((CONSTANT, "carbon: {constant: 0.7 kg/kWh}"), base="depot"))
    assert change.message == "carbon constant 0.66 kg/kWh → 0.7 kg/kWh (+6.1 %)"
    assert (change.kind, change.section, change.path) == (
        Kind.CARBON,
        Section.CARBON,
        "spec.carbon.constant",
    )


def test_the_same_constant_in_grams_is_no_change(edit_diff: DiffEdits) -> None:
    diff = edit_diff((CONSTANT, "carbon: {constant: 660 g/kWh}"), base="depot")
    assert diff.is_empty, lines(diff)


def test_a_change_of_form_names_both_sources(edit_diff: DiffEdits) -> None:
    change = only(edit_diff((CONSTANT, "carbon: {series: carbon/nsw-marginal.csv}"), base="depot"))
    assert change.message == "carbon source constant 0.66 kg/kWh → series carbon/nsw-marginal.csv"


def test_a_series_file_changed(edit_diff: DiffEdits) -> None:
    diff = edit_diff(
        (CONSTANT, "carbon: {series: carbon/nsw-2026.csv}"),
        base="depot",
        old=[(CONSTANT, "carbon: {series: carbon/nsw-2025.csv}")],
    )
    assert lines(diff) == ["~ carbon series carbon/nsw-2025.csv → carbon/nsw-2026.csv"]


def test_an_inline_profile_names_the_hours_that_changed(edit_diff: DiffEdits) -> None:
    hours = ["0.5 kg/kWh"] * 24
    evening = [*hours[:18], "0.8 kg/kWh", "0.8 kg/kWh", *hours[20:]]
    diff = edit_diff(
        (CONSTANT, f"carbon: {{profile: [{', '.join(evening)}]}}"),
        base="depot",
        old=[(CONSTANT, f"carbon: {{profile: [{', '.join(hours)}]}}")],
    )
    assert lines(diff) == ["~ carbon daily profile changed (hours 18, 19)"]


def test_carbon_added_and_removed(edit_diff: DiffEdits) -> None:
    removed = only(edit_diff((f"  {CONSTANT}\n", ""), base="depot"))
    assert (removed.action, removed.message) == (
        Action.REMOVE,
        "carbon source removed (constant 0.66 kg/kWh)",
    )
    added = only(edit_diff(base="depot", old=[(f"  {CONSTANT}\n", "")]))
    assert (added.action, added.new) == (Action.ADD, "constant 0.66 kg/kWh")


def test_a_carbon_price_added_and_changed(edit_diff: DiffEdits) -> None:
    priced = "carbon: {constant: 0.66 kg/kWh, price: 85 AUD/t}"
    added = only(edit_diff((CONSTANT, priced), base="depot"))
    assert (added.action, added.message) == (Action.ADD, "carbon price 85 AUD/t added")
    assert added.path == "spec.carbon.price"
    changed = edit_diff(
        (CONSTANT, "carbon: {constant: 0.66 kg/kWh, price: 0.1 AUD/kg}"),
        old=[(CONSTANT, priced)],
        base="depot",
    )
    assert lines(changed) == ["~ carbon price 85 AUD/t → 100 AUD/t"]
