"""``depotctl snapshot export``: the live state of a controller as a snapshot file
(``docs/snapshot.md``), to replay offline with ``depotctl allocate --snapshot``.

Exit codes: 0 written; 2 usage; 3 the controller unreachable, a token refused, the
file unwritable.
"""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from depotctl.cli.app import command_group
from depotctl.cli.failures import fail
from depotctl.cli.parameters import bare_option
from depotctl.cli.remote import Connection, ContextOption, ServerOption, TokenFileOption, talking

snapshot_app = command_group(
    "snapshot", "Snapshots of a live controller, for `allocate` and `explain` offline."
)


class SnapshotFormat(StrEnum):
    YAML = "yaml"
    JSON = "json"


@snapshot_app.command("export")
def export(
    out: Annotated[
        Path | None,
        bare_option(
            "--out", metavar="FILE", help="Write to this file instead of stdout.", dir_okay=False
        ),
    ] = None,
    output_format: Annotated[
        SnapshotFormat,
        typer.Option("--format", help="File format.", case_sensitive=False),
    ] = SnapshotFormat.YAML,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
    at: Annotated[
        str | None,
        bare_option(
            "--at",
            metavar="TIME",
            help="The state at a past instant (the control cycle at or before it, from "
            'its recorded inputs): 02:14 or "yesterday 02:14" (site time), 8h (ago), '
            '"2026-12-07 02:14", or ISO 8601 with an offset.',
        ),
    ] = None,
) -> None:
    """Write the controller's live state as a snapshot, with its site embedded.

    `depotctl allocate --snapshot FILE` on it decides what the controller decides now.
    With --at, the state the controller decided from at that past instant (its
    revision then embedded); older than the recorded inputs kept, exit 2 naming how
    far they go back (`depotctl explain --at` answers from the journal then).

    Exit codes: 0 written, 2 usage, 3 the controller cannot be reached or the file
    cannot be written.

    **Examples**

    ```
    depotctl snapshot export --context depot --out peak.yaml
    depotctl snapshot export --context depot --format json > peak.json
    depotctl snapshot export --context depot --at 02:14 --out night.yaml
    ```
    """
    from depotctl.api import json_of
    from depotctl.config import snapshot_to_json, snapshot_to_yaml

    connection = Connection(context, server, token_file)
    with talking("snapshot export", connection), connection.open() as client:
        if at is None:
            document = json_of(client.snapshot())
        else:
            from depotctl.cli.remote.connection import flag_instant, site_clock

            instant = flag_instant("snapshot export", "--at", at, site_clock(client), ahead=False)
            document = json_of(client.snapshot_at(instant))
    text = (
        snapshot_to_yaml(document)
        if output_format is SnapshotFormat.YAML
        else snapshot_to_json(document)
    )
    if out is None:  # YAML escapes control characters itself; JSON leaves some raw
        from depotctl.client.terminal_text import escaped_json

        sys.stdout.write(text if output_format is SnapshotFormat.YAML else escaped_json(text))
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as error:
        raise fail("snapshot export", f"cannot write {out}: {error.strerror}", 3) from None
    sys.stderr.write(f"snapshot at {document.get('at')} written to {out}\n")
