"""The YAML reader keeps every key's and value's span, and catches duplicate keys."""

from __future__ import annotations

import pytest

from depotctl.config.diagnostics import Span
from depotctl.config.source import MAX_DEPTH, YamlSyntaxError, parse_documents

TEXT = """\
spec:
  nodes:
    - id: gc-main
      limits: {import: 400 kW}
    - id: db-1
"""


def test_values_and_keys_keep_their_one_based_spans() -> None:
    [document] = parse_documents(TEXT)
    source = document.source
    assert source.values[("spec", "nodes", 0, "limits", "import")] == Span(4, 24, 4, 30)
    assert source.keys[("spec", "nodes", 1, "id")] == Span(5, 7, 5, 9)
    assert source.values[("spec", "nodes", 1, "id")] == Span(5, 11, 5, 15)


def test_a_missing_path_falls_back_to_its_nearest_ancestor() -> None:
    [document] = parse_documents(TEXT)
    parent = document.source.values[("spec", "nodes", 1)]
    assert document.source.span(("spec", "nodes", 1, "parent")) == parent


def test_scalars_resolve_as_yaml_1_2() -> None:
    [document] = parse_documents('a: 15:00\nb: 0x1f\nc: yes\nd: true\ne: ~\nf: 1_000\ng: "6"\n')
    assert document.data == {
        "a": "15:00",
        "b": 31,
        "c": "yes",
        "d": True,
        "e": None,
        "f": 1000,
        "g": "6",
    }


def test_duplicate_keys_are_findings_at_the_second_key() -> None:
    [document] = parse_documents("a: 1\nb: 2\na: 3\n")
    [finding] = document.findings
    assert finding.rule.id == "yaml/duplicate-key"
    assert document.source.span(finding.path, at_key=True) == Span(3, 1, 3, 2)
    assert "first at line 1" in finding.message


def test_syntax_errors_carry_their_position() -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        list(parse_documents("a:\n  - 1\n - 2\n"))
    assert caught.value.span.line == 3


def test_a_colon_inside_a_flow_scalar_is_yaml_1_2() -> None:
    text = "oscp: {base_url: https://derms.example/oscp/cp/2.0, group_id: GRP-4711}\nw: {from: 15:00}\n"
    [document] = parse_documents(text)
    assert document.data["oscp"]["base_url"] == "https://derms.example/oscp/cp/2.0"
    assert document.data["w"] == {"from": "15:00"}
    assert document.source.span(("oscp", "group_id")).line == 1


def test_a_control_character_is_a_syntax_error_at_its_position() -> None:
    with pytest.raises(YamlSyntaxError) as caught:
        list(parse_documents("a: 1\nb: x\x07y\n"))
    assert caught.value.span.line == 2


def test_nesting_beyond_the_limit_is_a_syntax_error_at_the_bracket() -> None:
    """Composing costs grow with the square of the depth: a hostile file is refused at
    the first bracket past the limit, not composed for minutes."""
    at_limit = "a: " + "[" * (MAX_DEPTH - 1) + "]" * (MAX_DEPTH - 1) + "\n"  # and the mapping
    assert list(parse_documents(at_limit))
    text = "a: " + "[" * 20_000 + "]" * 20_000 + "\n"
    with pytest.raises(YamlSyntaxError) as raised:
        list(parse_documents(text))
    assert f"nested more than {MAX_DEPTH} deep" in raised.value.message
    # the root mapping and 99 lists are open: the 100th "[" (column 3 + 100) is refused
    assert (raised.value.span.line, raised.value.span.column) == (1, 3 + MAX_DEPTH)
