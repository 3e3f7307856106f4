"""Command-line values several commands take alike: ``--format text|json``, an option
whose help shows no default, a site file, a local date and a duration of more than 0 s."""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Any

import typer


class OutputFormat(StrEnum):
    """Text for people, JSON for programs."""

    TEXT = "text"
    JSON = "json"


FormatOption = Annotated[
    OutputFormat, typer.Option("--format", help="Output format.", case_sensitive=False)
]


def bare_option(*names: str, help: str, **settings: Any) -> Any:
    """An option whose help shows no default: it has none (``None`` until given), or
    its help says what it is."""
    return typer.Option(*names, help=help, show_default=False, **settings)


def site_file_option(help: str) -> Any:
    """``--file``/``-f FILE``: the site file a command works on, as ``help`` says."""
    return bare_option("--file", "-f", metavar="FILE", help=help)


def date_option(flag: str, help: str) -> Any:
    """``flag DATE``: a date like 2019-05-13, given to the command as a ``date``."""
    return bare_option(flag, metavar="DATE", help=help, parser=lambda text: local_date(text, flag))


def local_date(text: str, flag: str) -> date:
    """The date ``text`` (``2019-05-13``), else a usage error for ``flag``."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise typer.BadParameter(
            f'"{text}" is not a date like 2019-05-13', param_hint=flag
        ) from None


def positive_seconds(text: str, flag: str, *, what: str = "", hint: str = "; {hint}") -> float:
    """The duration ``text`` (``5min``, ``30 s``) in seconds, else a usage error for
    ``flag``: one that is not a duration shows the parser's message and ``hint`` (a
    format of its hint), one of 0 s or less says ``what`` must be longer."""
    from depotctl.domain.quantity import Duration, QuantityError

    try:
        seconds = Duration.parse(text).seconds
    except QuantityError as error:
        shown = hint.format(hint=error.hint)
        raise typer.BadParameter(f"{error.message}{shown}", param_hint=flag) from None
    if seconds <= 0:
        raise typer.BadParameter(f"{what} must be longer than 0 s".lstrip(), param_hint=flag)
    return seconds
