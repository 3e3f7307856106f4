"""Text from a controller, escaped for a terminal: every control character, separator
and bidi control printed as Python writes it, nothing else changed."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from depotctl.client.terminal_text import (
    UNSAFE,
    escaped,
    escaped_answer,
    escaped_lines,
    terminal_json,
)

HOSTILE = "mallory\x1b[2J\x1b]0;owned\x07\r\nEVSE dc-01/1 resumed by alice\u202etxt.exe\x9b31m"


@pytest.mark.parametrize(
    ("text", "shown"),
    [
        ("\x1b[31mred\x1b[0m", "\\x1b[31mred\\x1b[0m"),
        ("a\rb\nc\td", "a\\rb\\nc\\td"),
        ("bell\x07 nul\x00 del\x7f", "bell\\x07 nul\\x00 del\\x7f"),
        ("csi\x9b c1\x85", "csi\\x9b c1\\x85"),
        ("rlo\u202e lri\u2066 lrm\u200e sep\u2028", "rlo\\u202e lri\\u2066 lrm\\u200e sep\\u2028"),
        ("café ☕ Zürich 東京 — ok", "café ☕ Zürich 東京 — ok"),
    ],
)
def test_unsafe_characters_are_escaped_and_nothing_else(text: str, shown: str) -> None:
    assert escaped(text) == shown


def test_a_hostile_author_becomes_one_harmless_line() -> None:
    shown = escaped(HOSTILE)
    assert UNSAFE.search(shown) is None
    assert "\n" not in shown and "\r" not in shown
    assert shown.startswith("mallory\\x1b[2J\\x1b]0;owned\\x07\\r\\nEVSE")


def test_escaped_lines_keeps_only_the_line_breaks() -> None:
    assert escaped_lines("one\x1b[1m\ntwo\r") == "one\\x1b[1m\ntwo\\r"


def _strings(value: object) -> list[str]:
    """Every string in JSON data, keys included."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, list):
        return [s for item in value for s in _strings(item)]
    if isinstance(value, dict):
        return [s for k, v in value.items() for s in [str(k), *_strings(v)]]
    return []


def test_an_answer_is_escaped_in_every_string_keys_included() -> None:
    answer = {"overrides": [{"author": HOSTILE, "cap_a": 16.0, "paused": True}], "k\x1b": None}
    shown = escaped_answer(answer)
    assert all(UNSAFE.search(text) is None for text in _strings(shown))
    assert shown["overrides"][0]["cap_a"] == 16.0 and shown["overrides"][0]["paused"] is True
    assert "k\\x1b" in shown
    assert answer["overrides"][0]["author"] == HOSTILE  # the caller's data is untouched


def test_a_clean_answer_is_returned_as_it_is() -> None:
    answer = {"evses": [{"id": "dc-01/1", "reason": 'a "quoted" back\\slash, café'}]}
    assert escaped_answer(answer) is answer


@given(st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(),
    lambda children: st.lists(children, max_size=4)
    | st.dictionaries(st.text(max_size=8), children, max_size=4),
    max_leaves=20,
))  # fmt: skip
def test_no_unsafe_character_survives_in_any_answer(answer: object) -> None:
    assert all(UNSAFE.search(text) is None for text in _strings(escaped_answer(answer)))


@given(st.dictionaries(st.text(max_size=8), st.text(), max_size=5))
def test_terminal_json_is_the_same_data_with_nothing_raw(payload: dict[str, str]) -> None:
    text = terminal_json(payload)
    assert json.loads(text) == payload
    assert UNSAFE.search(text.replace("\n", "")) is None
