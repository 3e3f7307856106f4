"""``depotctl validate``: check site files offline, CI-friendly."""

from __future__ import annotations

import os
import sys
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from depotctl.cli.app import app
from depotctl.cli.parameters import bare_option


class ValidateFormat(StrEnum):
    TEXT = "text"
    JSON = "json"
    GITHUB = "github"
    JUNIT = "junit"
    SARIF = "sarif"


def default_format() -> ValidateFormat:
    """``github`` under GitHub Actions, else text."""
    return (
        ValidateFormat.GITHUB if os.environ.get("GITHUB_ACTIONS") == "true" else ValidateFormat.TEXT
    )


@app.command()
def validate(
    paths: Annotated[
        list[Path] | None,
        typer.Argument(
            help="Site files or directories (walked for `*.yaml` and `*.yml`).",
            show_default=False,
            metavar="PATH",
        ),
    ] = None,
    output_format: Annotated[
        ValidateFormat | None,
        typer.Option(
            "--format",
            metavar="FORMAT",
            help="text, json, github (annotations on a pull request's lines), junit or "
            "sarif. Default: github under GitHub Actions, text otherwise.",
            case_sensitive=False,
        ),
    ] = None,
    strict: Annotated[bool, typer.Option("--strict", help="Warnings fail too.")] = False,
    jobs: Annotated[
        int | None,
        bare_option(
            "--jobs",
            metavar="N",
            min=1,
            help="Worker processes for many files. Default: one per CPU.",
        ),
    ] = None,
    list_rules: Annotated[
        bool, typer.Option("--list-rules", help="Print every rule with its id and severity.")
    ] = False,
) -> None:
    """Validate site files: YAML, schema, topology, electrical, safety, tariff and carbon rules.

    Exit codes: 0 valid, 1 invalid (errors, or warnings with --strict), 2 usage, 3 a path
    could not be read.

    **Examples**

    ```
    depotctl validate sites/
    depotctl validate examples/invalid/quantity/missing-unit.yaml
    depotctl validate sites/ --strict --format sarif > validate.sarif
    depotctl validate --list-rules
    ```
    """
    chosen = output_format or default_format()
    if list_rules:
        from depotctl.cli.rules import print_rules

        print_rules(chosen)
        raise typer.Exit(0)
    if not paths:
        raise typer.BadParameter("give at least one site file or directory", param_hint="PATH")

    from depotctl.config import exit_code, validate_paths

    run = validate_paths(paths, jobs=jobs)
    if chosen is ValidateFormat.TEXT:
        from depotctl.config import render_diagnostics

        color = sys.stdout.isatty() and "NO_COLOR" not in os.environ
        sys.stdout.write(render_diagnostics(run, color=color, strict=strict))
    else:
        from depotctl import config

        renderer = getattr(config, f"render_diagnostics_{chosen.value}")
        sys.stdout.write(renderer(run, strict=strict))
    raise typer.Exit(exit_code(run, strict=strict))
