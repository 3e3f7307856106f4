"""How a command ends when it cannot go on: one line on stderr, ``depotctl COMMAND:
MESSAGE``, and the contracts' exit code (1 invalid, 2 usage, 3 I/O, 4 conflict).

A :class:`~depotctl.domain.refusal.Refusal` raised below the CLI (a context, the demo's
site, the simulator's or the controller's start) ends a command the same way, through
:func:`refused`."""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING

import typer

from depotctl.client.terminal_text import escaped_lines

if TYPE_CHECKING:
    from depotctl.domain.refusal import Refusal


def fail(command: str, message: str, code: int) -> typer.Exit:
    """Write ``depotctl COMMAND: MESSAGE`` to stderr (unsafe characters escaped, line
    breaks kept); the exit, with ``code``, for the caller to raise."""
    sys.stderr.write(f"depotctl {command}: {escaped_lines(message)}\n")
    return typer.Exit(code)


def refused(command: str, refusal: Refusal) -> typer.Exit:
    """A refusal's details (a site's diagnostics), then its message as :func:`fail`
    writes one; the exit, with the refusal's code, for the caller to raise."""
    if refusal.details:
        sys.stderr.write(refusal.details.rstrip("\n") + "\n")
    return fail(command, refusal.message, refusal.exit_code)
