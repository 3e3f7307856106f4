"""``depotctl schema``: the JSON Schema of site or tariff files, for editors and CI."""

from __future__ import annotations

import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from depotctl.cli.app import app


class SchemaKind(StrEnum):
    SITE = "Site"
    TARIFF = "Tariff"


class SchemaFormat(StrEnum):
    JSON = "json"


@app.command()
def schema(
    kind: Annotated[
        SchemaKind,
        typer.Option(
            "--kind",
            metavar="Site|Tariff",
            help="Which document kind to describe.",
            case_sensitive=False,
        ),
    ] = SchemaKind.SITE,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out", metavar="FILE", help="Write to this file instead of stdout.", dir_okay=False
        ),
    ] = None,
    output_format: Annotated[
        SchemaFormat, typer.Option("--format", help="Output format.", case_sensitive=False)
    ] = SchemaFormat.JSON,
) -> None:
    """Print the JSON Schema (draft-07) of a site or tariff file.

    Point an editor at it with a first line like
    `# yaml-language-server: $schema=../schema/site.schema.json`.

    Exit codes: 0 written, 2 usage, 3 the output file could not be written.

    **Examples**

    ```
    depotctl schema --out schema/site.schema.json
    depotctl schema --kind Tariff --out schema/tariff.schema.json
    ```
    """
    from depotctl.config import render_json_schema

    text = render_json_schema(kind.value)
    if out is None:
        sys.stdout.write(text)
        return
    try:
        out.write_text(text, encoding="utf-8")
    except OSError as error:
        typer.echo(f"depotctl schema: cannot write {out}: {error.strerror or error}", err=True)
        raise typer.Exit(3) from None
