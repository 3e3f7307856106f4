"""Free text the API keeps and shows to people — an operator's name and reason, a
revision's author, message and file name — refused (422) when it holds a control
character.

Such text is journaled and printed on operators' terminals; an ANSI escape, a CR or a
bidi override in it would repaint, overwrite or reorder what they read. The clients
escape whatever they print (:mod:`depotctl.client.terminal_text`), so a store written
before this check is harmless too; refusing at the door keeps the journal as the
operator typed it, without escapes in it. One line of text (``OneLine``) takes no
control character at all; a message (``Paragraph``) may hold line breaks and tabs.
"""

from __future__ import annotations

import re
import unicodedata
from typing import Annotated

from pydantic import AfterValidator
from pydantic_core import PydanticCustomError

#: C0 and C1 controls, DEL, line and paragraph separators, bidi controls.
_CONTROL = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]")
_CONTROL_IN_PARAGRAPH = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u061c\u200e\u200f\u2028-\u202e\u2066-\u2069]"
)


def _refused(value: str, pattern: re.Pattern[str]) -> str:
    found = pattern.search(value)
    if found is None:
        return value
    character = found[0]
    name = unicodedata.name(character, "a control character")
    raise PydanticCustomError(
        "control_character",
        "holds {character} ({name}) at position {position}: text that is journaled and "
        "shown on terminals takes no control characters",
        {"character": f"U+{ord(character):04X}", "name": name, "position": found.start() + 1},
    )


def one_line(value: str) -> str:
    """``value``, when it holds no control character (a line break included)."""
    return _refused(value, _CONTROL)


def paragraph(value: str) -> str:
    """``value``, when it holds no control character but line breaks and tabs."""
    return _refused(value, _CONTROL_IN_PARAGRAPH)


OneLine = Annotated[str, AfterValidator(one_line)]
Paragraph = Annotated[str, AfterValidator(paragraph)]
