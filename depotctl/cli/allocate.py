"""``depotctl allocate`` and ``depotctl explain``: decide every EVSE's limit from a
snapshot file, offline, and say why."""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from depotctl.cli.app import app
from depotctl.cli.failures import fail
from depotctl.cli.parameters import FormatOption, OutputFormat, bare_option

if TYPE_CHECKING:
    from depotctl.config import LoadedSnapshot
    from depotctl.domain.snapshot import Snapshot
    from depotctl.engine import Allocation
    from depotctl.views import Origin


SiteOption = Annotated[
    Path | None,
    bare_option(
        "--file",
        "-f",
        metavar="FILE",
        help="The site file. Default: the one the snapshot names (site.path); either way "
        "it must match the snapshot's site.revision.",
    ),
]
SnapshotOption = Annotated[
    Path | None,
    bare_option(
        "--snapshot",
        metavar="FILE",
        help="The snapshot file (YAML or JSON, kind: Snapshot). Or --at TIME against a controller.",
    ),
]
AtOption = Annotated[
    str | None,
    bare_option(
        "--at",
        metavar="TIME",
        help="Ask the controller about a past instant: the decision of the control cycle "
        "at or before it, recomputed from its recorded inputs (older: the journal's "
        'decisions). 02:14 or "yesterday 02:14" (site time), 8h (ago), '
        '"2026-12-07 02:14", or ISO 8601 with an offset.',
    ),
]
ContextOption = Annotated[
    str | None, bare_option("--context", metavar="NAME", help="Live: the context.")
]
ServerOption = Annotated[
    str | None, bare_option("--server", metavar="URL", help="Live: the controller URL.")
]
TokenFileOption = Annotated[
    Path | None, bare_option("--token-file", metavar="FILE", help="Live: the token file.")
]


def _color(stream: object) -> bool:
    return bool(getattr(stream, "isatty", lambda: False)()) and "NO_COLOR" not in os.environ


def _load(command: str, snapshot: Path, site: Path | None) -> LoadedSnapshot:
    """The snapshot, or exit: its diagnostics (and its site's) on stderr like
    validate's, 1 invalid, 3 unreadable, 2 for -f with an embedded site."""
    from depotctl.config import (
        SnapshotUsageError,
        ValidationRun,
        load_snapshot,
        render_diagnostics,
    )

    try:
        loaded = load_snapshot(snapshot, site)
    except SnapshotUsageError as error:
        raise fail(command, str(error), 2) from None
    if loaded.reports:
        text = render_diagnostics(ValidationRun(loaded.reports), color=_color(sys.stderr))
        if loaded.snapshot is not None:  # warnings only: the summary line would mislead
            text = "\n".join(text.rstrip("\n").split("\n")[:-1]) + "\n"
        sys.stderr.write(text)
    if loaded.snapshot is None:
        raise typer.Exit(loaded.exit_code)
    return loaded


def _origin(loaded: LoadedSnapshot, snapshot: Path) -> Origin:
    from depotctl.views import Origin

    return Origin(
        site_file=loaded.site_display, revision=loaded.revision, snapshot_file=str(snapshot)
    )


def _allocate(loaded: LoadedSnapshot) -> tuple[Snapshot, Allocation]:
    from depotctl.engine import allocate as run_allocation

    assert loaded.snapshot is not None
    return loaded.snapshot, run_allocation(loaded.snapshot)


@app.command()
def allocate(
    snapshot: SnapshotOption = None,
    site: SiteOption = None,
    output_format: FormatOption = OutputFormat.TEXT,
    candidates: Annotated[
        bool,
        typer.Option(
            "--candidates",
            help="With --format json: every EVSE's candidate limits too (slower on a big site).",
        ),
    ] = False,
    at: AtOption = None,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
) -> None:
    """Decide every EVSE's limit from a snapshot, offline, and say what binds it.

    Prints each EVSE's limit (A and kW), state and binding constraint, and each node's
    effective limits with their source (static, envelope, fallback), reserved load,
    allocated load and headroom. The snapshot format is in docs/snapshot.md.

    With --at TIME (and --context, or --server and --token-file), no snapshot: what
    the controller decided at that past instant (docs/time-travel.md).

    Exit codes: 0 allocated, 1 the snapshot or its site is invalid (diagnostics on
    stderr), 2 usage, 3 a file cannot be read.

    **Examples**

    ```
    depotctl allocate --snapshot examples/snapshots/au-evening-peak.yaml
    depotctl allocate --snapshot peak.yaml -f sites/au-bus-depot.yaml
    depotctl allocate --snapshot peak.yaml --format json --candidates
    depotctl allocate --context depot --at "yesterday 02:14"
    ```
    """
    if at is not None or snapshot is None:
        if snapshot is not None or site is not None or candidates:
            raise fail("allocate", "--at asks the controller: drop --snapshot, -f, --candidates", 2)
        if at is None:
            raise fail("allocate", "give --snapshot FILE, or --at TIME with --context", 2)
        from depotctl.cli import remote
        from depotctl.cli.remote.past import allocate_past

        connection = remote.Connection(context, server, token_file)
        allocate_past(at, remote.Remote(connection, output_format))
        return
    loaded = _load("allocate", snapshot, site)
    state, allocation = _allocate(loaded)
    origin = _origin(loaded, snapshot)
    if output_format is OutputFormat.JSON:
        from depotctl.views import allocation_json

        payload = allocation_json(state, allocation, origin, candidates=candidates)
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        return
    from depotctl.cli.render_allocation import allocation_text

    sys.stdout.write(allocation_text(state, allocation, origin, color=_color(sys.stdout)))


@app.command()
def explain(
    evse: Annotated[
        str,
        typer.Argument(
            metavar="EVSE",
            help="The EVSE, as `<charger id>/<evse id>` (e.g. dc-01/1); against a "
            "controller, also a vehicle (bus-42): the EVSE it is plugged in on, or with "
            "--at, the one it was plugged in on then.",
        ),
    ],
    snapshot: Annotated[
        Path | None,
        bare_option(
            "--snapshot",
            metavar="FILE",
            help="The snapshot file (YAML or JSON, kind: Snapshot). Without it: ask the "
            "controller (--context, or --server and --token-file) about now.",
        ),
    ] = None,
    site: SiteOption = None,
    output_format: FormatOption = OutputFormat.TEXT,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
    at: AtOption = None,
) -> None:
    """Explain one EVSE's limit: its state, the binding constraint in words, and every
    candidate limit from the EVSE up to the grid connection with its slack.

    Offline from --snapshot; without it, live from the controller (--context, or
    --server and --token-file).
    With --at TIME: what the controller decided at that past instant, recomputed from
    the inputs it recorded (older than those kept: the journal's decision). A time of
    day alone (02:14) is the latest one at or before now, in the site's time; the
    answer's first line says which day it took. Against a controller, the answer also
    names where the binding limit comes from: the site revision's line, or the
    envelope's source.

    Exit codes: 0 explained, 1 the snapshot or its site is invalid, 2 usage (an
    unknown EVSE, a vehicle plugged in on none then), 3 a file or the controller
    cannot be read.

    **Examples**

    ```
    depotctl explain dc-03/1 --snapshot examples/snapshots/au-evening-peak.yaml
    depotctl explain dc-03/1 --context depot
    depotctl explain dc-03/1 --context depot --format json
    depotctl explain bus-42 --context depot
    depotctl explain dc-03/1 --context depot --at "yesterday 02:14"
    depotctl explain bus-42 --context depot --at 02:14
    ```
    """
    if snapshot is None:
        if site is not None:
            raise fail("explain", "-f SITE needs --snapshot", 2)
        from depotctl.cli import remote

        connection = remote.Connection(context, server, token_file)
        if at is not None:
            from depotctl.cli.remote.past import explain_past

            explain_past(evse, at, remote.Remote(connection, output_format))
            return
        remote.explain_live(evse, remote.Remote(connection, output_format))
        return
    if at is not None:
        raise fail("explain", "--at asks the controller: drop --snapshot", 2)
    loaded = _load("explain", snapshot, site)
    assert loaded.snapshot is not None
    known = loaded.snapshot.topology.evses
    if evse not in known:
        raise fail("explain", _unknown_evse(evse, sorted(known)), 2)
    state, allocation = _allocate(loaded)
    from depotctl.views import explain_json

    payload = explain_json(state, allocation, evse, _origin(loaded, snapshot))
    if output_format is OutputFormat.JSON:
        sys.stdout.write(json.dumps(payload, indent=2, ensure_ascii=False) + "\n")
        return
    from depotctl.cli.render_explain import explain_text  # the same text as live

    sys.stdout.write(explain_text(payload, color=_color(sys.stdout)))


def _unknown_evse(evse: str, known: list[str]) -> str:
    from depotctl.config import likely_id

    own = [k for k in known if k.startswith(evse + "/")]  # a charger id: its first EVSE
    close = own[0] if own else likely_id(evse, known)
    guess = f'; did you mean "{close}"?' if close else ""
    return f'site has no EVSE "{evse}"{guess} (EVSE ids are "<charger id>/<evse id>")'
