"""What every command against a controller shares: the connection options, the
format, and how failures become exit codes.

Text from the controller is printed only through :mod:`depotctl.client.terminal_text`:
the commands escape an answer (``escaped_answer``) before they put it into words, and
the helpers here escape what they print (messages, tables, JSON, questions) again."""

from __future__ import annotations

import getpass
import sys
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from depotctl.client.terminal_text import escaped, escaped_lines, terminal_json

if TYPE_CHECKING:
    from depotctl.client.api import ControllerClient


class Format(StrEnum):
    TEXT = "text"
    JSON = "json"


FormatOption = Annotated[
    Format, typer.Option("--format", help="Output format.", case_sensitive=False)
]
ContextOption = Annotated[
    str | None,
    typer.Option(
        "--context",
        help="The context to use (default: $DEPOTCTL_CONTEXT, else the current one).",
        show_default=False,
    ),
]
ServerOption = Annotated[
    str | None,
    typer.Option(
        "--server",
        help="The controller's URL; with --token-file no configuration file is read.",
        show_default=False,
    ),
]
TokenFileOption = Annotated[
    Path | None,
    typer.Option("--token-file", help="The file holding the token to send.", show_default=False),
]
YesOption = Annotated[
    bool, typer.Option("--yes", help="Do not ask for confirmation (needed without a TTY).")
]


class Connection:
    """Which controller, as the common options say."""

    def __init__(self, context: str | None, server: str | None, token_file: Path | None) -> None:
        self.context = context
        self.server = server
        self.token_file = token_file
        self.origin = ""

    def open(self) -> ControllerClient:
        from depotctl.client.api import ControllerClient
        from depotctl.client.contexts import resolve

        target = resolve(context=self.context, server=self.server, token_file=self.token_file)
        self.origin = target.origin
        return ControllerClient(target.server, target.token)


def _fail(command: str, message: str, code: int) -> typer.Exit:
    sys.stderr.write(f"depotctl {command}: {escaped_lines(message)}\n")
    return typer.Exit(code)


@contextmanager
def _talking(command: str, connection: Connection | None = None) -> Iterator[None]:
    """Turn the client's errors into one-line messages and the contracts' exit codes."""
    from depotctl.client.api import ApiError, Unreachable
    from depotctl.client.contexts import ContextError

    try:
        yield
    except Unreachable as error:
        raise _fail(command, str(error), 3) from None
    except ContextError as error:
        raise _fail(command, error.message, error.exit_code) from None
    except ApiError as error:
        raise _api_failure(command, error, connection) from None


def _api_failure(command: str, error: Any, connection: Connection | None) -> typer.Exit:
    status, message = error.status, error.message
    via = f" (token from {connection.origin})" if connection and connection.origin else ""
    if status == 409:
        hint = ""
        if command == "apply":
            hint = (
                "\n  the controller moved since this plan was made (another apply or a "
                "rollback); run `depotctl plan` again, review it, and apply that"
            )
        return _fail(command, f"409 conflict: {message}{hint}", 4)
    if status == 401:
        return _fail(command, f"401 unauthorized: {message}{via}; check the token file", 3)
    if status == 403:
        return _fail(
            command,
            f"403 forbidden: {message}{via}; use a context with the admin token",
            3,
        )
    diagnostics = error.body.get("diagnostics")
    if status in (400, 422) and diagnostics:
        for line in _diagnostic_lines(diagnostics):
            sys.stderr.write(escaped(line) + "\n")
        return _fail(command, f"{status} {error.code}: {message}", 1)
    if status in (400, 404, 405, 413, 422):
        problems = error.body.get("problems") or []
        for problem in problems[1:] if isinstance(problems, list) else []:
            if isinstance(problem, dict):
                line = f"  {problem.get('where')}: {problem.get('message')}"
                sys.stderr.write(escaped(line) + "\n")
        return _fail(command, f"{status} {error.code}: {message}", 2)
    return _fail(command, f"{status} {error.code}: {message}", 3)


def _diagnostic_lines(diagnostics: Any) -> list[str]:
    if not isinstance(diagnostics, list):
        return [str(diagnostics)]
    lines = []
    for item in diagnostics:
        if not isinstance(item, dict):
            lines.append(str(item))
            continue
        where = ":".join(
            str(item[k]) for k in ("file", "line", "column") if item.get(k) is not None
        )
        rule = f" [{item['rule']}]" if item.get("rule") else ""
        severity = f"{item['severity']}: " if item.get("severity") else ""
        lines.append(f"{where + ': ' if where else ''}{severity}{item.get('message', '')}{rule}")
        if item.get("hint"):
            lines.append(f"  hint: {item['hint']}")
    return lines


def _print_json(payload: Any) -> None:
    sys.stdout.write(terminal_json(payload) + "\n")


def _interactive() -> bool:
    return sys.stdin.isatty() and sys.stdout.isatty()


def _confirm(command: str, yes: bool, question: str) -> None:
    """Go on with --yes or a "yes" typed on a terminal; else exit (2 without a TTY)."""
    if yes:
        return
    if not _interactive():
        raise _fail(
            command,
            "refusing to proceed without confirmation on a non-interactive terminal; pass --yes",
            2,
        )
    if not typer.confirm(escaped_lines(question), default=False):
        raise _fail(command, "cancelled", 0)


def _author() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _short(hash_text: Any) -> str:
    return str(hash_text or "")[:12]


def _revision_number(value: Any) -> int | None:
    """A revision number from a number or a ``{"number": …}`` object."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, dict):
        return _revision_number(value.get("number"))
    return None


def _table(header: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    rows = [tuple(escaped(cell) for cell in row) for row in rows]
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]
    for row in [header, *rows]:
        cells = [cell.ljust(widths[i]) for i, cell in enumerate(row[:-1])]
        sys.stdout.write("  ".join([*cells, row[-1]]).rstrip() + "\n")


def _amount(value: Any, unit: str) -> str:
    if isinstance(value, int | float) and not isinstance(value, bool):
        return f"{value:,.1f} {unit}"
    return "—" if value is None else str(value)


def _instant(command: str, flag: str, text: str, now: datetime, *, back: bool) -> datetime:
    """An ISO 8601 time with a zone, or a duration (``2h``) before (``back``) or after
    the controller's ``now``."""
    from depotctl.domain.quantity import Duration, QuantityError

    try:
        seconds = Duration.parse(text).seconds
    except QuantityError as error:
        try:
            instant = datetime.fromisoformat(text)
        except ValueError:
            raise _fail(
                command, f"{flag} {text!r}: {error.message} ({error.hint}), or an ISO time", 2
            ) from None
        if instant.utcoffset() is None:
            raise _fail(command, f"{flag} {text!r}: give a time zone (e.g. …Z)", 2) from None
        return instant
    return now - timedelta(seconds=seconds) if back else now + timedelta(seconds=seconds)


def _controller_now(client: ControllerClient) -> datetime:
    return datetime.fromisoformat(str(client.clock()["time"])).astimezone(UTC)
