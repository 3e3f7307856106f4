"""``depotctl context list|use|add``: which controller the other commands talk to."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from depotctl.cli.app import command_group
from depotctl.cli.failures import fail
from depotctl.cli.parameters import FormatOption, OutputFormat, bare_option
from depotctl.cli.remote.connection import ServerOption, TokenFileOption, talking
from depotctl.cli.remote.terminal import print_json

# context


context_app = command_group(
    "context",
    "Which controller the other commands talk to: named contexts in $DEPOTCTL_CONFIG "
    "(default ~/.config/depotctl/config.yaml).",
)


@context_app.command("list")
def context_list(output_format: FormatOption = OutputFormat.TEXT) -> None:
    """List the contexts; the current one is marked with `*`.

    Exit codes: 0 ok, 3 the configuration file cannot be read.

    **Examples**

    ```
    depotctl context list
    depotctl context list --format json
    DEPOTCTL_CONFIG=ops/depotctl.yaml depotctl context list
    ```
    """
    from depotctl.client.contexts import CONTEXT_ENV, Contexts

    with talking("context list"):
        contexts = Contexts.load()
    current = os.environ.get(CONTEXT_ENV) or contexts.current
    if output_format is OutputFormat.JSON:
        print_json(
            {
                "config": str(contexts.path),
                "current": current,
                "contexts": [
                    {"name": c.name, "server": c.server, "token_file": c.token_file}
                    for c in contexts.contexts
                ],
            }
        )
        return
    if not contexts.contexts:
        sys.stdout.write(
            f"no contexts in {contexts.path}; add one with "
            "`depotctl context add NAME --server URL --token-file FILE`\n"
        )
        return
    width = max(len(c.name) for c in contexts.contexts)
    for c in contexts.contexts:
        mark = "*" if c.name == current else " "
        sys.stdout.write(f"{mark} {c.name:<{width}}  {c.server}  {c.token_file}\n")


@context_app.command("use")
def context_use(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The context to make current.")],
    output_format: FormatOption = OutputFormat.TEXT,
) -> None:
    """Make NAME the current context.

    Exit codes: 0 ok, 2 no such context, 3 the configuration file cannot be written.

    **Examples**

    ```
    depotctl context use depot
    ```
    """
    from depotctl.client.contexts import Contexts

    with talking("context use"):
        contexts = Contexts.load()
        chosen = contexts.use(name)
        contexts.save()
    if output_format is OutputFormat.JSON:
        print_json({"current": chosen.name, "server": chosen.server})
    else:
        sys.stdout.write(f"current context: {chosen.name} ({chosen.server})\n")


@context_app.command("add")
def context_add(
    name: Annotated[str, typer.Argument(metavar="NAME", help="The context's name.")],
    server: ServerOption = None,
    token_file: TokenFileOption = None,
    state_dir: Annotated[
        Path | None,
        bare_option(
            "--from-state-dir",
            metavar="DIR",
            help="A local controller's state directory: its endpoints.json and admin token.",
        ),
    ] = None,
    output_format: FormatOption = OutputFormat.TEXT,
) -> None:
    """Add (or replace) a context: a controller URL and a token file. The first context
    becomes the current one. The file keeps the token's path, never the token.

    The token file must be private to its owner (chmod 600), as ssh wants of a key.

    Exit codes: 0 ok, 2 usage, 3 a file cannot be read or written, or the token file is
    empty or open to group or others.

    **Examples**

    ```
    depotctl context add depot --from-state-dir /tmp/depot
    depotctl context add north --server https://depot-north.example:8180 \\
        --token-file ~/.config/depotctl/north.token
    ```
    """
    from depotctl.client.contexts import (
        Context,
        Contexts,
        check_server,
        from_state_dir,
        read_token,
    )

    with talking("context add"):
        if state_dir is not None:
            if server is not None or token_file is not None:
                raise fail("context add", "--from-state-dir replaces --server and --token-file", 2)
            url, token_path = from_state_dir(state_dir)
        elif server is None or token_file is None:
            raise fail(
                "context add", "give --server URL --token-file FILE, or --from-state-dir DIR", 2
            )
        else:
            url, token_path = check_server(server), token_file.expanduser().resolve()
            if not token_path.is_file():
                raise fail("context add", f"the token file {token_path} does not exist", 3)
        read_token(token_path)  # refused now rather than at every command
        contexts = Contexts.load()
        contexts.add(Context(name, url, str(token_path)))
        contexts.save()
    if output_format is OutputFormat.JSON:
        print_json(
            {
                "name": name,
                "server": url,
                "token_file": str(token_path),
                "current": contexts.current,
            }
        )
        return
    current = " (current)" if contexts.current == name else ""
    sys.stdout.write(f"context {name}{current}: {url}, token {token_path}\n")
    sys.stdout.write(f"  saved in {contexts.path}\n")
