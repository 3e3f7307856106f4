"""Where a YAML syntax error is, for the person who fixes it.

ruamel's parser reports where it gave up, which is often not where the mistake is: a
``}`` missing at the end of line 49 is found at ``50:9`` (the next line's ``:``, after
the open mapping swallowed the line break), an unclosed quote at the end of the file.
:func:`located` moves the error back to the mistake and says what to do:

- a flow mapping or list (``{…}``, ``[…]``) still open at the end of a line: the end of
  that line, naming where it was opened;
- a quoted value that is never closed, or that runs on over lines to a later quote: its
  opening quote;
- a line indented more than the key above it (it reads as that key's value going on):
  the line's first character;
- a tab: where it is, saying YAML indents with spaces.

Anything else stays where ruamel put it, with its words.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.tokens import (
    FlowEntryToken,
    FlowMappingEndToken,
    FlowMappingStartToken,
    FlowSequenceEndToken,
    FlowSequenceStartToken,
    ScalarToken,
)

from depotctl.config.rules import YAML_SYNTAX

#: The hint when nothing more specific is known.
DEFAULT_HINT = YAML_SYNTAX.hint


class SyntaxProblem(NamedTuple):
    """A syntax error's message, its 1-based line and column, and what to do."""

    message: str
    line: int
    column: int
    hint: str


def located(error: MarkedYAMLError, text: str) -> SyntaxProblem:
    """Where ``error`` (from parsing ``text``) is, in the terms of the mistake."""
    mark = error.problem_mark or error.context_mark
    problem = error.problem or "invalid YAML"
    context = error.context or ""
    said = f"{problem} {context}".strip()
    if mark is None:
        return SyntaxProblem(said, 1, 1, DEFAULT_HINT)
    line, column = mark.line + 1, mark.column + 1
    opened = error.context_mark
    if "quoted scalar" in context and "end of stream" in problem and opened is not None:
        quote = text[opened.index] if opened.index < len(text) else '"'
        return SyntaxProblem(
            f"the quoted value opened here with {quote} is never closed (the file ends first)",
            opened.line + 1,
            opened.column + 1,
            f"close it with {quote} where the value ends, on this line",
        )
    tokens = _tokens_before(text, mark.index)
    previous: Any = tokens[-1] if tokens else None
    if _is_quoted(previous) and previous.start_mark.line < mark.line:
        start = previous.start_mark
        quote = previous.style
        return SyntaxProblem(
            f"the quoted value opened here with {quote} runs on to line "
            f"{previous.end_mark.line + 1}, where the parser stopped: {said}",
            start.line + 1,
            start.column + 1,
            f"is its closing {quote} missing? Close it where the value ends, on this line",
        )
    opening = _innermost_open(tokens)
    if opening is not None and (context.endswith(_FLOW_CONTEXTS) or "<stream end>" in problem):
        return _open_flow(said, line, column, opening, tokens, text)
    if "'\\t'" in problem:
        return SyntaxProblem(
            "a tab character here: YAML indents with spaces, never tabs",
            line,
            column,
            "replace the tab with spaces (as many as the lines around it use)",
        )
    if (
        problem == "mapping values are not allowed here"
        and _is_plain(previous)
        and previous.start_mark.line < mark.line
    ):
        text_line = text.split("\n")[mark.line]
        return SyntaxProblem(
            f"this line is indented more than the key above it, so it reads as the "
            f"value of line {previous.start_mark.line + 1} going on: {said}",
            line,
            len(text_line) - len(text_line.lstrip(" ")) + 1,
            "indent this key like the other keys of its mapping (the same number of spaces)",
        )
    if problem.startswith("expected <block end>"):
        return SyntaxProblem(
            said,
            line,
            column,
            "line this up with the other keys or list items of its mapping "
            "(the same number of spaces), or indent it under the key it belongs to",
        )
    return SyntaxProblem(said, line, column, DEFAULT_HINT)


_FLOW_CONTEXTS = ("while parsing a flow mapping", "while parsing a flow sequence")


def _innermost_open(tokens: list[Any]) -> Any:
    """The ``{`` or ``[`` token still open after ``tokens``, the innermost; or None."""
    open_tokens: list[Any] = []
    for token in tokens:
        if isinstance(token, FlowMappingStartToken | FlowSequenceStartToken):
            open_tokens.append(token)
        elif isinstance(token, FlowMappingEndToken | FlowSequenceEndToken) and open_tokens:
            open_tokens.pop()
    return open_tokens[-1] if open_tokens else None


def _open_flow(
    said: str, line: int, column: int, opening: Any, tokens: list[Any], text: str
) -> SyntaxProblem:
    """A flow mapping or list (``opening`` its ``{`` or ``[``) still open where the
    parser stopped: when it was left open at the end of an earlier line, that line's
    end is the place."""
    is_mapping = isinstance(opening, FlowMappingStartToken)
    kind, bracket, closer = ("mapping", "{", "}") if is_mapping else ("list", "[", "]")
    opened = opening.start_mark
    where = f"{opened.line + 1}:{opened.column + 1}"
    left_open = _line_left_open(tokens, line - 1)
    if left_open is not None and left_open >= opened.line:
        source_line = text.split("\n")[left_open]
        return SyntaxProblem(
            f'the flow {kind} "{bracket}" opened at {where} is still open at the end of '
            f'line {left_open + 1}: expected "," or "{closer}" here',
            left_open + 1,
            len(_without_comment(source_line).rstrip()) + 1,
            f'close the "{bracket}" of {where} with "{closer}" here, or end this line '
            f'with "," if the {kind} goes on',
        )
    return SyntaxProblem(
        said,
        line,
        column,
        f'separate the entries of the "{bracket}" opened at {where} with "," and close '
        f'it with "{closer}"',
    )


def _line_left_open(tokens: list[Any], problem_line: int) -> int | None:
    """The 0-based line whose end the parser read on past, or None when the mistake is
    on the problem line itself: the last token starts on an earlier line (a plain value
    that swallowed the line break, a closing bracket), or it is the first of its line
    and the one before it ends an entry on an earlier line."""
    if not tokens:
        return None
    last = tokens[-1]
    if last.start_mark.line < problem_line:
        return int(last.start_mark.line)
    if len(tokens) < 2 or tokens[-2].end_mark.line >= problem_line:
        return None
    before = tokens[-2]
    separators = (FlowEntryToken, FlowMappingStartToken, FlowSequenceStartToken)
    return None if isinstance(before, separators) else int(before.end_mark.line)


def _tokens_before(text: str, index: int) -> list[Any]:
    """The tokens that start before character ``index`` (as far as they scan)."""
    tokens: list[Any] = []
    try:
        for token in YAML(typ="safe", pure=True).scan(text):
            if token.start_mark.index >= index:
                break
            tokens.append(token)
    except MarkedYAMLError:
        pass  # the scanner's own error: the tokens so far
    return tokens


def _is_quoted(token: Any) -> bool:
    return isinstance(token, ScalarToken) and token.style in ('"', "'")


def _is_plain(token: Any) -> bool:
    return isinstance(token, ScalarToken) and not token.style


def _without_comment(line: str) -> str:
    """``line`` without a trailing ``# comment`` (a ``#`` after a space, outside quotes)."""
    quote: str | None = None
    for i, character in enumerate(line):
        if quote is not None:
            if character == quote:
                quote = None
        elif character in "\"'" and (i == 0 or line[i - 1] in " \t{[,:"):
            quote = character
        elif character == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i]
    return line
