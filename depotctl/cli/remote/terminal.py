"""What a command against a controller prints and asks on the terminal: tables, JSON,
a confirmation before a change, and the author it signs the change with.

Everything printed is escaped first (:mod:`depotctl.client.terminal_text`): the cells
and the JSON may hold the controller's text."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Any

import typer
from pydantic import BaseModel

from depotctl.cli.failures import fail
from depotctl.client.terminal_text import escaped, escaped_lines, terminal_json


def table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    """Print ``header`` and ``rows`` on stdout in columns two spaces apart, each cell
    escaped, the last column unpadded."""
    rows = [tuple(escaped(cell) for cell in row) for row in rows]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        sys.stdout.write("  ".join([*cells, row[-1]]).rstrip() + "\n")


def json_value(payload: BaseModel | dict[str, Any]) -> Any:
    """An answer as the JSON the controller sent (a summary dict as it is)."""
    from depotctl.api.base import json_of

    return json_of(payload) if isinstance(payload, BaseModel) else payload


def print_json(payload: BaseModel | dict[str, Any]) -> None:
    """Print an answer (or a summary) on stdout as indented JSON, escaped."""
    sys.stdout.write(terminal_json(json_value(payload)) + "\n")


def interactive() -> bool:
    """Whether a person is at the terminal (stdin and stdout are TTYs)."""
    return sys.stdin.isatty() and sys.stdout.isatty()


def confirm(command: str, yes: bool, question: str) -> None:
    """Go on with --yes or a "yes" typed on a terminal; else exit (2 without a TTY,
    0 when the answer is no)."""
    if yes:
        return
    if not interactive():
        raise fail(
            command,
            "refusing to proceed without confirmation on a non-interactive terminal; pass --yes",
            2,
        )
    if not typer.confirm(escaped_lines(question), default=False):
        raise fail(command, "cancelled", 0)


def author() -> str:
    """``user@host``, as every change is signed (the first revision too)."""
    from depotctl.api.authors import local_author

    return local_author()
