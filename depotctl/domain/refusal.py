"""A refusal: why a command cannot go on, in one sentence, with the exit code the
contracts give it (0 ok, 1 invalid, 2 usage, 3 I/O, 4 conflict).

Raised where the cause is found (a context that names no controller, a site the demo
cannot run, a simulator or a controller that cannot start) and turned into the
command's last line and exit status by the CLI, in one place per command. It lives in
the domain, the layer every other imports and one of the standard library only, so that
raising one loads nothing else."""

from __future__ import annotations


class Refusal(Exception):
    """``message`` names the thing, where, and what to do; ``exit_code`` is the
    contract's; ``details`` (a site's diagnostics, say) are printed before it."""

    def __init__(self, message: str, exit_code: int, details: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.exit_code = exit_code
        self.details = details
