"""Text for terminals: ANSI styles (or none when colour is off) and aligned columns
whose cells may carry them."""

from __future__ import annotations

import re
from collections.abc import Sequence

_STYLES = {"bold": "1", "dim": "2", "red": "31", "green": "32", "yellow": "33", "cyan": "36"}


class Paint:
    """ANSI styles, or plain text when colour is off."""

    def __init__(self, color: bool) -> None:
        self.color = color

    def __call__(self, text: str, *styles: str) -> str:
        if not self.color or not styles or not text:
            return text
        codes = ";".join(_STYLES[s] for s in styles)
        return f"\x1b[{codes}m{text}\x1b[0m"


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _width(text: str) -> int:
    return len(_ANSI.sub("", text))


def table(rows: Sequence[Sequence[str]], align: str, indent: str = "") -> list[str]:
    """Rows as aligned columns (``align``: ``l`` or ``r`` per column), trailing blanks
    trimmed; cells may carry ANSI styles."""
    widths = [max(_width(row[i]) for row in rows) for i in range(len(align))]
    lines = []
    for row in rows:
        cells = []
        for cell, width, side in zip(row, widths, align, strict=True):
            pad = " " * (width - _width(cell))
            cells.append(pad + cell if side == "r" else cell + pad)
        lines.append((indent + "  ".join(cells)).rstrip())
    return lines
