"""What every command against a controller shares: the connection options, the
format, and how failures become exit codes.

Text from the controller is printed only through :mod:`depotctl.client.terminal_text`:
the commands escape an answer (``escaped_answer``) before they put it into words, and
what they print (messages, tables, JSON, questions) is escaped again
(:mod:`depotctl.cli.failures`, :mod:`depotctl.cli.remote.terminal`)."""

from __future__ import annotations

import functools
import inspect
import sys
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, tzinfo
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, TypeVar

import typer
from pydantic import BaseModel

from depotctl.cli.app import command_group
from depotctl.cli.failures import fail, refused
from depotctl.cli.parameters import FormatOption, OutputFormat, bare_option
from depotctl.cli.remote.terminal import print_json
from depotctl.client.figures import DASH, for_people, instant_text, zone_named
from depotctl.client.terminal_text import escaped, escaped_model

if TYPE_CHECKING:
    from depotctl.api import Diagnostic
    from depotctl.client.api import ApiError, ControllerClient

Answer = TypeVar("Answer", bound=BaseModel)

ContextOption = Annotated[
    str | None,
    bare_option(
        "--context",
        metavar="NAME",
        help="The context to use (default: $DEPOTCTL_CONTEXT, else the current one).",
    ),
]
ServerOption = Annotated[
    str | None,
    bare_option(
        "--server",
        metavar="URL",
        help="The controller's URL; with --token-file no configuration file is read.",
    ),
]
TokenFileOption = Annotated[
    Path | None,
    bare_option("--token-file", metavar="FILE", help="The file holding the token to send."),
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


@dataclass(frozen=True, slots=True)
class Remote:
    """What every command against a controller is given: which controller, and the
    output format."""

    connection: Connection
    output_format: OutputFormat

    @contextmanager
    def client(self, command: str) -> Iterator[ControllerClient]:
        """The controller's client, its errors turned into ``command``'s exit codes."""
        with talking(command, self.connection), self.connection.open() as client:
            yield client

    def answer(self, command: str, ask: Callable[[ControllerClient], Answer]) -> Answer | None:
        """The controller's answer to ``ask``, escaped to be put into words; None when
        it was printed as JSON (``--format json``)."""
        with self.client(command) as client:
            answer = ask(client)
        return self.in_words(answer)

    def answer_on_clock(
        self, command: str, ask: Callable[[ControllerClient], Answer]
    ) -> tuple[Answer, SiteClock] | None:
        """:meth:`answer`, with the site's clock to put the answer's times into words."""
        with self.client(command) as client:
            answer, clock = ask(client), site_clock(client)
        told = self.in_words(answer)
        return None if told is None else (told, clock)

    def in_words(self, answer: Answer) -> Answer | None:
        """``answer`` escaped to be put into words; None when it was printed as JSON
        (``--format json``)."""
        return None if self.printed_json(answer) else escaped_model(answer)

    def printed_json(self, answer: BaseModel | dict[str, Any]) -> bool:
        """With ``--format json``, print ``answer`` as JSON and say so; else print
        nothing (the command writes its text)."""
        if self.output_format is not OutputFormat.JSON:
            return False
        print_json(answer)
        return True


def _remote(
    output_format: FormatOption = OutputFormat.TEXT,
    context: ContextOption = None,
    server: ServerOption = None,
    token_file: TokenFileOption = None,
) -> Remote:
    """The options every command against a controller has (their signature is the
    one :func:`remote_options` gives a command)."""
    return Remote(Connection(context, server, token_file), output_format)


_REMOTE_OPTIONS = tuple(inspect.signature(_remote, eval_str=True).parameters.values())


def remote_options(command: Callable[..., None]) -> Callable[..., None]:
    """``command`` (which takes a ``remote: Remote``) as typer sees a command with its
    own parameters, then ``--format``, ``--context``, ``--server`` and
    ``--token-file``."""
    own = inspect.signature(command, eval_str=True)
    kept = [p for p in own.parameters.values() if p.name != "remote"]

    @functools.wraps(command)
    def run(*args: Any, **kwargs: Any) -> None:
        options = {p.name: kwargs.pop(p.name) for p in _REMOTE_OPTIONS if p.name in kwargs}
        command(*args, remote=_remote(**options), **kwargs)

    setattr(run, "__signature__", own.replace(parameters=[*kept, *_REMOTE_OPTIONS]))  # noqa: B010
    return run


@contextmanager
def talking(command: str, connection: Connection | None = None) -> Iterator[None]:
    """Turn the client's errors (and a context's refusal) into one-line messages and
    the contracts' exit codes."""
    from depotctl.client.api import ApiError, Unreachable
    from depotctl.domain.refusal import Refusal

    try:
        yield
    except Unreachable as error:
        raise fail(command, str(error), 3) from None
    except Refusal as error:
        raise refused(command, error) from None
    except ApiError as error:
        raise _api_failure(command, error, connection) from None


def _api_failure(command: str, error: ApiError, connection: Connection | None) -> typer.Exit:
    status, message, body = error.status, error.message, error.body
    via = f" (token from {connection.origin})" if connection and connection.origin else ""
    if status == 409:
        hint = ""
        if command == "apply":
            hint = (
                "\n  the controller moved since this plan was made (another apply or a "
                "rollback); run `depotctl plan` again, review it, and apply that"
            )
        return fail(command, f"409 conflict: {message}{hint}", 4)
    if status == 401:
        return fail(command, f"401 unauthorized: {message}{via}; check the token file", 3)
    if status == 403:
        return fail(
            command,
            f"403 forbidden: {message}{via}; use a context with the admin token",
            3,
        )
    if status in (400, 422) and body.diagnostics:
        for line in _diagnostic_lines(body.diagnostics):
            sys.stderr.write(escaped(line) + "\n")
        return fail(command, f"{status} {error.code}: {message}", 1)
    if status in (400, 404, 405, 413, 422):
        for problem in (body.problems or [])[1:]:
            sys.stderr.write(escaped(f"  {problem.where}: {problem.message}") + "\n")
        return fail(command, f"{status} {error.code}: {message}", 2)
    return fail(command, f"{status} {error.code}: {message}", 3)


def _diagnostic_lines(diagnostics: Sequence[Diagnostic]) -> list[str]:
    """``file:line:col: severity: message [rule]``, then its hint, for each."""
    lines = []
    for item in diagnostics:
        where = ":".join(str(p) for p in (item.file, item.line, item.column) if p is not None)
        rule = f" [{item.rule}]" if item.rule else ""
        severity = f"{item.severity}: " if item.severity else ""
        lines.append(f"{where + ': ' if where else ''}{severity}{item.message}{rule}")
        if item.hint:
            lines.append(f"  hint: {item.hint}")
    return lines


@dataclass(frozen=True, slots=True)
class SiteClock:
    """The controller's now and the site's time zone: how a command reads the times it
    is given and writes the ones it prints (docs/times.md)."""

    now: datetime
    zone: tzinfo

    def text(self, at: datetime | None, missing: str = DASH) -> str:
        """``2026-12-07 18:30:05+11:00``; ``missing`` for none."""
        return instant_text(at, self.zone, missing)

    def words(self, text: str) -> str:
        """The controller's words (of now) as people read them: times in the site's time,
        figures rounded."""
        return for_people(text, self.zone, self.now)


def site_clock(client: ControllerClient) -> SiteClock:
    """The controller's clock (its now, the site's zone: UTC before a first revision)."""
    clock = client.clock()
    return SiteClock(clock.time.astimezone(UTC), zone_named(clock.timezone))


def flag_instant(command: str, flag: str, text: str, clock: SiteClock, *, ahead: bool) -> datetime:
    """The instant ``flag``'s ``text`` names on the controller's clock, read as every
    command reads times (:func:`depotctl.domain.instants.parse_instant`; ``ahead`` for a
    flag that looks ahead: ``8h`` is then eight hours from now); a usage error (exit 2)
    saying what to write when it names none."""
    from depotctl.domain.instants import InstantError, parse_instant

    try:
        return parse_instant(text, now=clock.now, zone=clock.zone, ahead=ahead)
    except InstantError as error:
        raise fail(command, f"{flag}: {error.message}; {error.hint}", 2) from None


def listing_group(name: str, help_text: str) -> typer.Typer:
    """A group of commands under ``depotctl`` (``envelopes``, ``override``…) that runs
    its ``list`` command (:func:`lists_by_default`) when given no command."""
    return command_group(name, help_text, runs_without_command=True)


def lists_by_default(
    group: typer.Typer,
) -> Callable[[Callable[[Remote], None]], Callable[[Remote], None]]:
    """The decorator of ``group``'s ``list`` command, which ``group`` also runs when
    given no command."""

    def register(listing: Callable[[Remote], None]) -> Callable[[Remote], None]:
        group.command("list")(remote_options(listing))

        def run_listing(ctx: typer.Context, remote: Remote) -> None:
            if ctx.invoked_subcommand is None:
                listing(remote)

        group.callback()(remote_options(run_listing))
        return listing

    return register


def lists_answer(
    group: typer.Typer, command: str, ask: Callable[[ControllerClient], Answer]
) -> Callable[[Callable[[Answer, SiteClock], None]], Callable[[Answer, SiteClock], None]]:
    """The decorator of ``group``'s ``list`` command (:func:`lists_by_default`) written
    as what it makes of the controller's answer to ``ask`` and the site's clock; with
    ``--format json`` the answer is printed as it is."""

    def register(
        render: Callable[[Answer, SiteClock], None],
    ) -> Callable[[Answer, SiteClock], None]:
        def listing(remote: Remote) -> None:
            told = remote.answer_on_clock(command, ask)
            if told is not None:
                render(*told)

        listing.__doc__ = render.__doc__
        lists_by_default(group)(listing)
        return render

    return register
