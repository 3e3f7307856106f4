"""The planner's settings: defaults are clean; a horizon or block outside what the
planner can plan is named at its value."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.config.checks.validating import diagnostics, only


def test_a_site_without_planner_settings_is_clean(tmp_path: Path, minimal_site_text: str) -> None:
    assert diagnostics(tmp_path, minimal_site_text) == []


#: settings → what is wrong with them
HORIZONS = {
    "{horizon: 30 min}": "planner horizon 30 min is outside 1 h to 48 h",
    "{horizon: 49 h}": "planner horizon 49 h is outside 1 h to 48 h",
    "{horizon: 90 min, block: 60 min}": "planner horizon 90 min is not a whole number of "
    "60 min blocks",
}
BLOCKS = {
    "{block: 45 s}": "planner block 45 s does not divide an hour in minutes",
    "{block: 2 h}": "planner block 2 h does not divide an hour in minutes",
}
CASES = [("planner/horizon", *case) for case in HORIZONS.items()] + [
    ("planner/block", *case) for case in BLOCKS.items()
]


@pytest.mark.parametrize(("rule", "settings", "message"), CASES)
def test_a_setting_outside_what_the_planner_plans_is_named(
    tmp_path: Path, minimal_site_text: str, rule: str, settings: str, message: str
) -> None:
    text = minimal_site_text + f"  planner: {settings}\n"
    found = only(diagnostics(tmp_path, text), rule)
    assert found.message == message
    assert found.span is not None and found.span.line == len(text.splitlines())


@pytest.mark.parametrize(
    "settings", ["{horizon: 1 h, block: 60 min}", "{horizon: 48 h, block: 5 min}"]
)
def test_the_bounds_themselves_are_clean(
    tmp_path: Path, minimal_site_text: str, settings: str
) -> None:
    assert diagnostics(tmp_path, minimal_site_text + f"  planner: {settings}\n") == []


def test_replan_must_be_a_positive_duration(tmp_path: Path, minimal_site_text: str) -> None:
    text = minimal_site_text + "  planner: {replan: 0 min}\n"
    assert only(diagnostics(tmp_path, text), "quantity/not-positive")
