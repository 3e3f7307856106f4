"""``depotctl console``: the operations console, a Textual app against a running
controller (found as every remote command finds it: ``--context``, ``--server``
with ``--token-file``, ``$DEPOTCTL_CONTEXT`` or the current context).

Textual and the console are imported inside the command, so that the offline
commands never load them.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from depotctl.cli.app import app
from depotctl.cli.failures import fail, refused
from depotctl.cli.remote.connection import ContextOption, ServerOption, TokenFileOption

if TYPE_CHECKING:
    from depotctl.client.contexts import Target


@app.command("console")
def console(
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
    read_only: Annotated[
        bool,
        typer.Option(
            "--read-only", help="Hide every action that changes the controller (for support)."
        ),
    ] = False,
    interval: Annotated[
        float,
        typer.Option(
            "--interval",
            metavar="SECONDS",
            help="Seconds between polls of the controller.",
            min=0.2,
        ),
    ] = 1.0,
) -> None:
    """The live console: electrical tree, EVSEs with their reasons, envelopes, journal.

    Keys: 1-5 panes, e explain, / filter, s sort, t or :at TIME the past (esc for now),
    p pause/resume, n envelope, w withdraw, ? help, ctrl+p commands, q quit. With the read-only token, or with
    --read-only, the actions are hidden.

    **Examples**

    ```
    depotctl console --context depot
    depotctl console --context depot --read-only --interval 5
    depotctl console --server http://127.0.0.1:8180 \\
        --token-file /tmp/depot/tokens/readonly.token
    ```
    """
    from depotctl.client.api import AsyncControllerClient
    from depotctl.client.contexts import resolve
    from depotctl.domain.refusal import Refusal

    try:
        target = resolve(context=context, server=server, token_file=token_file)
    except Refusal as error:
        raise refused("console", error) from None
    if not (sys.stdin.isatty() and sys.stdout.isatty()):
        raise fail("console", "needs a terminal (stdin and stdout a TTY)", 2)

    from depotctl.console.app import ConsoleApp
    from depotctl.console.coordinator import Coordinator

    client = AsyncControllerClient(target.server, target.token)
    coordinator = Coordinator(
        client,
        interval=interval,
        read_only=read_only,
        token_source=_token_source(target, token_file),
    )
    ConsoleApp(coordinator).run()


def _token_source(target: Target, token_file: Path | None) -> str:
    """Where the console's token is read from, in words (for the fix of a refused one)."""
    from depotctl.client.contexts import config_path

    if token_file is not None:
        return f"{token_file} (--token-file)"
    return f"the token file of {target.origin} (in {config_path()})"
