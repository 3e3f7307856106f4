"""Every rule has a broken example that triggers exactly it, where it says, and a
fixed twin that is clean."""

from __future__ import annotations

import pytest

from depotctl.config.rules import all_rules
from depotctl.config.validate import validate_file
from tests.examples import Example, invalid_examples

EXAMPLES = invalid_examples()

#: Rules whose trigger cannot be a committed file; tests/config/test_files.py covers them.
COVERED_ELSEWHERE = {"io/too-large", "io/not-found", "io/no-site-files", "io/unreadable"}


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.rule for e in EXAMPLES])
def test_broken_example_reports_its_rule_at_its_position(example: Example) -> None:
    assert example.expected, f"{example.path} has no '# expect: RULE LINE:COL' line"
    assert any(rule == example.rule for rule, _, _ in example.expected)
    report = validate_file(example.path)
    found = {(d.rule, d.span.line, d.span.column) for d in report.diagnostics if d.span}
    found |= {(d.rule, 0, 0) for d in report.diagnostics if d.span is None}
    assert found == example.expected


@pytest.mark.parametrize("example", EXAMPLES, ids=[e.rule for e in EXAMPLES])
def test_fixed_example_is_clean(example: Example) -> None:
    if example.rule.startswith("io/"):
        pytest.skip("file-level problems have no fixed twin")
    assert example.fixed.exists(), f"add the fixed twin {example.fixed}"
    report = validate_file(example.fixed)
    assert report.diagnostics == []


def test_every_rule_has_a_broken_example() -> None:
    covered = {e.rule for e in EXAMPLES} | COVERED_ELSEWHERE
    missing = sorted(r.id for r in all_rules() if r.id not in covered)
    assert missing == []
