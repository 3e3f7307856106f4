"""``depotctl diff OLD NEW``: what a pull request changes in a site, in an engineer's terms."""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Annotated

import typer

from depotctl.cli.app import app
from depotctl.cli.parameters import FormatOption, OutputFormat


@app.command()
def diff(
    old: Annotated[
        Path, typer.Argument(metavar="OLD", help="The site file before (a pull request's base).")
    ],
    new: Annotated[Path, typer.Argument(metavar="NEW", help="The site file after (the head).")],
    output_format: FormatOption = OutputFormat.TEXT,
) -> None:
    """Show the semantic difference between two site files, offline.

    Quantities compare by value (400 kW = 0.4 MW), node order and comments
    do not matter, and secrets are never printed. A tariff named by ref is
    read relative to each site file and compared too.

    Both sides are validated first, as `depotctl validate` does: a side with an
    error (an unknown parent, a parent loop, a fallback above the rating) is not
    diffed; its diagnostics go to stderr. Warnings do not stop a diff.

    Exit codes: 0 no change, 1 changed, 2 usage, 3 a file cannot be read or
    is not a valid site.

    **Examples**

    ```
    depotctl diff sites/au-bus-depot.yaml head/au-bus-depot.yaml
    depotctl diff base.yaml head.yaml --format json
    ```
    """
    from depotctl.config import SiteFile, diff_sites, read_site, render_diff_json, render_diff_text

    sides = [read_site(old, str(old)), read_site(new, str(new))]
    unusable = [side for side in sides if not isinstance(side, SiteFile)]
    if unusable:
        from depotctl.config import ValidationRun, render_diagnostics

        color = sys.stderr.isatty() and "NO_COLOR" not in os.environ
        sys.stderr.write(render_diagnostics(ValidationRun(unusable), color=color))
        raise typer.Exit(3)
    before, after = (side for side in sides if isinstance(side, SiteFile))
    try:
        result = diff_sites(
            before.site, after.site, old_tariff=before.tariff, new_tariff=after.tariff
        )
        if output_format is OutputFormat.JSON:
            shown = render_diff_json(result, before.display, after.display)
        else:
            color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
            shown = render_diff_text(result, before.display, after.display, color=color)
    except Exception as error:  # exit 1 means "changed": a crash must not look like one
        sys.stderr.write(f"depotctl diff: internal error: {type(error).__name__}: {error}\n")
        raise typer.Exit(3) from error
    sys.stdout.write(shown)
    raise typer.Exit(0 if result.is_empty else 1)
