"""A YAML syntax error is reported where the mistake is, with what to do: each case
breaks one line of examples/minimal.yaml and expects validate's diagnostic there."""

from __future__ import annotations

from pathlib import Path

import pytest

from depotctl.config import load_text
from tests.conftest import EXAMPLES

LINES = (EXAMPLES / "minimal.yaml").read_text().split("\n")
assert LINES[12] == "      limits: {import: 100 kW, current: 160 A}"  # line 13


def broken(*edits: tuple[int, str]) -> str:
    """minimal.yaml with each 1-based line replaced."""
    lines = list(LINES)
    for number, text in edits:
        lines[number - 1] = text
    return "\n".join(lines)


CASES = {
    # the case: a "}" missing at the end of a line was reported on the next
    "missing }": (
        broken((13, "      limits: {import: 100 kW, current: 160 A")),
        (13, 46),
        'the flow mapping "{" opened at 13:15 is still open at the end of line 13',
        'close the "{" of 13:15 with "}" here',
    ),
    "missing } before a comment": (
        broken((13, "      limits: {import: 100 kW, current: 160 A   # the main breaker")),
        (13, 46),
        "still open at the end of line 13",
        'with "}" here',
    ),
    "missing ]": (
        broken((25, "      evses: [{id: 1, connectors: [{id: 1, type: Type2}]}")),
        (25, 58),
        'the flow list "[" opened at 25:14 is still open at the end of line 25',
        'close the "[" of 25:14 with "]" here',
    ),
    "missing } of a mapping over two lines": (
        broken((9, "  electrical: {voltage: 230 V,\n    phases: 3")),
        (10, 14),
        'the flow mapping "{" opened at 9:15 is still open at the end of line 10',
        'end this line with "," if the mapping goes on',
    ),
    "missing , inside one line": (
        broken((21, "      ocpp: {id: CP-01, protocol: ocpp1.6 password_env: CP01_PASSWORD}")),
        (21, 55),
        "expected ',' or '}', but got ':'",
        'separate the entries of the "{" opened at 21:13 with ","',
    ),
    "a key indented too far": (
        broken((15, "       type: circuit")),
        (15, 8),
        "this line is indented more than the key above it, so it reads as the value of "
        "line 14 going on",
        "indent this key like the other keys of its mapping",
    ),
    "a key not indented enough": (
        broken((15, "     type: circuit")),
        (15, 6),
        "expected <block end>",
        "line this up with the other keys or list items of its mapping",
    ),
    "a tab": (
        broken((15, "\ttype: circuit")),
        (15, 1),
        "a tab character here: YAML indents with spaces, never tabs",
        "replace the tab with spaces",
    ),
    "an unclosed quote": (
        broken((7, '  timezone: "Australia/Sydney')),
        (7, 13),
        'the quoted value opened here with " is never closed (the file ends first)',
        'close it with " where the value ends',
    ),
    "an unclosed quote closed by a later one": (
        broken((7, "  timezone: 'Australia/Sydney"), (16, "      parent: 'gc-main'")),
        (7, 13),
        "the quoted value opened here with ' runs on to line 16, where the parser stopped",
        "is its closing ' missing?",
    ),
}


@pytest.mark.parametrize("case", CASES)
def test_a_syntax_error_is_reported_at_the_mistake_with_a_hint(case: str) -> None:
    text, (line, column), message, hint = CASES[case]
    loaded = load_text(text, Path("site.yaml"))
    [diagnostic] = loaded.report.diagnostics
    assert diagnostic.rule == "yaml/syntax"
    assert diagnostic.span is not None
    assert (diagnostic.span.line, diagnostic.span.column) == (line, column), diagnostic.message
    assert message in diagnostic.message
    assert diagnostic.hint is not None and hint in diagnostic.hint


def test_the_file_as_it_is_parses() -> None:
    assert not load_text("\n".join(LINES), Path("site.yaml")).report.diagnostics


def test_a_list_open_when_the_file_ends_is_reported_where_it_was_left_open() -> None:
    loaded = load_text("apiVersion: depotctl/v1\nkind: Site\nspec: {nodes: [\n\n", Path("s.yaml"))
    [diagnostic] = loaded.report.diagnostics
    assert diagnostic.span is not None
    assert (diagnostic.span.line, diagnostic.span.column) == (3, 16)
    assert 'the flow list "[" opened at 3:15 is still open at the end of line 3' in (
        diagnostic.message
    )
