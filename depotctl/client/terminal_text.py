"""Text from a controller (or a snapshot file), made safe to print on a terminal.

Whatever a controller says may hold control characters: an operator's name or
reason, a charger's transaction id, an error message, a journal entry. An ANSI
escape can recolour or clear the screen, retitle the window or, in some
terminals, write to the clipboard; a CR overwrites what was printed; a newline
forges a line of output; a bidirectional override reorders what is shown. Every
CLI renderer and the console pass such text through here, and print control
characters (C0, DEL, C1), line and paragraph separators and bidi controls escaped
as Python writes them: ``\\x1b``, ``\\r``, ``\\n``, ``\\u202e``. Nothing else changes
(no character is dropped, so what was sent can still be told).
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any, TypeVar, cast

if TYPE_CHECKING:
    from pydantic import BaseModel

T = TypeVar("T")
Answer = TypeVar("Answer", bound="BaseModel")

#: Characters never printed as they are.
UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
#: The ones ``json.dumps`` leaves as they are (it escapes C0 itself).
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
#: ``json.dumps(..., ensure_ascii=True)`` of a string with an unsafe character in it.
_ESCAPED_UNSAFE = re.compile(
    r"\\[nrtbf]|\\u00[01][0-9a-f]|\\u007f|\\u00[89][0-9a-f]|\\u061c|\\u200[ef]"
    r"|\\u202[89a-e]|\\u206[6-9]"
)
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    character = match[0]
    named = _NAMED.get(character)
    if named is not None:
        return named
    code = ord(character)
    return f"\\x{code:02x}" if code <= 0xFF else f"\\u{code:04x}"


def escaped(value: object) -> str:
    """``str(value)`` with every unsafe character escaped: one line, no escape codes."""
    text = value if isinstance(value, str) else str(value)
    return UNSAFE.sub(_escape, text) if UNSAFE.search(text) else text


def escaped_lines(text: str) -> str:
    """``text`` with every unsafe character escaped but its line breaks, for a message
    of several lines put together from controller text."""
    return "\n".join(escaped(line) for line in text.split("\n"))


def escaped_answer(answer: T) -> T:
    """An API answer (JSON data) with every string in it — keys and values — escaped.

    Checked as a whole first (one ``json.dumps``), so an answer with nothing to escape,
    the usual case, is returned as it is."""
    try:
        encoded = json.dumps(answer, ensure_ascii=True)
    except (TypeError, ValueError):
        pass  # not plain JSON data: look at every string
    else:
        if _ESCAPED_UNSAFE.search(encoded) is None:
            return answer
    return cast(T, _escaped_tree(answer))


def escaped_model(answer: Answer) -> Answer:
    """An API answer (a model of :mod:`depotctl.api`) with every string in it escaped;
    the same object when there is nothing to escape, the usual case."""
    from depotctl.api import json_of

    encoded = answer.model_dump_json()
    if _ESCAPED_UNSAFE.search(encoded) is None and _UNSAFE_IN_JSON.search(encoded) is None:
        return answer
    return type(answer).model_validate(_escaped_tree(json_of(answer)))


def _escaped_tree(value: Any) -> Any:
    if isinstance(value, str):
        return escaped(value)
    if isinstance(value, dict):
        return {escaped(k) if isinstance(k, str) else k: _escaped_tree(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return type(value)(_escaped_tree(item) for item in value)
    return value


def terminal_json(payload: Any, *, indent: int | None = 2) -> str:
    """``payload`` as JSON (non-ASCII text kept), safe to print: :func:`escaped_json`."""
    return escaped_json(json.dumps(payload, indent=indent, ensure_ascii=False))


def escaped_json(text: str) -> str:
    """JSON text in which the unsafe characters JSON itself leaves raw — DEL, C1,
    separators, bidi controls, which can stand only inside its strings — are ``\\u``
    escapes too: the same data, safe to print."""
    return _UNSAFE_IN_JSON.sub(lambda m: f"\\u{ord(m[0]):04x}", text)
